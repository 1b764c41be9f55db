/**
 * The record half of the file store: one JSON file per record, `records/<shard>/<id>.json`,
 * and the in-memory index of summaries, rebuilt from the files on open.
 *
 * A write (create, update, delete) is acknowledged once its entry is durable in the journal
 * (journal.ts, group-committed). Until a checkpoint has written it to its file (checkpoint.ts)
 * its text is kept in `pending`, and reads take it from there: the file may be older.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Checkpointer, type Pending, recordFile } from './checkpoint.js';
import { readFileQuietSync } from './coarse-time.js';
import { isTempName, settlePath, unlinkDurable } from './durable-fs.js';
import { encodeDelete, encodePut } from './journal-format.js';
import { CorruptRecordError, RecordExistsError, RecordNotFoundError } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { DurableJsonFile, parseRecord } from './lowdb-adapter.js';
import {
  assertRecordId,
  type Context,
  forEachLimit,
  RECORD_SHARD,
  snapshot,
  unlinkSyncIfPresent,
} from './support.js';
import { RECORD_ID, type RecordStore } from './types.js';

/** Record files read on open between two yields to the event loop. */
const YIELD_EVERY = 500;
/** Blob ids anywhere in a damaged record's text. */
const BLOB_ID_IN_TEXT = /(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g;

/** How records are summarised, checked and, when damaged, set aside on open. */
export interface RecordOptions<T, S> {
  /** Derives the in-memory summary of a record; called on create, update and open. */
  summarize: (doc: T) => S;
  /**
   * Checks a record read on open, before it is summarised; throws if it is not what the
   * application writes (`id` is the record's file name).
   */
  validate?: (doc: unknown, id: string) => void;
  /**
   * What to do with a record file that cannot be loaded on open (unreadable, not JSON, or
   * refused by `validate` or `summarize`). Without this callback the whole open fails (a
   * CorruptRecordError for JSON, else the error as thrown). With it, the record is set aside
   * and reported here: its file stays on disk untouched, it is not in the index (get() is
   * undefined, update() RecordNotFoundError, summaries() leave it out), its id stays taken
   * (has() is true, create() RecordExistsError), and blobs.ids() does not list the blobs its
   * text names, so that a sweep for orphans cannot delete them. The rest of the store works.
   */
  onDamaged?: (damage: DamagedRecord) => void;
}

/** A record file set aside on open (see RecordOptions.onDamaged). */
export interface DamagedRecord {
  readonly id: string;
  readonly path: string;
  /** Why: the read, parse or validation error's message. */
  readonly reason: string;
  readonly error: unknown;
  /** Blob ids found anywhere in the file's text (32 hex digits). */
  readonly blobIds: readonly string[];
}

/** Records in `<dir>/records`. */
export class FileRecordStore<T, S> implements RecordStore<T, S> {
  readonly #root: string;
  readonly #summarize: (doc: T) => S;
  readonly #validate: ((doc: unknown, id: string) => void) | undefined;
  readonly #onDamaged: ((damage: DamagedRecord) => void) | undefined;
  readonly #ctx: Context;
  readonly #index = new Map<string, S>();
  /** Records set aside on open: their ids stay taken. */
  readonly damaged = new Map<string, DamagedRecord>();
  /** One write at a time per record (shared with the checkpointer, which writes files under it). */
  readonly locks = new KeyedMutex();
  /** Acknowledged writes not yet in their files (shared with the checkpointer, which empties it). */
  readonly pending = new Map<string, Pending>();
  #checkpointer: Checkpointer | undefined;

  constructor(root: string, options: RecordOptions<T, S>, ctx: Context) {
    this.#root = root;
    this.#summarize = options.summarize;
    this.#validate = options.validate;
    this.#onDamaged = options.onDamaged;
    this.#ctx = ctx;
  }

  /** Connects the checkpointer, told of every acknowledged write. */
  useCheckpointer(checkpointer: Checkpointer): void {
    this.#checkpointer = checkpointer;
  }

  /** Appends a put (text) or a deletion (null) to the journal; on acknowledgement, `then` updates the index. */
  async #journal(id: string, text: string | null, then: () => void): Promise<void> {
    const bytes = text === null ? encodeDelete(id) : encodePut(id, text);
    await this.#ctx.journal.append(bytes, (segment) => {
      this.pending.set(id, { text, segment });
      then();
    });
    this.#checkpointer?.wrote();
  }

  /** The record as acknowledged: the pending text if there is one, else its file. */
  async #read(id: string): Promise<T | null> {
    const pending = this.pending.get(id);
    if (pending !== undefined)
      return pending.text === null ? null : parseRecord<T>(pending.text, this.#path(id));
    return this.#file(id).read();
  }

  /** Reads, parses, validates and summarises one record file on open; sets it aside if it fails and that is allowed. */
  #loadOne(id: string, path: string): void {
    let text: string | undefined;
    try {
      text = readFileQuietSync(path).toString('utf8');
      const doc = parseRecord<T>(text, path);
      this.#validate?.(doc, id);
      this.#index.set(id, this.#summarize(doc));
    } catch (error) {
      if (this.#onDamaged === undefined) throw error;
      const ids = text === undefined ? [] : [...new Set(text.match(BLOB_ID_IN_TEXT) ?? [])];
      const damage: DamagedRecord = {
        id,
        path,
        reason:
          error instanceof CorruptRecordError
            ? 'not valid JSON'
            : error instanceof Error
              ? error.message
              : String(error),
        error,
        blobIds: ids,
      };
      this.damaged.set(id, damage);
      this.#onDamaged(damage);
    }
  }

  #path(id: string): string {
    return recordFile(this.#root, id);
  }

  /** The record's file, through the lowdb adapter (lowdb-adapter.ts says why not through Low). */
  #file(id: string): DurableJsonFile<T> {
    return new DurableJsonFile<T>(this.#path(id), this.#ctx.syncer);
  }

  /**
   * Rebuilds the index from the files, removes temp files and fsyncs every shard directory.
   * Files are read synchronously (about five times faster than fs.promises for many small
   * files), yielding to the event loop every few hundred files.
   */
  async load(): Promise<void> {
    const shardDirs: string[] = [];
    for (const entry of readdirSync(this.#root, { withFileTypes: true })) {
      const path = join(this.#root, entry.name);
      if (isTempName(entry.name)) unlinkSyncIfPresent(path);
      else if (entry.isDirectory() && RECORD_SHARD.test(entry.name)) shardDirs.push(path);
    }
    let sinceYield = 0;
    for (const shardDir of shardDirs) {
      const shard = basename(shardDir);
      for (const name of readdirSync(shardDir)) {
        const path = join(shardDir, name);
        if (isTempName(name)) {
          unlinkSyncIfPresent(path);
          continue;
        }
        const id = name.endsWith('.json') ? name.slice(0, -5) : '';
        if (!RECORD_ID.test(id) || !id.startsWith(shard)) continue;
        this.#loadOne(id, path);
        if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    }
    // Renames that a crashed process had not yet fsynced are made durable now, before their
    // records are served (and the shards' times, changed by the temp files removed, stamped).
    await forEachLimit(shardDirs, 16, async (path) => {
      await settlePath(path);
      this.#ctx.dirs.known(path);
    });
  }

  async create(id: string, doc: T): Promise<void> {
    this.#ctx.life.check();
    assertRecordId(id);
    const stored = snapshot(doc);
    return this.#ctx.life.track(
      'creating a record',
      this.locks.run(id, async () => {
        if (this.#index.has(id) || this.damaged.has(id)) throw new RecordExistsError(id);
        const summary = this.#summarize(stored.copy);
        await this.#journal(id, stored.text, () => this.#index.set(id, summary));
      }),
    );
  }

  async get(id: string): Promise<T | undefined> {
    this.#ctx.life.check();
    assertRecordId(id);
    // Under the lock: a get never sees a write that has not been acknowledged yet.
    return this.#ctx.life.track(
      'reading a record',
      this.locks.run(id, async () => {
        if (!this.#index.has(id)) return undefined;
        return (await this.#read(id)) ?? undefined;
      }),
    );
  }

  has(id: string): boolean {
    this.#ctx.life.check();
    assertRecordId(id);
    return this.#index.has(id) || this.damaged.has(id);
  }

  async update(id: string, mutate: (doc: T) => T): Promise<T> {
    this.#ctx.life.check();
    assertRecordId(id);
    return this.#ctx.life.track(
      'writing a record',
      this.locks.run(id, async () => {
        if (!this.#index.has(id)) throw new RecordNotFoundError(id);
        const current = await this.#read(id);
        if (current === null) throw new RecordNotFoundError(id);
        const stored = snapshot(mutate(current));
        const summary = this.#summarize(stored.copy);
        await this.#journal(id, stored.text, () => this.#index.set(id, summary));
        return stored.copy;
      }),
    );
  }

  async delete(id: string): Promise<boolean> {
    this.#ctx.life.check();
    assertRecordId(id);
    return this.#ctx.life.track(
      'deleting a record',
      this.locks.run(id, async () => {
        if (!this.#index.has(id)) return false;
        await this.#journal(id, null, () => this.#index.delete(id));
        // The file goes now, not at the next checkpoint: a deleted case should leave the record
        // files by the time the deletion is acknowledged (its entries leave with their segment).
        await unlinkDurable(this.#path(id), this.#ctx.syncer);
        return true;
      }),
    );
  }

  summaries(): IterableIterator<[string, S]> {
    this.#ctx.life.check();
    return this.#index.entries();
  }

  summary(id: string): S | undefined {
    this.#ctx.life.check();
    assertRecordId(id);
    return this.#index.get(id);
  }

  get size(): number {
    this.#ctx.life.check();
    return this.#index.size;
  }

  /** The interface's count (RecordStore.count): the index's size, at once. */
  count(): number {
    return this.size;
  }
}
