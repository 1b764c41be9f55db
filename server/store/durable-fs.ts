/**
 * Atomic and durable file primitives.
 *
 * A write is durable when both the file's bytes and the directory entry naming it are on stable
 * storage: fsync the file, then fsync the directory after the rename/creation/unlink. Directory
 * fsyncs are group-committed by {@link DirSyncer}: one fsync covers every change to that
 * directory that completed before the fsync started, and no caller is released before an fsync
 * that started after its change has completed.
 *
 * Every step here also stamps what it changed with the store's fixed time (coarse-time.ts):
 * a file's times just before its fsync, a directory's just before the directory fsync. So no
 * writer can forget it, and it costs a utimes call, never an extra fsync.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stampHandle, stampPath } from './coarse-time.js';

const noop = (): void => {};

/** Temp files are hidden (leading dot) and end in `.tmp`; nothing else in a store does. */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.endsWith('.tmp');

let tempCounter = 0;
/** A temp path beside target, unique within this process (and across processes by pid). */
export function tempPathFor(target: string): string {
  tempCounter += 1;
  return join(dirname(target), `.${basename(target)}.${process.pid}.${tempCounter}.tmp`);
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** fsync a file or directory by path (directories are opened read-only, as POSIX requires). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Stamps a file or directory of the store with the fixed time, then fsyncs it: the step after
 * any change to a directory's entries (its mtime changed), and after writing a file by path.
 * Only for paths inside a data directory: a directory above it keeps its own times.
 */
export async function settlePath(path: string): Promise<void> {
  await stampPath(path);
  await fsyncPath(path);
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}
interface DirState {
  inFlight: boolean;
  waiting: Waiter[];
}

/** Group commit of directory fsyncs, per directory. */
export class DirSyncer {
  readonly #states = new Map<string, DirState>();
  readonly #fsync: (dir: string) => Promise<void>;
  /** Number of directory fsyncs started (for benchmarks and tests). */
  fsyncs = 0;
  /** Number of sync() calls (each would have been one fsync without group commit). */
  requests = 0;

  /** `fsync` defaults to {@link settlePath}: stamp the directory's times, then fsync it. */
  constructor(fsync: (dir: string) => Promise<void> = settlePath) {
    this.#fsync = fsync;
  }

  /**
   * Resolves once an fsync of dir that started after this call has completed. Call it after the
   * rename/create/unlink it must cover has completed.
   */
  sync(dir: string): Promise<void> {
    this.requests += 1;
    return new Promise<void>((resolve, reject) => {
      let state = this.#states.get(dir);
      if (state === undefined) {
        state = { inFlight: false, waiting: [] };
        this.#states.set(dir, state);
      }
      state.waiting.push({ resolve, reject });
      // If an fsync is in flight it may have started before our change: wait for the next one.
      if (!state.inFlight) this.#flush(dir, state);
    });
  }

  #flush(dir: string, state: DirState): void {
    const batch = state.waiting;
    state.waiting = [];
    state.inFlight = true;
    this.fsyncs += 1;
    let done: Promise<void>;
    try {
      done = this.#fsync(dir);
    } catch (error) {
      done = Promise.reject(error);
    }
    done
      .then(
        () => {
          for (const waiter of batch) waiter.resolve();
        },
        (error: unknown) => {
          for (const waiter of batch) waiter.reject(error);
        },
      )
      .finally(() => {
        state.inFlight = false;
        if (state.waiting.length > 0) this.#flush(dir, state);
        else this.#states.delete(dir);
      });
  }
}

/**
 * Writes data to a temp file beside target, fsyncs it, renames it over target and fsyncs the
 * directory (group-committed). Readers see either the old file or the complete new one, never
 * a partial file; after a crash, likewise. On failure the temp file is removed.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  dirs: DirSyncer,
): Promise<void> {
  await replaceFile(target, data);
  await dirs.sync(dirname(target));
}

/**
 * writeFileAtomic without the directory fsync: the file's bytes are durable and the rename is
 * done, but the new entry is durable only once the caller has fsynced the directory (a
 * checkpoint does that once per directory for a whole batch).
 */
export async function replaceFile(target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(target);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await stampHandle(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(noop);
    throw error;
  }
}

/** Unlinks path and fsyncs its directory; false if it did not exist. */
export async function unlinkDurable(path: string, dirs: DirSyncer): Promise<boolean> {
  try {
    await unlink(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  await dirs.sync(dirname(path));
  return true;
}

/**
 * Creates directories on demand and makes their entries durable (fsync of the parent) before
 * anything is written into them. Directories that existed at open are registered with
 * {@link DurableDirs.known} once the open scan has fsynced them.
 */
export class DurableDirs {
  readonly #ready = new Set<string>();
  readonly #pending = new Map<string, Promise<void>>();
  readonly #dirs: DirSyncer;

  constructor(dirs: DirSyncer) {
    this.#dirs = dirs;
  }

  known(dir: string): void {
    this.#ready.add(dir);
  }

  /** Forgets a directory that turned out not to be there (removed, or a file in its place): the next ensure makes it again. */
  forget(dir: string): void {
    this.#ready.delete(dir);
  }

  ensure(dir: string): Promise<void> {
    if (this.#ready.has(dir)) return Promise.resolve();
    let pending = this.#pending.get(dir);
    if (pending === undefined) {
      pending = (async () => {
        try {
          await mkdir(dir, { mode: 0o700 });
        } catch (error) {
          if (!isErrno(error, 'EEXIST')) throw error;
        }
        // Its own times (the parent's are stamped by the sync below, before its fsync).
        await stampPath(dir);
        // Even if it existed (a previous attempt failed before its fsync), make the entry durable.
        await this.#dirs.sync(dirname(dir));
        this.#ready.add(dir);
      })().finally(() => this.#pending.delete(dir));
      this.#pending.set(dir, pending);
    }
    return pending;
  }
}
