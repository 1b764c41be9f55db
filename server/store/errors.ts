/**
 * Typed failures of the storage layer. Callers tell them apart with `instanceof` (never by
 * message text); every class extends {@link StoreError}. Anything that is not a StoreError
 * (EIO, ENOSPC, EACCES, ...) is an unexpected I/O failure and propagates as Node raised it.
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

export class StoreClosedError extends StoreError {
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}
