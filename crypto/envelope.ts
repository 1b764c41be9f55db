/**
 * Envelopes: every report and message. A signed, padded payload is sealed
 * with a fresh content key (XSalsa20-Poly1305, `secretbox`); the content key
 * is wrapped for each recipient with an ephemeral X25519 key (`box`).
 * The signature binds the case number, the position in the conversation,
 * the hash of the previous message and (payload version 2) the sorted
 * fingerprints of the recipients the author sealed for, so a message moved
 * to another case or position, altered, forged, or sealed for a key its
 * author did not choose is refused or named.
 * @module
 */

import nacl from 'tweetnacl';
import { fromBase64, toBase64 } from './base64.js';
import { concatBytes, expectBytes, fromUtf8, readU32be, u32be, utf8 } from './bytes.js';
import { AuthenticationError, BadSignatureError, MalformedError, WrongKeyError } from './errors.js';
import { openSecretbox, SECRETBOX_OVERHEAD, sealSecretbox } from './secretbox.js';
import { isFingerprint } from './fingerprint.js';
import { labelledHash } from './hash.js';
import { pad, paddedLength, unpad } from './padding.js';
import type { RandomSource } from './random.js';
import { secureRandom } from './random.js';
import { isCaseNumber } from './receipt.js';
import type { SignatureVerifier } from './verify.js';
import { sign, verifySignature } from './verify.js';

/** Payload format version written now: 2, whose signature covers the recipients. */
export const ENVELOPE_VERSION = 2;
/** Payload versions a reader accepts: 1 (recipients not signed; cases written before) and 2. */
export type PayloadVersion = 1 | 2;
/** Largest content (the signed application bytes) in one envelope. */
export const MAX_CONTENT_BYTES = 1024 * 1024;
/** Most recipients one envelope may name. */
export const MAX_RECIPIENTS = 16;
/** Bytes of a fingerprint inside a payload: its 24 ASCII symbols. */
const FINGERPRINT_FIELD_BYTES = 24;
/** Bytes before the content in a version 1 payload (version, seq, prev, author, signature, length): the smallest header of any version. */
export const PAYLOAD_HEADER_BYTES = 1 + 4 + 32 + 32 + 64 + 4;
/** Bytes before the content in a version 2 payload sealed for `recipients` recipients. */
export function payloadHeaderBytes(version: PayloadVersion, recipients: number): number {
  return version === 1
    ? PAYLOAD_HEADER_BYTES
    : PAYLOAD_HEADER_BYTES + 1 + FINGERPRINT_FIELD_BYTES * recipients;
}
/** The predecessor of the first message of a case: 32 zero bytes. (Readers compare against a fresh copy, so a caller that mutates this cannot change what the chain accepts.) */
export const GENESIS_HASH: Uint8Array = new Uint8Array(32);
/** Largest ciphertext an envelope can carry. */
export const MAX_CIPHERTEXT_BYTES =
  paddedLength(payloadHeaderBytes(2, MAX_RECIPIENTS) + MAX_CONTENT_BYTES) + 16;

/** One recipient's copy of the content key. */
export interface WrappedKey {
  /** Fingerprint of the recipient's signing key. */
  readonly to: string;
  /** Ephemeral X25519 public key, base64 (32 bytes). */
  readonly epk: string;
  /** The content key boxed for the recipient, base64 (48 bytes). */
  readonly wk: string;
}

/** An envelope as JSON on the wire and in the store. */
export interface Envelope {
  readonly v: 1;
  /** secretbox nonce, base64 (24 bytes). */
  readonly nonce: string;
  /** secretbox of the padded payload, base64. */
  readonly ct: string;
  readonly keys: readonly WrappedKey[];
}

/** Someone an envelope is sealed for. */
export interface Recipient {
  readonly fingerprint: string;
  readonly boxPublicKey: Uint8Array;
}

/** The key a recipient opens envelopes with. */
export interface RecipientKey extends Recipient {
  readonly boxSecretKey: Uint8Array;
}

/** What to seal. */
export interface SealInput {
  readonly caseNumber: string;
  /** Position in the conversation, from 0. */
  readonly seq: number;
  /** Hash of message seq-1 (GENESIS_HASH for seq 0). */
  readonly prev: Uint8Array;
  /** The author's Ed25519 key pair. */
  readonly author: nacl.SignKeyPair;
  /** Application bytes (at most MAX_CONTENT_BYTES). */
  readonly content: Uint8Array;
  readonly recipients: readonly Recipient[];
  /**
   * Payload version to write: 2 (the default) signs the recipients. 1 exists
   * only so that tests and vectors can make the cases older clients wrote.
   */
  readonly version?: PayloadVersion;
  /**
   * The content key and its wrapped copies made ahead by {@link wrapAhead}
   * for exactly `recipients` (same fingerprints, same order): the slow part
   * of sealing (two X25519 operations per recipient) done before the text
   * is known. Used for this one envelope only; without it, sealing makes its own.
   */
  readonly wrapped?: WrappedAhead;
}

/** A fresh content key wrapped for a list of recipients, made before the content exists. */
export interface WrappedAhead {
  readonly contentKey: Uint8Array;
  readonly keys: readonly WrappedKey[];
}

/** A sealed envelope with what its author may want to keep. */
export interface Sealed {
  readonly envelope: Envelope;
  /** The envelope's hash: the next message's `prev`. */
  readonly hash: Uint8Array;
  readonly contentKey: Uint8Array;
}

/** An envelope opened and its signature checked. */
export interface OpenedEnvelope {
  readonly version: PayloadVersion;
  readonly seq: number;
  readonly prev: Uint8Array;
  /** The author's Ed25519 public key (who may author is the caller's rule). */
  readonly author: Uint8Array;
  /**
   * The fingerprints the author sealed for, sorted, as signed (version 2);
   * undefined for a version 1 payload, whose recipients are not signed.
   * Whether each may read this case is the conversation's rule.
   */
  readonly recipients: readonly string[] | undefined;
  readonly content: Uint8Array;
  readonly hash: Uint8Array;
  readonly contentKey: Uint8Array;
}

/** Recipient fingerprints in their signed order: sorted by their ASCII bytes, distinct. */
export function sortedFingerprints(fingerprints: readonly string[]): string[] {
  for (const fingerprint of fingerprints)
    if (!isFingerprint(fingerprint)) throw new MalformedError('recipient fingerprint is malformed');
  const sorted = [...fingerprints].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.some((fingerprint, i) => i > 0 && fingerprint === sorted[i - 1]))
    throw new MalformedError('duplicate recipient');
  return sorted;
}

function recipientField(sorted: readonly string[]): Uint8Array {
  if (sorted.length === 0 || sorted.length > MAX_RECIPIENTS)
    throw new MalformedError('wrong number of recipients');
  return concatBytes(
    new Uint8Array([sorted.length]),
    ...sorted.map((fingerprint) => utf8(fingerprint)),
  );
}

/**
 * The bytes the author signs. Version 2 (the default) adds the sorted
 * recipient fingerprints, under its own label; version 1 is read only.
 */
export function messageSignedBytes(
  caseNumber: string,
  seq: number,
  prev: Uint8Array,
  author: Uint8Array,
  content: Uint8Array,
  recipients: readonly string[] | undefined,
): Uint8Array {
  if (!isCaseNumber(caseNumber)) throw new MalformedError('not a case number');
  const head = [
    utf8(caseNumber),
    u32be(seq),
    expectBytes(prev, 32, 'prev'),
    expectBytes(author, 32, 'author'),
  ];
  if (recipients === undefined) {
    return concatBytes(
      utf8('kluis/v1/message'),
      new Uint8Array([0]),
      ...head,
      u32be(content.length),
      content,
    );
  }
  return concatBytes(
    utf8('kluis/v2/message'),
    new Uint8Array([0]),
    ...head,
    recipientField(sortedFingerprints(recipients)),
    u32be(content.length),
    content,
  );
}

/** The parts of a payload (PROTOCOL §5.1), before padding. */
export interface PayloadParts {
  readonly version: PayloadVersion;
  readonly seq: number;
  readonly prev: Uint8Array;
  /** The author's Ed25519 public key. */
  readonly author: Uint8Array;
  /** Sign(author, messageSignedBytes(…)). */
  readonly signature: Uint8Array;
  /** Version 2: the recipient fingerprints as signed (sorted, distinct). Ignored for version 1. */
  readonly recipients: readonly string[];
  readonly content: Uint8Array;
}

/**
 * Lays out a payload, unpadded. sealEnvelope uses it; it is exported for
 * platforms that sign with a faster Ed25519 and then seal (the bench).
 */
export function encodePayload(parts: PayloadParts): Uint8Array {
  if (parts.content.length > MAX_CONTENT_BYTES) throw new MalformedError('content is too large');
  return concatBytes(
    new Uint8Array([parts.version]),
    u32be(parts.seq),
    expectBytes(parts.prev, 32, 'prev'),
    expectBytes(parts.author, 32, 'author'),
    expectBytes(parts.signature, 64, 'signature'),
    parts.version === 1 ? new Uint8Array(0) : recipientField(sortedFingerprints(parts.recipients)),
    u32be(parts.content.length),
    parts.content,
  );
}

/** The nonce of a key wrap, derived from both public keys (each ephemeral key is used once). */
function wrapNonce(ephemeralPublicKey: Uint8Array, recipientBoxPublicKey: Uint8Array): Uint8Array {
  return labelledHash('kluis/v1/wrap-nonce', 24, ephemeralPublicKey, recipientBoxPublicKey);
}

/** Wraps a content key for one recipient with a fresh ephemeral key. Used when sealing and when forwarding. */
export function wrapContentKey(
  contentKey: Uint8Array,
  recipient: Recipient,
  random: RandomSource = secureRandom,
): WrappedKey {
  if (!isFingerprint(recipient.fingerprint))
    throw new MalformedError('recipient fingerprint is malformed');
  expectBytes(recipient.boxPublicKey, 32, 'recipient box key');
  const ephemeral = nacl.box.keyPair.fromSecretKey(expectBytes(random(32), 32, 'random'));
  const wrapped = nacl.box(
    expectBytes(contentKey, 32, 'content key'),
    wrapNonce(ephemeral.publicKey, recipient.boxPublicKey),
    recipient.boxPublicKey,
    ephemeral.secretKey,
  );
  return { to: recipient.fingerprint, epk: toBase64(ephemeral.publicKey), wk: toBase64(wrapped) };
}

/**
 * A fresh content key wrapped for each of `recipients` (PROTOCOL §5.2), to
 * seal one envelope with later ({@link SealInput.wrapped}). The key is
 * random and never used for a second envelope.
 */
export function wrapAhead(
  recipients: readonly Recipient[],
  random: RandomSource = secureRandom,
): WrappedAhead {
  const contentKey = expectBytes(random(32), 32, 'random').slice();
  return { contentKey, keys: recipients.map((r) => wrapContentKey(contentKey, r, random)) };
}

/** Hash of an envelope: labelled SHA-512 of its nonce and ciphertext, 32 bytes. Wrapped keys are not covered (forwarding adds some). */
export function envelopeHash(envelope: Envelope): Uint8Array {
  return hashOf(fromBase64(envelope.nonce), fromBase64(envelope.ct));
}

function hashOf(nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return labelledHash('kluis/v1/message-hash', 32, nonce, ciphertext);
}

/** Seals a message. */
export function sealEnvelope(input: SealInput, random: RandomSource = secureRandom): Sealed {
  const { caseNumber, seq, prev, author, content, recipients } = input;
  const version = input.version ?? ENVELOPE_VERSION;
  if (content.length > MAX_CONTENT_BYTES) throw new MalformedError('content is too large');
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS)
    throw new MalformedError('wrong number of recipients');
  const signed =
    version === 1 ? undefined : sortedFingerprints(recipients.map((r) => r.fingerprint));
  if (new Set(recipients.map((r) => r.fingerprint)).size !== recipients.length) {
    throw new MalformedError('duplicate recipient');
  }
  expectBytes(author.secretKey, 64, 'author secret key');
  const signature = sign(
    messageSignedBytes(caseNumber, seq, prev, author.publicKey, content, signed),
    author.secretKey,
  );
  const payload = pad(
    encodePayload({
      version,
      seq,
      prev,
      author: author.publicKey,
      signature,
      recipients: signed ?? [],
      content,
    }),
  );
  const ahead = input.wrapped;
  if (
    ahead &&
    (ahead.keys.length !== recipients.length ||
      ahead.keys.some((key, i) => key.to !== recipients[i]!.fingerprint))
  )
    throw new MalformedError('the key wrapped ahead is for other recipients');
  const contentKey = ahead
    ? expectBytes(ahead.contentKey, 32, 'content key')
    : expectBytes(random(32), 32, 'random').slice();
  const nonce = expectBytes(random(24), 24, 'random').slice();
  const ciphertext = sealSecretbox(contentKey, nonce, payload);
  const keys = ahead
    ? ahead.keys.slice()
    : recipients.map((recipient) => wrapContentKey(contentKey, recipient, random));
  const envelope: Envelope = { v: 1, nonce: toBase64(nonce), ct: toBase64(ciphertext), keys };
  return { envelope, hash: hashOf(nonce, ciphertext), contentKey };
}

const ENVELOPE_KEYS = ['ct', 'keys', 'nonce', 'v'];
const WRAPPED_KEY_KEYS = ['epk', 'to', 'wk'];

function hasExactKeys(
  value: unknown,
  expected: readonly string[],
): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value).sort();
  return keys.length === expected.length && keys.every((key, i) => key === expected[i]);
}

/** True iff `length` is a ciphertext length some payload pads to. */
export function isValidCiphertextLength(length: number): boolean {
  const padded = length - SECRETBOX_OVERHEAD;
  return (
    padded >= PAYLOAD_HEADER_BYTES &&
    length <= MAX_CIPHERTEXT_BYTES &&
    paddedLength(padded) === padded
  );
}

/**
 * Checks an untrusted value's exact shape: no extra fields, canonical
 * base64, fixed key and nonce lengths, a ciphertext length that padding can
 * produce, 1 to MAX_RECIPIENTS distinct recipients. Never decrypts: the
 * server uses it before storing. Throws MalformedError.
 */
export function parseEnvelope(value: unknown): Envelope {
  return decodeEnvelope(value).envelope;
}

/** parseEnvelope, keeping the decoded nonce and ciphertext so they are decoded once. */
function decodeEnvelope(value: unknown): {
  envelope: Envelope;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
} {
  if (!hasExactKeys(value, ENVELOPE_KEYS))
    throw new MalformedError('envelope has missing or extra fields');
  if (value.v !== 1) throw new MalformedError('unsupported envelope version');
  const nonce = fromBase64(value.nonce as string, { expectedLength: 24 });
  const ciphertext = fromBase64(value.ct as string, { maxLength: MAX_CIPHERTEXT_BYTES });
  if (!isValidCiphertextLength(ciphertext.length))
    throw new MalformedError('ciphertext length is not a padded length');
  parseWrappedKeys(value.keys);
  return { envelope: value as unknown as Envelope, nonce, ciphertext };
}

/** Checks a list of wrapped keys (1 to MAX_RECIPIENTS, distinct recipients). Throws MalformedError. */
export function parseWrappedKeys(value: unknown): readonly WrappedKey[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RECIPIENTS) {
    throw new MalformedError('envelope must have 1 to 16 wrapped keys');
  }
  const seen = new Set<string>();
  for (const entry of value) {
    if (!hasExactKeys(entry, WRAPPED_KEY_KEYS))
      throw new MalformedError('wrapped key has missing or extra fields');
    if (!isFingerprint(entry.to)) throw new MalformedError('wrapped key recipient is malformed');
    if (seen.has(entry.to)) throw new MalformedError('duplicate recipient');
    seen.add(entry.to);
    fromBase64(entry.epk as string, { expectedLength: 32 });
    fromBase64(entry.wk as string, { expectedLength: 32 + nacl.box.overheadLength });
  }
  return value as WrappedKey[];
}

/** Recovers the content key from the recipient's wrapped copy. WrongKeyError if not addressed to it; AuthenticationError if the wrap is damaged. */
export function unwrapContentKey(envelope: Envelope, key: RecipientKey): Uint8Array {
  const entry = envelope.keys.find((k) => k.to === key.fingerprint);
  if (!entry) throw new WrongKeyError('envelope is not addressed to this key');
  const ephemeral = fromBase64(entry.epk, { expectedLength: 32 });
  const wrapped = fromBase64(entry.wk, { expectedLength: 48 });
  const contentKey = nacl.box.open(
    wrapped,
    wrapNonce(ephemeral, key.boxPublicKey),
    ephemeral,
    key.boxSecretKey,
  );
  if (!contentKey) throw new AuthenticationError('wrapped key does not open');
  return contentKey;
}

/**
 * Opens an envelope with a recipient's key and checks the author's
 * signature over the expected case number. Does not judge the position
 * (see chain.ts) or whether the author may write here (the caller's rule).
 */
export function openEnvelope(
  value: unknown,
  key: RecipientKey,
  options: { caseNumber: string; verifier?: SignatureVerifier },
): OpenedEnvelope {
  return openEnvelopeWith(value, (envelope) => unwrapContentKey(envelope, key), options);
}

/**
 * openEnvelope with the content-key unwrap passed in (a platform may use a
 * faster X25519 with identical results). Decodes the envelope once.
 */
export function openEnvelopeWith(
  value: unknown,
  unwrap: (envelope: Envelope) => Uint8Array,
  options: { caseNumber: string; verifier?: SignatureVerifier },
): OpenedEnvelope {
  const decoded = decodeEnvelope(value);
  return openDecoded(decoded.nonce, decoded.ciphertext, unwrap(decoded.envelope), options);
}

/** Opens an envelope whose content key is already known (a forwarder re-reading, a test). */
export function openWithContentKey(
  envelope: unknown,
  contentKey: Uint8Array,
  options: { caseNumber: string; verifier?: SignatureVerifier },
): OpenedEnvelope {
  const decoded = decodeEnvelope(envelope);
  return openDecoded(decoded.nonce, decoded.ciphertext, contentKey, options);
}

function openDecoded(
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  contentKey: Uint8Array,
  options: { caseNumber: string; verifier?: SignatureVerifier },
): OpenedEnvelope {
  const payload = openSecretbox(contentKey, nonce, ciphertext, 'envelope');
  const version = payload[0];
  if (payload.length < PAYLOAD_HEADER_BYTES || (version !== 1 && version !== 2)) {
    throw new MalformedError('unsupported payload version');
  }
  const seq = readU32be(payload, 1);
  const prev = payload.slice(5, 37);
  const author = payload.slice(37, 69);
  const signature = payload.slice(69, 133);
  let offset = 133;
  let recipients: string[] | undefined;
  if (version === 2) {
    const count = payload[offset]!;
    if (count === 0 || count > MAX_RECIPIENTS || payload.length < payloadHeaderBytes(2, count)) {
      throw new MalformedError('recipient count out of range');
    }
    recipients = [];
    for (let i = 0; i < count; i++) {
      const start = offset + 1 + FINGERPRINT_FIELD_BYTES * i;
      recipients.push(fromUtf8(payload.subarray(start, start + FINGERPRINT_FIELD_BYTES)));
    }
    // Exactly one spelling: sorted, distinct, canonical (sortedFingerprints throws otherwise).
    if (sortedFingerprints(recipients).some((fingerprint, i) => fingerprint !== recipients![i])) {
      throw new MalformedError('recipients are not in their signed order');
    }
    offset += 1 + FINGERPRINT_FIELD_BYTES * count;
  }
  const contentLength = readU32be(payload, offset);
  if (contentLength > MAX_CONTENT_BYTES) throw new MalformedError('content length out of range');
  const header = offset + 4;
  const content = unpad(payload, header + contentLength).subarray(header);
  const signed = messageSignedBytes(options.caseNumber, seq, prev, author, content, recipients);
  if (!verifySignature(signed, signature, author, options.verifier)) {
    throw new BadSignatureError('message signature does not verify for this case');
  }
  return {
    version,
    seq,
    prev,
    author,
    recipients,
    content,
    hash: hashOf(nonce, ciphertext),
    contentKey,
  };
}
