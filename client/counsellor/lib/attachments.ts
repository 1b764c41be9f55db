/**
 * Attachments: upload a file as the reporter page does (PROTOCOL §8,
 * API.md "Uploads"), and save a decrypted one safely. Both stream, so a
 * 100 MB file is never whole in memory. A saved file is written under a
 * temporary name, checked to the last chunk, and only then linked to its
 * real (sanitised) name, never over an existing file and never through a
 * symlink; a tampered or truncated blob leaves nothing behind.
 * @module
 */

import { constants } from 'node:fs';
import { link, lstat, mkdir, open, realpath, stat, unlink } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import nacl from 'tweetnacl';
import {
  type AttachmentRef,
  AttachmentDecryptor,
  AttachmentEncryptor,
  attachmentCiphertextLength,
  KluisError,
  newAttachmentKey,
  SECRETBOX_OVERHEAD,
  STREAM_SEALED_CHUNK_BYTES,
} from '../../../crypto/index.js';
import type { CounsellorApi } from './api.js';
import {
  IntegrityError,
  LocalFileError,
  NetworkError,
  ServerRefusedError,
  UsageError,
} from './errors.js';
import { alternativeName, safeFileName, safeLine } from './sanitize.js';

/**
 * Bytes per PATCH: 15 sealed chunks (983,280 bytes), under the 1 MiB body
 * limit. (API.md says "1 MiB (16 sealed chunks)", but 16 sealed chunks are
 * 1,048,832 bytes, 256 more than 1 MiB.)
 */
export const UPLOAD_SLICE_BYTES = 15 * STREAM_SEALED_CHUNK_BYTES;

const MEDIA_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.eml': 'message/rfc822',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.zip': 'application/zip',
};

/** A media type guessed from a file name's extension. */
export function mediaTypeOf(name: string): string {
  return MEDIA_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

function attachmentName(path: string): string {
  let name = basename(path).normalize('NFC');
  while (Buffer.byteLength(name, 'utf8') > 255) name = name.slice(0, -1);
  return name.length > 0 ? name : 'attachment';
}

/** The plaintext of a file, read in 1 MiB pieces. */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function* ciphertextOf(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  encryptor: AttachmentEncryptor,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) yield* encryptor.push(chunk);
  yield* encryptor.finish();
}

/** A file to attach that is in memory only (the app: picked in the browser), never written to disk. */
export interface MemoryFile {
  readonly name: string;
  readonly type: string;
  readonly bytes: Uint8Array;
}

/** What an upload reads: a path, or bytes in memory. */
interface UploadSource {
  readonly label: string;
  readonly name: string;
  readonly type: string;
  readonly size: number;
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** Encrypts and uploads a file that is in memory (see uploadFile). */
export function uploadBytes(
  api: CounsellorApi,
  caseNumber: string,
  file: MemoryFile,
  limits: { maxFileBytes: number },
): Promise<AttachmentRef> {
  const name = attachmentName(file.name);
  const type = /^[\x21-\x7e]{1,255}$/.test(file.type) ? file.type : mediaTypeOf(name);
  return uploadSource(
    api,
    caseNumber,
    { label: name, name, type, size: file.bytes.length, chunks: () => [file.bytes] },
    limits,
  );
}

/** Encrypts and uploads one file to a case; resumes after a broken connection. Returns the reference for the message. */
export async function uploadFile(
  api: CounsellorApi,
  caseNumber: string,
  path: string,
  limits: { maxFileBytes: number },
): Promise<AttachmentRef> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile())
      throw new UsageError(`${path} is not a regular file`, 'attachment-unreadable');
    size = info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `cannot read ${path}: ${(error as Error).message}`,
      'attachment-unreadable',
    );
  }
  return uploadSource(
    api,
    caseNumber,
    {
      label: path,
      name: attachmentName(path),
      type: mediaTypeOf(path),
      size,
      chunks: () => fileChunks(path),
    },
    limits,
  );
}

async function uploadSource(
  api: CounsellorApi,
  caseNumber: string,
  source: UploadSource,
  limits: { maxFileBytes: number },
): Promise<AttachmentRef> {
  const { size } = source;
  const length = attachmentCiphertextLength(size);
  if (length > limits.maxFileBytes) {
    throw new UsageError(
      `${source.label} is too large: the server takes files up to ${Math.floor(limits.maxFileBytes / 1_048_576)} MB (encrypted and padded)`,
    );
  }
  const key = newAttachmentKey(size);
  const { id } = await api.createUpload(caseNumber, length);
  const tags: string[] = [];
  let offset = 0;
  let failures = 0;
  while (offset < length) {
    try {
      offset = await sendFrom(api, caseNumber, id, source, { key, tags }, offset);
    } catch (error) {
      if (++failures > 5) throw error;
      if (error instanceof ServerRefusedError && error.code === 'offset-mismatch') {
        const current = (error.body as { offset?: unknown } | undefined)?.offset;
        offset = Number.isSafeInteger(current)
          ? (current as number)
          : (await api.getUpload(caseNumber, id)).offset;
      } else if (error instanceof NetworkError) {
        offset = (await api.getUpload(caseNumber, id)).offset;
      } else {
        throw error;
      }
    }
  }
  return {
    name: source.name,
    type: source.type,
    size,
    blob: id,
    key: key.key,
    prefix: key.prefix,
  };
}

/**
 * Sends the ciphertext from `start` (re-encrypting from the beginning: deterministic given key
 * and prefix). `tags` keeps the Poly1305 tag of every chunk of the first pass: a chunk sealed
 * again with other bytes (the file changed between attempts, and the server asks for an
 * earlier offset than it holds) would put two plaintexts under one keystream, so it is never
 * sent.
 */
async function sendFrom(
  api: CounsellorApi,
  caseNumber: string,
  id: string,
  source: UploadSource,
  { key, tags }: { key: ReturnType<typeof newAttachmentKey>; tags: string[] },
  start: number,
): Promise<number> {
  let index = 0;
  let position = 0;
  let offset = start;
  let slice: Uint8Array[] = [];
  let sliceBytes = 0;
  const flush = async () => {
    if (sliceBytes === 0) return;
    const body = Buffer.concat(slice, sliceBytes);
    slice = [];
    sliceBytes = 0;
    offset = (await api.appendUpload(caseNumber, id, offset, body)).offset;
  };
  for await (const chunk of ciphertextOf(source.chunks(), new AttachmentEncryptor(key))) {
    const tag = Buffer.from(chunk.buffer, chunk.byteOffset, SECRETBOX_OVERHEAD).toString('base64');
    if (tags[index] === undefined) tags[index] = tag;
    else if (tags[index] !== tag) {
      throw new LocalFileError(
        `${source.label} changed while it was being uploaded: attach it again`,
      );
    }
    index++;
    const from = Math.max(0, start - position);
    position += chunk.length;
    if (from >= chunk.length) continue;
    const part = chunk.subarray(from);
    if (sliceBytes + part.length > UPLOAD_SLICE_BYTES) await flush();
    slice.push(part);
    sliceBytes += part.length;
  }
  await flush();
  return offset;
}

/** Makes (or accepts) the directory to save into; returns its real path. */
export async function prepareDirectory(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const real = await realpath(dir);
    if (!(await stat(real)).isDirectory()) throw new LocalFileError(`${dir} is not a directory`);
    return real;
  } catch (error) {
    if (error instanceof LocalFileError) throw error;
    throw new LocalFileError(`cannot use ${dir} as a directory: ${(error as Error).message}`);
  }
}

/** Creates `name` in `dir` from the temporary file, never replacing anything: "name (2).ext" if taken. */
async function linkUnique(temp: string, dir: string, name: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const candidate = join(dir, n === 1 ? name : alternativeName(name, n));
    try {
      await link(temp, candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new LocalFileError(`cannot create ${candidate}: ${(error as Error).message}`);
    }
  }
  throw new LocalFileError(`too many files named like ${name} in ${dir}`);
}

/** Creates a file that did not exist, without following a symlink. */
export async function createExclusive(path: string): Promise<Awaited<ReturnType<typeof open>>> {
  try {
    return await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (error) {
    throw new LocalFileError(`cannot create ${path}: ${(error as Error).message}`);
  }
}

/** What was saved. */
export interface SavedFile {
  /** The name the sender gave, made safe to print. */
  readonly originalName: string;
  readonly path: string;
  readonly size: number;
}

/**
 * One attachment downloaded and decrypted as a stream, for the app's
 * browser download: nothing is written to disk here. Throws
 * IntegrityError (after some bytes may have been yielded: the caller
 * must then abort what it sends) if the blob does not decrypt to exactly
 * what its message promised.
 */
export async function* decryptedChunks(
  api: CounsellorApi,
  caseNumber: string,
  ref: AttachmentRef,
): AsyncGenerator<Uint8Array> {
  const decryptor = new AttachmentDecryptor(ref);
  const response = await api.blob(caseNumber, ref.blob);
  let finished = false;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) yield* decryptor.push(chunk);
    yield* decryptor.finish();
    finished = true;
  } catch (error) {
    if (error instanceof KluisError)
      throw new IntegrityError(
        `attachment ${safeLine(ref.name)} does not decrypt (${error.code}): the server's copy was altered or cut short`,
        [`attachment ${safeLine(ref.name)}: ${error.code}`],
        'attachment-not-verified',
      );
    throw new NetworkError(
      `the download of ${safeLine(ref.name)} broke off: ${(error as Error).message}`,
    );
  } finally {
    if (!finished) response.destroy();
  }
}

/**
 * Downloads, decrypts and saves one attachment into `dir` (a real
 * directory, see prepareDirectory). Throws IntegrityError if the blob does
 * not decrypt to exactly what its message promised.
 */
export async function saveAttachment(
  api: CounsellorApi,
  caseNumber: string,
  ref: AttachmentRef,
  dir: string,
): Promise<SavedFile> {
  const decryptor = new AttachmentDecryptor(ref);
  const temp = join(dir, `.kluis-partial-${Buffer.from(nacl.randomBytes(8)).toString('hex')}`);
  const response = await api.blob(caseNumber, ref.blob);
  const handle = await createExclusive(temp);
  let ok = false;
  try {
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        for (const plain of decryptor.push(chunk)) await handle.write(plain);
      }
    } catch (error) {
      if (error instanceof KluisError) throw error;
      throw new NetworkError(
        `the download of ${safeLine(ref.name)} broke off: ${(error as Error).message}`,
      );
    }
    for (const plain of decryptor.finish()) await handle.write(plain);
    await handle.sync();
    ok = true;
  } catch (error) {
    response.destroy();
    if (error instanceof KluisError) {
      throw new IntegrityError(
        `attachment ${safeLine(ref.name)} does not decrypt (${error.code}): the server's copy was altered or cut short`,
        [`attachment ${safeLine(ref.name)}: ${error.code}`],
        'attachment-not-verified',
      );
    }
    throw error;
  } finally {
    await handle.close();
    if (!ok) await unlink(temp).catch(() => {});
  }
  try {
    const path = await linkUnique(temp, dir, safeFileName(ref.name));
    return { originalName: safeLine(ref.name), path, size: (await lstat(path)).size };
  } finally {
    await unlink(temp).catch(() => {});
  }
}
