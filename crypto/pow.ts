/**
 * Proof of work, hashcash-style: find a nonce such that
 * SHA-512("kluis/v1/pow" || 0x00 || u8(bits) || challenge || u64be(nonce))
 * starts with `bits` zero bits. It makes each anonymous submission cost a
 * few seconds of a browser's time, where a Tor user has no IP address to
 * rate-limit. Pure JS, one SHA-512 block per try, fast enough without JIT.
 * @module
 */

import { concatBytes, u64be, utf8 } from './bytes.js';
import { InsufficientWorkError, MalformedError } from './errors.js';
import { sha512 } from './hash.js';

/** Highest difficulty the protocol accepts. */
export const MAX_POW_BITS = 32;
/** Longest challenge, in bytes. */
export const MAX_POW_CHALLENGE_BYTES = 64;

function input(challenge: Uint8Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 0 || bits > MAX_POW_BITS)
    throw new MalformedError('difficulty out of range');
  if (challenge.length === 0 || challenge.length > MAX_POW_CHALLENGE_BYTES)
    throw new MalformedError('challenge length out of range');
  return concatBytes(utf8('kluis/v1/pow'), new Uint8Array([0, bits]), challenge, new Uint8Array(8));
}

function leadingZeroBits(hash: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (hash[i] !== 0) return false;
  return bits === 0 || hash[i]! >>> (8 - bits) === 0;
}

function setNonce(buffer: Uint8Array, nonce: number): void {
  buffer.set(u64be(nonce), buffer.length - 8);
}

/** True iff `nonce` solves the challenge at `bits`. */
export function checkPow(challenge: Uint8Array, bits: number, nonce: number): boolean {
  if (!Number.isSafeInteger(nonce) || nonce < 0) return false;
  const buffer = input(challenge, bits);
  setNonce(buffer, nonce);
  return leadingZeroBits(sha512(buffer), bits);
}

/** Like checkPow, but throws InsufficientWorkError. */
export function verifyPow(challenge: Uint8Array, bits: number, nonce: number): void {
  if (!checkPow(challenge, bits, nonce))
    throw new InsufficientWorkError('proof of work does not meet the difficulty');
}

/**
 * Tries nonces start, start+1, … for at most `count` tries and returns the
 * first that solves the challenge, or undefined. Call it in slices to
 * report progress and keep a page responsive; the expected number of tries
 * is 2^bits.
 */
export function solvePow(
  challenge: Uint8Array,
  bits: number,
  start = 0,
  count = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const buffer = input(challenge, bits);
  const end = Math.min(Number.MAX_SAFE_INTEGER, start + count);
  for (let nonce = start; nonce < end; nonce++) {
    setNonce(buffer, nonce);
    if (leadingZeroBits(sha512(buffer), bits)) return nonce;
  }
  return undefined;
}
