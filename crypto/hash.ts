/**
 * SHA-512 (from tweetnacl), HMAC-SHA-512 (RFC 2104) and the labelled hash
 * that gives every use of a hash its own domain.
 * @module
 */

import nacl from 'tweetnacl';
import { concatBytes, utf8 } from './bytes.js';

const BLOCK = 128;

/** SHA-512 of `data` (64 bytes). */
export function sha512(data: Uint8Array): Uint8Array {
  return nacl.hash(data);
}

/** HMAC-SHA-512 (RFC 2104, RFC 4231) of `data` under `key` (64 bytes). */
export function hmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array {
  const block = new Uint8Array(BLOCK);
  block.set(key.length > BLOCK ? sha512(key) : key);
  const inner = new Uint8Array(BLOCK);
  const outer = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = block[i]! ^ 0x36;
    outer[i] = block[i]! ^ 0x5c;
  }
  return sha512(concatBytes(outer, sha512(concatBytes(inner, data))));
}

/**
 * Domain-separated hash: SHA-512(UTF-8(label) || 0x00 || parts...),
 * truncated to `length` bytes. Labels are ASCII and never contain 0x00,
 * so distinct labels can never produce the same input.
 */
export function labelledHash(
  label: string,
  length: number,
  ...parts: readonly Uint8Array[]
): Uint8Array {
  return sha512(concatBytes(utf8(label), new Uint8Array([0]), ...parts)).slice(0, length);
}

/** HMAC-SHA-512 keyed by `key` over UTF-8(label), truncated to `length` bytes: one derived key per label. */
export function deriveKey(key: Uint8Array, label: string, length = 32): Uint8Array {
  return hmacSha512(key, utf8(label)).slice(0, length);
}
