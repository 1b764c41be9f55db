/**
 * The embedded default store: one small JSON file per record and one file per blob, in a
 * single data directory, with a write-ahead journal in front of the record files:
 *
 *   <dir>/FORMAT                      store format version ("2\n")
 *   <dir>/journal/<n>                 journal segments (journal-format.ts), usually one
 *   <dir>/records/AB/ABCDEFGH.json    record ABCDEFGH (shard = first two characters)
 *   <dir>/blobs/0f/0f...(32 hex)      blob 0f... (shard = first two hex digits)
 *
 * A record write is acknowledged once its journal entry is durable; concurrent writes share
 * one fsync (group commit, journal.ts). The record files are brought up to date in batches
 * (checkpoint.ts) and on close; an open replays whatever a crash left in the journal
 * (recovery.ts) before anything is served. So the acknowledged state is always: the record
 * files, overlaid by the journal (journal-format.ts journalOverlay, which the backup and the
 * store check apply too). Blobs are written in place as before (blob-store.ts).
 *
 * Writing one record file touches only that file and its shard directory, so the cost of a
 * create/update does not grow with the number of records. Shards keep directories small
 * (1,296 record shards: ~80 entries each at 100,000 records). The summaries index lives in
 * memory and is rebuilt from the files on open.
 *
 * The parts: record-store.ts (records and the index), blob-store.ts (blobs), journal.ts,
 * checkpoint.ts and recovery.ts (the journal), format.ts (the data directory and its FORMAT),
 * support.ts (what they share), durable-fs.ts and coarse-time.ts (how every file is written
 * and stamped).
 *
 * Assumes one process per data directory (a second open in the same process is refused).
 */
import { mkdir, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stampPath } from './coarse-time.js';
import { DirSyncer, DurableDirs, isErrno, settlePath } from './durable-fs.js';
import { asStoreIoError, InvalidRecordError, StoreInUseError } from './errors.js';
import { FileBlobStore } from './blob-store.js';
import {
  Checkpointer,
  JOURNAL_CHECKPOINT_BYTES,
  JOURNAL_IDLE_MS,
  type MarkSink,
} from './checkpoint.js';
import { checkFormat, ensureDataDir } from './format.js';
import { encodeMark } from './journal-format.js';
import { openJournal, type Recovered } from './recovery.js';
import { type DamagedRecord, FileRecordStore, type RecordOptions } from './record-store.js';
import { type Context, Lifecycle } from './support.js';
import { BLOB_ID, type RecordStore, type Store } from './types.js';

export { FORMAT_FILE, FORMAT_VERSION, parseFormatVersion } from './format.js';
export { READ_CHUNK_BYTES } from './blob-store.js';
export type { DamagedRecord } from './record-store.js';
export type { MarkSink } from './checkpoint.js';
export type { Recovered } from './recovery.js';

const RECORDS_DIR = 'records';
const BLOBS_DIR = 'blobs';

export interface FileStoreOptions<T, S> extends RecordOptions<T, S> {
  /** The data directory; created (with parents) if missing. */
  dir: string;
  /** The owner of marks (spent tickets) that ride in the journal; without it appendMark refuses. */
  marks?: MarkSink;
  /** Journal bytes that start a checkpoint (default JOURNAL_CHECKPOINT_BYTES; lower in tests). */
  checkpointBytes?: number;
  /**
   * Told when a checkpoint that runs by itself fails (a StoreIoError: code and operation, no
   * path). The writes stay in the journal and the checkpoint is tried again after a pause.
   */
  onCheckpointError?: (error: unknown) => void;
  /**
   * Pause after the last write that starts a checkpoint (default JOURNAL_IDLE_MS). Infinity: only
   * checkpointBytes, checkpoint() and close() start one (tests that compare files on disk).
   */
  checkpointIdleMs?: number;
}

export interface FileStoreStats {
  /** Directory fsyncs performed. */
  dirFsyncs: number;
  /** Directory fsyncs requested: without group commit each would have been one fsync. */
  dirSyncRequests: number;
  /** Journal batches written and fsynced, and the entries they acknowledged. */
  journalCommits: number;
  journalEntries: number;
  /** Checkpoints completed, and failed (retried; the journal keeps the writes meanwhile). */
  checkpoints: number;
  checkpointFailures: number;
}

/** The file store's records: its index is in this process's memory, so its reads answer at once. */
export interface FileRecords<T, S> extends RecordStore<T, S> {
  has(id: string): boolean;
  summaries(): IterableIterator<[string, S]>;
  summary(id: string): S | undefined;
  count(): number;
  /** Records in the index (the same as count()). */
  readonly size: number;
}

export interface FileStore<T, S> extends Store<T, S> {
  readonly records: FileRecords<T, S>;
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
  /**
   * Appends an opaque mark to the journal, durably (it shares the group commit of record
   * writes). On open the marks left in the journal go to FileStoreOptions.marks.replay, and
   * every checkpoint hands them to marks.materialise before dropping them from the journal.
   */
  appendMark(mark: Uint8Array): Promise<void>;
  /** Writes every acknowledged record write into its file now and empties the journal. */
  checkpoint(): Promise<void>;
  /** What the open replayed from the journal. */
  readonly recovered: Recovered;
}

/** Data directories open in this process. */
const openDirs = new Set<string>();

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
    const durableDirs = new DurableDirs(syncer);
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
    durableDirs.known(recordsRoot);
    durableDirs.known(blobsRoot);
    // Before the record files are read: what the journal acknowledged goes into them first.
    const { journal, recovered } = await openJournal(
      dir,
      recordsRoot,
      { syncer, dirs: durableDirs },
      options.marks,
    );
    const ctx: Context = { life: new Lifecycle(), syncer, dirs: durableDirs, journal };
    const records = new FileRecordStore<T, S>(recordsRoot, options, ctx);
    const checkpointer = new Checkpointer(recordsRoot, records, options.marks, ctx, {
      bytes: options.checkpointBytes ?? JOURNAL_CHECKPOINT_BYTES,
      idleMs: options.checkpointIdleMs ?? JOURNAL_IDLE_MS,
      onError: (error) => options.onCheckpointError?.(asStoreIoError(error, 'writing a record')),
    });
    records.useCheckpointer(checkpointer);
    const blobs = new FileBlobStore(blobsRoot, ctx);
    await Promise.all([records.load(), blobs.load()]);
    for (const damage of records.damaged.values())
      for (const id of damage.blobIds) blobs.kept.add(id);
    // Entries removed (temp files) or created (shards) during the scan, made durable.
    await Promise.all([settlePath(recordsRoot), settlePath(blobsRoot)]);

    let closed: Promise<void> | undefined;
    return {
      dir,
      records,
      blobs,
      recovered,
      stats: () => ({
        dirFsyncs: syncer.fsyncs,
        dirSyncRequests: syncer.requests,
        journalCommits: journal.stats.commits,
        journalEntries: journal.stats.entries,
        checkpoints: checkpointer.stats.checkpoints,
        checkpointFailures: checkpointer.stats.failures,
      }),
      damaged: records.damaged,
      keepBlobs(ids) {
        for (const id of ids) if (BLOB_ID.test(id)) blobs.kept.add(id);
      },
      appendMark(mark) {
        ctx.life.check();
        if (options.marks === undefined)
          throw new InvalidRecordError(
            'this store was opened without an owner for marks (FileStoreOptions.marks)',
          );
        const copy = new Uint8Array(mark);
        return ctx.life.track(
          'writing a record',
          journal
            .append(encodeMark(copy), (segment) => checkpointer.noteMark(segment, copy))
            .then(() => checkpointer.wrote()),
        );
      },
      checkpoint() {
        ctx.life.check();
        return ctx.life.track('writing a record', checkpointer.flush());
      },
      close() {
        // In-flight writes first, then a last checkpoint: a clean stop leaves the journal empty.
        closed ??= ctx.life
          .close()
          .then(() => checkpointer.close())
          .then(() => journal.close())
          .finally(() => openDirs.delete(dir));
        return closed;
      },
    };
  } catch (error) {
    openDirs.delete(dir);
    throw error;
  }
}
