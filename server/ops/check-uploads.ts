/**
 * The store check's look at one attachment a case names (check-store.ts): a complete upload's
 * file exists with exactly the announced length and, when asked and recorded, the SHA-256 taken
 * when the upload completed; an upload in progress has at most its length. A read error that
 * is the disk's is reported as damage, not thrown.
 */

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredUpload } from '../records.js';
import { openQuiet } from '../store/coarse-time.js';
import { isErrno } from '../store/durable-fs.js';
import { blobPath } from './layout.js';

/** The size of the file at `path`, or undefined if there is none. */
export function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

async function sha256Of(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof openQuiet>>;
  try {
    handle = await openQuiet(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** A read error that is damage (the disk), not a mistake of the one running the check (EACCES). */
export function isMediaError(error: unknown): boolean {
  return isErrno(error, 'EIO') || isErrno(error, 'EBADMSG') || isErrno(error, 'EUCLEAN');
}

/** Problems with one upload's file, or none. */
export async function checkUpload(
  dir: string,
  upload: StoredUpload,
  hashes: boolean,
  counts: { hashed: number; unhashed: number },
): Promise<string[]> {
  try {
    return await checkUploadFile(dir, upload, hashes, counts);
  } catch (error) {
    if (!isMediaError(error)) throw error;
    return [
      `attachment ${upload.id} cannot be read (${(error as NodeJS.ErrnoException).code}: is the disk failing?)`,
    ];
  }
}

async function checkUploadFile(
  dir: string,
  upload: StoredUpload,
  hashes: boolean,
  counts: { hashed: number; unhashed: number },
): Promise<string[]> {
  const path = join(dir, blobPath(upload.id));
  const size = sizeOf(path);
  if (!upload.complete) {
    // An upload in progress may have no file yet (it is made when the upload is announced).
    if (size !== undefined && size > upload.length)
      return [
        `attachment ${upload.id} (in progress) has ${size} bytes, more than the ${upload.length} announced`,
      ];
    return [];
  }
  if (size === undefined)
    return [`attachment ${upload.id} is missing (its ${upload.length} bytes are gone)`];
  if (size !== upload.length)
    return [`attachment ${upload.id} has ${size} bytes instead of ${upload.length}`];
  if (upload.sha256 === undefined) {
    counts.unhashed += 1;
    return [];
  }
  if (!hashes) return [];
  const digest = await sha256Of(path);
  counts.hashed += 1;
  if (digest === undefined)
    return [`attachment ${upload.id} is missing (its ${upload.length} bytes are gone)`];
  if (digest !== upload.sha256)
    return [
      `attachment ${upload.id} does not match the SHA-256 recorded when it was uploaded (a byte in it changed on disk)`,
    ];
  return [];
}
