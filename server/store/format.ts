/**
 * The data directory itself: creating it durably, and its FORMAT file (the store format
 * version; migrate.ts moves older formats forward).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readFileQuiet } from './coarse-time.js';
import { type DirSyncer, fsyncPath, isErrno, isTempName, writeFileAtomic } from './durable-fs.js';
import { CorruptStoreError, NotAStoreError, UnsupportedFormatError } from './errors.js';
import { unlinkIfPresent } from './support.js';

/** The on-disk format this code writes and reads. */
export const FORMAT_VERSION = 2;

/** The file in the data directory that holds the store format version. */
export const FORMAT_FILE = 'FORMAT';

/** Creates dir and missing parents; makes each new entry durable (fsync of its parent). */
export async function ensureDataDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let path = dir; ; path = dirname(path)) {
    await fsyncPath(dirname(path));
    if (path === first || dirname(path) === path) break;
  }
}

/** Checks (or, in an empty directory, writes) the FORMAT file. */
export async function checkFormat(dir: string, syncer: DirSyncer): Promise<void> {
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
