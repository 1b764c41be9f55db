/**
 * Crockford base32: the alphabet of receipt codes, case numbers and
 * fingerprints. Digits and upper-case letters without I, L, O and U, so a
 * code read aloud or copied by hand survives.
 * @module
 */

import { MalformedError } from './errors.js';

/** The 32 symbols, in value order. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Encodes bytes most-significant bit first, 5 bits per symbol; a final
 * partial group is padded with zero bits. No separators.
 */
export function toCrockford(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD_ALPHABET[(buffer >>> bits) & 31]!;
    }
  }
  if (bits > 0) out += CROCKFORD_ALPHABET[(buffer << (5 - bits)) & 31]!;
  return out;
}

/**
 * Decodes canonical symbols (upper case, no separators) into exactly
 * `byteLength` bytes. The text must be exactly ceil(8·byteLength/5)
 * symbols and its padding bits zero.
 */
export function fromCrockford(text: string, byteLength: number): Uint8Array {
  if (text.length !== Math.ceil((byteLength * 8) / 5))
    throw new MalformedError('wrong base32 length');
  const out = new Uint8Array(byteLength);
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const value = CROCKFORD_ALPHABET.indexOf(text[i]!);
    if (value < 0) throw new MalformedError('invalid base32 character');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >>> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new MalformedError('non-zero base32 padding bits');
  return out;
}

/**
 * Normalises what a person typed into canonical symbols: upper case,
 * I and L read as 1, O as 0, and spaces, dashes and other separators
 * removed. Characters outside the alphabet are left in place so that the
 * caller can report them.
 */
export function normaliseCrockford(typed: string): string {
  return typed
    .toUpperCase()
    .replace(/[\s\-_.·–—]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}

/** Splits canonical symbols into dash-separated groups of four for display. */
export function groupByFour(symbols: string): string {
  return symbols.replace(/(.{4})(?=.)/g, '$1-');
}
