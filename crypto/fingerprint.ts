/**
 * Fingerprints: the short name of a signing key. Recipients of an envelope
 * are named by it, and people compare it (on the page, on the phone) with
 * the one the organisation publishes.
 * @module
 */

import { groupByFour, toCrockford } from './base32.js';
import { expectBytes } from './bytes.js';

import { labelledHash } from './hash.js';

/** Bytes of hash in a fingerprint (120 bits: 24 symbols). */
export const FINGERPRINT_BYTES = 15;

const FINGERPRINT_PATTERN = /^[0-9A-HJKMNP-TV-Z]{24}$/;

/** Fingerprint of an Ed25519 public key: 24 Crockford symbols, no separators. */
export function fingerprintOf(signPublicKey: Uint8Array): string {
  return toCrockford(
    labelledHash(
      'kluis/v1/fingerprint',
      FINGERPRINT_BYTES,
      expectBytes(signPublicKey, 32, 'public key'),
    ),
  );
}

/** True iff `text` is a canonical fingerprint. */
export function isFingerprint(text: unknown): text is string {
  return typeof text === 'string' && FINGERPRINT_PATTERN.test(text);
}

/** A fingerprint as people read it: six groups of four. */
export function displayFingerprint(fingerprint: string): string {
  return groupByFour(fingerprint);
}
