/**
 * Backups of the data directory, taken from outside the server process
 * while it runs (docs/DEPLOY.md, "Backups").
 *
 * A snapshot holds every case acknowledged before the backup started,
 * each case whole, its complete attachments complete:
 *
 * - Everything is listed and read after the start, so nothing acknowledged
 *   before it is missed (a case deleted during the backup may be left out).
 *   The journal is read first, then the record files (record-view.ts says
 *   why that order): a write acknowledged but not yet in its file is taken
 *   from the journal. The snapshot holds record files only: restoring it
 *   needs no journal.
 * - The server replaces a record file by an atomic rename, so reading one
 *   gives one whole version of it, old or new, never half of each.
 * - Case by case: the record is read first, then every attachment it names
 *   is opened. The server marks an upload complete only after its last
 *   byte is on disk, and never changes a complete upload, so the complete
 *   length of each named attachment is there; an open file stays readable
 *   even if the case is deleted meanwhile. If a complete attachment is
 *   missing, the record is read again: a case deleted meanwhile is left out
 *   whole; one still there has damage in the live store, is backed up as
 *   it is, and said so.
 * - An upload still in progress is cut at a whole number of sealed chunks,
 *   a length from which the client can resume (PROTOCOL §8.1).
 * - Attachments no backed-up case names (left by a crash, or announced
 *   after their case was read) come last, cut the same way; retention
 *   deletes them after a restore if nothing names them.
 *
 * A raw copy (before a migration, with the server not running) is every
 * regular file as it is, in any layout.
 */

import { type FileHandle, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { openQuiet, readFileQuietSync } from '../store/coarse-time.js';
import { isErrno, isTempName } from '../store/durable-fs.js';
import { FORMAT_FILE, FORMAT_VERSION, parseFormatVersion } from '../store/index.js';
import { type ArchiveMeta, type ArchiveTotals, isSafeArchivePath } from './archive.js';
import { ArchiveWriter } from './archive-writer.js';
import {
  BLOBS_DIR,
  blobPath,
  DEMO_DIR,
  listBlobs,
  MAX_RECORD_BYTES,
  RECORDS_DIR,
  recordPath,
  resumableLength,
  SECRET_BYTES,
  SECRET_FILE,
} from './layout.js';
import { blobIdsIn, checkRecordText, describeProblems } from './record-check.js';
import { RecordView } from './record-view.js';

const READ_CHUNK_BYTES = 1024 * 1024;

export interface BackupOptions {
  /** The Kluis version, written into the archive. */
  readonly version: string;
  /** Include demo/ (the demo counsellor's key file and its passphrase). */
  readonly includeDemo?: boolean;
}

export interface BackupReport extends ArchiveTotals {
  readonly cases: number;
  /** Cases left out because they were deleted while the backup ran. */
  readonly deletedDuringBackup: number;
  /** Attachments written (complete, in progress, or named by no case). */
  readonly blobs: number;
  /** Of those, attachments named by no backed-up case. */
  readonly unnamedBlobs: number;
  /** Damage found in the live store (backed up as it is). */
  readonly warnings: readonly string[];
}

/** The store cannot be backed up as asked. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/**
 * Reads a small file whole, synchronously (for thousands of records several times faster than
 * fs.promises; the backup process has nothing else to do meanwhile). Reads leave atime alone
 * where the kernel allows it (store/coarse-time.ts).
 */
async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return readFileQuietSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await openQuiet(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Bytes [0, length) of an open file, in chunks; fails if the file holds fewer. */
async function* chunksOf(
  handle: FileHandle,
  length: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  let position = 0;
  while (position < length) {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, length - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) {
      throw new BackupError(
        `${what} shrank while it was read (the server undid a failed write: is the disk failing?); run the backup again`,
      );
    }
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

async function createWriter(target: string | Writable, meta: ArchiveMeta): Promise<ArchiveWriter> {
  try {
    return await ArchiveWriter.create(target, meta);
  } catch (error) {
    if (isErrno(error, 'EEXIST'))
      throw new BackupError(
        `${String(target)} exists already: a backup is never overwritten; choose a new name`,
      );
    throw error;
  }
}

/** Reads the store's FORMAT and refuses any but the one this Kluis writes. */
async function currentFormat(dataDir: string): Promise<Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dataDir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw new BackupError(`${dataDir} does not exist`);
    throw error;
  }
  if (!info.isDirectory()) throw new BackupError(`${dataDir} is not a directory`);
  const format = await readIfPresent(join(dataDir, FORMAT_FILE));
  if (format === undefined)
    throw new BackupError(`${dataDir} is not a Kluis data directory (no FORMAT file)`);
  const version = parseFormatVersion(format.toString('utf8'));
  if (version === undefined)
    throw new BackupError(`${join(dataDir, FORMAT_FILE)} is damaged (no version number)`);
  if (version > FORMAT_VERSION)
    throw new BackupError(
      `${dataDir} is in store format ${version}, written by a newer Kluis than this one (format ${FORMAT_VERSION}): back it up with that newer Kluis`,
    );
  if (version < FORMAT_VERSION)
    throw new BackupError(
      `${dataDir} is in the older store format ${version}: start this Kluis once (it migrates the store after writing a backup of it), then back up`,
    );
  return format;
}

/**
 * Writes a consistent snapshot of a running (or stopped) store to `target`: a new file
 * (refused if it exists; written beside it and linked to its name once complete and
 * fsynced) or a stream.
 */
export async function writeSnapshot(
  dataDir: string,
  target: string | Writable,
  options: BackupOptions,
): Promise<BackupReport> {
  const format = await currentFormat(dataDir);
  const includeDemo = options.includeDemo === true;
  const writer = await createWriter(target, {
    kind: 'snapshot',
    storeFormat: FORMAT_VERSION,
    kluis: options.version,
    demo: includeDemo,
  });
  const warnings: string[] = [];
  const written = new Set<string>();
  let cases = 0;
  let deletedDuringBackup = 0;
  let unnamedBlobs = 0;
  try {
    await writer.addBytes(FORMAT_FILE, format);
    const secret = await readIfPresent(join(dataDir, SECRET_FILE));
    if (secret !== undefined) {
      if (secret.length !== SECRET_BYTES)
        warnings.push(
          `${SECRET_FILE} has ${secret.length} bytes instead of ${SECRET_BYTES} (backed up as it is)`,
        );
      await writer.addBytes(SECRET_FILE, secret);
    }

    const view = await RecordView.take(dataDir);
    for (const problem of view.findings.problems) warnings.push(problem);
    for (const id of await view.ids()) {
      const outcome = await backUpCase(dataDir, view, id, writer, written, warnings);
      if (outcome === 'written') cases += 1;
      else if (outcome === 'deleted') deletedDuringBackup += 1;
    }

    // Attachments no backed-up case names: announced after their case was read, or orphans.
    for await (const id of listBlobs(dataDir)) {
      if (written.has(id)) continue;
      const handle = await openIfPresent(join(dataDir, blobPath(id)));
      if (!handle) continue;
      try {
        const length = resumableLength((await handle.stat()).size);
        await writer.addStream(blobPath(id), length, chunksOf(handle, length, `attachment ${id}`));
      } finally {
        await handle.close();
      }
      written.add(id);
      unnamedBlobs += 1;
    }

    if (includeDemo) {
      const demoDir = join(dataDir, DEMO_DIR);
      let names: string[] = [];
      try {
        names = (await readdir(demoDir)).sort();
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
      for (const name of names) {
        const path = `${DEMO_DIR}/${name}`;
        if (isTempName(name) || !isSafeArchivePath(path)) continue;
        const bytes = await readIfPresent(join(demoDir, name));
        if (bytes !== undefined) await writer.addBytes(path, bytes);
      }
    }
    const totals = await writer.finish();
    return { ...totals, cases, deletedDuringBackup, blobs: written.size, unnamedBlobs, warnings };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** One case: its record, then the attachments it names. */
async function backUpCase(
  dataDir: string,
  view: RecordView,
  id: string,
  writer: ArchiveWriter,
  written: Set<string>,
  warnings: string[],
): Promise<'written' | 'deleted'> {
  const path = join(dataDir, recordPath(id));
  for (let attempt = 0; ; attempt++) {
    // The first time from the view; again (a complete attachment missing) from a new one.
    const bytes = attempt === 0 ? view.read(id) : (await RecordView.take(dataDir)).read(id);
    if (bytes === undefined) return 'deleted';
    if (bytes.length > MAX_RECORD_BYTES)
      throw new BackupError(
        `${path} has ${bytes.length} bytes, more than any case can have: it is damaged; move it out of the data directory and back up again`,
      );
    const text = bytes.toString('utf8');
    const checked = checkRecordText(text, id);
    // Which attachments to take, and how many bytes of each (undefined: all that are there).
    const wanted = new Map<string, { length: number | undefined; complete: boolean }>();
    if (checked.record) {
      for (const upload of checked.record.uploads)
        wanted.set(upload.id, { length: upload.length, complete: upload.complete });
    } else {
      warnings.push(
        `case ${id} is damaged in the live store (${describeProblems(checked.problems)}); backed up as it is`,
      );
      for (const blobId of blobIdsIn(text))
        wanted.set(blobId, { length: undefined, complete: false });
    }
    const handles = new Map<string, FileHandle>();
    let missingComplete = false;
    try {
      for (const [blobId, want] of wanted) {
        if (written.has(blobId)) continue;
        const handle = await openIfPresent(join(dataDir, blobPath(blobId)));
        if (handle) handles.set(blobId, handle);
        else if (want.complete) missingComplete = true;
      }
      if (missingComplete && attempt === 0) {
        // Deleted meanwhile (the record goes first, then its blobs), or damage: read the record again.
        const again = (await RecordView.take(dataDir)).read(id);
        if (again === undefined) return 'deleted';
        if (!again.equals(bytes)) continue;
      }
      await writer.addBytes(recordPath(id), bytes);
      for (const [blobId, want] of wanted) {
        if (written.has(blobId)) continue;
        const handle = handles.get(blobId);
        if (!handle) {
          if (want.complete)
            warnings.push(
              `case ${id}: its complete attachment ${blobId} is missing in the live store`,
            );
          continue;
        }
        const size = (await handle.stat()).size;
        let length: number;
        if (want.length === undefined) length = size;
        else if (want.complete) {
          length = Math.min(size, want.length);
          if (size !== want.length)
            warnings.push(
              `case ${id}: its complete attachment ${blobId} has ${size} bytes in the live store instead of ${want.length}`,
            );
        } else length = Math.min(resumableLength(size), want.length);
        await writer.addStream(
          blobPath(blobId),
          length,
          chunksOf(handle, length, `attachment ${blobId}`),
        );
        written.add(blobId);
      }
      return 'written';
    } finally {
      for (const handle of handles.values()) await handle.close();
    }
  }
}

/** Every regular file under `dir` (sorted, temp files left out), as archive paths. */
async function* walk(root: string, relative = ''): AsyncGenerator<string> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (isTempName(entry.name)) continue;
    if (entry.isDirectory()) yield* walk(root, path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Writes every regular file of a store that is not running, as it is, whatever its format:
 * the copy kept before a migration. Names the archive cannot hold (other characters) are
 * reported and left out.
 */
export async function writeRawCopy(
  dataDir: string,
  target: string,
  options: { version: string; storeFormat: number },
): Promise<BackupReport> {
  const writer = await createWriter(target, {
    kind: 'raw',
    storeFormat: options.storeFormat,
    kluis: options.version,
    demo: true,
  });
  const warnings: string[] = [];
  let blobs = 0;
  let cases = 0;
  try {
    for await (const path of walk(dataDir)) {
      if (!isSafeArchivePath(path)) {
        warnings.push(`${path}: a name the backup cannot hold; left out`);
        continue;
      }
      const handle = await openQuiet(join(dataDir, path), 'r');
      try {
        const size = (await handle.stat()).size;
        await writer.addStream(path, size, chunksOf(handle, size, path));
      } finally {
        await handle.close();
      }
      if (path.startsWith(`${RECORDS_DIR}/`)) cases += 1;
      if (path.startsWith(`${BLOBS_DIR}/`)) blobs += 1;
    }
    const totals = await writer.finish();
    return { ...totals, cases, deletedDuringBackup: 0, blobs, unnamedBlobs: 0, warnings };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
