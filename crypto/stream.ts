/**
 * Attachment streams: the STREAM construction (Hoang, Reyhanitabar, Rogaway
 * and Vizár, 2015) over XSalsa20-Poly1305, as age uses it. The plaintext is
 * cut into 64 KiB chunks; chunk i is sealed with the nonce
 * prefix(19) || u32be(i) || last(1). Altering, dropping, reordering or
 * truncating chunks, or moving chunks between files, fails authentication.
 * Encryptor and decryptor are incremental: memory stays at about one chunk.
 * @module
 */

import { expectBytes } from './bytes.js';
import { AuthenticationError, MalformedError } from './errors.js';
import { openSecretbox, SECRETBOX_OVERHEAD, sealSecretbox } from './secretbox.js';

/** Plaintext bytes per chunk (the last chunk may be shorter). */
export const STREAM_CHUNK_BYTES = 64 * 1024;
/** Bytes of a sealed full chunk. */
export const STREAM_SEALED_CHUNK_BYTES = STREAM_CHUNK_BYTES + SECRETBOX_OVERHEAD;
/** Bytes of the random nonce prefix of a stream. */
export const STREAM_PREFIX_BYTES = 19;
/** Chunks per stream at most: the counter is 32 bits. */
export const STREAM_MAX_CHUNKS = 0xffffffff;

/** The nonce of chunk `index`. */
export function chunkNonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  expectBytes(prefix, STREAM_PREFIX_BYTES, 'stream prefix');
  if (!Number.isInteger(index) || index < 0 || index > STREAM_MAX_CHUNKS)
    throw new MalformedError('chunk index out of range');
  const nonce = new Uint8Array(24);
  nonce.set(prefix);
  new DataView(nonce.buffer).setUint32(STREAM_PREFIX_BYTES, index, false);
  nonce[23] = last ? 1 : 0;
  return nonce;
}

/** Seals one chunk. Lets an upload resume at chunk `index` without re-reading what was sent. */
export function encryptChunk(
  key: Uint8Array,
  prefix: Uint8Array,
  index: number,
  plaintext: Uint8Array,
  last: boolean,
): Uint8Array {
  if (plaintext.length > STREAM_CHUNK_BYTES) throw new MalformedError('chunk is too large');
  if (!last && plaintext.length !== STREAM_CHUNK_BYTES)
    throw new MalformedError('only the last chunk may be short');
  if (last && plaintext.length === 0 && index !== 0)
    throw new MalformedError('only an empty stream has an empty last chunk');
  return sealSecretbox(
    expectBytes(key, 32, 'stream key'),
    chunkNonce(prefix, index, last),
    plaintext,
  );
}

/** Opens one chunk, or throws AuthenticationError. */
export function decryptChunk(
  key: Uint8Array,
  prefix: Uint8Array,
  index: number,
  sealed: Uint8Array,
  last: boolean,
): Uint8Array {
  const what = `chunk ${index}${last ? ' (as the last chunk)' : ''}`;
  const plaintext = openSecretbox(
    expectBytes(key, 32, 'stream key'),
    chunkNonce(prefix, index, last),
    sealed,
    what,
  );
  if (last && plaintext.length === 0 && index !== 0)
    throw new MalformedError('empty last chunk after data');
  return plaintext;
}

/** Number of chunks a plaintext of `length` bytes is cut into (at least one). */
export function streamChunkCount(length: number): number {
  return Math.max(1, Math.ceil(length / STREAM_CHUNK_BYTES));
}

/** Ciphertext length of a plaintext of `length` bytes. */
export function streamCiphertextLength(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new MalformedError('length out of range');
  return length + streamChunkCount(length) * SECRETBOX_OVERHEAD;
}

/** Plaintext length of a stream of `length` ciphertext bytes, or -1 if no stream has that length. */
export function streamPlaintextLength(length: number): number {
  if (!Number.isSafeInteger(length) || length < SECRETBOX_OVERHEAD) return -1;
  const chunks = Math.ceil(length / STREAM_SEALED_CHUNK_BYTES);
  const plaintext = length - chunks * SECRETBOX_OVERHEAD;
  return streamCiphertextLength(plaintext) === length && (plaintext > 0 || chunks === 1)
    ? plaintext
    : -1;
}

/**
 * Cuts a byte stream into chunks of `size` and hands each to `handle`
 * with its index. A full chunk is held back until more data arrives,
 * because only then is it known not to be the last; `finish` hands
 * on the rest as the last chunk. Memory stays at one chunk.
 */
class Chunker {
  readonly #buffer: Uint8Array;
  readonly #handle: (index: number, chunk: Uint8Array, last: boolean) => Uint8Array;
  #filled = 0;
  #index = 0;
  #finished = false;

  constructor(
    size: number,
    handle: (index: number, chunk: Uint8Array, last: boolean) => Uint8Array,
  ) {
    this.#buffer = new Uint8Array(size);
    this.#handle = handle;
  }

  push(data: Uint8Array): Uint8Array[] {
    if (this.#finished) throw new MalformedError('stream already finished');
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      if (this.#filled === this.#buffer.length) {
        out.push(this.#handle(this.#index++, this.#buffer, false));
        this.#filled = 0;
      }
      const take = Math.min(this.#buffer.length - this.#filled, data.length - offset);
      this.#buffer.set(data.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
    }
    return out;
  }

  finish(): Uint8Array {
    if (this.#finished) throw new MalformedError('stream already finished');
    this.#finished = true;
    return this.#handle(this.#index, this.#buffer.subarray(0, this.#filled), true);
  }
}

/**
 * Encrypts a stream incrementally. `push` returns the chunks it completed;
 * a full chunk is held back until more data arrives, because only then is
 * it known not to be the last. `finish` returns the last chunk.
 */
export class StreamEncryptor {
  readonly #chunks: Chunker;

  constructor(key: Uint8Array, prefix: Uint8Array) {
    expectBytes(key, 32, 'stream key');
    expectBytes(prefix, STREAM_PREFIX_BYTES, 'stream prefix');
    this.#chunks = new Chunker(STREAM_CHUNK_BYTES, (index, chunk, last) =>
      encryptChunk(key, prefix, index, chunk, last),
    );
  }

  /** Adds plaintext; returns the sealed chunks now complete (possibly none). */
  push(data: Uint8Array): Uint8Array[] {
    return this.#chunks.push(data);
  }

  /** Seals and returns the last chunk. */
  finish(): Uint8Array {
    return this.#chunks.finish();
  }
}

/**
 * Decrypts a stream incrementally, in the same shape: `push` returns the
 * plaintext of chunks proven not to be last; `finish` authenticates the
 * last chunk, so a truncated stream fails there.
 */
export class StreamDecryptor {
  readonly #chunks: Chunker;

  constructor(key: Uint8Array, prefix: Uint8Array) {
    expectBytes(key, 32, 'stream key');
    expectBytes(prefix, STREAM_PREFIX_BYTES, 'stream prefix');
    this.#chunks = new Chunker(STREAM_SEALED_CHUNK_BYTES, (index, sealed, last) => {
      if (last && sealed.length < SECRETBOX_OVERHEAD)
        throw new AuthenticationError('stream is truncated');
      return decryptChunk(key, prefix, index, sealed, last);
    });
  }

  /** Adds ciphertext; returns the plaintext now proven (possibly none). Throws AuthenticationError on tampering. */
  push(data: Uint8Array): Uint8Array[] {
    return this.#chunks.push(data);
  }

  /** Authenticates the last chunk and returns its plaintext. Throws if the stream is truncated or tampered with. */
  finish(): Uint8Array {
    return this.#chunks.finish();
  }
}
