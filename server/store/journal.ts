/**
 * The write-ahead journal's writer, with group commit (the bytes: journal-format.ts).
 *
 * Every record write and every mark is appended to the current segment and acknowledged once an
 * fsync that started after its bytes were written has completed. Writers that arrive while a
 * write + fsync runs wait together and share the next one: under load one fsync acknowledges
 * many writes, where the store used to pay a file fsync and a directory fsync for each.
 *
 * Segments: a checkpoint (checkpoint.ts) calls rotate(), which starts segment n + 1 after the
 * batch in flight; writes from then on land there while segments up to n are materialised into
 * the record files and then dropped. Times: the segment's atime and mtime are set to the store's
 * fixed time before each fsync (one futimes per batch, not per write), the journal directory's
 * before its fsync (DirSyncer). Per batch, one call goes to libuv's threads: the fsync (#commit).
 */
import { futimesSync, writeSync } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { STORE_TIME_SECONDS, stampHandle } from './coarse-time.js';
import { type DirSyncer, isErrno } from './durable-fs.js';
import { listSegments } from './journal-format.js';

interface Append {
  readonly bytes: Buffer;
  /** Runs synchronously once the bytes are durable, before anything else is written or rotated. */
  readonly onDurable: (segment: number) => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Rotate {
  readonly rotate: true;
  readonly resolve: (sealed: number) => void;
  readonly reject: (error: unknown) => void;
}

/** Counters for tests and benchmarks. */
export interface JournalStats {
  /** Batches written and fsynced. */
  commits: number;
  /** Entries acknowledged. */
  entries: number;
}

/** The journal of one open store. */
export class Journal {
  readonly #dir: string;
  readonly #syncer: DirSyncer;
  #handle: FileHandle;
  #segment: number;
  #size = 0;
  readonly #queue: Array<Append | Rotate> = [];
  #running: Promise<void> | undefined;
  /** Set when a failed batch could not be cut off again: no more writes until a restart. */
  #broken: unknown;
  readonly stats: JournalStats = { commits: 0, entries: 0 };

  private constructor(dir: string, syncer: DirSyncer, handle: FileHandle, segment: number) {
    this.#dir = dir;
    this.#syncer = syncer;
    this.#handle = handle;
    this.#segment = segment;
  }

  /** Starts a journal in `dir` (which exists) with a new, empty segment `segment`. */
  static async start(dir: string, syncer: DirSyncer, segment: number): Promise<Journal> {
    return new Journal(dir, syncer, await Journal.#create(dir, syncer, segment), segment);
  }

  /** Creates an empty segment durably: the file fsynced (with the fixed time), then its directory entry. */
  static async #create(dir: string, syncer: DirSyncer, segment: number): Promise<FileHandle> {
    const handle = await open(join(dir, String(segment)), 'wx', 0o600);
    try {
      await stampHandle(handle);
      await handle.sync();
      await syncer.sync(dir);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle;
  }

  /** The segment written to now. */
  get segment(): number {
    return this.#segment;
  }

  /** Bytes in the current segment. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one encoded entry; resolves once it is durable. `onDurable` runs synchronously at
   * that moment with the segment it landed in, so that whoever rotates next sees its effect.
   */
  append(bytes: Buffer, onDurable: (segment: number) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ bytes, onDurable, resolve, reject });
      this.#kick();
    });
  }

  /**
   * Starts a new segment once the writes queued before this call are durable; resolves with the
   * number of the last segment before it, which no later write lands in.
   */
  rotate(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ rotate: true, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as Append | Rotate;
      if ('rotate' in head) {
        this.#queue.shift();
        await this.#rotate(head);
        continue;
      }
      // Everything queued up to the next rotation shares one write and one fsync.
      let count = 0;
      while (count < this.#queue.length && !('rotate' in (this.#queue[count] as Append | Rotate)))
        count++;
      await this.#commit(this.#queue.splice(0, count) as Append[]);
    }
  }

  async #rotate(request: Rotate): Promise<void> {
    if (this.#broken !== undefined) return request.reject(this.#broken);
    const sealed = this.#segment;
    try {
      const handle = await Journal.#create(this.#dir, this.#syncer, sealed + 1);
      const old = this.#handle;
      this.#handle = handle;
      this.#segment = sealed + 1;
      this.#size = 0;
      await old.close();
    } catch (error) {
      return request.reject(error);
    }
    request.resolve(sealed);
  }

  async #commit(batch: Append[]): Promise<void> {
    if (this.#broken !== undefined) {
      for (const item of batch) item.reject(this.#broken);
      return;
    }
    const data =
      batch.length === 1
        ? (batch[0] as Append).bytes
        : Buffer.concat(batch.map((item) => item.bytes));
    const start = this.#size;
    const handle = this.#handle;
    try {
      // The write and the stamp synchronously: they only reach the page cache (microseconds for
      // a batch of reports), and each asynchronous call would be a round trip through libuv's
      // threads that waits for the busy event loop. Only the fsync, which waits for the disk,
      // goes to a thread. The stamp comes after the write (which made the mtime precise) and
      // before the fsync, so the segment on disk only ever has the fixed time.
      let written = 0;
      while (written < data.length)
        written += writeSync(handle.fd, data, written, data.length - written, start + written);
      futimesSync(handle.fd, STORE_TIME_SECONDS, STORE_TIME_SECONDS);
      await handle.sync();
    } catch (error) {
      // The bytes may be in the file, whole or in part, durable or not: cut them off so that a
      // restart cannot replay writes that were refused. If even that fails, stop writing.
      try {
        await handle.truncate(start);
        await stampHandle(handle);
        await handle.sync();
      } catch {
        this.#broken = error;
      }
      for (const item of batch) item.reject(error);
      return;
    }
    this.#size = start + data.length;
    this.stats.commits += 1;
    this.stats.entries += batch.length;
    for (const item of batch) item.onDurable(this.#segment);
    for (const item of batch) item.resolve();
  }

  /** Removes segments up to and including `upTo` (materialised), durably. */
  async drop(upTo: number): Promise<void> {
    let removed = false;
    for (const segment of await listSegments(this.#dir)) {
      if (segment > upTo || segment === this.#segment) continue;
      try {
        await unlink(join(this.#dir, String(segment)));
        removed = true;
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
    }
    if (removed) await this.#syncer.sync(this.#dir);
  }

  /** Waits for queued writes, then closes the segment; removes it if it holds nothing. */
  async close(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    await this.#handle.close();
    if (this.#size === 0 && this.#broken === undefined) {
      await unlink(join(this.#dir, String(this.#segment))).catch(() => undefined);
      await this.#syncer.sync(this.#dir);
    }
  }
}
