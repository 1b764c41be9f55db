/**
 * The embedded default store: one small JSON file per record and one file per blob, in a
 * single data directory:
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
 * The parts: record-store.ts (records and the index), blob-store.ts (blobs), format.ts (the
 * data directory and its FORMAT), support.ts (what they share), durable-fs.ts and
 * coarse-time.ts (how every file is written and stamped).
 *
 * Assumes one process per data directory (a second open in the same process is refused).
 */
import { mkdir, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stampPath } from './coarse-time.js';
import { DirSyncer, DurableDirs, isErrno, settlePath } from './durable-fs.js';
import { StoreInUseError } from './errors.js';
import { FileBlobStore } from './blob-store.js';
import { checkFormat, ensureDataDir } from './format.js';
import { type DamagedRecord, FileRecordStore, type RecordOptions } from './record-store.js';
import { type Context, Lifecycle } from './support.js';
import { BLOB_ID, type Store } from './types.js';

export { FORMAT_FILE, FORMAT_VERSION, parseFormatVersion } from './format.js';
export { READ_CHUNK_BYTES } from './blob-store.js';
export type { DamagedRecord } from './record-store.js';

const RECORDS_DIR = 'records';
const BLOBS_DIR = 'blobs';

export interface FileStoreOptions<T, S> extends RecordOptions<T, S> {
  /** The data directory; created (with parents) if missing. */
  dir: string;
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
