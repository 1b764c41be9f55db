/**
 * Writing in a case: every write re-reads the case, refuses to build on a
 * history that does not verify, seals for the reporter and every trusted
 * counsellor at seq = message count, prev = hash of the last message, and
 * retries on 409 seq-conflict. Replies, status updates, the signed
 * acknowledgement, private notes and forwards. A part of the counsellor
 * session (session.ts).
 * @module
 */

import {
  type AttachmentRef,
  type CaseStatus,
  type Content,
  encodeContent,
  GENESIS_HASH,
  KluisError,
  MAX_TEXT_LENGTH,
  parseEnvelope,
  type Recipient,
  sealEnvelope,
  toBase64,
  type VerifiedBundle,
  verifyBundle,
  wrapContentKey,
} from '../../../crypto/index.js';
import { type MemoryFile, uploadBytes, uploadFile } from './attachments.js';
import { dayOfHour } from './deadlines.js';
import {
  IntegrityError,
  NetworkError,
  PolicyError,
  ServerRefusedError,
  UsageError,
} from './errors.js';
import { CATALOGUES } from '../../reporter/build/catalogues.js';
import type { CaseView } from './open-case.js';
import type { CounsellorSession, VerifiedInfo } from './session.js';

const ISO_SECOND = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;
const MAX_WRITE_ATTEMPTS = 6;

/**
 * The standard acknowledgement in a report's language: the reporter page's catalogue
 * (`ackDefaultText`, translated with the page's other words, docs/TRANSLATING.md), matched on the
 * primary subtag (`pt-BR` → `pt`); English for a language the page does not have.
 */
export function defaultAckText(language: string): string {
  const primary = language.toLowerCase().split('-')[0] ?? '';
  return (
    (Object.hasOwn(CATALOGUES, primary) ? CATALOGUES[primary]?.ackDefaultText : undefined) ??
    CATALOGUES.en!.ackDefaultText!
  );
}

function recipients(
  view: CaseView,
  info: VerifiedInfo,
  extra: readonly Recipient[] = [],
): Recipient[] {
  if (!view.reporter)
    throw new IntegrityError(
      `case ${view.caseNumber} has no readable report: cannot tell whom to seal for`,
      [],
      'no-readable-report',
    );
  const all = [
    view.reporter,
    ...info.counsellors.map((b) => ({
      fingerprint: b.fingerprint,
      boxPublicKey: b.boxPublicKey,
    })),
    ...extra,
  ];
  return all.filter((r, i) => all.findIndex((s) => s.fingerprint === r.fingerprint) === i);
}

/** Refuses unless the session's key is a counsellor's: an escalation key only reads. */
export function requireCounsellor(session: CounsellorSession, what: string): void {
  if (session.role !== 'counsellor')
    throw new PolicyError(
      `an escalation key cannot ${what}: only counsellors write in a case`,
      'escalation-cannot-write',
    );
}

/**
 * Appends one message to the conversation. `build` sees the freshly
 * opened case (and may refuse); on a seq-conflict the case is re-read and
 * the message re-sealed.
 */
export async function append(
  session: CounsellorSession,
  caseNumber: string,
  build: (view: CaseView) => {
    content: Content;
    status?: CaseStatus;
    ack?: true;
    extraRecipients?: readonly Recipient[];
  },
): Promise<{ seq: number; hour: number; view: CaseView }> {
  requireCounsellor(session, 'write in a case');
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const info = await session.serverInfo();
    const view = await session.openCase(caseNumber);
    if (!view.intact) {
      throw new IntegrityError(
        `case ${caseNumber} does not verify; refusing to write on top of it`,
        view.problems,
        'case-not-verified',
      );
    }
    const { content, status, ack, extraRecipients } = build(view);
    const seq = view.messages.length;
    const sealed = sealEnvelope({
      caseNumber,
      seq,
      prev: view.lastHash ?? GENESIS_HASH,
      author: session.identity.sign,
      content: encodeContent(content),
      recipients: recipients(view, info, extraRecipients),
    });
    try {
      const result = await session.api.postMessage(caseNumber, {
        seq,
        envelope: sealed.envelope,
        ...(status ? { status } : {}),
        ...(ack ? { ack } : {}),
      });
      const before = session.state.memory(caseNumber);
      session.state.remember(caseNumber, {
        count: seq + 1,
        lastHash: toBase64(sealed.hash),
        seen: before?.seen ?? 0,
      });
      await session.state.save();
      return { ...result, view };
    } catch (error) {
      if (
        error instanceof ServerRefusedError &&
        error.code === 'seq-conflict' &&
        attempt < MAX_WRITE_ATTEMPTS
      )
        continue;
      throw error;
    }
  }
  throw new NetworkError(
    `case ${caseNumber} kept changing while writing; try again`,
    'case-kept-changing',
  );
}

export function now8601(session: CounsellorSession): string {
  return ISO_SECOND(session.now());
}

/** Replies to the reporter, with optional attachments (uploaded first): paths, or files in memory. */
export async function reply(
  session: CounsellorSession,
  caseNumber: string,
  text: string,
  files: readonly (string | MemoryFile)[] = [],
): Promise<{ seq: number; hour: number; attachments: AttachmentRef[] }> {
  requireCounsellor(session, 'reply');
  checkText(text, files.length > 0);
  const info = await session.serverInfo();
  await session.openCase(caseNumber); // fail early (unknown case, broken history) before uploading anything
  const attachments: AttachmentRef[] = [];
  const limits = { maxFileBytes: info.raw.maxFileBytes };
  for (const file of files)
    attachments.push(
      typeof file === 'string'
        ? await uploadFile(session.api, caseNumber, file, limits)
        : await uploadBytes(session.api, caseNumber, file, limits),
    );
  const result = await append(session, caseNumber, () => ({
    content: { v: 1, type: 'message', time: now8601(session), text, attachments },
  }));
  return { seq: result.seq, hour: result.hour, attachments };
}

/** Records a status the reporter sees, and the server's coarse status. */
export async function setStatus(
  session: CounsellorSession,
  caseNumber: string,
  status: CaseStatus,
  text = '',
): Promise<{ seq: number; hour: number }> {
  checkText(text, true);
  return append(session, caseNumber, () => ({
    content: { v: 1, type: 'status', time: now8601(session), status, text },
    status,
  }));
}

/** Sends the signed acknowledgement of receipt (once). */
export async function acknowledge(
  session: CounsellorSession,
  caseNumber: string,
  text?: string,
): Promise<{ seq: number; hour: number; receivedDate: string }> {
  if (text !== undefined) checkText(text, true);
  let receivedDate = '';
  const result = await append(session, caseNumber, (view) => {
    if (view.ack) {
      throw new PolicyError(
        `case ${caseNumber} was acknowledged already (message ${view.ack.index}, ${view.ack.content.receivedDate})`,
        'already-acknowledged',
      );
    }
    receivedDate = dayOfHour(view.detail.messages[0]!.hour);
    const language = view.report?.language ?? 'en';
    return {
      content: {
        v: 1,
        type: 'ack',
        time: now8601(session),
        reportHash: view.messages[0]!.hash!,
        receivedDate,
        text: text ?? defaultAckText(language),
      },
      ack: true,
    };
  });
  return { seq: result.seq, hour: result.hour, receivedDate };
}

/** Adds a private note, sealed for the counsellors only. */
export async function addNote(
  session: CounsellorSession,
  caseNumber: string,
  text: string,
): Promise<{ seq: number; hour: number }> {
  requireCounsellor(session, 'write notes');
  checkText(text, false);
  const info = await session.serverInfo();
  const view = await session.openCase(caseNumber);
  const noteProblems = view.problems.filter((p) => p.startsWith('note '));
  if (noteProblems.length > 0)
    throw new IntegrityError(
      `the notes of case ${caseNumber} do not verify; refusing to add one`,
      noteProblems,
      'notes-not-verified',
    );
  const sealed = sealEnvelope({
    caseNumber,
    seq: view.detail.notes.length,
    prev: view.lastNoteHash ?? GENESIS_HASH,
    author: session.identity.sign,
    content: encodeContent({ v: 1, type: 'note', time: now8601(session), text }),
    recipients: info.counsellors.map((b) => ({
      fingerprint: b.fingerprint,
      boxPublicKey: b.boxPublicKey,
    })),
  });
  return session.api.postNote(caseNumber, sealed.envelope);
}

/**
 * Forwards a case to an escalation recipient, only with the reporter's
 * consent: wraps every message's content key for it, then records the
 * forward in the conversation (sealed for it too).
 */
export async function forward(
  session: CounsellorSession,
  caseNumber: string,
  bundleValue: unknown,
  text = '',
): Promise<{ to: VerifiedBundle; forwardedTo: readonly string[]; seq: number }> {
  requireCounsellor(session, 'forward a case');
  checkText(text, true);
  let recipient: VerifiedBundle;
  try {
    recipient = verifyBundle(bundleValue, session.verifier);
  } catch (error) {
    if (error instanceof KluisError)
      throw new UsageError(`the --to bundle is not a valid Kluis bundle: ${error.message}`);
    throw error;
  }
  if (recipient.role !== 'escalation')
    throw new UsageError(
      `the --to bundle is a ${recipient.role} bundle, not an escalation recipient's`,
    );
  const info = await session.serverInfo();
  if (!info.escalation.some((b) => b.fingerprint === recipient.fingerprint)) {
    throw new PolicyError(
      `the server does not list ${recipient.fingerprint} (${recipient.name}) as an escalation recipient; ask the operator to configure it`,
      'not-an-escalation-recipient',
    );
  }
  const target = { fingerprint: recipient.fingerprint, boxPublicKey: recipient.boxPublicKey };
  // The record comes first: a key wrapped for the recipient before the conversation says the
  // case was forwarded with consent would be an unexpected recipient to every reader.
  let seq: number | undefined;
  const before = await session.openCase(caseNumber);
  if (!before.forwardedTo.includes(recipient.fingerprint)) {
    const result = await append(session, caseNumber, (view) => {
      requireConsent(view);
      return {
        content: {
          v: 1,
          type: 'forwarded',
          time: now8601(session),
          to: recipient.fingerprint,
          name: recipient.name,
          text,
        },
        status: 'forwarded',
        extraRecipients: [target],
      };
    });
    seq = result.seq;
  }
  let forwardedTo: readonly string[] = [];
  for (let attempt = 1; ; attempt++) {
    const view = await session.openCase(caseNumber);
    if (!view.intact)
      throw new IntegrityError(
        `case ${caseNumber} does not verify; refusing to forward it`,
        view.problems,
        'case-not-verified',
      );
    requireConsent(view);
    // Only messages not yet addressed to the recipient (a second forward brings it up to date).
    const keys = view.contentKeys.flatMap((contentKey, index) =>
      parseEnvelope(view.detail.messages[index]!.envelope).keys.some(
        (k) => k.to === recipient.fingerprint,
      )
        ? []
        : [{ seq: index, key: wrapContentKey(contentKey!, target) }],
    );
    if (keys.length === 0) {
      if (seq !== undefined) break;
      throw new PolicyError(
        `case ${caseNumber} was forwarded to ${recipient.fingerprint} (${recipient.name}) already, with every message`,
        'already-forwarded',
      );
    }
    try {
      forwardedTo = await session.api.forward(caseNumber, recipient.fingerprint, keys);
      break;
    } catch (error) {
      // A message arrived in between: the key count no longer matches. Re-read and re-wrap.
      if (
        error instanceof ServerRefusedError &&
        attempt < MAX_WRITE_ATTEMPTS &&
        (error.status === 409 || error.code === 'invalid-body')
      )
        continue;
      throw error;
    }
  }
  seq ??= before.messages.findIndex(
    (m) => m.ok && m.content?.type === 'forwarded' && m.content.to === recipient.fingerprint,
  );
  return { to: recipient, forwardedTo, seq };
}

export function checkText(text: string, emptyAllowed: boolean): void {
  if (text.length > MAX_TEXT_LENGTH)
    throw new UsageError(
      `the text is too long (${text.length} characters; at most ${MAX_TEXT_LENGTH})`,
      'text-too-long',
    );
  if (!emptyAllowed && text.trim().length === 0)
    throw new UsageError('the text is empty; nothing was sent', 'text-empty');
}

/** Refuses unless the reporter's latest word on forwarding is yes. */
export function requireConsent(view: CaseView): void {
  switch (view.consent) {
    case 'yes':
      return;
    case 'ask':
      throw new PolicyError(
        `the reporter of case ${view.caseNumber} asked to be asked first (consent: ask). Ask them in a reply; once they answer with consent "yes", forward again.`,
        'consent-ask',
      );
    case 'no':
      throw new PolicyError(
        `the reporter of case ${view.caseNumber} did not consent to forwarding (consent: no). The case stays with you.`,
        'consent-no',
      );
    default:
      throw new PolicyError(
        `case ${view.caseNumber} has no readable consent from the reporter; not forwarding`,
        'consent-unknown',
      );
  }
}
