/**
 * Precise times in a data directory (SECURITY.md, "Times on disk"): every
 * file and directory the server writes carries the store's fixed time
 * (store/coarse-time.ts). Anything else was written by an older Kluis, by
 * another program, or by hand, and tells when it happened; `npm run
 * check-store` lists it and `--fix-times` stamps it.
 *
 * mtime is checked on everything; atime on files only, because listing a
 * directory (the server at start, retention every hour, this check)
 * updates its atime on a mount without noatime, and nothing in user space
 * can prevent that. ctime is not checked: no one but the kernel can set it.
 */

import { lstat, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isStoreTime, STORE_TIME_SECONDS } from '../store/coarse-time.js';
import { isErrno, isTempName } from '../store/durable-fs.js';

/** One file or directory with a time that is not the store's fixed time. */
export interface PreciseTime {
  /** Relative to the data directory, '/'-separated; '.' is the data directory itself. */
  readonly path: string;
  readonly directory: boolean;
  /** Its mtime is precise (a leak the server would not have left). */
  readonly mtime: boolean;
  /** Its atime is precise (a file read without O_NOATIME, e.g. by another program, on a mount without noatime). */
  readonly atime: boolean;
}

/** Every file and directory under `dir` (and `dir` itself) with a precise mtime, or a file with a precise atime. */
export async function findPreciseTimes(dir: string): Promise<PreciseTime[]> {
  const found: PreciseTime[] = [];
  const visit = async (path: string, relative: string): Promise<void> => {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(path);
    } catch (error) {
      // Removed meanwhile (the server runs).
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    if (!info.isDirectory() && !info.isFile()) return;
    const mtime = !isStoreTime(info.mtimeMs);
    const atime = info.isFile() && !isStoreTime(info.atimeMs);
    if (mtime || atime) found.push({ path: relative, directory: info.isDirectory(), mtime, atime });
    if (!info.isDirectory()) return;
    let names: string[];
    try {
      names = (await readdir(path)).sort();
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
      throw error;
    }
    for (const name of names) {
      // A file system's lost+found is not ours; temp files are writes in flight.
      if ((relative === '.' && name === 'lost+found') || isTempName(name)) continue;
      await visit(join(path, name), relative === '.' ? name : `${relative}/${name}`);
    }
  };
  await visit(dir, '.');
  return found;
}

/** Stamps each of `found` with the store's fixed time (both atime and mtime); returns how many it stamped. */
export async function fixPreciseTimes(dir: string, found: readonly PreciseTime[]): Promise<number> {
  let fixed = 0;
  for (const entry of found) {
    try {
      await utimes(join(dir, ...entry.path.split('/')), STORE_TIME_SECONDS, STORE_TIME_SECONDS);
      fixed += 1;
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
  return fixed;
}
