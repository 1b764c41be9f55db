/**
 * Native Ed25519 verification through Node's OpenSSL: hundreds of times
 * faster than tweetnacl's pure-JS verify, for the counsellor's inbox and
 * the server's request checks. Same answers: crypto/verify.ts applies the
 * same pre-checks (lengths, canonical S) before either verifier runs, and
 * the test suite runs both over the same vectors.
 * @module
 */

import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { SignatureVerifier } from '../crypto/verify.js';

/**
 * A raw 32-byte Ed25519 public key as a KeyObject. Through JWK rather than
 * DER: OpenSSL 3's DER decoder costs about 80 µs a key here, JWK about 10.
 */
export function ed25519PublicKey(bytes: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(bytes).toString('base64url') },
    format: 'jwk',
  });
}

/**
 * Creates a verifier with its own cache of parsed public keys (an inbox
 * meets one reporter key per case, so the default holds thousands).
 */
export function createNativeVerifier(cacheLimit = 8192): SignatureVerifier {
  const keys = new Map<string, KeyObject | null>();
  const keyObject = (publicKey: Uint8Array): KeyObject | null => {
    const id = Buffer.from(publicKey).toString('base64');
    let key = keys.get(id);
    if (key === undefined) {
      try {
        key = ed25519PublicKey(publicKey);
      } catch {
        key = null; // not a point on the curve: nothing verifies under it
      }
      if (keys.size >= cacheLimit) keys.delete(keys.keys().next().value!);
      keys.set(id, key);
    }
    return key;
  };
  return (message, signature, publicKey) => {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    const key = keyObject(publicKey);
    if (!key) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}
