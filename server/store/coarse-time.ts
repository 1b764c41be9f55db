/**
 * Times on disk that say nothing (SECURITY.md, "Times on disk").
 *
 * The file system stamps every write with the time to the nanosecond: a file's mtime when its
 * bytes change, a directory's mtime when an entry is added, renamed or removed, a file's atime
 * when it is read. On a seized server those would tell when each report, message and upload
 * arrived and when a reporter came back to read, to be matched against a workplace's network
 * logs. So every file and directory the store writes is stamped with one fixed time,
 * {@link STORE_TIME_SECONDS} (the epoch), as part of the durable write path (durable-fs.ts):
 * the file's times before its fsync, the directory's before the directory fsync. Reads open
 * files with O_NOATIME where the kernel allows it, so that reading leaves atime alone too.
 *
 * A fixed time rather than the start of the current hour: it leaks nothing at all (not even the
 * hour of a deletion or of an upload's last chunk, which the records do not hold), needs no
 * clock in the store, and makes a precise time easy to spot (check-store.ts). ctime cannot be
 * set from user space: it stays precise (SECURITY.md says what that leaves).
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { type FileHandle, open, readFile, utimes } from 'node:fs/promises';

/** The atime and mtime of everything the store writes: 1970-01-01T00:00:00Z. */
export const STORE_TIME_SECONDS = 0;

/** True if a stat time in milliseconds (mtimeMs, atimeMs) is the store's fixed time. */
export const isStoreTime = (ms: number): boolean => ms === STORE_TIME_SECONDS * 1000;

/** Sets a file's or directory's atime and mtime to the store's fixed time. */
export function stampPath(path: string): Promise<void> {
  return utimes(path, STORE_TIME_SECONDS, STORE_TIME_SECONDS);
}

/** Sets an open file's atime and mtime to the store's fixed time (before its fsync, so one fsync covers both). */
export function stampHandle(handle: FileHandle): Promise<void> {
  return handle.utimes(STORE_TIME_SECONDS, STORE_TIME_SECONDS);
}

// O_NOATIME (Linux): reading does not update atime. Allowed only to the file's owner (or with
// CAP_FOWNER); anyone else gets EPERM. Then the open is tried again without it, and only if
// that succeeds was O_NOATIME the reason (an immutable file gives EPERM either way): from then
// on this process reads without it.
const NOATIME = constants.O_NOATIME ?? 0;
let noatimeAllowed = NOATIME !== 0;

const isEperm = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'EPERM';

/** Runs `attempt` with O_NOATIME where allowed, falling back as described above. */
async function quietly<R>(attempt: (extra: number) => Promise<R>): Promise<R> {
  if (!noatimeAllowed) return attempt(0);
  try {
    return await attempt(NOATIME);
  } catch (error) {
    if (!isEperm(error)) throw error;
  }
  const result = await attempt(0);
  noatimeAllowed = false;
  return result;
}

/** Opens a file for reading ('r') or appending in place ('r+') without updating its atime where possible. */
export function openQuiet(path: string, mode: 'r' | 'r+'): Promise<FileHandle> {
  const base = mode === 'r' ? constants.O_RDONLY : constants.O_RDWR;
  return quietly((extra) => open(path, base | extra));
}

/** Reads a whole file as text without updating its atime where possible. */
export function readFileQuiet(path: string): Promise<string> {
  return quietly((extra) => readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | extra }));
}

/** Reads a whole file synchronously without updating its atime where possible. */
export function readFileQuietSync(path: string): Buffer {
  const read = (extra: number): Buffer => {
    const fd = openSync(path, constants.O_RDONLY | extra);
    try {
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  };
  if (!noatimeAllowed) return read(0);
  try {
    return read(NOATIME);
  } catch (error) {
    if (!isEperm(error)) throw error;
  }
  const result = read(0);
  noatimeAllowed = false;
  return result;
}
