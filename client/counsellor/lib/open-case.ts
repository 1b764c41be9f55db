/**
 * Opening a case: what `show`, `inbox` and every write see. Pure: the
 * network, the state file and the key file stay outside, so the inbox can
 * open cases in worker threads (open-pool.ts).
 * @module
 */

import {
  type AckContent,
  type AttachmentRef,
  type Consent,
  type Content,
  type Conversation,
  decodeContent,
  fingerprintOf,
  fromBase64,
  type KluisError,
  type NoteContent,
  openConversation,
  openNotes as openNoteChain,
  type Recipient,
  type ReportContent,
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
  /** The signed acknowledgement, if any. */
  readonly ack?: { readonly index: number; readonly hour: number; readonly content: AckContent };
  readonly feedbackGiven: boolean;
  readonly attachments: readonly { readonly index: number; readonly ref: AttachmentRef }[];
  /** Messages not written by this counsellor that it has not read yet. */
  readonly unread: number;
  /** Envelope content keys by index (only for opened messages): what forwarding re-wraps. */
  readonly contentKeys: readonly (Uint8Array | undefined)[];
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

/**
 * Opens and checks a case as the server returned it: every message and
 * note, authors, chain, content rules, and the memory of what this client
 * verified before. Pure (no I/O), so it runs in a worker thread as well.
 */
export function openCaseDetail(detail: CaseDetail, ctx: OpenContext): CaseView {
  const caseNumber = detail.case;
  const names = new Map(ctx.names);
  const counsellorSignKeys = ctx.counsellors.map((b) => b.signPublicKey);
  const conversation: Conversation = openConversation(
    detail.messages.map((m) => m.envelope),
    ctx.unwrap,
    { caseNumber, counsellorSignKeys, verifier: ctx.verifier },
  );
  const problems: string[] = [];
  const author = (
    a: { kind: 'reporter' } | { kind: 'counsellor'; fingerprint: string },
  ): MessageAuthor =>
    a.kind === 'reporter'
      ? a
      : {
          kind: 'counsellor',
          fingerprint: a.fingerprint,
          name: names.get(a.fingerprint) ?? '?',
          me: a.fingerprint === ctx.fingerprint,
        };
  let report: ReportContent | undefined;
  let consent: Consent | undefined;
  let ack: CaseView['ack'];
  let feedbackGiven = false;
  const attachments: { index: number; ref: AttachmentRef }[] = [];
  const contentKeys: (Uint8Array | undefined)[] = [];
  const messages: MessageView[] = conversation.entries.map((entry, index): MessageView => {
    const hour = detail.messages[index]!.hour;
    if (!entry.ok) {
      contentKeys.push(undefined);
      const hash = entry.hash ? toBase64(entry.hash) : undefined;
      if (entry.error.code === 'wrong-key' && ctx.role === 'escalation' && entry.hash) {
        return {
          index,
          hour,
          ok: false,
          shared: false,
          problem: 'not forwarded to you',
          ...(hash ? { hash } : {}),
        };
      }
      const problem = describeError(entry.error);
      problems.push(`message ${index}: ${problem}`);
      return { index, hour, ok: false, shared: true, problem, ...(hash ? { hash } : {}) };
    }
    contentKeys.push(entry.opened.contentKey);
    const who = author(entry.author);
    const hash = toBase64(entry.opened.hash);
    let content: Content;
    try {
      content = decodeContent(entry.opened.content);
    } catch (error) {
      const problem = `its content is malformed (${(error as Error).message})`;
      problems.push(`message ${index}: ${problem}`);
      return { index, hour, ok: false, shared: true, author: who, problem, hash };
    }
    const misplaced = (() => {
      if (index === 0)
        return content.type === 'report' ? undefined : 'the first message is not a report';
      if (content.type === 'report') return 'a second report';
      if (content.type === 'note') return 'a private note inside the conversation';
      if (
        who.kind === 'reporter' &&
        (content.type === 'status' || content.type === 'ack' || content.type === 'forwarded')
      ) {
        return `a ${content.type} message by the reporter (only counsellors write those)`;
      }
      return undefined;
    })();
    if (misplaced) {
      problems.push(`message ${index}: ${misplaced}`);
      return {
        index,
        hour,
        ok: false,
        shared: true,
        author: who,
        content,
        problem: misplaced,
        hash,
      };
    }
    if (content.type === 'report') {
      report = content;
      consent = content.consent;
    }
    if (content.type === 'message' && who.kind === 'reporter' && content.consent)
      consent = content.consent;
    if (content.type === 'ack' && !ack) ack = { index, hour, content };
    if (ack && index > ack.index && who.kind === 'counsellor' && content.type !== 'ack')
      feedbackGiven = true;
    if (content.type === 'report' || content.type === 'message') {
      for (const ref of content.attachments) attachments.push({ index, ref });
    }
    return { index, hour, ok: true, shared: true, author: who, content, hash };
  });
  for (const problem of conversation.problems)
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

  const opened =
    ctx.role === 'counsellor'
      ? openNotes(detail, ctx, counsellorSignKeys, problems, author)
      : undefined;
  const notes = opened?.notes ?? [];
  const first = conversation.entries[0];
  const reporter =
    report && conversation.reporterSignKey && first?.ok
      ? {
          fingerprint: fingerprintOf(conversation.reporterSignKey),
          boxPublicKey: fromBase64(report.reporterBox, { expectedLength: 32 }),
        }
      : undefined;
  const seen = memory?.seen ?? 0;
  const unread = messages.filter(
    (m) => m.index >= seen && !(m.author?.kind === 'counsellor' && m.author.me),
  ).length;
  const last = conversation.entries.at(-1);
  const lastHash = last ? (last.ok ? last.opened.hash : last.hash) : undefined;
  return {
    caseNumber,
    detail,
    messages,
    notes,
    problems,
    intact: problems.length === 0,
    ...(report ? { report } : {}),
    ...(reporter ? { reporter } : {}),
    ...(consent ? { consent } : {}),
    ...(ack ? { ack } : {}),
    feedbackGiven,
    attachments,
    unread,
    contentKeys,
    ...(lastHash ? { lastHash } : {}),
    ...(opened?.lastHash ? { lastNoteHash: opened.lastHash } : {}),
  };
}

function openNotes(
  detail: CaseDetail,
  ctx: OpenContext,
  counsellorSignKeys: readonly Uint8Array[],
  problems: string[],
  author: (a: { kind: 'counsellor'; fingerprint: string }) => MessageAuthor,
): { notes: NoteView[]; lastHash: Uint8Array | undefined } {
  const opened = openNoteChain(
    detail.notes.map((n) => n.envelope),
    ctx.unwrap,
    { caseNumber: detail.case, counsellorSignKeys, verifier: ctx.verifier },
  );
  const notes = opened.entries.map((entry, index): NoteView => {
    const hour = detail.notes[index]!.hour;
    if (!entry.ok) {
      const problem = describeError(entry.error);
      problems.push(`note ${index}: ${problem}`);
      return { index, hour, problem };
    }
    const who = author({ kind: 'counsellor', fingerprint: entry.fingerprint });
    try {
      const content = decodeContent(entry.opened.content);
      if (content.type !== 'note') throw new Error(`a ${content.type} message in the notes`);
      return { index, hour, author: who, content };
    } catch (error) {
      const problem = `its content is not a note (${(error as Error).message})`;
      problems.push(`note ${index}: ${problem}`);
      return { index, hour, author: who, problem };
    }
  });
  for (const problem of opened.problems)
    problems.push(`note ${problem.index}: ${CHAIN_WORDS[problem.kind]}`);
  const last = opened.entries.at(-1);
  return { notes, lastHash: last ? (last.ok ? last.opened.hash : last.hash) : undefined };
}
