/**
 * Attachments: a file is padded (Padmé) and encrypted as a stream under
 * its own random key and nonce prefix. Its name, type, real size, key and
 * prefix travel inside the signed, encrypted message that carries it; the
 * server sees only the padded ciphertext's length.
 * @module
 */

import { fromBase64, toBase64 } from './base64.js';
import { expectBytes } from './bytes.js';
import { AuthenticationError, MalformedError } from './errors.js';
import { paddedLength } from './padding.js';
import type { RandomSource } from './random.js';
import { secureRandom } from './random.js';
import {
  STREAM_CHUNK_BYTES,
  STREAM_PREFIX_BYTES,
  StreamDecryptor,
  StreamEncryptor,
  streamCiphertextLength,
  streamPlaintextLength,
} from './stream.js';

/** Largest attachment the protocol allows (servers set their own, lower, limit). */
export const MAX_ATTACHMENT_BYTES = 2 ** 40;

/** The secret half of an attachment: what its message must carry to open it. */
export interface AttachmentKey {
  /** Stream key, base64 (32 bytes). */
  readonly key: string;
  /** Stream nonce prefix, base64 (19 bytes). */
  readonly prefix: string;
  /** The file's real size in bytes, before padding. */
  readonly size: number;
}

/** Makes a fresh key and prefix for a file of `size` bytes. */
export function newAttachmentKey(size: number, random: RandomSource = secureRandom): AttachmentKey {
  checkSize(size);
  return {
    key: toBase64(expectBytes(random(32), 32, 'random')),
    prefix: toBase64(expectBytes(random(STREAM_PREFIX_BYTES), STREAM_PREFIX_BYTES, 'random')),
    size,
  };
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ATTACHMENT_BYTES)
    throw new MalformedError('attachment size out of range');
}

function decodeKey(attachment: AttachmentKey): { key: Uint8Array; prefix: Uint8Array } {
  checkSize(attachment.size);
  return {
    key: fromBase64(attachment.key, { expectedLength: 32 }),
    prefix: fromBase64(attachment.prefix, { expectedLength: STREAM_PREFIX_BYTES }),
  };
}

/** Ciphertext bytes the server will hold for a file of `size` bytes. */
export function attachmentCiphertextLength(size: number): number {
  checkSize(size);
  return streamCiphertextLength(paddedLength(size));
}

/** True iff a finished upload of `length` bytes could be an attachment (the server checks it, never decrypting). */
export function isValidAttachmentLength(length: number): boolean {
  const plaintext = streamPlaintextLength(length);
  return plaintext >= 0 && paddedLength(plaintext) === plaintext;
}

/** Encrypts a file of known size incrementally; `finish` adds the padding and seals the last chunk. */
export class AttachmentEncryptor {
  readonly #stream: StreamEncryptor;
  readonly #size: number;
  #seen = 0;

  constructor(attachment: AttachmentKey) {
    const { key, prefix } = decodeKey(attachment);
    this.#stream = new StreamEncryptor(key, prefix);
    this.#size = attachment.size;
  }

  /** Adds file bytes; returns the sealed chunks now complete. */
  push(data: Uint8Array): Uint8Array[] {
    this.#seen += data.length;
    if (this.#seen > this.#size) throw new MalformedError('more bytes than the declared size');
    return this.#stream.push(data);
  }

  /** Pads, seals the rest and returns the remaining chunks (the last one last). */
  finish(): Uint8Array[] {
    if (this.#seen !== this.#size) throw new MalformedError('fewer bytes than the declared size');
    const out: Uint8Array[] = [];
    let padding = paddedLength(this.#size) - this.#size;
    const zeros = new Uint8Array(Math.min(padding, STREAM_CHUNK_BYTES));
    while (padding > 0) {
      const take = Math.min(padding, zeros.length);
      out.push(...this.#stream.push(zeros.subarray(0, take)));
      padding -= take;
    }
    out.push(this.#stream.finish());
    return out;
  }
}

/** Decrypts an attachment incrementally, yielding exactly `size` bytes and checking that the padding is zero. */
export class AttachmentDecryptor {
  readonly #stream: StreamDecryptor;
  readonly #size: number;
  #emitted = 0;
  #paddingBytes = 0;
  #paddingNonZero = 0;

  constructor(attachment: AttachmentKey) {
    const { key, prefix } = decodeKey(attachment);
    this.#stream = new StreamDecryptor(key, prefix);
    this.#size = attachment.size;
  }

  #trim(chunks: Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const chunk of chunks) {
      const keep = Math.min(chunk.length, this.#size - this.#emitted);
      if (keep > 0) out.push(chunk.subarray(0, keep));
      this.#emitted += keep;
      for (let i = keep; i < chunk.length; i++) this.#paddingNonZero |= chunk[i]!;
      this.#paddingBytes += chunk.length - keep;
    }
    return out;
  }

  /** Adds ciphertext; returns file bytes now proven. */
  push(data: Uint8Array): Uint8Array[] {
    return this.#trim(this.#stream.push(data));
  }

  /** Authenticates the end and returns the last file bytes. Throws if truncated, tampered with or wrongly padded. */
  finish(): Uint8Array[] {
    const out = this.#trim([this.#stream.finish()]);
    if (this.#emitted !== this.#size)
      throw new AuthenticationError('attachment is shorter than its declared size');
    if (
      this.#emitted + this.#paddingBytes !== paddedLength(this.#size) ||
      this.#paddingNonZero !== 0
    ) {
      throw new MalformedError('attachment padding is wrong');
    }
    return out;
  }
}
