/**
 * Ed25519 signatures, with a pluggable verifier. tweetnacl's verify is
 * slow (about 80 checks a second here); a counsellor listing a thousand
 * cases can pass a native verifier instead (see crypto-node/). Both see
 * the same inputs and the same pre-checks, so they give the same answers.
 * @module
 */

import nacl from 'tweetnacl';

/** Returns true iff `signature` is a valid Ed25519 signature of `message` by `publicKey`. */
export type SignatureVerifier = (
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
) => boolean;

/** Pure-JS verification through tweetnacl. */
export const naclVerifier: SignatureVerifier = (message, signature, publicKey) =>
  nacl.sign.detached.verify(message, signature, publicKey);

// The group order L, little-endian: S must be below it.
const ORDER = [
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/**
 * True iff S (the second half of the signature, little-endian) is below
 * the group order L. tweetnacl does not check this (a signature with S+L
 * also verifies there); OpenSSL does. Checking it first makes every
 * verifier agree and signatures non-malleable.
 */
export function hasCanonicalScalar(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    const l = ORDER[i]!;
    if (s < l) return true;
    if (s > l) return false;
  }
  return false; // S == L
}

/**
 * Verifies a signature with `verifier` after the shared pre-checks
 * (lengths, canonical S). Returns false rather than throwing.
 */
export function verifySignature(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
  verifier: SignatureVerifier = naclVerifier,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (!hasCanonicalScalar(signature)) return false;
  return verifier(message, signature, publicKey);
}

/** Ed25519 detached signature of `message` by a 64-byte tweetnacl secret key. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return nacl.sign.detached(message, secretKey);
}
