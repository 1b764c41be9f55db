/**
 * The Kluis backup archive: one file, written and read as a stream (a
 * 100 MB attachment is never whole in memory), with a SHA-256 per file and
 * one over the whole archive, so that a flipped byte or a cut-off copy is
 * found before anything is restored. No dependency: the format is small
 * enough to read by eye (docs/DEPLOY.md, "The backup file"):
 *
 *   KLUIS-BACKUP 1\n
 *   {"kind":"snapshot","storeFormat":1,"kluis":"0.1.0","demo":false}\n
 *   then per file:
 *     {"path":"records/AF/AFTB9KSD.json","size":1234}\n
 *     <size bytes, exactly as in the data directory>
 *     \nsha256 <64 hex digits: SHA-256 of those bytes>\n
 *   and last:
 *     {"end":true,"files":<n>,"bytes":<sum of sizes>,"sha256":"<SHA-256 of every byte before this line>"}\n
 *
 * Paths are relative to the data directory, '/'-separated, of the
 * characters [A-Za-z0-9._-] only, never '.' or '..'. Nothing follows the
 * end line.
 */

import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, link, open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { fsyncPath } from '../store/durable-fs.js';

export const ARCHIVE_MAGIC = 'KLUIS-BACKUP 1\n';
/** Longest header, meta or end line. */
const MAX_LINE_BYTES = 4096;
const MAX_PATH_CHARS = 512;
const SAFE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const READ_BUFFER_BYTES = 1024 * 1024;
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** What the archive holds: a consistent snapshot by `npm run backup`, or a raw copy of every file (before a migration). */
export type ArchiveKind = 'snapshot' | 'raw';

export interface ArchiveMeta {
  readonly kind: ArchiveKind;
  /** The FORMAT of the store it was taken from. */
  readonly storeFormat: number;
  /** The Kluis version that wrote it. */
  readonly kluis: string;
  /** Whether the demo/ directory (the demo counsellor's key and passphrase) is included. */
  readonly demo: boolean;
}

export interface ArchiveTotals {
  readonly files: number;
  readonly bytes: number;
  /** SHA-256 (hex) of the archive before its end line. */
  readonly sha256: string;
}

/** The archive is damaged, cut short or not an archive; the message says where and what. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** True for a path the archive may hold. */
export function isSafeArchivePath(path: string): boolean {
  return (
    path.length <= MAX_PATH_CHARS &&
    SAFE_PATH.test(path) &&
    !path.split('/').some((part) => part === '.' || part === '..')
  );
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Where archive bytes go. */
interface Output {
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the archive durable and puts it in place. */
  commit(): Promise<void>;
  /** Removes what was written (best effort). */
  discard(): Promise<void>;
}

/**
 * A new file, written under a hidden temporary name beside it and linked to its final name only
 * when complete and fsynced: a backup that stops halfway never has the final name. link() does
 * not overwrite, so an existing backup is never replaced (EEXIST).
 */
async function fileOutput(target: string): Promise<Output> {
  try {
    await stat(target);
    throw Object.assign(new Error(`${target} exists`), { code: 'EEXIST', path: target });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const file = await open(temp, 'wx', 0o600);
  return {
    async write(bytes) {
      let done = 0;
      while (done < bytes.length)
        done += (await file.write(bytes, done, bytes.length - done)).bytesWritten;
    },
    async commit() {
      await file.sync();
      await file.close();
      try {
        await link(temp, target);
      } finally {
        await unlink(temp).catch(() => {});
      }
      await fsyncPath(dirname(target));
    },
    async discard() {
      await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

/** A stream such as stdout (to pipe into gpg, ssh, …). */
function streamOutput(stream: Writable): Output {
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(error) : resolve()));
      }),
    commit: async () => {},
    discard: async () => {},
  };
}

/** Writes an archive; call finish() at the end, or abort() on failure. */
export class ArchiveWriter {
  readonly #out: Output;
  readonly #hash: Hash = createHash('sha256');
  readonly #paths = new Set<string>();
  #buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  #used = 0;
  #files = 0;
  #bytes = 0;

  private constructor(out: Output) {
    this.#out = out;
  }

  /** Starts an archive in a new file `target` (refused if it exists) or on a stream. */
  static async create(target: string | Writable, meta: ArchiveMeta): Promise<ArchiveWriter> {
    const writer = new ArchiveWriter(
      typeof target === 'string' ? await fileOutput(target) : streamOutput(target),
    );
    await writer.#put(Buffer.from(ARCHIVE_MAGIC));
    await writer.#put(
      Buffer.from(
        `${JSON.stringify({ kind: meta.kind, storeFormat: meta.storeFormat, kluis: meta.kluis, demo: meta.demo })}\n`,
      ),
    );
    return writer;
  }

  async #put(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    if (bytes.length > this.#buffer.length - this.#used) await this.#flush();
    if (bytes.length >= this.#buffer.length) {
      await this.#out.write(bytes);
      return;
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  async #flush(): Promise<void> {
    if (this.#used === 0) return;
    const full = this.#buffer.subarray(0, this.#used);
    // Streams may hold on to the buffer: hand over this one and start a new one.
    this.#buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
    this.#used = 0;
    await this.#out.write(full);
  }

  #header(path: string, size: number): Buffer {
    if (!isSafeArchivePath(path)) throw new Error(`cannot archive path ${JSON.stringify(path)}`);
    if (this.#paths.has(path)) throw new Error(`${path} is already in the archive`);
    this.#paths.add(path);
    return Buffer.from(`${JSON.stringify({ path, size })}\n`);
  }

  /** Adds a file whose bytes are in memory. */
  async addBytes(path: string, data: Uint8Array): Promise<void> {
    await this.#put(this.#header(path, data.length));
    await this.#put(data);
    await this.#put(Buffer.from(`\nsha256 ${createHash('sha256').update(data).digest('hex')}\n`));
    this.#files += 1;
    this.#bytes += data.length;
  }

  /** Adds a file of exactly `size` bytes from a stream of chunks. */
  async addStream(path: string, size: number, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    await this.#put(this.#header(path, size));
    const hash = createHash('sha256');
    let seen = 0;
    for await (const chunk of chunks) {
      seen += chunk.length;
      if (seen > size) throw new Error(`${path}: more than the ${size} bytes announced`);
      hash.update(chunk);
      await this.#put(chunk);
    }
    if (seen !== size) throw new Error(`${path}: ${seen} bytes instead of the ${size} announced`);
    await this.#put(Buffer.from(`\nsha256 ${hash.digest('hex')}\n`));
    this.#files += 1;
    this.#bytes += size;
  }

  /** Writes the end line, makes the archive durable and puts it in place. */
  async finish(): Promise<ArchiveTotals> {
    const sha256 = this.#hash.copy().digest('hex');
    const totals = { files: this.#files, bytes: this.#bytes, sha256 };
    await this.#put(Buffer.from(`${JSON.stringify({ end: true, ...totals })}\n`));
    await this.#flush();
    await this.#out.commit();
    return totals;
  }

  /** Removes the unfinished archive (a file target only). */
  async abort(): Promise<void> {
    await this.#out.discard();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

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
