import { concatBytes, u32be, utf8 } from '../../crypto/bytes.js';
import { sha512 } from '../../crypto/hash.js';
import type { RandomSource } from '../../crypto/random.js';

/**
 * Deterministic "randomness" for test vectors: the byte stream
 * SHA-512("kluis/test-random" || 0x00 || seed || u32be(0)) ||
 * SHA-512(… || u32be(1)) || …, handed out in call order.
 * docs/PROTOCOL.md names the order in which each construction draws.
 */
export function seededRandom(seed: string): RandomSource {
  let block = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (length) => {
    while (pool.length < length) {
      pool = concatBytes(
        pool,
        sha512(
          concatBytes(utf8('kluis/test-random'), new Uint8Array([0]), utf8(seed), u32be(block++)),
        ),
      );
    }
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}
