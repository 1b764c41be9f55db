/**
 * Node's native scrypt for the counsellor key file (crypto/keyfile.ts takes
 * the KDF as a parameter so that crypto/ stays free of I/O and platform code).
 * @module
 */

import { scrypt } from 'node:crypto';
import type { ScryptKdf } from '../crypto/keyfile.js';

/** scrypt through OpenSSL, with room for N up to 2^22 at r = 8. */
export const nodeScrypt: ScryptKdf = (passphrase, salt, params, length) =>
  new Promise((resolve, reject) => {
    const maxmem = 128 * params.N * params.r * (params.p + 2) + 1024 * 1024;
    scrypt(
      passphrase,
      salt,
      length,
      { N: params.N, r: params.r, p: params.p, maxmem },
      (error, key) => {
        if (error) reject(error);
        else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
      },
    );
  });
