/**
 * Writes a backup archive (format: archive.ts) to a new file, linked into place only once complete
 * and fsynced, or to a stream such as stdout.
 */

import { createHash, type Hash } from 'node:crypto';
import { link, open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { fsyncPath } from '../store/durable-fs.js';
import {
  ARCHIVE_MAGIC,
  type ArchiveMeta,
  type ArchiveTotals,
  isSafeArchivePath,
} from './archive.js';

const WRITE_BUFFER_BYTES = 1024 * 1024;

/** Where archive bytes go. */
interface Output {
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the archive durable and puts it in place. */
  commit(): Promise<void>;
  /** Removes what was written (best effort). */
  discard(): Promise<void>;
}

/**
 * A new file, written under a hidden temporary name beside it and linked to its final name only
 * when complete and fsynced: a backup that stops halfway never has the final name. link() does
 * not overwrite, so an existing backup is never replaced (EEXIST).
 */
async function fileOutput(target: string): Promise<Output> {
  try {
    await stat(target);
    throw Object.assign(new Error(`${target} exists`), { code: 'EEXIST', path: target });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const file = await open(temp, 'wx', 0o600);
  return {
    async write(bytes) {
      let done = 0;
      while (done < bytes.length)
        done += (await file.write(bytes, done, bytes.length - done)).bytesWritten;
    },
    async commit() {
      await file.sync();
      await file.close();
      try {
        await link(temp, target);
      } finally {
        await unlink(temp).catch(() => {});
      }
      await fsyncPath(dirname(target));
    },
    async discard() {
      await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

/** A stream such as stdout (to pipe into gpg, ssh, …). */
function streamOutput(stream: Writable): Output {
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(error) : resolve()));
      }),
    commit: async () => {},
    discard: async () => {},
  };
}

/** Writes an archive; call finish() at the end, or abort() on failure. */
export class ArchiveWriter {
  readonly #out: Output;
  readonly #hash: Hash = createHash('sha256');
  readonly #paths = new Set<string>();
  #buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  #used = 0;
  #files = 0;
  #bytes = 0;

  private constructor(out: Output) {
    this.#out = out;
  }

  /** Starts an archive in a new file `target` (refused if it exists) or on a stream. */
  static async create(target: string | Writable, meta: ArchiveMeta): Promise<ArchiveWriter> {
    const writer = new ArchiveWriter(
      typeof target === 'string' ? await fileOutput(target) : streamOutput(target),
    );
    await writer.#put(Buffer.from(ARCHIVE_MAGIC));
    await writer.#put(
      Buffer.from(
        `${JSON.stringify({ kind: meta.kind, storeFormat: meta.storeFormat, kluis: meta.kluis, demo: meta.demo })}\n`,
      ),
    );
    return writer;
  }

  async #put(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    if (bytes.length > this.#buffer.length - this.#used) await this.#flush();
    if (bytes.length >= this.#buffer.length) {
      await this.#out.write(bytes);
      return;
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  async #flush(): Promise<void> {
    if (this.#used === 0) return;
    const full = this.#buffer.subarray(0, this.#used);
    // Streams may hold on to the buffer: hand over this one and start a new one.
    this.#buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
    this.#used = 0;
    await this.#out.write(full);
  }

  #header(path: string, size: number): Buffer {
    if (!isSafeArchivePath(path)) throw new Error(`cannot archive path ${JSON.stringify(path)}`);
    if (this.#paths.has(path)) throw new Error(`${path} is already in the archive`);
    this.#paths.add(path);
    return Buffer.from(`${JSON.stringify({ path, size })}\n`);
  }

  /** Adds a file whose bytes are in memory. */
  async addBytes(path: string, data: Uint8Array): Promise<void> {
    await this.#put(this.#header(path, data.length));
    await this.#put(data);
    await this.#put(Buffer.from(`\nsha256 ${createHash('sha256').update(data).digest('hex')}\n`));
    this.#files += 1;
    this.#bytes += data.length;
  }

  /** Adds a file of exactly `size` bytes from a stream of chunks. */
  async addStream(path: string, size: number, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    await this.#put(this.#header(path, size));
    const hash = createHash('sha256');
    let seen = 0;
    for await (const chunk of chunks) {
      seen += chunk.length;
      if (seen > size) throw new Error(`${path}: more than the ${size} bytes announced`);
      hash.update(chunk);
      await this.#put(chunk);
    }
    if (seen !== size) throw new Error(`${path}: ${seen} bytes instead of the ${size} announced`);
    await this.#put(Buffer.from(`\nsha256 ${hash.digest('hex')}\n`));
    this.#files += 1;
    this.#bytes += size;
  }

  /** Writes the end line, makes the archive durable and puts it in place. */
  async finish(): Promise<ArchiveTotals> {
    const sha256 = this.#hash.copy().digest('hex');
    const totals = { files: this.#files, bytes: this.#bytes, sha256 };
    await this.#put(Buffer.from(`${JSON.stringify({ end: true, ...totals })}\n`));
    await this.#flush();
    await this.#out.commit();
    return totals;
  }

  /** Removes the unfinished archive (a file target only). */
  async abort(): Promise<void> {
    await this.#out.discard();
  }
}
