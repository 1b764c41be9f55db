/**
 * Who is asking: a reporter (the key derived from the receipt code, checked
 * against the stored verifier in constant time) or a counsellor or
 * escalation recipient (an Ed25519-signed request from a configured bundle,
 * for one of this server's origins, within the time window, timed after
 * this process could have seen it, with a fresh nonce).
 */

import {
  authVerifier,
  checkRequestTime,
  constantTimeEqual,
  ExpiredError,
  fromBase64,
  KluisError,
  parseRequestHeaders,
  requestTimeEnd,
  type SignatureVerifier,
  type VerifiedBundle,
  verifyRequest,
} from '../crypto/index.js';
import {
  ExpiredSignatureError,
  ReplayedSignatureError,
  SignatureBeforeStartError,
  TooManyAttemptsError,
  UnauthorizedError,
} from './errors.js';
/**
 * Where the nonces of accepted signed requests are remembered: in this process (ExpiringSet), or
 * in the database that several server processes share (pg-state.ts), so that a request accepted
 * by one process is refused by every other.
 */
export interface NonceMemory {
  /** Remembers `key` until `expiresAt` (ms); false if it is already remembered and unexpired. */
  add(key: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

/** Seconds a signed request may be away from the server's clock. */
export const SIGNATURE_WINDOW_SECONDS = 300;
/**
 * Seconds a nonce is kept beyond the last second its request could pass the time check, so
 * that a small step back of the server's clock (NTP) does not reopen the window.
 */
export const NONCE_MARGIN_SECONDS = 60;

/**
 * The earliest Kluis-Time a server process started at `startMs` accepts. Its nonce memory
 * starts empty, and any request an earlier process saw was timed at most a window after that
 * process last looked at its clock (no later than this start), so refusing every time up to
 * start + window refuses every replay of one (the server's clock must not go back across a
 * restart). A counsellor's client signs again with this time (docs/API.md).
 */
export function signedNotBefore(startMs: number): number {
  return requestTimeEnd(Math.floor(startMs / 1000), SIGNATURE_WINDOW_SECONDS);
}

/** What a signed request is checked against, besides the keys. */
export interface SignedRequestPolicy {
  /** The origins counsellors address this server by (KLUIS_ORIGINS); the signature must name one. */
  readonly origins: readonly string[];
  /** The earliest accepted Kluis-Time (signedNotBefore of this process's start). */
  readonly notBefore: number;
  /** Nonces of accepted requests, each until its request's time has left the window. */
  readonly nonces: NonceMemory;
}
/** Failed reporter logins allowed per case in one window. */
export const MAX_FAILED_LOGINS = 10;
/** The window for failed logins. */
export const FAILED_LOGIN_WINDOW_MS = 15 * 60 * 1000;

const DUMMY_VERIFIER = new Uint8Array(32);

/** Counts failed reporter logins per case number, bounded in memory. */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #capacity: number;

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  /** Throws TooManyAttemptsError while the case is locked. */
  check(caseNumber: string, now: number): void {
    const entry = this.#failures.get(caseNumber);
    if (entry && now - entry.since < FAILED_LOGIN_WINDOW_MS && entry.count >= MAX_FAILED_LOGINS) {
      throw new TooManyAttemptsError('too many failed attempts for this case: wait 15 minutes');
    }
  }

  fail(caseNumber: string, now: number): void {
    const entry = this.#failures.get(caseNumber);
    if (entry && now - entry.since < FAILED_LOGIN_WINDOW_MS) entry.count++;
    else {
      this.#failures.delete(caseNumber);
      if (this.#failures.size >= this.#capacity)
        this.#failures.delete(this.#failures.keys().next().value!);
      this.#failures.set(caseNumber, { count: 1, since: now });
    }
  }
}

/**
 * Checks a reporter's `Kluis-Auth` header against the case's verifier.
 * Unknown case and wrong key take the same path and give the same error.
 */
export function authenticateReporter(
  header: string | undefined,
  caseNumber: string,
  storedVerifier: string | undefined,
  throttle: LoginThrottle,
  now: number,
): void {
  throttle.check(caseNumber, now);
  let presented: Uint8Array;
  try {
    presented = fromBase64(header ?? '', { expectedLength: 32 });
  } catch {
    throttle.fail(caseNumber, now);
    throw new UnauthorizedError('missing or malformed Kluis-Auth header');
  }
  const expected = storedVerifier === undefined ? DUMMY_VERIFIER : fromBase64(storedVerifier);
  const match = constantTimeEqual(authVerifier(presented), expected);
  if (!match || storedVerifier === undefined) {
    throttle.fail(caseNumber, now);
    throw new UnauthorizedError('wrong receipt code for this case');
  }
}

/** Verifies the signature for any of `origins`; throws BadSignatureError if none. */
function verifyForAnyOrigin(
  parts: Omit<Parameters<typeof verifyRequest>[0], 'origin'>,
  signature: Uint8Array,
  signPublicKey: Uint8Array,
  origins: readonly string[],
  verifier: SignatureVerifier | undefined,
): void {
  let failure: unknown = new UnauthorizedError(
    'this server has no origins configured (KLUIS_ORIGINS)',
  );
  for (const origin of origins) {
    try {
      verifyRequest({ ...parts, origin }, signature, signPublicKey, verifier);
      return;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

/** A signed request's headers, parsed, with the configured key they name and the time checked. */
interface SignedHeaders {
  readonly parsed: ReturnType<typeof parseRequestHeaders>;
  readonly signer: VerifiedBundle;
}

function checkSignedHeaders(
  headers: Headers,
  keys: ReadonlyMap<string, VerifiedBundle>,
  nowMs: number,
): SignedHeaders {
  let parsed: ReturnType<typeof parseRequestHeaders>;
  try {
    parsed = parseRequestHeaders({
      'kluis-key': headers.get('kluis-key') ?? undefined,
      'kluis-time': headers.get('kluis-time') ?? undefined,
      'kluis-nonce': headers.get('kluis-nonce') ?? undefined,
      'kluis-signature': headers.get('kluis-signature') ?? undefined,
    });
  } catch {
    throw new UnauthorizedError('missing or malformed signature headers');
  }
  const signer = keys.get(parsed.key);
  if (!signer) throw new UnauthorizedError('unknown counsellor key');
  try {
    checkRequestTime(parsed.time, Math.floor(nowMs / 1000), SIGNATURE_WINDOW_SECONDS);
  } catch (error) {
    if (error instanceof ExpiredError)
      throw new ExpiredSignatureError('request time is more than 5 minutes from the server clock');
    if (error instanceof KluisError)
      throw new UnauthorizedError('request signature does not verify');
    throw error;
  }
  return { parsed, signer };
}

/**
 * What can be checked of a signed request before its body is read: the
 * headers' shape, a configured key and the time window. The signature
 * itself covers the body, so authenticateCounsellor follows once it is read;
 * this only keeps strangers from making the server buffer a body at all.
 */
export function precheckCounsellor(
  headers: Headers,
  keys: ReadonlyMap<string, VerifiedBundle>,
  nowMs: number,
): void {
  checkSignedHeaders(headers, keys, nowMs);
}

/** Checks a signed counsellor request; returns the signer's bundle. */
export async function authenticateCounsellor(
  request: { method: string; path: string; headers: Headers; body: Uint8Array },
  keys: ReadonlyMap<string, VerifiedBundle>,
  policy: SignedRequestPolicy,
  nowMs: number,
  verifier: SignatureVerifier | undefined,
): Promise<VerifiedBundle> {
  const { parsed, signer } = checkSignedHeaders(request.headers, keys, nowMs);
  try {
    verifyForAnyOrigin(
      {
        method: request.method,
        path: request.path,
        time: parsed.time,
        nonce: parsed.nonce,
        body: request.body,
      },
      parsed.signature,
      signer.signPublicKey,
      policy.origins,
      verifier,
    );
  } catch (error) {
    if (error instanceof KluisError) {
      throw new UnauthorizedError(
        "request signature does not verify for this server (is the client's server address one of KLUIS_ORIGINS?)",
      );
    }
    throw error;
  }
  // After the signature, so that only a counsellor learns the time and a stranger learns nothing.
  if (parsed.time < policy.notBefore) {
    throw new SignatureBeforeStartError(
      'the server has just started: sign again with the time it names',
      { notBefore: policy.notBefore },
    );
  }
  // Only a verified request may spend a nonce, so strangers cannot fill the cache. It is kept
  // until the request's own time has left the window (not a fixed time after arrival: a request
  // timed ahead would outlive that), plus a margin for the server's clock.
  const keepUntil =
    (requestTimeEnd(parsed.time, SIGNATURE_WINDOW_SECONDS) + NONCE_MARGIN_SECONDS) * 1000;
  if (!(await policy.nonces.add(`${parsed.key}:${parsed.nonce}`, keepUntil, nowMs))) {
    throw new ReplayedSignatureError('this request was already received');
  }
  return signer;
}
