/**
 * The conversation chain. Message i of a case must say seq = i and name
 * the hash of message i-1 (GENESIS_HASH for the first), and be signed by
 * someone allowed to write there: the reporter (the author of message 0)
 * or a counsellor. A reader that walks the chain sees every gap, reorder,
 * replay, fork and forgery.
 * @module
 */

import { constantTimeEqual } from './bytes.js';
import type { KluisError } from './errors.js';
import { BadSignatureError, KluisError as KluisErrorClass, OutOfOrderError } from './errors.js';
import { fingerprintOf } from './fingerprint.js';
import type { Envelope, OpenedEnvelope, RecipientKey } from './envelope.js';
import { envelopeHash, openEnvelopeWith, parseEnvelope, unwrapContentKey } from './envelope.js';
import type { SignatureVerifier } from './verify.js';

// Stands in for the hash of a message too malformed to hash; no real predecessor matches it.
const UNKNOWN_HASH = new Uint8Array(32).fill(0xff);

function hashIfWellFormed(value: unknown): Uint8Array | undefined {
  try {
    return envelopeHash(parseEnvelope(value));
  } catch {
    return undefined;
  }
}

/** What a reader learns of one link. */
export interface ChainLink {
  readonly seq: number;
  readonly prev: Uint8Array;
  readonly hash: Uint8Array;
}

/** One break in the chain, at `index` (the position the server showed the message at). */
export interface ChainProblem {
  readonly index: number;
  /**
   * `gap`: the message claims a later position (messages before it are missing);
   * `reorder`: it claims an earlier position (moved or replayed);
   * `fork`: it is in place but names a predecessor other than the one shown.
   */
  readonly kind: 'gap' | 'reorder' | 'fork';
}

/** Finds every break in a sequence of links as the server delivered them. */
export function checkChain(links: readonly ChainLink[]): ChainProblem[] {
  const problems: ChainProblem[] = [];
  links.forEach((link, index) => {
    if (link.seq > index) problems.push({ index, kind: 'gap' });
    else if (link.seq < index) problems.push({ index, kind: 'reorder' });
    else {
      const expected = index === 0 ? new Uint8Array(32) : links[index - 1]!.hash;
      if (!constantTimeEqual(link.prev, expected)) problems.push({ index, kind: 'fork' });
    }
  });
  return problems;
}

/** Like checkChain, but throws OutOfOrderError at the first break. */
export function assertChain(links: readonly ChainLink[]): void {
  const [first] = checkChain(links);
  if (first) throw new OutOfOrderError(`message ${first.index} is out of order (${first.kind})`);
}

/** Who wrote a message. */
export type Author =
  | { readonly kind: 'reporter' }
  | { readonly kind: 'counsellor'; readonly fingerprint: string };

/** One message of an opened conversation: either opened and authorised, or the typed reason it was not. */
export type ConversationEntry =
  | {
      readonly index: number;
      readonly ok: true;
      readonly author: Author;
      readonly opened: OpenedEnvelope;
    }
  | {
      readonly index: number;
      readonly ok: false;
      readonly error: KluisError;
      readonly hash: Uint8Array | undefined;
    };

/** An opened conversation, with every problem kept rather than hidden. */
export interface Conversation {
  readonly entries: readonly ConversationEntry[];
  readonly problems: readonly ChainProblem[];
  /** The reporter's signing key: the author of message 0. */
  readonly reporterSignKey: Uint8Array | undefined;
  /** True iff every message opened, every author is allowed and the chain is whole. */
  readonly intact: boolean;
}

/** Recovers an envelope's content key for the reader (crypto's unwrapContentKey, or a faster one with the same results). */
export type ContentKeyUnwrapper = (envelope: Envelope) => Uint8Array;

/** What a reader needs to open a conversation. */
export interface ConversationOptions {
  readonly caseNumber: string;
  /** Signing keys of the counsellors, from verified bundles. */
  readonly counsellorSignKeys: readonly Uint8Array[];
  /** The reporter's own signing key, when the reporter reads: message 0 must be theirs. */
  readonly reporterSignKey?: Uint8Array;
  readonly verifier?: SignatureVerifier;
}

/** Who reads: a recipient key (unwrapped with tweetnacl), or an unwrapper with the same results (e.g. native X25519). */
export type Reader = RecipientKey | ContentKeyUnwrapper;

/**
 * Opens each envelope in order and walks the chain; `authorise` names the
 * author of an opened message or throws. Never throws for a bad message:
 * the entry carries the typed error, and an unreadable message keeps its
 * place in the chain so the next link is judged against its real hash.
 */
function walk<Entry>(
  envelopes: readonly unknown[],
  reader: Reader,
  options: ConversationOptions,
  authorise: (opened: OpenedEnvelope, index: number) => Entry,
  failed: (index: number, error: KluisError, hash: Uint8Array | undefined) => Entry,
): { entries: Entry[]; problems: ChainProblem[] } {
  const unwrap =
    typeof reader === 'function'
      ? reader
      : (envelope: Envelope) => unwrapContentKey(envelope, reader);
  const verifier = options.verifier ? { verifier: options.verifier } : {};
  const links: ChainLink[] = [];
  const entries = envelopes.map((value, index): Entry => {
    let opened: OpenedEnvelope | undefined;
    try {
      opened = openEnvelopeWith(value, unwrap, { caseNumber: options.caseNumber, ...verifier });
      links.push(opened);
      return authorise(opened, index);
    } catch (error) {
      if (!(error instanceof KluisErrorClass)) throw error;
      const hash = opened?.hash ?? hashIfWellFormed(value);
      if (links.length === index) {
        const prev = index === 0 ? new Uint8Array(32) : links[index - 1]!.hash;
        links.push({ seq: index, prev, hash: hash ?? UNKNOWN_HASH });
      }
      return failed(index, error, hash);
    }
  });
  return { entries, problems: checkChain(links) };
}

function counsellorIndex(signKeys: readonly Uint8Array[]) {
  const counsellors = signKeys.map((signKey) => ({ signKey, fingerprint: fingerprintOf(signKey) }));
  return (author: Uint8Array) => counsellors.find((c) => constantTimeEqual(c.signKey, author));
}

/**
 * Opens every message of a case as `reader`, checks each author and the
 * chain. Never throws for a bad message: it is reported in its entry, and
 * the chain problems beside it.
 */
export function openConversation(
  envelopes: readonly unknown[],
  reader: Reader,
  options: ConversationOptions,
): Conversation {
  const counsellorOf = counsellorIndex(options.counsellorSignKeys);
  let reporterSignKey = options.reporterSignKey;
  const { entries, problems } = walk<ConversationEntry>(
    envelopes,
    reader,
    options,
    (opened, index) => {
      if (index === 0 && reporterSignKey === undefined) reporterSignKey = opened.author;
      if (reporterSignKey && constantTimeEqual(opened.author, reporterSignKey))
        return { index, ok: true, author: { kind: 'reporter' }, opened };
      const counsellor = counsellorOf(opened.author);
      if (index > 0 && counsellor)
        return {
          index,
          ok: true,
          author: { kind: 'counsellor', fingerprint: counsellor.fingerprint },
          opened,
        };
      throw new BadSignatureError(
        index === 0
          ? 'first message is not the reporter’s'
          : 'message author may not write in this case',
      );
    },
    (index, error, hash) => ({ index, ok: false, error, hash }),
  );
  const intact = problems.length === 0 && entries.every((entry) => entry.ok);
  return { entries, problems, reporterSignKey, intact };
}

/** One private note: opened and by a counsellor, or the typed reason it was not. */
export type NoteEntry =
  | {
      readonly index: number;
      readonly ok: true;
      readonly fingerprint: string;
      readonly opened: OpenedEnvelope;
    }
  | {
      readonly index: number;
      readonly ok: false;
      readonly error: KluisError;
      readonly hash: Uint8Array | undefined;
    };

/**
 * Opens a case's private notes (PROTOCOL §6): their own chain, every note
 * by a counsellor, sealed for the counsellors only.
 */
export function openNotes(
  envelopes: readonly unknown[],
  reader: Reader,
  options: Omit<ConversationOptions, 'reporterSignKey'>,
): { entries: NoteEntry[]; problems: ChainProblem[] } {
  const counsellorOf = counsellorIndex(options.counsellorSignKeys);
  return walk<NoteEntry>(
    envelopes,
    reader,
    options,
    (opened, index) => {
      const counsellor = counsellorOf(opened.author);
      if (!counsellor) throw new BadSignatureError('note author is not a counsellor');
      return { index, ok: true, fingerprint: counsellor.fingerprint, opened };
    },
    (index, error, hash) => ({ index, ok: false, error, hash }),
  );
}
