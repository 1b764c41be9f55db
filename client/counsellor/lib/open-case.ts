/**
 * Opening a case: what `show`, `inbox` and every write see. Pure: the
 * network, the state file and the key file stay outside, so the inbox can
 * open cases in worker threads (open-pool.ts).
 * @module
 */

import {
  type AckContent,
  type AttachmentRef,
  type Author,
  type Consent,
  type Content,
  displayFingerprint,
  fingerprintOf,
  fromBase64,
  type KluisError,
  MisplacedError,
  type NoteContent,
  type Parties,
  type Recipient,
  type RecipientFindings,
  type ReportContent,
  readConversation,
  readNotes,
  type SignatureVerifier,
  toBase64,
} from '../../../crypto/index.js';
import type { CaseDetail } from './api.js';
import type { Unwrapper } from './native.js';
import type { CaseMemory } from './state.js';

/** Who wrote a message, as this client established it. */
export type MessageAuthor =
  | { readonly kind: 'reporter' }
  | {
      readonly kind: 'counsellor';
      readonly fingerprint: string;
      readonly name: string;
      readonly me: boolean;
    };

/** One message of a case as shown. */
export interface MessageView {
  readonly index: number;
  /** The server's coarse hour of storage. */
  readonly hour: number;
  /** Opened, signed by an allowed author, content well formed. */
  readonly ok: boolean;
  /** False for an escalation recipient reading a message that was not forwarded to it (not a problem). */
  readonly shared: boolean;
  readonly author?: MessageAuthor;
  readonly content?: Content;
  /** Why this message is not ok, for people. */
  readonly problem?: string;
  /** base64 hash, when the envelope could be hashed. */
  readonly hash?: string;
}

/** A private note, opened. */
export interface NoteView {
  readonly index: number;
  readonly hour: number;
  readonly author?: MessageAuthor;
  readonly content?: NoteContent;
  readonly problem?: string;
}

/** A case, opened and checked. */
export interface CaseView {
  readonly caseNumber: string;
  readonly detail: CaseDetail;
  readonly messages: readonly MessageView[];
  readonly notes: readonly NoteView[];
  /** Every integrity problem, in plain words; empty iff the case verifies. */
  readonly problems: readonly string[];
  readonly intact: boolean;
  readonly report?: ReportContent;
  /** The reporter as a recipient (fingerprint of message 0's author, box key from the report). */
  readonly reporter?: Recipient;
  /** The reporter's latest word on forwarding. */
  readonly consent?: Consent;
  /** Escalation recipients the conversation records a consented forward to. */
  readonly forwardedTo: readonly string[];
  /** Trusted counsellors the conversation records a handover to (PROTOCOL §7). */
  readonly handedTo: readonly string[];
  /** The signed acknowledgement, if any. */
  readonly ack?: { readonly index: number; readonly hour: number; readonly content: AckContent };
  readonly feedbackGiven: boolean;
  readonly attachments: readonly { readonly index: number; readonly ref: AttachmentRef }[];
  /** Messages not written by this counsellor that it has not read yet. */
  readonly unread: number;
  /** Envelope content keys by index (only for opened messages): what forwarding re-wraps. */
  readonly contentKeys: readonly (Uint8Array | undefined)[];
  /** Content keys of the private notes that opened, by index: what a handover re-wraps. */
  readonly noteContentKeys: readonly (Uint8Array | undefined)[];
  readonly lastHash?: Uint8Array;
  /** Hash of the last private note: the next note's `prev`. */
  readonly lastNoteHash?: Uint8Array;
}

/** What opening a case needs besides the case. */
export interface OpenContext {
  readonly role: 'counsellor' | 'escalation';
  /** The reader's own fingerprint. */
  readonly fingerprint: string;
  readonly unwrap: Unwrapper;
  readonly verifier: SignatureVerifier;
  /** The trusted counsellors (verified bundles): who may write besides the reporter. */
  readonly counsellors: readonly {
    readonly fingerprint: string;
    readonly signPublicKey: Uint8Array;
  }[];
  /** Fingerprints of the escalation recipients this client trusts: readers of a case forwarded to them with consent. */
  readonly escalation: readonly string[];
  /** Display names by fingerprint (counsellors and escalation recipients). */
  readonly names: readonly (readonly [string, string])[];
  /** What this client verified of the case before, if anything. */
  readonly memory: CaseMemory | undefined;
}

export function describeError(error: KluisError): string {
  switch (error.code) {
    case 'wrong-key':
      return 'not addressed to your key';
    case 'auth-failure':
      return 'does not decrypt: altered or damaged (auth-failure)';
    case 'bad-signature':
      return `signature or author not accepted: forged, moved from another case, or by a key you do not trust (${error.message})`;
    case 'malformed':
      return `malformed (${error.message})`;
    default:
      return `${error.code}: ${error.message}`;
  }
}

const CHAIN_WORDS = {
  gap: 'gap: messages before it are missing',
  reorder: 'reorder: it claims an earlier position (moved or replayed)',
  fork: 'fork: it follows a message you were not shown',
} as const;

function recipientProblems(
  what: string,
  findings: RecipientFindings,
  names: ReadonlyMap<string, string>,
): string[] {
  const named = (fingerprint: string) =>
    `${displayFingerprint(fingerprint)}${names.has(fingerprint) ? ` (${names.get(fingerprint)})` : ''}`;
  return [
    ...findings.unexpected.map(
      (fingerprint) =>
        `${what}: UNEXPECTED RECIPIENT ${named(fingerprint)} can read it: not the reporter, not a counsellor you trust, not an escalation recipient the case was forwarded to with consent (a key the server or a modified page added)`,
    ),
    ...findings.removed.map(
      (fingerprint) => `${what}: the copy for ${named(fingerprint)} was removed from the envelope`,
    ),
  ];
}

/** Words for a message that opened but may not stand where it is (crypto's MisplacedError). */
function misplacedWords(error: MisplacedError): string {
  switch (error.reason) {
    case 'first-not-report':
      return 'the first message is not a report';
    case 'second-report':
      return 'a second report';
    case 'note-in-conversation':
      return 'a private note inside the conversation';
    case 'counsellor-only':
    case 'reporter-only':
      return `${error.message}`;
    case 'not-a-note':
      return `its content is not a note (${error.message})`;
  }
}

function problemWords(error: KluisError): string {
  if (error instanceof MisplacedError) return misplacedWords(error);
  if (error.code === 'malformed') return `its content is malformed (${error.message})`;
  return describeError(error);
}

/**
 * Opens and checks a case as the server returned it: every message and
 * note by the protocol's rules (crypto/conversation.ts: authors, placement,
 * consent, recipients, chain), and the memory of what this client verified
 * before. Pure (no I/O), so it runs in a worker thread as well.
 */
export function openCaseDetail(detail: CaseDetail, ctx: OpenContext): CaseView {
  const caseNumber = detail.case;
  const names = new Map(ctx.names);
  const parties = {
    caseNumber,
    counsellors: ctx.counsellors,
    escalation: ctx.escalation,
    verifier: ctx.verifier,
  };
  const read = readConversation(
    detail.messages.map((m) => m.envelope),
    ctx.unwrap,
    parties,
  );
  const problems: string[] = [];
  const author = (a: Author): MessageAuthor =>
    a.kind === 'reporter'
      ? a
      : {
          kind: 'counsellor',
          fingerprint: a.fingerprint,
          name: names.get(a.fingerprint) ?? '?',
          me: a.fingerprint === ctx.fingerprint,
        };
  let ack: CaseView['ack'];
  let feedbackGiven = false;
  const attachments: { index: number; ref: AttachmentRef }[] = [];
  const contentKeys: (Uint8Array | undefined)[] = [];
  const messages: MessageView[] = read.messages.map((message): MessageView => {
    const index = message.index;
    const hour = detail.messages[index]!.hour;
    if (!message.ok) {
      contentKeys.push(undefined);
      const hash = message.hash ? toBase64(message.hash) : undefined;
      if (message.error.code === 'wrong-key' && ctx.role === 'escalation' && message.hash) {
        return {
          index,
          hour,
          ok: false,
          shared: false,
          problem: 'not forwarded to you',
          ...(hash ? { hash } : {}),
        };
      }
      const problem = problemWords(message.error);
      problems.push(`message ${index}: ${problem}`);
      return {
        index,
        hour,
        ok: false,
        shared: true,
        ...(message.author ? { author: author(message.author) } : {}),
        ...(message.content ? { content: message.content } : {}),
        problem,
        ...(hash ? { hash } : {}),
      };
    }
    contentKeys.push(message.opened.contentKey);
    const who = author(message.author);
    const hash = toBase64(message.opened.hash);
    const content = message.content;
    const recipientWords = recipientProblems(`message ${index}`, message.recipients, names);
    problems.push(...recipientWords);
    if (content.type === 'ack' && !ack) ack = { index, hour, content };
    if (ack && index > ack.index && who.kind === 'counsellor' && content.type !== 'ack')
      feedbackGiven = true;
    if (content.type === 'report' || content.type === 'message') {
      for (const ref of content.attachments) attachments.push({ index, ref });
    }
    return {
      index,
      hour,
      ok: true,
      shared: true,
      author: who,
      content,
      hash,
      ...(recipientWords.length > 0 ? { problem: recipientWords.join('; ') } : {}),
    };
  });
  for (const problem of read.problems)
    problems.push(`message ${problem.index}: ${CHAIN_WORDS[problem.kind]}`);
  if (detail.messages.length === 0) problems.push('the case has no report');

  // What this client verified before: a shorter or different history is a rollback.
  const memory = ctx.memory;
  if (memory && memory.count > 0) {
    if (messages.length < memory.count) {
      problems.push(
        `the server now shows ${messages.length} message(s) where this client verified ${memory.count} before: messages were removed (rollback)`,
      );
    } else if (messages[memory.count - 1]?.hash !== memory.lastHash) {
      problems.push(
        `message ${memory.count - 1} differs from the one this client verified before: the history was rewritten`,
      );
    }
  }

  const notes =
    ctx.role === 'counsellor'
      ? readCaseNotes(detail, ctx, parties, problems, author, names)
      : undefined;
  const first = read.messages[0];
  const reporter =
    read.report && read.reporterSignKey && first?.ok
      ? {
          fingerprint: fingerprintOf(read.reporterSignKey),
          boxPublicKey: fromBase64(read.report.reporterBox, { expectedLength: 32 }),
        }
      : undefined;
  const seen = memory?.seen ?? 0;
  const unread = messages.filter(
    (m) => m.index >= seen && !(m.author?.kind === 'counsellor' && m.author.me),
  ).length;
  return {
    caseNumber,
    detail,
    messages,
    notes: notes?.notes ?? [],
    problems,
    intact: problems.length === 0,
    ...(read.report ? { report: read.report } : {}),
    ...(reporter ? { reporter } : {}),
    ...(read.report ? { consent: read.consent } : {}),
    forwardedTo: read.forwardedTo,
    handedTo: read.handedTo,
    ...(ack ? { ack } : {}),
    feedbackGiven,
    attachments,
    unread,
    contentKeys,
    noteContentKeys: notes?.contentKeys ?? [],
    ...(read.lastHash ? { lastHash: read.lastHash } : {}),
    ...(notes?.lastHash ? { lastNoteHash: notes.lastHash } : {}),
  };
}

function readCaseNotes(
  detail: CaseDetail,
  ctx: OpenContext,
  parties: Omit<Parties, 'reporterSignKey'>,
  problems: string[],
  author: (a: Author) => MessageAuthor,
  names: ReadonlyMap<string, string>,
): {
  notes: NoteView[];
  lastHash: Uint8Array | undefined;
  contentKeys: (Uint8Array | undefined)[];
} {
  const read = readNotes(
    detail.notes.map((n) => n.envelope),
    ctx.unwrap,
    parties,
  );
  const contentKeys = read.notes.map((entry) => (entry.ok ? entry.opened.contentKey : undefined));
  const notes = read.notes.map((entry): NoteView => {
    const hour = detail.notes[entry.index]!.hour;
    const who = entry.fingerprint
      ? { author: author({ kind: 'counsellor', fingerprint: entry.fingerprint }) }
      : {};
    if (!entry.ok) {
      const problem = problemWords(entry.error);
      problems.push(`note ${entry.index}: ${problem}`);
      return { index: entry.index, hour, ...who, problem };
    }
    const recipientWords = recipientProblems(`note ${entry.index}`, entry.recipients, names);
    problems.push(...recipientWords);
    return {
      index: entry.index,
      hour,
      ...who,
      content: entry.content,
      ...(recipientWords.length > 0 ? { problem: recipientWords.join('; ') } : {}),
    };
  });
  for (const problem of read.problems)
    problems.push(`note ${problem.index}: ${CHAIN_WORDS[problem.kind]}`);
  return { notes, lastHash: read.lastHash, contentKeys };
}
