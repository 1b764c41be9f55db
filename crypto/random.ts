/**
 * Where randomness comes from. Every function that needs random bytes
 * takes a `RandomSource`, so test vectors can pass a fixed one; the default
 * is tweetnacl's `randomBytes` (the platform's CSPRNG).
 * @module
 */

import nacl from 'tweetnacl';

/** Returns `length` fresh random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/** The platform CSPRNG, through tweetnacl. */
export const secureRandom: RandomSource = (length) => nacl.randomBytes(length);
