/**
 * Checkpoints: bringing the record files up to date with the journal, then dropping the
 * journal segments that are no longer needed.
 *
 * A record write is acknowledged once its journal entry is durable (journal.ts); the record's
 * file is written later, in a batch: after JOURNAL_CHECKPOINT_BYTES of journal, or once writes
 * pause for JOURNAL_IDLE_MS, and on close. Writing a record file is the expensive part (creating
 * a file costs this server more than an fsync of the journal: bench/server.ts), so a burst of
 * reports is acknowledged at the journal's pace and written out once the burst is over. One
 * checkpoint:
 *
 *   1. rotate: new writes go to a new segment; segments up to n are sealed;
 *   2. every record whose latest write is in a sealed segment is written to its file (temp file,
 *      fsync, rename) or unlinked, then each shard directory touched is fsynced, once;
 *   3. marks in sealed segments are handed to their owner (spent-tickets.ts), who makes them
 *      durable in its own files;
 *   4. the sealed segments are unlinked and the journal directory fsynced.
 *
 * A crash anywhere in between leaves the sealed segments in place: the next open replays them
 * (the same steps, all idempotent: a put writes the whole record, a delete unlinks it).
 */
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno, replaceFile } from './durable-fs.js';
import type { KeyedMutex } from './keyed-mutex.js';
import { type Context, forEachLimit } from './support.js';

/**
 * Journal bytes after which a checkpoint starts at once: bounds the journal (and what an open
 * after a crash replays: about 10,000 reports) and the record texts held in memory meanwhile.
 */
export const JOURNAL_CHECKPOINT_BYTES = 32 * 1024 * 1024;
/** A checkpoint starts once no write has come for this long. */
export const JOURNAL_IDLE_MS = 2000;
/**
 * Record files written at the same time during a checkpoint. Low on purpose: each write and
 * fsync holds one of libuv's four threads, and the journal's fsync, which acknowledgements wait
 * for, needs one too. An open, which serves nothing yet, uses more.
 */
const MATERIALISE_CONCURRENCY = 3;
export const REPLAY_CONCURRENCY = 16;

/** A record write acknowledged in the journal and not yet in its file. */
export interface Pending {
  /** The record's file text, or null for a deletion. */
  readonly text: string | null;
  /** The journal segment it is in. */
  readonly segment: number;
}

/** The owner of marks (opaque entries that ride in the journal's group commit, e.g. spent tickets). */
export interface MarkSink {
  /** A mark read back from the journal on open, before the store is served. */
  replay(mark: Uint8Array): void;
  /** Makes marks durable in the owner's own files; the journal segments holding them are dropped after. */
  materialise(marks: readonly Uint8Array[]): Promise<void>;
}

/** The file of record `id` under the records root. */
export const recordFile = (root: string, id: string): string =>
  join(root, id.slice(0, 2), `${id}.json`);

/** Runs one record's file write; the record store runs it under the record's lock, or skips it. */
export type Guard = (id: string, write: () => Promise<void>) => Promise<void>;

const unguarded: Guard = (_, write) => write();

/**
 * Writes each record's text to its file, or unlinks it (null), durably: every file fsynced and
 * every shard directory touched fsynced before this resolves.
 */
export async function materialise(
  root: string,
  records: ReadonlyMap<string, string | null>,
  ctx: Pick<Context, 'dirs' | 'syncer'>,
  guard: Guard = unguarded,
  concurrency = MATERIALISE_CONCURRENCY,
): Promise<void> {
  const touched = new Set<string>();
  await forEachLimit([...records], concurrency, ([id, text]) =>
    guard(id, async () => {
      if (await writeRecordFile(root, id, text, ctx)) touched.add(dirname(recordFile(root, id)));
    }),
  );
  // One fsync per shard directory for the whole batch (the renames and unlinks above).
  await forEachLimit([...touched], concurrency, (dir) => ctx.syncer.sync(dir));
}

/** Writes (fsynced, renamed into place) or unlinks a record file; true if its directory changed. */
async function writeRecordFile(
  root: string,
  id: string,
  text: string | null,
  ctx: Pick<Context, 'dirs' | 'syncer'>,
): Promise<boolean> {
  const path = recordFile(root, id);
  if (text !== null) {
    await ctx.dirs.ensure(dirname(path));
    try {
      await replaceFile(path, text);
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) ctx.dirs.forget(dirname(path));
      throw error;
    }
    return true;
  }
  try {
    await unlink(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
  return true;
}

/** Runs checkpoints for one open store, one at a time. */
export class Checkpointer {
  readonly #root: string;
  readonly #pending: Map<string, Pending>;
  readonly #marks: MarkSink | undefined;
  readonly #markLog = new Map<number, Uint8Array[]>();
  readonly #ctx: Context;
  readonly #bytes: number;
  readonly #idleMs: number;
  readonly #locks: KeyedMutex;
  readonly #onError: ((error: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  /** Checkpoints completed, and failed (retried later: the journal keeps everything meanwhile). */
  readonly stats = { checkpoints: 0, failures: 0 };

  constructor(
    root: string,
    records: { pending: Map<string, Pending>; locks: KeyedMutex },
    marks: MarkSink | undefined,
    ctx: Context,
    limits: { bytes: number; idleMs: number; onError?: (error: unknown) => void },
  ) {
    this.#root = root;
    this.#locks = records.locks;
    this.#pending = records.pending;
    this.#marks = marks;
    this.#ctx = ctx;
    this.#bytes = limits.bytes;
    this.#idleMs = limits.idleMs;
    this.#onError = limits.onError;
  }

  /** Remembers a mark acknowledged in `segment` (from Journal.append's onDurable). */
  noteMark(segment: number, mark: Uint8Array): void {
    const list = this.#markLog.get(segment);
    if (list === undefined) this.#markLog.set(segment, [mark]);
    else list.push(mark);
  }

  /**
   * Called after each acknowledged write: starts a checkpoint now if the journal is long, else
   * after a pause (never by itself with an infinite pause: tests call run()).
   */
  wrote(): void {
    if (this.#closed) return;
    if (this.#ctx.journal.size >= this.#bytes) {
      void this.run();
      return;
    }
    if (!Number.isFinite(this.#idleMs)) return;
    if (this.#timer !== undefined) this.#timer.refresh();
    else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.run();
      }, this.#idleMs);
      this.#timer.unref();
    }
  }

  /**
   * Starts a checkpoint in the background, or joins the one running. Never rejects: a failure
   * goes to onError and is retried after a pause.
   */
  run(): Promise<void> {
    this.#clearTimer();
    return this.#running ?? this.#start().catch((error: unknown) => this.#onError?.(error));
  }

  /**
   * Writes every write acknowledged before this call into its file: waits for a checkpoint that
   * is running (it may have sealed its segments before those writes), then runs one. Rejects if
   * that one fails.
   */
  async flush(): Promise<void> {
    this.#clearTimer();
    while (this.#running !== undefined) await this.#running;
    await this.#start();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #start(): Promise<void> {
    const attempt = this.#checkpoint().then(
      () => {
        this.stats.checkpoints += 1;
      },
      (error: unknown) => {
        this.stats.failures += 1;
        if (!this.#closed) this.wrote();
        throw error;
      },
    );
    const running = attempt
      .catch(() => undefined)
      .finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
    this.#running = running;
    return attempt;
  }

  async #checkpoint(): Promise<void> {
    const journal = this.#ctx.journal;
    if (journal.size === 0 && this.#pending.size === 0 && this.#markLog.size === 0) return;
    const sealed = await journal.rotate();
    const work: Array<[string, Pending]> = [];
    for (const entry of this.#pending) if (entry[1].segment <= sealed) work.push(entry);
    const sealedWrites = new Map(work);
    // Under the record's lock, and only if no newer write came meanwhile (that one is in the new
    // segment, and its own checkpoint writes it): so a file never goes back to an older state,
    // nor comes back after a delete removed it.
    const guard: Guard = (id, write) =>
      this.#locks.run(id, async () => {
        if (this.#pending.get(id) === sealedWrites.get(id)) await write();
      });
    await materialise(
      this.#root,
      new Map(work.map(([id, pending]) => [id, pending.text])),
      this.#ctx,
      guard,
    );
    const segments = [...this.#markLog.keys()].filter((segment) => segment <= sealed);
    const marks = segments.flatMap((segment) => this.#markLog.get(segment) ?? []);
    if (marks.length > 0) {
      // A store opened without a sink never takes marks (FileStore.appendMark refuses them).
      await this.#marks?.materialise(marks);
    }
    await journal.drop(sealed);
    for (const segment of segments) this.#markLog.delete(segment);
    // A record written again meanwhile stays pending: its newer entry is in the new segment.
    for (const [id, pending] of work)
      if (this.#pending.get(id) === pending) this.#pending.delete(id);
  }

  /** Stops scheduling, waits for a running checkpoint and runs a last one (a clean stop leaves the journal empty). */
  async close(): Promise<void> {
    this.#closed = true;
    // A failure leaves the writes in the journal, which the next open replays.
    await this.flush().catch(() => undefined);
  }
}
