/**
 * The embedded default store: one small JSON file per record (written through lowdb with a
 * durable adapter) and one file per blob, in a single data directory:
 *
 *   <dir>/FORMAT                      store format version ("1\n")
 *   <dir>/records/AB/ABCDEFGH.json    record ABCDEFGH (shard = first two characters)
 *   <dir>/blobs/0f/0f...(32 hex)      blob 0f... (shard = first two hex digits)
 *
 * Writing one record touches only its own file and its shard directory, so the cost of a
 * create/update does not grow with the number of records. Shards keep directories small
 * (1,296 record shards: ~80 entries each at 100,000 records). The summaries index lives in
 * memory and is rebuilt from the files on open.
 *
 * Assumes one process per data directory (a second open in the same process is refused).
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { mkdir, open, readdir, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Low } from 'lowdb';
import { openQuiet, readFileQuiet, readFileQuietSync, stampHandle, stampPath } from './coarse-time.js';
import {
  DirSyncer,
  DurableDirs,
  fsyncPath,
  isErrno,
  isTempName,
  settlePath,
  unlinkDurable,
  writeFileAtomic,
} from './durable-fs.js';
import {
  asStoreIoError,
  BlobExistsError,
  BlobNotFoundError,
  CorruptRecordError,
  CorruptStoreError,
  InvalidIdError,
  InvalidRangeError,
  InvalidRecordError,
  NotAStoreError,
  OffsetMismatchError,
  RecordExistsError,
  RecordNotFoundError,
  StoreClosedError,
  StoreInUseError,
  type StoreOperation,
  UnsupportedFormatError,
} from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { DurableJsonFile, parseRecord } from './lowdb-adapter.js';
import { BLOB_ID, type BlobStore, RECORD_ID, type RecordStore, type Store } from './types.js';

/** The on-disk format this code writes and reads. */
export const FORMAT_VERSION = 1;

/** The file in the data directory that holds the store format version. */
export const FORMAT_FILE = 'FORMAT';
const RECORDS_DIR = 'records';
const BLOBS_DIR = 'blobs';
const RECORD_SHARD = /^[0-9A-Z]{2}$/;
const BLOB_SHARD = /^[0-9a-f]{2}$/;
/** Bytes per chunk yielded by BlobStore.read. */
export const READ_CHUNK_BYTES = 64 * 1024;
/** Record files read on open between two yields to the event loop. */
const YIELD_EVERY = 500;
/** Blob ids anywhere in a damaged record's text. */
const BLOB_ID_IN_TEXT = /(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g;

export interface FileStoreOptions<T, S> {
  /** The data directory; created (with parents) if missing. */
  dir: string;
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

/** A record file set aside on open (see FileStoreOptions.onDamaged). */
export interface DamagedRecord {
  readonly id: string;
  readonly path: string;
  /** Why: the read, parse or validation error's message. */
  readonly reason: string;
  readonly error: unknown;
  /** Blob ids found anywhere in the file's text (32 hex digits). */
  readonly blobIds: readonly string[];
}

export interface FileStoreStats {
  /** Directory fsyncs performed. */
  dirFsyncs: number;
  /** Directory fsyncs requested: without group commit each would have been one fsync. */
  dirSyncRequests: number;
}

export interface FileStore<T, S> extends Store<T, S> {
  /** The data directory (resolved, symlinks followed). */
  readonly dir: string;
  stats(): FileStoreStats;
  /** Records set aside on open (only with FileStoreOptions.onDamaged), by id. */
  readonly damaged: ReadonlyMap<string, DamagedRecord>;
  /**
   * Keeps these blobs out of blobs.ids() from now on (they stay readable by id), so that a sweep
   * for orphans leaves them alone: e.g. orphans found while the store has damage, one of which
   * may be a blob whose record entry was damaged.
   */
  keepBlobs(ids: Iterable<string>): void;
}

/** Data directories open in this process. */
const openDirs = new Set<string>();

function assertRecordId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !RECORD_ID.test(id)) throw new InvalidIdError('record', id);
}

function assertBlobId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !BLOB_ID.test(id)) throw new InvalidIdError('blob', id);
}

function assertPosition(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRangeError(`${what} must be a non-negative safe integer`);
  }
}

/**
 * Copies a document through JSON, so the store keeps what the caller passed at call time and
 * the summary is computed from exactly what a later open will read back.
 */
function snapshot<T>(doc: T): T {
  if (typeof doc !== 'object' || doc === null) {
    throw new InvalidRecordError('a record must be a JSON object or array');
  }
  if (typeof (doc as { then?: unknown }).then === 'function') {
    throw new InvalidRecordError('a record must not be a Promise (mutate must be synchronous)');
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(doc);
  } catch (error) {
    throw new InvalidRecordError('the record is not JSON-serialisable', { cause: error });
  }
  const copy: unknown = typeof text === 'string' ? JSON.parse(text) : undefined;
  if (typeof copy !== 'object' || copy === null) {
    throw new InvalidRecordError('a record must serialise to a JSON object or array');
  }
  return copy as T;
}

/** Runs fn over items with at most limit promises in flight. */
async function forEachLimit<I>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as I;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

function unlinkSyncIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

/** Tracks operations in flight so that close() can wait for them. */
class Lifecycle {
  #closing: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  check(): void {
    if (this.#closing !== undefined) throw new StoreClosedError();
  }

  /** Tracks `run`; a file system failure in it becomes a StoreIoError of `operation` (no path). */
  track<R>(operation: StoreOperation, run: Promise<R>): Promise<R> {
    const tracked = run.catch((error: unknown) => {
      throw asStoreIoError(error, operation);
    });
    this.#inFlight.add(tracked);
    const done = (): void => {
      this.#inFlight.delete(tracked);
    };
    tracked.then(done, done);
    return tracked;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    })();
    return this.#closing;
  }
}

interface Context {
  life: Lifecycle;
  syncer: DirSyncer;
  dirs: DurableDirs;
}

class FileRecordStore<T, S> implements RecordStore<T, S> {
  readonly #root: string;
  readonly #summarize: (doc: T) => S;
  readonly #validate: ((doc: unknown, id: string) => void) | undefined;
  readonly #onDamaged: ((damage: DamagedRecord) => void) | undefined;
  readonly #ctx: Context;
  readonly #index = new Map<string, S>();
  /** Records set aside on open: their ids stay taken. */
  readonly damaged = new Map<string, DamagedRecord>();
  readonly #locks = new KeyedMutex();

  constructor(root: string, options: FileStoreOptions<T, S>, ctx: Context) {
    this.#root = root;
    this.#summarize = options.summarize;
    this.#validate = options.validate;
    this.#onDamaged = options.onDamaged;
    this.#ctx = ctx;
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
        reason: error instanceof CorruptRecordError ? 'not valid JSON' : error instanceof Error ? error.message : String(error),
        error,
        blobIds: ids,
      };
      this.damaged.set(id, damage);
      this.#onDamaged(damage);
    }
  }

  #shardDir(id: string): string {
    return join(this.#root, id.slice(0, 2));
  }

  #path(id: string): string {
    return join(this.#shardDir(id), `${id}.json`);
  }

  #db(id: string): Low<T | null> {
    return new Low<T | null>(new DurableJsonFile<T | null>(this.#path(id), this.#ctx.syncer), null);
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
      this.#locks.run(id, async () => {
        if (this.#index.has(id) || this.damaged.has(id)) throw new RecordExistsError(id);
        const summary = this.#summarize(stored);
        await this.#ctx.dirs.ensure(this.#shardDir(id));
        const db = this.#db(id);
        db.data = stored;
        await db.write();
        this.#index.set(id, summary);
      }),
    );
  }

  async get(id: string): Promise<T | undefined> {
    this.#ctx.life.check();
    assertRecordId(id);
    // Under the lock: a get never sees a write that has not been acknowledged yet.
    return this.#ctx.life.track(
      'reading a record',
      this.#locks.run(id, async () => {
        if (!this.#index.has(id)) return undefined;
        const db = this.#db(id);
        await db.read();
        return db.data ?? undefined;
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
      this.#locks.run(id, async () => {
        if (!this.#index.has(id)) throw new RecordNotFoundError(id);
        const db = this.#db(id);
        await db.read();
        if (db.data === null) throw new RecordNotFoundError(id);
        const stored = snapshot(mutate(db.data));
        const summary = this.#summarize(stored);
        db.data = stored;
        await db.write();
        this.#index.set(id, summary);
        return stored;
      }),
    );
  }

  async delete(id: string): Promise<boolean> {
    this.#ctx.life.check();
    assertRecordId(id);
    return this.#ctx.life.track(
      'deleting a record',
      this.#locks.run(id, async () => {
        if (!this.#index.has(id)) return false;
        const path = this.#path(id);
        try {
          await unlink(path);
        } catch (error) {
          if (!isErrno(error, 'ENOENT')) throw error;
        }
        this.#index.delete(id);
        await this.#ctx.syncer.sync(dirname(path));
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
}

class FileBlobStore implements BlobStore {
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
    let handle: Awaited<ReturnType<typeof open>>;
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
        let handle: Awaited<ReturnType<typeof open>>;
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
        let handle: Awaited<ReturnType<typeof open>>;
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

  async *#readSafely(id: string, start: number, end: number | undefined): AsyncGenerator<Uint8Array> {
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

/** Creates dir and missing parents; makes each new entry durable (fsync of its parent). */
async function ensureDataDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let path = dir; ; path = dirname(path)) {
    await fsyncPath(dirname(path));
    if (path === first || dirname(path) === path) break;
  }
}

/** Checks (or, in an empty directory, writes) the FORMAT file. */
async function checkFormat(dir: string, syncer: DirSyncer): Promise<void> {
  const entries = await readdir(dir);
  for (const name of entries) if (isTempName(name)) await unlinkIfPresent(join(dir, name));
  const path = join(dir, FORMAT_FILE);
  let text: string;
  try {
    text = await readFileQuiet(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    if (entries.some((name) => !isTempName(name) && name !== 'lost+found')) {
      throw new NotAStoreError(dir);
    }
    await writeFileAtomic(path, `${FORMAT_VERSION}\n`, syncer);
    return;
  }
  const version = parseFormatVersion(text);
  if (version === undefined || version < 0) {
    throw new CorruptStoreError(path, 'expected a format version number');
  }
  if (version < FORMAT_VERSION) {
    throw new CorruptStoreError(
      path,
      `store format ${version} is older than format ${FORMAT_VERSION}, which this Kluis reads: migrate it first (npm start does, after writing a backup; see migrateStore)`,
    );
  }
  if (version > FORMAT_VERSION) throw new UnsupportedFormatError(version, FORMAT_VERSION);
}

/** The version number in a FORMAT file's text, or undefined if it holds none. */
export function parseFormatVersion(text: string): number | undefined {
  const match = /^\s*(\d{1,9})\s*$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Opens (or creates) a file store in options.dir. Rebuilds the summaries index from the record
 * files, removes temp files left by a crash, and makes every surviving file durable before
 * resolving.
 */
export async function openFileStore<T, S>(
  options: FileStoreOptions<T, S>,
): Promise<FileStore<T, S>> {
  const requested = resolve(options.dir);
  await ensureDataDir(requested);
  const dir = await realpath(requested);
  if (openDirs.has(dir)) throw new StoreInUseError(dir);
  openDirs.add(dir);
  try {
    const syncer = new DirSyncer();
    const ctx: Context = { life: new Lifecycle(), syncer, dirs: new DurableDirs(syncer) };
    await checkFormat(dir, syncer);
    const recordsRoot = join(dir, RECORDS_DIR);
    const blobsRoot = join(dir, BLOBS_DIR);
    for (const root of [recordsRoot, blobsRoot]) {
      try {
        await mkdir(root, { mode: 0o700 });
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      await stampPath(root);
    }
    // The data directory's own times: changed by the entries above, and by whatever a start-up
    // check wrote and removed in it.
    await settlePath(dir);
    ctx.dirs.known(recordsRoot);
    ctx.dirs.known(blobsRoot);

    const records = new FileRecordStore<T, S>(recordsRoot, options, ctx);
    const blobs = new FileBlobStore(blobsRoot, ctx);
    await Promise.all([records.load(), blobs.load()]);
    for (const damage of records.damaged.values()) for (const id of damage.blobIds) blobs.kept.add(id);
    // Entries removed (temp files) or created (shards) during the scan, made durable.
    await Promise.all([settlePath(recordsRoot), settlePath(blobsRoot)]);

    let closed: Promise<void> | undefined;
    return {
      dir,
      records,
      blobs,
      stats: () => ({ dirFsyncs: syncer.fsyncs, dirSyncRequests: syncer.requests }),
      damaged: records.damaged,
      keepBlobs(ids) {
        for (const id of ids) if (BLOB_ID.test(id)) blobs.kept.add(id);
      },
      close() {
        closed ??= ctx.life.close().finally(() => openDirs.delete(dir));
        return closed;
      },
    };
  } catch (error) {
    openDirs.delete(dir);
    throw error;
  }
}
