/**
 * Reading a case as its reporter: fetch the messages, open each with the
 * keys derived from the receipt code, check every signature, author and
 * link of the chain (PROTOCOL §6), and keep every problem to show it.
 * Nothing that fails a check is hidden or silently dropped.
 * @module
 */

import type {
  ChainProblem,
  Consent,
  Content,
  ReporterKeys,
  VerifiedBundle,
} from '../../../crypto/index.js';
import {
  decodeContent,
  envelopeHash,
  GENESIS_HASH,
  KluisError,
  openConversation,
  parseEnvelope,
  toBase64,
} from '../../../crypto/index.js';
import { getCase } from './api.js';

/** A reporter who holds a receipt code, in memory only. */
export interface Session {
  readonly caseNumber: string;
  readonly keys: ReporterKeys;
}

/** Who wrote a message, as the signature proves. */
export type ItemAuthor = { readonly kind: 'reporter' } | { readonly kind: 'counsellor'; readonly name: string; readonly fingerprint: string };

/** Content types a conversation shows. */
export type ShownContent = Exclude<Content, { type: 'note' }>;

/** One message as the page shows it. */
export type Item =
  | {
      readonly index: number;
      readonly ok: true;
      readonly author: ItemAuthor;
      readonly content: ShownContent;
      /** For an `ack`: whether it names the hash of this report. */
      readonly ackMatches?: boolean;
      /** For `forwarded`: the reporter's latest word before it was not `yes`. */
      readonly withoutConsent?: boolean;
      readonly problems: readonly ChainProblem[];
    }
  | {
      readonly index: number;
      readonly ok: false;
      /** The protocol error code (`auth-failure`, `bad-signature`, `wrong-key`, `malformed`, …). */
      readonly error: string;
      readonly problems: readonly ChainProblem[];
    };

/** A case opened and checked. */
export interface CaseData {
  readonly caseNumber: string;
  readonly items: readonly Item[];
  readonly problems: readonly ChainProblem[];
  /** Every message opened, every author allowed, the chain whole. */
  readonly intact: boolean;
  /** From the latest signed status update, or else the server's word (`signed: false`). */
  readonly status: { readonly value: string; readonly signed: boolean };
  /** The reporter's latest word on forwarding. */
  readonly consent: Consent;
  /** Messages stored: the next message's `seq`. */
  readonly count: number;
  /** Hash of the last message: the next message's `prev`. */
  readonly prev: Uint8Array;
}

function allowed(index: number, author: ItemAuthor, content: Content): content is ShownContent {
  if (index === 0) return content.type === 'report' && author.kind === 'reporter';
  switch (content.type) {
    case 'message':
      return true;
    case 'status':
    case 'ack':
    case 'forwarded':
      return author.kind === 'counsellor';
    default:
      return false; // a second report, or a private note inside the chain
  }
}

/** Opens and checks a list of stored envelopes. Pure: no request. */
export function readConversation(
  caseNumber: string,
  keys: ReporterKeys,
  counsellors: readonly VerifiedBundle[],
  envelopes: readonly unknown[],
  serverStatus: string,
): CaseData {
  const conversation = openConversation(
    envelopes,
    { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey, boxSecretKey: keys.box.secretKey },
    {
      caseNumber,
      counsellorSignKeys: counsellors.map((c) => c.signPublicKey),
      reporterSignKey: keys.sign.publicKey,
    },
  );
  const problemsAt = (index: number) => conversation.problems.filter((p) => p.index === index);
  let consent: Consent = 'no';
  let status: { value: string; signed: boolean } = { value: serverStatus, signed: false };
  let reportHash: string | undefined;
  let intact = conversation.intact;
  const items = conversation.entries.map((entry): Item => {
    const problems = problemsAt(entry.index);
    if (!entry.ok) return { index: entry.index, ok: false, error: entry.error.code, problems };
    let author: ItemAuthor = { kind: 'reporter' };
    if (entry.author.kind === 'counsellor') {
      const fingerprint = entry.author.fingerprint;
      const bundle = counsellors.find((c) => c.fingerprint === fingerprint);
      author = { kind: 'counsellor', fingerprint, name: bundle?.name ?? fingerprint };
    }
    let content: Content;
    try {
      content = decodeContent(entry.opened.content);
    } catch (error) {
      intact = false;
      return { index: entry.index, ok: false, error: error instanceof KluisError ? error.code : 'malformed', problems };
    }
    if (!allowed(entry.index, author, content)) {
      intact = false;
      return { index: entry.index, ok: false, error: 'bad-signature', problems };
    }
    const base = { index: entry.index, ok: true as const, author, content, problems };
    switch (content.type) {
      case 'report':
        consent = content.consent;
        reportHash = toBase64(entry.opened.hash);
        return base;
      case 'message':
        if (author.kind === 'reporter' && content.consent) consent = content.consent;
        return base;
      case 'status':
        status = { value: content.status, signed: true };
        return base;
      case 'ack':
        return { ...base, ackMatches: reportHash !== undefined && content.reportHash === reportHash };
      case 'forwarded':
        return { ...base, withoutConsent: consent !== 'yes' };
    }
    return base;
  });
  const last = conversation.entries[conversation.entries.length - 1];
  let prev: Uint8Array = GENESIS_HASH;
  if (last) prev = (last.ok ? last.opened.hash : last.hash) ?? hashOrZero(envelopes[envelopes.length - 1]);
  return {
    caseNumber,
    items,
    problems: conversation.problems,
    intact,
    status,
    consent,
    count: envelopes.length,
    prev,
  };
}

function hashOrZero(envelope: unknown): Uint8Array {
  try {
    return envelopeHash(parseEnvelope(envelope));
  } catch {
    return new Uint8Array(32);
  }
}

/** Fetches and reads the session's case. */
export async function loadCase(session: Session, counsellors: readonly VerifiedBundle[]): Promise<CaseData> {
  const view = await getCase(session.caseNumber, session.keys.authKey);
  return readConversation(
    session.caseNumber,
    session.keys,
    counsellors,
    view.messages.map((m) => m.envelope),
    view.status,
  );
}
