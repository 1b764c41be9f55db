/**
 * Receipt codes: the reporter's only secret.
 *
 * A code is 28 Crockford base32 symbols in seven groups of four:
 * the case number (8 symbols, 40 bits, issued by the server and shareable),
 * the secret (16 symbols, 80 bits, made in the browser, never sent) and a
 * check group (4 symbols, 20 bits) that catches typos before any request.
 * Keys are derived from the whole code with HMAC-SHA-512 and one label per
 * key, so no key reveals another and none reveals the secret.
 * @module
 */

import nacl from 'tweetnacl';
import { fromCrockford, groupByFour, normaliseCrockford, toCrockford } from './base32.js';
import { concatBytes, expectBytes, utf8 } from './bytes.js';
import { InvalidReceiptCodeError, MalformedError } from './errors.js';
import { deriveKey, hmacSha512, labelledHash } from './hash.js';
import { fingerprintOf } from './fingerprint.js';
import type { RandomSource } from './random.js';
import { secureRandom } from './random.js';

/** Symbols in a case number. */
export const CASE_NUMBER_SYMBOLS = 8;
/** Bytes of secret in a receipt code (80 bits). */
export const RECEIPT_SECRET_BYTES = 10;
/** Symbols in a whole receipt code, without separators. */
export const RECEIPT_CODE_SYMBOLS = 28;

const CASE_NUMBER_PATTERN = /^[0-9A-HJKMNP-TV-Z]{8}$/;

/** A parsed receipt code. */
export interface ReceiptCode {
  /** Canonical case number: 8 symbols, upper case, no separator. */
  readonly caseNumber: string;
  /** The 10 secret bytes. */
  readonly secret: Uint8Array;
}

/** Everything a reporter's browser derives from the receipt code. */
export interface ReporterKeys {
  /** Signs the reporter's messages (Ed25519). */
  readonly sign: nacl.SignKeyPair;
  /** Receives counsellors' replies (X25519). */
  readonly box: nacl.BoxKeyPair;
  /** Fingerprint of the signing key: names the reporter as a recipient. */
  readonly fingerprint: string;
  /** Proves to the server that this browser holds the code (32 bytes, sent in a header). */
  readonly authKey: Uint8Array;
  /** What the server stores to check `authKey` (32 bytes). */
  readonly verifier: Uint8Array;
}

/** True iff `text` is a canonical case number. */
export function isCaseNumber(text: string): boolean {
  return CASE_NUMBER_PATTERN.test(text);
}

/** A fresh random case number (the server's job). */
export function generateCaseNumber(random: RandomSource = secureRandom): string {
  return toCrockford(expectBytes(random(5), 5, 'random'));
}

/** Normalises a typed case number (e.g. "k7p4 9qxm") to canonical form, or throws MalformedError. */
export function parseCaseNumber(typed: string): string {
  const symbols = normaliseCrockford(typed);
  if (!isCaseNumber(symbols)) throw new MalformedError('not a case number');
  return symbols;
}

/** A fresh 80-bit receipt secret (the browser's job). */
export function generateReceiptSecret(random: RandomSource = secureRandom): Uint8Array {
  return expectBytes(random(RECEIPT_SECRET_BYTES), RECEIPT_SECRET_BYTES, 'random').slice();
}

function checkSymbols(caseNumber: string, secret: Uint8Array): string {
  const check = labelledHash('kluis/v1/receipt-check', 3, utf8(caseNumber), secret);
  return toCrockford(check).slice(0, 4); // the first 20 bits
}

/** Formats a receipt code for display: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`. */
export function formatReceiptCode(code: ReceiptCode): string {
  if (!isCaseNumber(code.caseNumber)) throw new MalformedError('not a case number');
  expectBytes(code.secret, RECEIPT_SECRET_BYTES, 'receipt secret');
  const symbols =
    code.caseNumber + toCrockford(code.secret) + checkSymbols(code.caseNumber, code.secret);
  return groupByFour(symbols);
}

/**
 * Parses what a reporter typed: case, separators and the look-alikes
 * I/L/O are forgiven; a wrong length, a foreign character or a failed
 * check group throws InvalidReceiptCodeError naming the problem.
 */
export function parseReceiptCode(typed: string): ReceiptCode {
  if (typeof typed !== 'string' || typed.length > 200) {
    throw new InvalidReceiptCodeError('length', 'receipt code has the wrong length');
  }
  const symbols = normaliseCrockford(typed);
  if (!/^[0-9A-HJKMNP-TV-Z]*$/.test(symbols)) {
    throw new InvalidReceiptCodeError(
      'character',
      'receipt code has a character outside its alphabet',
    );
  }
  if (symbols.length !== RECEIPT_CODE_SYMBOLS) {
    throw new InvalidReceiptCodeError('length', 'receipt code has the wrong length');
  }
  const caseNumber = symbols.slice(0, CASE_NUMBER_SYMBOLS);
  let secret: Uint8Array;
  try {
    secret = fromCrockford(symbols.slice(CASE_NUMBER_SYMBOLS, 24), RECEIPT_SECRET_BYTES);
  } catch {
    throw new InvalidReceiptCodeError('character', 'receipt code secret is not valid');
  }
  if (checkSymbols(caseNumber, secret) !== symbols.slice(24)) {
    throw new InvalidReceiptCodeError(
      'checksum',
      'receipt code check group does not match: a typo?',
    );
  }
  return { caseNumber, secret };
}

/** The verifier the server stores for an authentication key: labelled SHA-512, 32 bytes. */
export function authVerifier(authKey: Uint8Array): Uint8Array {
  return labelledHash('kluis/v1/auth-verifier', 32, expectBytes(authKey, 32, 'auth key'));
}

function receiptRoot(code: ReceiptCode): Uint8Array {
  if (!isCaseNumber(code.caseNumber)) throw new MalformedError('not a case number');
  return hmacSha512(
    expectBytes(code.secret, RECEIPT_SECRET_BYTES, 'receipt secret'),
    concatBytes(utf8('kluis/v1/receipt'), new Uint8Array([0]), utf8(code.caseNumber)),
  );
}

/**
 * The reporter's server authentication key alone (the `authKey` of
 * {@link deriveReporterKeys}): hashes only, so a page can ask for the case
 * while it derives the key pairs (two X25519/Ed25519 base multiplications,
 * slow without a JIT).
 */
export function deriveReporterAuthKey(code: ReceiptCode): Uint8Array {
  return deriveKey(receiptRoot(code), 'kluis/v1/server-auth');
}

/** Derives the reporter's keys from a receipt code, with one label per key. */
export function deriveReporterKeys(code: ReceiptCode): ReporterKeys {
  const root = receiptRoot(code);
  const sign = nacl.sign.keyPair.fromSeed(deriveKey(root, 'kluis/v1/reporter-sign'));
  const box = nacl.box.keyPair.fromSecretKey(deriveKey(root, 'kluis/v1/reporter-box'));
  const authKey = deriveKey(root, 'kluis/v1/server-auth');
  return {
    sign,
    box,
    fingerprint: fingerprintOf(sign.publicKey),
    authKey,
    verifier: authVerifier(authKey),
  };
}
