/**
 * The server's storage interface. Narrow on purpose: the embedded default (openFileStore:
 * a write-ahead journal, JSON record files, blob files) can be replaced by another backend (e.g. PostgreSQL
 * + an object store) or by a test double without touching the routes.
 *
 * Records are opaque JSON objects (the server validates their shape first); blobs are opaque
 * bytes (encrypted attachments). Ids are validated by every implementation:
 * records /^[0-9A-Z]{8}$/ (case numbers), blobs /^[0-9a-f]{32}$/; anything else is an
 * InvalidIdError. All failures the caller can act on are StoreError subclasses (errors.ts).
 *
 * Durability contract: a promise returned by a mutating method resolves only once the change
 * survives a crash (process kill or power loss) at any later moment.
 *
 * The index reads (has, summary, summaries, count) may answer at once (the file store, from its
 * in-memory index: one process per data directory) or asynchronously (the PostgreSQL store, from
 * the database that several server processes share, where no process's memory can be the truth).
 * Callers always await them (`Maybe`).
 */

/** A value now, or a promise of it: what an index read returns (callers await either). */
export type Maybe<T> = T | Promise<T>;

export const RECORD_ID = /^[0-9A-Z]{8}$/;
export const BLOB_ID = /^[0-9a-f]{32}$/;

export interface RecordStore<T, S> {
  /**
   * Stores a new record; rejects with RecordExistsError if the id is taken. Durable before it
   * resolves (in the file store: its journal entry fsynced; the record file follows at the next
   * checkpoint). The document is copied (serialised) at call time.
   */
  create(id: string, doc: T): Promise<void>;
  /** The record as last acknowledged, or undefined if absent. Never returns unacknowledged data. */
  get(id: string): Promise<T | undefined>;
  /** Whether the record exists (acknowledged create, not yet deleted). From the index. */
  has(id: string): Maybe<boolean>;
  /**
   * Reads, applies mutate, writes atomically and durably; calls for the same id are serialised.
   * If mutate throws, nothing is written and the error propagates unchanged. Rejects with
   * RecordNotFoundError if absent. Resolves with the document as stored.
   */
  update(id: string, mutate: (doc: T) => T): Promise<T>;
  /** Removes the record for good (the file is unlinked, directory fsynced). Resolves false if it was absent. */
  delete(id: string): Promise<boolean>;
  /** The index of summaries, kept up to date by create/update/delete (iterate with for await). */
  summaries(): Iterable<[string, S]> | AsyncIterable<[string, S]>;
  /** The summary of one record from the index (same cost whether or not it exists), or undefined. */
  summary(id: string): Maybe<S | undefined>;
  /** How many records there are. */
  count(): Maybe<number>;
}

export interface BlobStore {
  /** Creates an empty blob; rejects with BlobExistsError if the id is taken. Durable. */
  create(id: string): Promise<void>;
  /**
   * Appends bytes at offset; offset must equal the current size (OffsetMismatchError carries
   * the current size). Appends to the same blob are serialised. Durable before it resolves.
   * Returns the new size. BlobNotFoundError if absent.
   */
  append(id: string, offset: number, bytes: Uint8Array): Promise<number>;
  /** The acknowledged size, or undefined if absent. */
  size(id: string): Promise<number | undefined>;
  /**
   * Streams bytes [start, end) without loading the whole blob into memory; end is clamped to
   * the size at the moment iteration starts. Errors (InvalidIdError, InvalidRangeError,
   * BlobNotFoundError) surface when iteration starts.
   */
  read(id: string, start?: number, end?: number): AsyncIterable<Uint8Array>;
  /** Removes the blob for good. Resolves false if it was absent. */
  delete(id: string): Promise<boolean>;
  /** Every blob id, in no particular order. */
  ids(): AsyncIterable<string>;
}

export interface Store<T, S> {
  records: RecordStore<T, S>;
  blobs: BlobStore;
  /** Waits for operations in flight, then releases the store; later calls throw StoreClosedError. */
  close(): Promise<void>;
}
