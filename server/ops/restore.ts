/**
 * Checking and restoring a backup archive (archive.ts) into an empty or
 * missing data directory (docs/DEPLOY.md, "Restoring").
 *
 * The archive is read twice. First it is verified, writing nothing: every
 * checksum, the structure, and in the current store format every record
 * (parses, has the shape the server writes, names the case of its path)
 * and every complete attachment a record names (there, with its exact
 * length and recorded SHA-256). Then it is written, file by file, each
 * fsynced, every directory fsynced, and FORMAT last: a restore that stops
 * halfway leaves a directory without FORMAT, on which Kluis refuses to
 * start, never a store that looks whole and is not. Every file and
 * directory restored carries the store's fixed time (store/coarse-time.ts),
 * as the server writes them: the archive holds no times to restore.
 */

import { type FileHandle, mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { stampHandle } from '../store/coarse-time.js';
import { DirSyncer, fsyncPath, isErrno, settlePath, writeFileAtomic } from '../store/durable-fs.js';
import { FORMAT_FILE, FORMAT_VERSION, parseFormatVersion } from '../store/index.js';
import { ArchiveError, type ArchiveMeta, type ArchiveTotals } from './archive.js';
import { type EntrySink, readArchive } from './archive-reader.js';
import {
  blobIdOf,
  DEMO_DIR,
  isJournalPath,
  MAX_RECORD_BYTES,
  recordIdOf,
  SECRET_BYTES,
  SECRET_FILE,
} from './layout.js';
import { blobIdsIn, checkRecordText, describeProblems } from './record-check.js';

export interface ArchiveCheck extends ArchiveTotals {
  readonly meta: ArchiveMeta;
  readonly cases: number;
  readonly blobs: number;
  /** Cases the archive holds damaged (as the live store had them when it was backed up). */
  readonly damaged: readonly { readonly case: string; readonly problems: readonly string[] }[];
  /** Things worth saying that are not damage. */
  readonly notes: readonly string[];
}

/** The archive cannot be restored as asked; the message says why and what to do. */
export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

interface Expected {
  readonly case: string;
  readonly length: number;
  readonly complete: boolean;
  readonly sha256: string | undefined;
}

/** Collects a small file's bytes (records, FORMAT, server-secret). */
function collector(limit: number, path: string, done: (bytes: Buffer) => void): EntrySink {
  const parts: Buffer[] = [];
  let total = 0;
  return {
    write(chunk) {
      total += chunk.length;
      if (total > limit)
        throw new ArchiveError(`${path} has more than ${limit} bytes: no store holds such a file`);
      parts.push(Buffer.from(chunk));
    },
    end() {
      done(Buffer.concat(parts));
    },
  };
}

/** Verifies an archive completely, writing nothing. ArchiveError on damage to the archive itself. */
export async function checkArchive(path: string): Promise<ArchiveCheck> {
  let meta: ArchiveMeta | undefined;
  let format: number | undefined;
  let validate = false;
  const damaged = new Map<string, string[]>();
  const notes: string[] = [];
  const expected = new Map<string, Expected>();
  const blobs = new Map<string, { size: number; sha256: string }>();
  let cases = 0;
  let journalNoted = false;
  const addDamage = (id: string, problem: string) => {
    const list = damaged.get(id) ?? [];
    list.push(problem);
    damaged.set(id, list);
  };

  const totals = await readArchive(path, {
    meta(value) {
      meta = value;
      if (value.storeFormat > FORMAT_VERSION) {
        throw new RestoreError(
          `this backup is of store format ${value.storeFormat}, written by Kluis ${value.kluis}, newer than this one (format ${FORMAT_VERSION}): restore it with that version or a later one`,
        );
      }
      validate = value.storeFormat === FORMAT_VERSION;
      if (!validate)
        notes.push(
          `the backup is of the older store format ${value.storeFormat}; Kluis migrates it when it starts (after writing a backup of it)`,
        );
    },
    file(entry) {
      const m = meta as ArchiveMeta;
      if (entry.path === FORMAT_FILE) {
        return collector(64, entry.path, (bytes) => {
          format = parseFormatVersion(bytes.toString('utf8'));
          if (format !== m.storeFormat)
            throw new ArchiveError(
              `damaged: its FORMAT file says ${JSON.stringify(bytes.toString('utf8').trim())}, its description says format ${m.storeFormat}`,
            );
        });
      }
      if (!validate) return undefined;
      if (entry.path === SECRET_FILE) {
        if (entry.size !== SECRET_BYTES)
          notes.push(
            `${SECRET_FILE} has ${entry.size} bytes instead of ${SECRET_BYTES}: delete it after restoring (a new one is made)`,
          );
        return undefined;
      }
      if (entry.path.startsWith(`${DEMO_DIR}/`)) {
        if (!m.demo)
          throw new ArchiveError(`damaged: it holds ${entry.path}, but says it has no demo files`);
        return undefined;
      }
      const recordId = recordIdOf(entry.path);
      if (recordId !== undefined) {
        return collector(MAX_RECORD_BYTES, entry.path, (bytes) => {
          cases += 1;
          const text = bytes.toString('utf8');
          const checked = checkRecordText(text, recordId);
          if (!checked.record) {
            for (const problem of checked.problems) addDamage(recordId, problem);
            // What a damaged record still names is kept, but cannot be checked.
            for (const id of blobIdsIn(text))
              expected.set(id, {
                case: recordId,
                length: Number.MAX_SAFE_INTEGER,
                complete: false,
                sha256: undefined,
              });
            return;
          }
          for (const upload of checked.record.uploads) {
            if (expected.has(upload.id))
              addDamage(
                recordId,
                `attachment ${upload.id} is also named by case ${expected.get(upload.id)!.case}`,
              );
            expected.set(upload.id, {
              case: recordId,
              length: upload.length,
              complete: upload.complete,
              sha256: upload.sha256,
            });
          }
        });
      }
      const blobId = blobIdOf(entry.path);
      if (blobId !== undefined) {
        return {
          write() {},
          end(sha256) {
            blobs.set(blobId, { size: entry.size, sha256 });
          },
        };
      }
      if (isJournalPath(entry.path)) {
        // A snapshot takes journalled writes into its record files; only a raw copy holds segments.
        if (m.kind === 'snapshot')
          throw new ArchiveError(
            `damaged: it holds ${entry.path}, a journal segment, which a snapshot never holds`,
          );
        if (!journalNoted)
          notes.push(
            'the copy holds journal segments (writes acknowledged but not yet in their record files): the server applies them when it starts, before it serves',
          );
        journalNoted = true;
        return undefined;
      }
      // A snapshot holds nothing else; a raw copy holds every file there was, strays included.
      if (m.kind === 'snapshot')
        throw new ArchiveError(
          `damaged: it holds ${entry.path}, which is no part of a Kluis store`,
        );
      notes.push(`${entry.path} is no part of a Kluis store (restored as it was)`);
      return undefined;
    },
  });

  if (format === undefined) throw new ArchiveError('damaged: it has no FORMAT file');
  if (validate) {
    for (const [id, want] of expected) {
      const got = blobs.get(id);
      if (want.complete) {
        if (!got) addDamage(want.case, `its complete attachment ${id} is not in the backup`);
        else if (got.size !== want.length)
          addDamage(
            want.case,
            `its complete attachment ${id} has ${got.size} bytes in the backup instead of ${want.length}`,
          );
        else if (want.sha256 !== undefined && got.sha256 !== want.sha256)
          addDamage(
            want.case,
            `its attachment ${id} does not match the SHA-256 recorded at upload`,
          );
      } else if (got && got.size > want.length)
        addDamage(
          want.case,
          `its attachment ${id} (in progress) has ${got.size} bytes, more than the ${want.length} announced`,
        );
    }
  }
  return {
    ...totals,
    meta: totals.meta,
    cases,
    blobs: blobs.size,
    damaged: [...damaged].map(([id, problems]) => ({ case: id, problems })),
    notes,
  };
}

/** Refuses anything but a missing or empty directory (a filesystem's lost+found aside). */
async function checkTarget(target: string): Promise<boolean> {
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw new RestoreError(`${target} exists and is not a directory`);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  const names = (await readdir(target)).filter((name) => name !== 'lost+found');
  if (names.length > 0) {
    throw new RestoreError(
      `${target} is not empty (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): restore only into an empty or new directory, never over a store`,
    );
  }
  return true;
}

/** Runs fn over items with at most `limit` in flight. */
async function forEachLimit<I>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as I);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Creates dir and missing parents (mode 0700); fsyncs the parent of each one created. */
async function makeDirs(dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir)) return;
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) {
    for (let path = dir; ; path = dirname(path)) {
      made.add(path);
      await fsyncPath(dirname(path));
      if (path === first || dirname(path) === path) break;
    }
  }
  made.add(dir);
}

export interface RestoreOptions {
  /** Restore an archive that holds damaged cases (they are restored as they were). */
  readonly allowDamaged?: boolean;
}

/**
 * Verifies `archive`, then restores it into `target`, which must be missing or empty. Throws
 * ArchiveError (damaged or cut short) or RestoreError (refused) before writing anything.
 */
export async function restoreArchive(
  archive: string,
  target: string,
  options: RestoreOptions = {},
): Promise<ArchiveCheck> {
  const dir = resolve(target);
  await checkTarget(dir);
  const check = await checkArchive(archive);
  if (check.damaged.length > 0 && options.allowDamaged !== true) {
    const first = check.damaged[0]!;
    throw new RestoreError(
      `the backup holds ${check.damaged.length} damaged case${check.damaged.length === 1 ? '' : 's'} (e.g. ${first.case}: ${describeProblems(first.problems, 1)}), as the store had ${check.damaged.length === 1 ? 'it' : 'them'} when it was backed up. Restore anyway with --allow-damaged (Kluis serves the rest), or use an older backup`,
    );
  }
  await checkTarget(dir);
  const made = new Set<string>();
  await makeDirs(dir, made);
  const touched = new Set<string>([dir]);
  let format: Buffer | undefined;
  let current: FileHandle | undefined;
  const written: string[] = [];
  try {
    const again = await readArchive(archive, {
      async file(entry) {
        if (entry.path === FORMAT_FILE) {
          return collector(64, entry.path, (bytes) => {
            format = bytes;
          });
        }
        const path = join(dir, ...entry.path.split('/'));
        await makeDirs(dirname(path), made);
        touched.add(dirname(path));
        const handle = await open(path, 'wx', 0o600);
        current = handle;
        written.push(path);
        return {
          async write(chunk) {
            let done = 0;
            while (done < chunk.length)
              done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
          },
          async end() {
            current = undefined;
            await stampHandle(handle);
            await handle.close();
          },
        };
      },
    });
    if (again.sha256 !== check.sha256)
      throw new ArchiveError('the backup file changed while it was being restored');
    // Every file's bytes to disk (several fsyncs in flight let the file system commit them together),
    await forEachLimit(written, 16, fsyncPath);
    if (format === undefined) throw new ArchiveError('damaged: it has no FORMAT file');
    // then every directory, deepest first (stamped: their times changed with each entry), then
    // FORMAT: only now is the store complete. Directories above the data directory keep their times.
    const inside = (path: string) => !relative(dir, path).startsWith('..');
    const dirs = [...new Set([...touched, ...made])].filter(inside);
    for (const path of dirs.sort((a, b) => b.length - a.length)) await settlePath(path);
    await writeFileAtomic(join(dir, FORMAT_FILE), format, new DirSyncer());
  } catch (error) {
    await current?.close().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new RestoreError(
      `the restore stopped: ${reason}. ${dir} is incomplete and has no FORMAT file, so Kluis will not start on it: delete it and restore again`,
    );
  }
  return check;
}
