/**
 * Typed failures of the storage layer. Callers tell them apart with `instanceof` (never by
 * message text); every class extends {@link StoreError}. A file system failure during an
 * operation on records or blobs (EIO, ENOSPC, EACCES, ...) becomes a {@link StoreIoError}, which
 * carries the code and the operation but not the path: paths name cases and attachments, and
 * errors end up in logs. (Opening the store still throws Node's errors as they are: the
 * operator needs the path of a data directory that cannot be used.)
 */

export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** An id that does not have the required shape (defence in depth against path traversal). */
export class InvalidIdError extends StoreError {
  constructor(
    readonly kind: 'record' | 'blob',
    readonly id: unknown,
  ) {
    super(`invalid ${kind} id ${JSON.stringify(String(id)).slice(0, 80)}`);
    this.name = 'InvalidIdError';
  }
}

export class RecordExistsError extends StoreError {
  constructor(readonly id: string) {
    super(`record ${id} already exists`);
    this.name = 'RecordExistsError';
  }
}

export class RecordNotFoundError extends StoreError {
  constructor(readonly id: string) {
    super(`record ${id} does not exist`);
    this.name = 'RecordNotFoundError';
  }
}

/** A document that cannot be stored: not a JSON object/array, not serialisable, or a Promise. */
export class InvalidRecordError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidRecordError';
  }
}

/** A record file that exists but cannot be parsed (only outside tampering or disk corruption). */
export class CorruptRecordError extends StoreError {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`record file ${path} is not valid JSON`, options);
    this.name = 'CorruptRecordError';
  }
}

export class BlobExistsError extends StoreError {
  constructor(readonly id: string) {
    super(`blob ${id} already exists`);
    this.name = 'BlobExistsError';
  }
}

export class BlobNotFoundError extends StoreError {
  constructor(readonly id: string) {
    super(`blob ${id} does not exist`);
    this.name = 'BlobNotFoundError';
  }
}

/** An append whose offset is not the blob's current size; `currentSize` is where to resume. */
export class OffsetMismatchError extends StoreError {
  constructor(
    readonly id: string,
    readonly offset: number,
    readonly currentSize: number,
  ) {
    super(`append to blob ${id} at offset ${offset}, but its size is ${currentSize}`);
    this.name = 'OffsetMismatchError';
  }
}

/** A byte range or offset that is not a non-negative safe integer, or start > end. */
export class InvalidRangeError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRangeError';
  }
}

/** The data directory was written by a newer version of Kluis. */
export class UnsupportedFormatError extends StoreError {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`store format ${found} is newer than the supported format ${supported}; upgrade Kluis`);
    this.name = 'UnsupportedFormatError';
  }
}

/** The data directory's FORMAT file is unreadable, or its layout is not what this code wrote. */
export class CorruptStoreError extends StoreError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'CorruptStoreError';
  }
}

/** The directory is not empty and has no FORMAT file: refusing to scatter files into it. */
export class NotAStoreError extends StoreError {
  constructor(readonly path: string) {
    super(`${path} is not empty and is not a Kluis data directory (no FORMAT file)`);
    this.name = 'NotAStoreError';
  }
}

/** The data directory is already open in this process. */
export class StoreInUseError extends StoreError {
  constructor(readonly path: string) {
    super(`${path} is already open in this process`);
    this.name = 'StoreInUseError';
  }
}

/** What the store was doing when the file system failed, in words fit for a log line. */
export type StoreOperation =
  | 'creating a record'
  | 'reading a record'
  | 'writing a record'
  | 'deleting a record'
  | 'creating an attachment'
  | 'appending to an attachment'
  | 'reading an attachment'
  | 'deleting an attachment'
  | 'listing attachments'
  | 'opening the store';

/**
 * The file system failed during a store operation. The message is the code and the operation
 * only (e.g. "ENOSPC writing a record"); on purpose there is no `cause`, because Node's error
 * names the path, and the path names the case.
 */
export class StoreIoError extends StoreError {
  constructor(
    /** The errno code, e.g. 'ENOSPC', 'EIO', 'EPERM'. */
    readonly code: string,
    readonly operation: StoreOperation,
    /** The system call that failed, e.g. 'open', 'write', 'fsync'. */
    readonly syscall: string,
  ) {
    super(`${code} ${operation}`);
    this.name = 'StoreIoError';
  }
}

/** Node's error of a failed system call: it has a string `code` and `syscall` (and usually a `path`). */
export function isSystemError(
  error: unknown,
): error is NodeJS.ErrnoException & { code: string; syscall: string } {
  const e = error as { code?: unknown; syscall?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.code === 'string' &&
    typeof e.syscall === 'string'
  );
}

/** A system error as a StoreIoError of `operation`; anything else unchanged (StoreErrors, the caller's own errors). */
export function asStoreIoError(error: unknown, operation: StoreOperation): unknown {
  if (error instanceof StoreError || !isSystemError(error)) return error;
  return new StoreIoError(error.code, operation, error.syscall);
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}
