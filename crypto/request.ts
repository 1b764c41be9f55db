/**
 * Signed counsellor requests. A counsellor's client signs, with its Ed25519
 * identity key, a canonical text naming the server's origin (as the client
 * addresses it), the method, path, time, a random nonce and the body's
 * hash; the server checks the signature against the published bundle and
 * its own origins, the time against a window and the nonce against a
 * replay cache (the last two are the server's, as they need a clock and
 * state).
 * @module
 */

import { fromBase64, toBase64 } from './base64.js';
import { expectBytes, utf8 } from './bytes.js';
import { BadSignatureError, ExpiredError, MalformedError } from './errors.js';
import { fingerprintOf, isFingerprint } from './fingerprint.js';
import { labelledHash } from './hash.js';
import type { RandomSource } from './random.js';
import { secureRandom } from './random.js';
import type { SignatureVerifier } from './verify.js';
import { sign, verifySignature } from './verify.js';

/** Header names, as sent. */
export const REQUEST_HEADERS = {
  key: 'kluis-key',
  time: 'kluis-time',
  nonce: 'kluis-nonce',
  signature: 'kluis-signature',
} as const;

/** The parts of a request that are signed. */
export interface RequestParts {
  /**
   * The server's origin as the client addresses it, serialised as a WHATWG URL's `origin`
   * (`new URL(server).origin`): e.g. "https://kluis.example.org" or "http://…onion". Binds
   * the request to one deployment, so one key used with two servers cannot be replayed from
   * one to the other.
   */
  readonly origin: string;
  /** Upper-case method, e.g. "POST". */
  readonly method: string;
  /** Path and query exactly as sent, e.g. "/api/v1/cases/K7P49QXM". */
  readonly path: string;
  /** Whole seconds since the Unix epoch. */
  readonly time: number;
  /** 16 random bytes, base64. */
  readonly nonce: string;
  readonly body: Uint8Array;
}

/** The four signature headers. */
export interface SignedRequestHeaders {
  readonly 'kluis-key': string;
  readonly 'kluis-time': string;
  readonly 'kluis-nonce': string;
  readonly 'kluis-signature': string;
}

/** Hash of a request body: labelled SHA-512, 32 bytes, base64. */
export function bodyHash(body: Uint8Array): string {
  return toBase64(labelledHash('kluis/v1/request-body', 32, body));
}

/** Label of the canonical text; v2 added the origin (a v1 signature verifies under no v2 text). */
export const REQUEST_LABEL = 'kluis/v2/request';

/**
 * True iff `value` has the shape of a serialised http(s) origin: lower-case scheme and host (a
 * name, an IPv4 address or a bracketed IPv6 address), an optional port without leading zeros,
 * nothing else. It does not check that a default port was left out; `URL.origin` does that.
 */
export function isRequestOrigin(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= 300 &&
    /^https?:\/\/([a-z0-9._~-]+|\[[0-9a-f:.]+\])(:[1-9][0-9]{0,4})?$/.test(value)
  );
}

/** The canonical text a request signature covers, as UTF-8 bytes. */
export function canonicalRequest(parts: RequestParts): Uint8Array {
  if (!isRequestOrigin(parts.origin))
    throw new MalformedError(
      'origin must be a serialised http(s) origin such as https://kluis.example.org',
    );
  if (!/^[A-Z]{1,10}$/.test(parts.method))
    throw new MalformedError('method must be an upper-case token');
  if (!/^\/[\x21-\x7e]{0,2047}$/.test(parts.path))
    throw new MalformedError('path must be printable ASCII starting with /');
  if (!Number.isSafeInteger(parts.time) || parts.time < 0)
    throw new MalformedError('time out of range');
  fromBase64(parts.nonce, { expectedLength: 16 });
  return utf8(
    [
      REQUEST_LABEL,
      parts.origin,
      parts.method,
      parts.path,
      String(parts.time),
      parts.nonce,
      bodyHash(parts.body),
    ].join('\n'),
  );
}

/** Signs a request; returns the headers to send. */
export function signRequest(
  request: Omit<RequestParts, 'nonce'> & { readonly nonce?: string },
  signSecretKey: Uint8Array,
  random: RandomSource = secureRandom,
): SignedRequestHeaders {
  expectBytes(signSecretKey, 64, 'signing secret key');
  const nonce = request.nonce ?? toBase64(expectBytes(random(16), 16, 'random'));
  const signature = sign(canonicalRequest({ ...request, nonce }), signSecretKey);
  return {
    'kluis-key': fingerprintOf(signSecretKey.subarray(32)),
    'kluis-time': String(request.time),
    'kluis-nonce': nonce,
    'kluis-signature': toBase64(signature),
  };
}

/** Parses the signature headers' shapes. Throws MalformedError. */
export function parseRequestHeaders(headers: Partial<Record<string, string | undefined>>): {
  key: string;
  time: number;
  nonce: string;
  signature: Uint8Array;
} {
  const key = headers[REQUEST_HEADERS.key];
  const time = headers[REQUEST_HEADERS.time];
  const nonce = headers[REQUEST_HEADERS.nonce];
  const signature = headers[REQUEST_HEADERS.signature];
  if (!isFingerprint(key)) throw new MalformedError('missing or malformed key header');
  if (typeof time !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(time))
    throw new MalformedError('missing or malformed time header');
  if (typeof nonce !== 'string') throw new MalformedError('missing nonce header');
  fromBase64(nonce, { expectedLength: 16 });
  if (typeof signature !== 'string') throw new MalformedError('missing signature header');
  return {
    key,
    time: Number(time),
    nonce,
    signature: fromBase64(signature, { expectedLength: 64 }),
  };
}

/** Checks a request signature against the signer's public key. Throws BadSignatureError. */
export function verifyRequest(
  parts: RequestParts,
  signature: Uint8Array,
  signPublicKey: Uint8Array,
  verifier?: SignatureVerifier,
): void {
  if (!verifySignature(canonicalRequest(parts), signature, signPublicKey, verifier)) {
    throw new BadSignatureError('request signature does not verify');
  }
}

/** Checks that a request's time lies within `windowSeconds` of `now` (both in seconds). Throws ExpiredError. */
export function checkRequestTime(time: number, now: number, windowSeconds: number): void {
  if (Math.abs(now - time) > windowSeconds)
    throw new ExpiredError('request time is outside the accepted window');
}

/**
 * The first whole second (of the checking clock) at which `checkRequestTime` refuses a request
 * timed `time`: a replay cache must remember the request's nonce at least until then.
 */
export function requestTimeEnd(time: number, windowSeconds: number): number {
  return time + windowSeconds + 1;
}
