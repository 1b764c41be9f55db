/**
 * Reads a backup archive (format: archive.ts) as a stream, checking every file's SHA-256 and the
 * whole archive's before it reports success; a damaged or cut-off archive is an ArchiveError that
 * says where.
 */

import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import {
  ARCHIVE_MAGIC,
  ArchiveError,
  type ArchiveMeta,
  type ArchiveTotals,
  isSafeArchivePath,
  MAX_LINE_BYTES,
} from './archive.js';

const READ_BUFFER_BYTES = 1024 * 1024;

/** One file in the archive. */
export interface ArchiveEntry {
  readonly path: string;
  readonly size: number;
}

/** Receives one file's bytes; end() is called only once its checksum has been verified. */
export interface EntrySink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(sha256: string): void | Promise<void>;
}

export interface ArchiveVisitor {
  meta?(meta: ArchiveMeta): void | Promise<void>;
  /** Called for each file in order; return a sink for its bytes, or nothing to skip them (they are still verified). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a visitor may return nothing
  file(entry: ArchiveEntry): EntrySink | undefined | void | Promise<EntrySink | undefined | void>;
}

/** Buffered reading of a file handle, with a running SHA-256 of everything consumed. */
class Reader {
  readonly #handle: FileHandle;
  readonly #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  #filePosition = 0;
  #eof = false;
  /** Bytes consumed so far. */
  position = 0;
  hash: Hash = createHash('sha256');

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start > 0) {
      this.#buffer.copy(this.#buffer, 0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const { bytesRead } = await this.#handle.read(
      this.#buffer,
      this.#end,
      this.#buffer.length - this.#end,
      this.#filePosition,
    );
    if (bytesRead === 0) {
      this.#eof = true;
      return false;
    }
    this.#filePosition += bytesRead;
    this.#end += bytesRead;
    return true;
  }

  #consume(length: number): Buffer {
    const out = this.#buffer.subarray(this.#start, this.#start + length);
    this.hash.update(out);
    this.#start += length;
    this.position += length;
    return out;
  }

  /** The next line without its newline; undefined at the very end; ArchiveError if longer than max or cut off. */
  async line(max: number, what: string): Promise<string | undefined> {
    for (;;) {
      const newline = this.#buffer.subarray(this.#start, this.#end).indexOf(0x0a);
      if (newline >= 0) {
        if (newline > max)
          throw new ArchiveError(
            `damaged at byte ${this.position}: ${what} is longer than ${max} bytes`,
          );
        const text = this.#consume(newline + 1).toString('utf8', 0, newline);
        return text;
      }
      if (this.#end - this.#start > max)
        throw new ArchiveError(
          `damaged at byte ${this.position}: ${what} is longer than ${max} bytes`,
        );
      if (!(await this.#fill())) {
        if (this.#end === this.#start) return undefined;
        throw new ArchiveError(
          `cut short at byte ${this.position + (this.#end - this.#start)}: the file ends inside ${what}`,
        );
      }
    }
  }

  /** Exactly `length` bytes, in chunks (each valid only until the next call). */
  async *bytes(length: number, what: string): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      if (this.#end === this.#start && !(await this.#fill())) {
        throw new ArchiveError(
          `cut short at byte ${this.position}: the file ends inside ${what} (${left} of ${length} bytes missing)`,
        );
      }
      const take = Math.min(left, this.#end - this.#start);
      left -= take;
      yield this.#consume(take);
    }
  }

  async atEnd(): Promise<boolean> {
    return this.#end === this.#start && !(await this.#fill());
  }
}

function parseLine(text: string, position: number, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ArchiveError(`damaged at byte ${position}: ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ArchiveError(`damaged at byte ${position}: ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function parseMeta(value: Record<string, unknown>, position: number): ArchiveMeta {
  const { kind, storeFormat, kluis, demo } = value;
  if (
    (kind !== 'snapshot' && kind !== 'raw') ||
    !Number.isSafeInteger(storeFormat) ||
    (storeFormat as number) < 0 ||
    typeof kluis !== 'string' ||
    typeof demo !== 'boolean'
  ) {
    throw new ArchiveError(
      `damaged at byte ${position}: the description line is not one Kluis writes`,
    );
  }
  return { kind, storeFormat: storeFormat as number, kluis, demo };
}

/**
 * Reads and verifies a whole archive, passing each file's bytes to the visitor. Throws
 * ArchiveError at the first damage (bad checksum, bad structure, cut short, trailing bytes);
 * the visitor may throw to stop. Resolves with the totals once everything is verified.
 */
export async function readArchive(
  path: string,
  visitor: ArchiveVisitor,
): Promise<{ meta: ArchiveMeta } & ArchiveTotals> {
  const handle = await open(path, 'r');
  try {
    const reader = new Reader(handle);
    const magic = await reader.line(64, 'the first line');
    if (magic === undefined) throw new ArchiveError('the file is empty');
    if (`${magic}\n` !== ARCHIVE_MAGIC)
      throw new ArchiveError('not a Kluis backup (the first line is not "KLUIS-BACKUP 1")');
    const metaAt = reader.position;
    const metaLine = await reader.line(MAX_LINE_BYTES, 'the description line');
    if (metaLine === undefined)
      throw new ArchiveError(`cut short at byte ${metaAt}: the description line is missing`);
    const meta = parseMeta(parseLine(metaLine, metaAt, 'the description line'), metaAt);
    await visitor.meta?.(meta);
    const paths = new Set<string>();
    let files = 0;
    let bytes = 0;
    for (;;) {
      const lineAt = reader.position;
      const before = reader.hash.copy().digest('hex');
      const text = await reader.line(MAX_LINE_BYTES, 'a file header');
      if (text === undefined)
        throw new ArchiveError(
          `cut short at byte ${lineAt}: the end line is missing (${files} files read)`,
        );
      const header = parseLine(text, lineAt, 'a file header');
      if (header.end === true) {
        if (header.files !== files || header.bytes !== bytes) {
          throw new ArchiveError(
            `damaged: the end line counts ${String(header.files)} files and ${String(header.bytes)} bytes, but the archive holds ${files} and ${bytes}`,
          );
        }
        if (header.sha256 !== before)
          throw new ArchiveError(
            'damaged: the checksum of the whole archive does not match (a header or checksum line was altered)',
          );
        if (!(await reader.atEnd()))
          throw new ArchiveError(
            `damaged: there are bytes after the end line (at byte ${reader.position})`,
          );
        return { meta, files, bytes, sha256: before };
      }
      const entryPath = header.path;
      const size = header.size;
      if (
        typeof entryPath !== 'string' ||
        !isSafeArchivePath(entryPath) ||
        !Number.isSafeInteger(size) ||
        (size as number) < 0 ||
        Object.keys(header).length !== 2
      ) {
        throw new ArchiveError(`damaged at byte ${lineAt}: a file header is not one Kluis writes`);
      }
      if (paths.has(entryPath))
        throw new ArchiveError(`damaged at byte ${lineAt}: ${entryPath} appears twice`);
      paths.add(entryPath);
      const sink = (await visitor.file({ path: entryPath, size: size as number })) ?? undefined;
      const hash = createHash('sha256');
      for await (const chunk of reader.bytes(size as number, entryPath)) {
        hash.update(chunk);
        if (sink) await sink.write(chunk);
      }
      const sumAt = reader.position;
      const sumLine = await reader.line(80, `the checksum of ${entryPath}`);
      if (sumLine === undefined)
        throw new ArchiveError(
          `cut short at byte ${sumAt}: the checksum of ${entryPath} is missing`,
        );
      const digest = hash.digest('hex');
      // The checksum line starts with the newline that ends the file's bytes.
      if (sumLine !== '')
        throw new ArchiveError(
          `damaged at byte ${sumAt}: ${entryPath} is not followed by its checksum (its size was altered?)`,
        );
      const sum = await reader.line(80, `the checksum of ${entryPath}`);
      if (sum === undefined)
        throw new ArchiveError(
          `cut short at byte ${reader.position}: the checksum of ${entryPath} is missing`,
        );
      if (!/^sha256 [0-9a-f]{64}$/.test(sum))
        throw new ArchiveError(
          `damaged at byte ${sumAt}: the checksum line of ${entryPath} is malformed`,
        );
      if (sum.slice(7) !== digest)
        throw new ArchiveError(
          `damaged: ${entryPath} does not match its checksum (a byte in it was altered)`,
        );
      if (sink) await sink.end(digest);
      files += 1;
      bytes += size as number;
    }
  } finally {
    await handle.close();
  }
}
