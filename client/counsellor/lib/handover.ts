/**
 * Handing a case over to a colleague (PROTOCOL §7, `handover`): when a
 * counsellor leaves or a new one joins, a counsellor who can read the case
 * records the handover in the conversation (the reporter sees who now reads
 * it), then wraps the content key of every message and every private note
 * for the colleague's key (as a forward does), so that the colleague reads
 * the whole case. The colleague must be a counsellor this client trusts and
 * the server lists: the reporter's page is built with the same bundles, and
 * names any other key as an unexpected recipient. A part of the counsellor
 * session (session.ts).
 * @module
 */

import { parseEnvelope, type VerifiedBundle, wrapContentKey } from '../../../crypto/index.js';
import { IntegrityError, PolicyError, ServerRefusedError, UsageError } from './errors.js';
import type { CaseView } from './open-case.js';
import type { CounsellorSession } from './session.js';
import { append, checkText, now8601, requireCounsellor } from './writing.js';

const MAX_ATTEMPTS = 6;

/** What a handover did. */
export interface HandoverResult {
  readonly to: VerifiedBundle;
  /** Seq of the `handover` record, or undefined if the conversation had it already. */
  readonly seq: number | undefined;
  /** Keys added for the colleague: messages and notes. */
  readonly keys: number;
  readonly noteKeys: number;
}

/** The counsellor named by `to` (a fingerprint, as people write it), among the trusted ones. */
export async function colleague(session: CounsellorSession, to: string): Promise<VerifiedBundle> {
  const wanted = to.replace(/[\s-]/g, '').toUpperCase();
  const info = await session.serverInfo();
  const found = info.counsellors.find((b) => b.fingerprint === wanted);
  if (!found)
    throw new PolicyError(
      `${to} is not a counsellor this server lists and you trust: the operator adds the colleague's bundle to the server and the site configuration (the reporter's page must trust it too), then you compare the fingerprint and run \`trust\``,
    );
  if (found.fingerprint === session.fingerprint)
    throw new UsageError('that is your own key: hand the case to a colleague');
  return found;
}

function missingKeys(
  envelopes: readonly unknown[],
  contentKeys: readonly (Uint8Array | undefined)[],
  target: VerifiedBundle,
  what: string,
  caseNumber: string,
) {
  const recipient = { fingerprint: target.fingerprint, boxPublicKey: target.boxPublicKey };
  return envelopes.flatMap((envelope, seq) => {
    if (parseEnvelope(envelope).keys.some((k) => k.to === target.fingerprint)) return [];
    const key = contentKeys[seq];
    if (!key)
      throw new IntegrityError(
        `${what} ${seq} of case ${caseNumber} does not open for you: you cannot hand it over`,
      );
    return [{ seq, key: wrapContentKey(key, recipient) }];
  });
}

/**
 * Hands a case to the colleague `to` (a fingerprint of a trusted
 * counsellor): the record first, then the keys. Running it again brings
 * the colleague up to date (keys for what arrived since) without a second
 * record, and does nothing (seq undefined, no keys) if there is nothing
 * to bring.
 */
export async function handover(
  session: CounsellorSession,
  caseNumber: string,
  to: string,
  text = '',
): Promise<HandoverResult> {
  requireCounsellor(session, 'hand a case over');
  checkText(text, true);
  const target = await colleague(session, to);
  const before = await session.openCase(caseNumber);
  let seq: number | undefined;
  if (!before.handedTo.includes(target.fingerprint)) {
    // The colleague is a trusted counsellor, so the record is sealed for them like every message.
    const result = await append(session, caseNumber, () => ({
      content: {
        v: 1,
        type: 'handover',
        time: now8601(session),
        to: target.fingerprint,
        name: target.name,
        text,
      },
    }));
    seq = result.seq;
  }
  for (let attempt = 1; ; attempt++) {
    const view: CaseView = await session.openCase(caseNumber);
    if (!view.intact)
      throw new IntegrityError(
        `case ${caseNumber} does not verify; refusing to hand it over`,
        view.problems,
      );
    const keys = missingKeys(
      view.detail.messages.map((m) => m.envelope),
      view.contentKeys,
      target,
      'message',
      caseNumber,
    );
    const noteKeys = missingKeys(
      view.detail.notes.map((n) => n.envelope),
      view.noteContentKeys,
      target,
      'note',
      caseNumber,
    );
    // Nothing to add: handed over already (seq undefined), or every key was there.
    if (keys.length === 0 && noteKeys.length === 0)
      return { to: target, seq, keys: 0, noteKeys: 0 };
    try {
      const added = await session.api.handover(caseNumber, target.fingerprint, keys, noteKeys);
      return { to: target, seq, ...added };
    } catch (error) {
      // Something arrived in between: the key count no longer matches. Re-read and re-wrap.
      if (error instanceof ServerRefusedError && error.status === 409 && attempt < MAX_ATTEMPTS)
        continue;
      throw error;
    }
  }
}
