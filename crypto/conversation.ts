/**
 * The rules of a conversation (PROTOCOL §6 and §7), in one place for every
 * reader: who may write what where, the reporter's consent, which
 * acknowledgement names this report, and who may be a recipient. The
 * reporter's page and the counsellor's client both read a case through
 * here, so two readers of one protocol cannot disagree.
 *
 * The chain (gaps, reorders, forks) and the signatures are chain.ts and
 * envelope.ts; this module adds what the content and the recipients say.
 * @module
 */

import type { Author, ChainProblem, ContentKeyUnwrapper, Reader } from './chain.js';
import { openConversation, openNotes } from './chain.js';
import type {
  AckContent,
  Consent,
  Content,
  ForwardedContent,
  HandoverContent,
  MessageContent,
  NoteContent,
  ReportContent,
  StatusContent,
} from './content.js';
import { decodeContent } from './content.js';
import type { OpenedEnvelope } from './envelope.js';
import { parseEnvelope } from './envelope.js';
import { KluisError, MisplacedError } from './errors.js';
import { fingerprintOf } from './fingerprint.js';
import { toBase64 } from './base64.js';
import type { SignatureVerifier } from './verify.js';

/** Content a conversation may carry (a note belongs in the notes list only). */
export type ConversationContent =
  | ReportContent
  | MessageContent
  | StatusContent
  | AckContent
  | ForwardedContent
  | HandoverContent;

/** A counsellor the reader trusts. */
export interface TrustedCounsellor {
  readonly fingerprint: string;
  readonly signPublicKey: Uint8Array;
}

/** Who the reader expects in this case. */
export interface Parties {
  readonly caseNumber: string;
  /** The counsellors the reader trusts: who may write besides the reporter, and be sealed for. */
  readonly counsellors: readonly TrustedCounsellor[];
  /** Fingerprints of the escalation recipients the reader knows; one may read a case once it was forwarded to it with consent. */
  readonly escalation: readonly string[];
  /** The reporter's own signing key, when the reporter reads: message 0 must be theirs. */
  readonly reporterSignKey?: Uint8Array;
  readonly verifier?: SignatureVerifier;
}

/**
 * What a reader found of one message's recipients. `unexpected`: named in
 * the signed list or given a wrapped key, yet not the reporter, a trusted
 * counsellor, or an escalation recipient the case was forwarded to with
 * consent; someone the reader did not choose may read it (a `handover`
 * to a counsellor the reader does not trust names that key here too, on
 * the handover itself). `removed`: signed
 * for, but its wrapped key is gone from the envelope.
 */
export interface RecipientFindings {
  /** False for a version 1 payload, whose recipient list is not signed (only the wrapped keys are checked). */
  readonly signed: boolean;
  readonly unexpected: readonly string[];
  readonly removed: readonly string[];
}

/** One message as a reader sees it: opened and allowed, or the typed reason it was not. */
export type ReadMessage =
  | {
      readonly index: number;
      readonly ok: true;
      readonly author: Author;
      readonly content: ConversationContent;
      readonly opened: OpenedEnvelope;
      readonly recipients: RecipientFindings;
      /** For an `ack`: whether it names the hash of this case's report. */
      readonly ackMatches?: boolean;
      /** For `forwarded`: the reporter's latest word before it was not `yes`. */
      readonly withoutConsent?: boolean;
    }
  | {
      readonly index: number;
      readonly ok: false;
      /** `misplaced` (a MisplacedError) when it opened but may not stand there; otherwise why it did not open. */
      readonly error: KluisError;
      readonly hash: Uint8Array | undefined;
      /** Set when the message opened (a misplaced or malformed content). */
      readonly author?: Author;
      readonly content?: Content;
    };

/** A case's conversation, read and judged. */
export interface ReadConversation {
  readonly messages: readonly ReadMessage[];
  readonly problems: readonly ChainProblem[];
  /** The author of message 0. */
  readonly reporterSignKey: Uint8Array | undefined;
  readonly report: ReportContent | undefined;
  /** The reporter's latest word on forwarding (`no` until a report says otherwise). */
  readonly consent: Consent;
  /** The latest signed status update. */
  readonly status: StatusContent['status'] | undefined;
  /** Escalation recipients the case was forwarded to with consent. */
  readonly forwardedTo: readonly string[];
  /** Trusted counsellors the case was handed over to (`handover`), in order. */
  readonly handedTo: readonly string[];
  /** Hash of the last message as delivered: the next message's `prev`. */
  readonly lastHash: Uint8Array | undefined;
  /** Every message opened and allowed, every recipient expected, the chain whole. */
  readonly intact: boolean;
}

/** Content types only a counsellor may write. */
const COUNSELLOR_ONLY: ReadonlySet<Content['type']> = new Set([
  'status',
  'ack',
  'forwarded',
  'handover',
]);

/**
 * Whether `content` by `author` may stand at position `index` of the
 * conversation (PROTOCOL §7, "written by"). Throws MisplacedError if not.
 */
export function checkPlacement(
  index: number,
  author: Author,
  content: Content,
): asserts content is ConversationContent {
  if (index === 0) {
    if (content.type !== 'report')
      throw new MisplacedError('first-not-report', 'the first message is not a report');
    return;
  }
  if (content.type === 'report') throw new MisplacedError('second-report', 'a second report');
  if (content.type === 'note')
    throw new MisplacedError('note-in-conversation', 'a private note inside the conversation');
  if (author.kind === 'reporter' && COUNSELLOR_ONLY.has(content.type)) {
    throw new MisplacedError(
      'counsellor-only',
      `a ${content.type} message by the reporter (only counsellors write those)`,
    );
  }
  // Only the server sealing for a reporter without JavaScript marks a message so (PROTOCOL §7.1).
  if (author.kind !== 'reporter' && content.type === 'message' && content.sealedBy !== undefined)
    throw new MisplacedError(
      'reporter-only',
      'a counsellor message marked as sent without JavaScript (only a reporter’s may be)',
    );
}

function wrappedTo(value: unknown): string[] {
  return parseEnvelope(value).keys.map((key) => key.to);
}

function judgeRecipients(
  opened: OpenedEnvelope,
  keys: readonly string[],
  allowed: ReadonlySet<string>,
): RecipientFindings {
  const signed = opened.recipients;
  const named = new Set([...(signed ?? []), ...keys]);
  return {
    signed: signed !== undefined,
    unexpected: [...named].filter((fingerprint) => !allowed.has(fingerprint)).sort(),
    removed: (signed ?? []).filter((fingerprint) => !keys.includes(fingerprint)),
  };
}

function hasFindings(findings: RecipientFindings): boolean {
  return findings.unexpected.length > 0 || findings.removed.length > 0;
}

/**
 * Reads a conversation as `reader`: opens every message, checks the chain
 * (chain.ts), then applies the rules of this module to each message that
 * opened. Never throws for a bad message; every problem is kept in place.
 */
export function readConversation(
  envelopes: readonly unknown[],
  reader: Reader | ContentKeyUnwrapper,
  parties: Parties,
): ReadConversation {
  const opened = openConversation(envelopes, reader, {
    caseNumber: parties.caseNumber,
    counsellorSignKeys: parties.counsellors.map((c) => c.signPublicKey),
    ...(parties.reporterSignKey ? { reporterSignKey: parties.reporterSignKey } : {}),
    ...(parties.verifier ? { verifier: parties.verifier } : {}),
  });
  let report: ReportContent | undefined;
  let reportHash: string | undefined;
  let consent: Consent = 'no';
  let status: StatusContent['status'] | undefined;
  const escalation = new Set(parties.escalation);
  const forwardedTo = new Set<string>();
  const trusted = new Set(parties.counsellors.map((c) => c.fingerprint));
  const handedTo = new Set<string>();
  // First pass: content and its rules, in order (consent is the reporter's latest word before each message).
  const judged = opened.entries.map((entry) => {
    if (!entry.ok)
      return { index: entry.index, ok: false as const, error: entry.error, hash: entry.hash };
    const hash = entry.opened.hash;
    let content: Content;
    try {
      content = decodeContent(entry.opened.content);
    } catch (error) {
      if (!(error instanceof KluisError)) throw error;
      return { index: entry.index, ok: false as const, error, hash, author: entry.author };
    }
    try {
      checkPlacement(entry.index, entry.author, content);
    } catch (error) {
      if (!(error instanceof MisplacedError)) throw error;
      return { index: entry.index, ok: false as const, error, hash, author: entry.author, content };
    }
    const base = {
      index: entry.index,
      ok: true as const,
      author: entry.author,
      content,
      opened: entry.opened,
    };
    switch (content.type) {
      case 'report':
        report = content;
        consent = content.consent;
        reportHash = toBase64(hash);
        return base;
      case 'message':
        if (entry.author.kind === 'reporter' && content.consent) consent = content.consent;
        return base;
      case 'status':
        status = content.status;
        return base;
      case 'ack':
        return {
          ...base,
          ackMatches: reportHash !== undefined && content.reportHash === reportHash,
        };
      case 'handover':
        // Only to a counsellor the reader trusts (the page's bundles, the client's trusted keys);
        // any other key is named below as an unexpected recipient of this very message.
        if (trusted.has(content.to)) handedTo.add(content.to);
        return base;
      default:
        // 'forwarded' (checkPlacement narrowed the content to the conversation's types)
        if (consent === 'yes' && escalation.has(content.to)) forwardedTo.add(content.to);
        return { ...base, withoutConsent: consent !== 'yes' };
    }
  });
  // Second pass: recipients. A forward re-wraps earlier messages, so it counts for every message of the case.
  const reporterSignKey = opened.reporterSignKey;
  const allowed = new Set([
    ...parties.counsellors.map((c) => c.fingerprint),
    ...forwardedTo,
    ...(reporterSignKey ? [fingerprintOf(reporterSignKey)] : []),
  ]);
  let intact = opened.problems.length === 0;
  const messages = judged.map((message): ReadMessage => {
    if (!message.ok) {
      intact = false;
      return message;
    }
    let recipients = judgeRecipients(message.opened, wrappedTo(envelopes[message.index]), allowed);
    const content = message.content;
    if (
      content.type === 'handover' &&
      !trusted.has(content.to) &&
      !recipients.unexpected.includes(content.to)
    )
      recipients = { ...recipients, unexpected: [...recipients.unexpected, content.to].sort() };
    if (hasFindings(recipients)) intact = false;
    return { ...message, recipients };
  });
  const last = opened.entries.at(-1);
  return {
    messages,
    problems: opened.problems,
    reporterSignKey,
    report,
    consent,
    status,
    forwardedTo: [...forwardedTo],
    handedTo: [...handedTo],
    lastHash: last ? (last.ok ? last.opened.hash : last.hash) : undefined,
    intact,
  };
}

/** One private note: opened, by a counsellor, a `note`, or the typed reason it was not. */
export type ReadNote =
  | {
      readonly index: number;
      readonly ok: true;
      readonly fingerprint: string;
      readonly content: NoteContent;
      readonly opened: OpenedEnvelope;
      readonly recipients: RecipientFindings;
    }
  | {
      readonly index: number;
      readonly ok: false;
      readonly error: KluisError;
      readonly hash: Uint8Array | undefined;
      readonly fingerprint?: string;
    };

/** A case's private notes, read and judged. */
export interface ReadNotes {
  readonly notes: readonly ReadNote[];
  readonly problems: readonly ChainProblem[];
  readonly lastHash: Uint8Array | undefined;
  readonly intact: boolean;
}

/**
 * Reads a case's private notes (PROTOCOL §6): their own chain, every note
 * by a trusted counsellor, of type `note`, and sealed for counsellors only
 * (the reporter, too, is an unexpected recipient here).
 */
export function readNotes(
  envelopes: readonly unknown[],
  reader: Reader | ContentKeyUnwrapper,
  parties: Omit<Parties, 'reporterSignKey'>,
): ReadNotes {
  const opened = openNotes(envelopes, reader, {
    caseNumber: parties.caseNumber,
    counsellorSignKeys: parties.counsellors.map((c) => c.signPublicKey),
    ...(parties.verifier ? { verifier: parties.verifier } : {}),
  });
  const allowed = new Set(parties.counsellors.map((c) => c.fingerprint));
  let intact = opened.problems.length === 0;
  const notes = opened.entries.map((entry): ReadNote => {
    if (!entry.ok) {
      intact = false;
      return entry;
    }
    const failed = (error: KluisError): ReadNote => {
      intact = false;
      return {
        index: entry.index,
        ok: false,
        error,
        hash: entry.opened.hash,
        fingerprint: entry.fingerprint,
      };
    };
    let content: Content;
    try {
      content = decodeContent(entry.opened.content);
    } catch (error) {
      if (!(error instanceof KluisError)) throw error;
      return failed(error);
    }
    if (content.type !== 'note')
      return failed(new MisplacedError('not-a-note', `a ${content.type} message in the notes`));
    const recipients = judgeRecipients(entry.opened, wrappedTo(envelopes[entry.index]), allowed);
    if (hasFindings(recipients)) intact = false;
    return {
      index: entry.index,
      ok: true,
      fingerprint: entry.fingerprint,
      content,
      opened: entry.opened,
      recipients,
    };
  });
  const last = opened.entries.at(-1);
  return {
    notes,
    problems: opened.problems,
    lastHash: last ? (last.ok ? last.opened.hash : last.hash) : undefined,
    intact,
  };
}
