/**
 * The blob half of the file store: one file per blob, `blobs/<shard>/<id>`, appended in place
 * and fsynced before an append is acknowledged. A blob left by an earlier process is fsynced on
 * first access (it may hold bytes of an append that was never acknowledged).
 */
import { type FileHandle, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openQuiet, stampHandle } from './coarse-time.js';
import { isErrno, isTempName, settlePath, unlinkDurable } from './durable-fs.js';
import {
  asStoreIoError,
  BlobExistsError,
  BlobNotFoundError,
  InvalidRangeError,
  OffsetMismatchError,
} from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import {
  assertBlobId,
  assertPosition,
  BLOB_SHARD,
  type Context,
  forEachLimit,
  unlinkIfPresent,
} from './support.js';
import { BLOB_ID, type BlobStore } from './types.js';

/** Bytes per chunk yielded by BlobStore.read. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** Blobs in `<dir>/blobs`. */
export class FileBlobStore implements BlobStore {
  readonly #root: string;
  readonly #ctx: Context;
  readonly #locks = new KeyedMutex();
  /** Blobs that ids() does not list (see FileStore.keepBlobs). */
  readonly kept = new Set<string>();
  /**
   * Blobs whose current bytes are known to be on stable storage. A blob left by an earlier
   * process may hold bytes of an append that was never acknowledged and never fsynced; it is
   * fsynced on first access, before its size is reported or bytes are appended after it.
   */
  readonly #settled = new Set<string>();

  constructor(root: string, ctx: Context) {
    this.#root = root;
    this.#ctx = ctx;
  }

  #shardDir(id: string): string {
    return join(this.#root, id.slice(0, 2));
  }

  #path(id: string): string {
    return join(this.#shardDir(id), id);
  }

  /** Fsyncs every shard directory left by an earlier process (its creates may be unsynced). */
  async load(): Promise<void> {
    const shards = await readdir(this.#root, { withFileTypes: true });
    await forEachLimit(shards, 16, async (entry) => {
      const path = join(this.#root, entry.name);
      if (isTempName(entry.name)) return unlinkIfPresent(path);
      if (!entry.isDirectory() || !BLOB_SHARD.test(entry.name)) return;
      await settlePath(path);
      this.#ctx.dirs.known(path);
    });
  }

  /** Opens the blob file (BlobNotFoundError if absent) and makes its content durable. */
  async #open(id: string, flags: 'r' | 'r+') {
    let handle: FileHandle;
    try {
      handle = await openQuiet(this.#path(id), flags);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new BlobNotFoundError(id);
      throw error;
    }
    try {
      if (!this.#settled.has(id)) {
        await handle.sync();
        this.#settled.add(id);
      }
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async create(id: string): Promise<void> {
    this.#ctx.life.check();
    assertBlobId(id);
    return this.#ctx.life.track(
      'creating an attachment',
      this.#locks.run(id, async () => {
        await this.#ctx.dirs.ensure(this.#shardDir(id));
        let handle: FileHandle;
        try {
          handle = await open(this.#path(id), 'wx', 0o600);
        } catch (error) {
          if (isErrno(error, 'EEXIST')) throw new BlobExistsError(id);
          throw error;
        }
        try {
          await stampHandle(handle);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await this.#ctx.syncer.sync(this.#shardDir(id));
        this.#settled.add(id);
      }),
    );
  }

  async append(id: string, offset: number, bytes: Uint8Array): Promise<number> {
    this.#ctx.life.check();
    assertBlobId(id);
    assertPosition(offset, 'offset');
    if (!(bytes instanceof Uint8Array)) throw new InvalidRangeError('bytes must be a Uint8Array');
    return this.#ctx.life.track(
      'appending to an attachment',
      this.#locks.run(id, async () => {
        const handle = await this.#open(id, 'r+');
        try {
          const { size } = await handle.stat();
          if (offset !== size) throw new OffsetMismatchError(id, offset, size);
          if (bytes.length === 0) return size;
          try {
            let written = 0;
            while (written < bytes.length) {
              const result = await handle.write(
                bytes,
                written,
                bytes.length - written,
                offset + written,
              );
              written += result.bytesWritten;
            }
            await stampHandle(handle);
            await handle.sync();
          } catch (error) {
            // Roll back to the acknowledged size: after a failed fsync the written bytes may be
            // in the page cache but not on disk, and a client resuming at the larger size would
            // build on bytes that a power loss can take away.
            this.#settled.delete(id);
            try {
              await handle.truncate(size);
              await stampHandle(handle);
              await handle.sync();
              this.#settled.add(id);
            } catch {
              // The blob stays unsettled; the original error is the one to report.
            }
            throw error;
          }
          return size + bytes.length;
        } finally {
          await handle.close();
        }
      }),
    );
  }

  async size(id: string): Promise<number | undefined> {
    this.#ctx.life.check();
    assertBlobId(id);
    return this.#ctx.life.track(
      'reading an attachment',
      this.#locks.run(id, async () => {
        let handle: FileHandle;
        try {
          handle = await this.#open(id, 'r');
        } catch (error) {
          if (error instanceof BlobNotFoundError) return undefined;
          throw error;
        }
        try {
          return (await handle.stat()).size;
        } finally {
          await handle.close();
        }
      }),
    );
  }

  read(id: string, start = 0, end?: number): AsyncIterable<Uint8Array> {
    return this.#readSafely(id, start, end);
  }

  async *#readSafely(
    id: string,
    start: number,
    end: number | undefined,
  ): AsyncGenerator<Uint8Array> {
    try {
      yield* this.#read(id, start, end);
    } catch (error) {
      throw asStoreIoError(error, 'reading an attachment');
    }
  }

  async *#read(id: string, start: number, end: number | undefined): AsyncGenerator<Uint8Array> {
    this.#ctx.life.check();
    assertBlobId(id);
    assertPosition(start, 'start');
    if (end !== undefined) {
      assertPosition(end, 'end');
      if (start > end) throw new InvalidRangeError('start must not be greater than end');
    }
    // Under the lock, so appends in flight finish first: only acknowledged bytes are streamed.
    const { handle, size } = await this.#locks.run(id, async () => {
      const opened = await this.#open(id, 'r');
      try {
        return { handle: opened, size: (await opened.stat()).size };
      } catch (error) {
        await opened.close();
        throw error;
      }
    });
    try {
      const stop = Math.min(end ?? size, size);
      let position = start;
      while (position < stop) {
        const length = Math.min(READ_CHUNK_BYTES, stop - position);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  async delete(id: string): Promise<boolean> {
    this.#ctx.life.check();
    assertBlobId(id);
    return this.#ctx.life.track(
      'deleting an attachment',
      this.#locks.run(id, async () => {
        const removed = await unlinkDurable(this.#path(id), this.#ctx.syncer);
        this.#settled.delete(id);
        return removed;
      }),
    );
  }

  async *ids(): AsyncGenerator<string> {
    try {
      yield* this.#ids();
    } catch (error) {
      throw asStoreIoError(error, 'listing attachments');
    }
  }

  async *#ids(): AsyncGenerator<string> {
    this.#ctx.life.check();
    for (const shard of await readdir(this.#root)) {
      if (!BLOB_SHARD.test(shard)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.#root, shard));
      } catch (error) {
        if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) continue;
        throw error;
      }
      for (const name of names) {
        if (BLOB_ID.test(name) && name.startsWith(shard) && !this.kept.has(name)) yield name;
      }
    }
  }
}
