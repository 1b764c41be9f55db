/**
 * What the record and blob stores share: id and range checks, the copy a record is stored as,
 * bounded concurrency, and the lifecycle that lets close() wait for operations in flight.
 */
import { unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { DirSyncer, DurableDirs } from './durable-fs.js';
import type { Journal } from './journal.js';
import { isErrno } from './durable-fs.js';
import {
  asStoreIoError,
  InvalidIdError,
  InvalidRangeError,
  InvalidRecordError,
  StoreClosedError,
  type StoreOperation,
} from './errors.js';
import { BLOB_ID, RECORD_ID } from './types.js';

/** Shard directory names: the first two characters of a record id / blob id. */
export const RECORD_SHARD = /^[0-9A-Z]{2}$/;
export const BLOB_SHARD = /^[0-9a-f]{2}$/;

export function assertRecordId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !RECORD_ID.test(id)) throw new InvalidIdError('record', id);
}

export function assertBlobId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !BLOB_ID.test(id)) throw new InvalidIdError('blob', id);
}

export function assertPosition(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRangeError(`${what} must be a non-negative safe integer`);
  }
}

/**
 * Copies a document through JSON, so the store keeps what the caller passed at call time and
 * the summary is computed from exactly what a later open will read back. Returns the copy and
 * its text as the record file holds it (compact JSON and a newline: lowdb-adapter.ts).
 */
export function snapshot<T>(doc: T): { copy: T; text: string } {
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
  return { copy: copy as T, text: `${text}\n` };
}

/** Runs fn over items with at most limit promises in flight. */
export async function forEachLimit<I>(
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

export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

export function unlinkSyncIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

/** Tracks operations in flight so that close() can wait for them. */
export class Lifecycle {
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

/** What every part of one open store shares. */
export interface Context {
  life: Lifecycle;
  syncer: DirSyncer;
  dirs: DurableDirs;
  /** Where record writes are acknowledged (journal.ts). */
  journal: Journal;
}
