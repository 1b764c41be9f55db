/**
 * Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted
 * Files and Communication with PURBs", 2019): a length L is rounded up so
 * that at most O(log log L) bits of it remain, at most 12% overhead.
 * @module
 */

import { MalformedError } from './errors.js';

/** Smallest padded size: every short message looks alike. */
export const MIN_PADDED_LENGTH = 512;

/** The Padmé length of `length` (itself for lengths below 2). */
export function padme(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new MalformedError('length out of range');
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  // (length + mask) & ~mask, in arithmetic that stays exact beyond 2^32.
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}

/** The padded length Kluis uses: Padmé of max(length, MIN_PADDED_LENGTH). */
export function paddedLength(length: number): number {
  return padme(Math.max(length, MIN_PADDED_LENGTH));
}

/** Appends zero bytes up to `paddedLength(data.length)`. */
export function pad(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(paddedLength(data.length));
  out.set(data);
  return out;
}

/**
 * Checks that `padded` is exactly the padding of its first `length` bytes
 * (right size, zero padding) and returns those bytes.
 */
export function unpad(padded: Uint8Array, length: number): Uint8Array {
  if (length > padded.length || paddedLength(length) !== padded.length) {
    throw new MalformedError('padding length does not match');
  }
  let nonZero = 0;
  for (let i = length; i < padded.length; i++) nonZero |= padded[i]!;
  if (nonZero !== 0) throw new MalformedError('padding is not zero');
  return padded.subarray(0, length);
}
