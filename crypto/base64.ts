/**
 * Strict base64 (RFC 4648 section 4, standard alphabet, with padding). Only
 * the canonical encoding of a byte string is accepted, so every value has
 * exactly one spelling and a stored field cannot be altered without
 * changing its bytes.
 * @module
 */

import { MalformedError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes as padded standard base64. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >>> 18]! +
      ALPHABET[(n >>> 12) & 63]! +
      ALPHABET[(n >>> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}${ALPHABET[(n >>> 6) & 63]!}=`;
  }
  return out;
}

/** The exact number of bytes a canonical base64 string of `length` characters decodes to, or -1. */
function decodedLength(text: string): number {
  if (text.length % 4 !== 0) return -1;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/**
 * Decodes canonical padded base64. Throws MalformedError on any other
 * spelling: wrong alphabet, missing or extra padding, whitespace, or
 * non-zero bits in the last character. With `expectedLength`, the decoded
 * length must match too; `maxLength` bounds it before any work is done.
 */
export function fromBase64(
  text: string,
  options: { expectedLength?: number; maxLength?: number } = {},
): Uint8Array {
  if (typeof text !== 'string') throw new MalformedError('base64 must be a string');
  const length = decodedLength(text);
  if (length < 0) throw new MalformedError('base64 length is not a multiple of 4');
  if (options.maxLength !== undefined && length > options.maxLength) {
    throw new MalformedError('base64 value is too long');
  }
  if (options.expectedLength !== undefined && length !== options.expectedLength) {
    throw new MalformedError(`base64 value must decode to ${options.expectedLength} bytes`);
  }
  const out = new Uint8Array(length);
  const body = text;
  let o = 0;
  for (let i = 0; i < body.length; i += 4) {
    const c0 = sextet(body, i);
    const c1 = sextet(body, i + 1);
    const last = i + 4 === body.length;
    const pad2 = last && body[i + 2] === '=';
    const pad3 = last && body[i + 3] === '=';
    if (pad2 && !pad3) throw new MalformedError('invalid base64 padding');
    const c2 = pad2 ? 0 : sextet(body, i + 2);
    const c3 = pad3 ? 0 : sextet(body, i + 3);
    const n = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
    out[o++] = n >>> 16;
    if (!pad2) out[o++] = (n >>> 8) & 0xff;
    else if ((n & 0xffff) !== 0) throw new MalformedError('non-canonical base64');
    if (!pad3) out[o++] = n & 0xff;
    else if (!pad2 && (n & 0xff) !== 0) throw new MalformedError('non-canonical base64');
  }
  return out;
}

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  const value = code < 128 ? DECODE[code]! : -1;
  if (value < 0) throw new MalformedError('invalid base64 character');
  return value;
}

/** True iff `value` is canonical base64 of exactly `length` bytes (a predicate for shape checks). */
export function isBase64Of(value: unknown, length: number): boolean {
  if (typeof value !== 'string') return false;
  try {
    fromBase64(value, { expectedLength: length });
    return true;
  } catch {
    return false;
  }
}
