/**
 * XSalsa20-Poly1305 (`secretbox`), the one symmetric cipher of Kluis:
 * envelopes, attachment chunks and the key file all seal through here.
 * @module
 */

import nacl from 'tweetnacl';
import { expectBytes } from './bytes.js';
import { AuthenticationError } from './errors.js';

/** Bytes secretbox adds to a plaintext (the Poly1305 tag). */
export const SECRETBOX_OVERHEAD = nacl.secretbox.overheadLength;

/** Seals `plaintext` under a 32-byte key and a 24-byte nonce that is never reused with that key. */
export function sealSecretbox(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  return nacl.secretbox(plaintext, expectBytes(nonce, 24, 'nonce'), expectBytes(key, 32, 'key'));
}

/** Opens a secretbox, or throws AuthenticationError (`what` names it in the message). */
export function openSecretbox(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  what = 'ciphertext',
): Uint8Array {
  const plaintext = nacl.secretbox.open(
    sealed,
    expectBytes(nonce, 24, 'nonce'),
    expectBytes(key, 32, 'key'),
  );
  if (!plaintext) throw new AuthenticationError(`${what} does not authenticate`);
  return plaintext;
}
