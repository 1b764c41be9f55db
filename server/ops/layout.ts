/**
 * The data directory's layout in store format 2 (server/store/file-store.ts
 * writes it), as the operator tools see it from outside the server
 * process: the backup, the restore and the store check read the files
 * directly, read-only, and may run while the server runs.
 *
 *   FORMAT                       "2\n"
 *   server-secret                32 bytes: the key of the ticket MACs
 *   journal/<n>                  write-ahead journal segments (server/store/journal-format.ts):
 *                                record writes acknowledged but not yet in their files, and
 *                                spent-ticket marks; empty after a clean stop. The tools read it
 *                                before the record files (record-view.ts); a snapshot holds none.
 *   records/AF/AFTB9KSD.json     one case (ciphertext and coarse metadata)
 *   blobs/0f/0f…(32 hex)         one attachment's ciphertext
 *   spent-tickets/<hour>         16-byte hashes of tickets used, removed once <hour> has passed
 *                                (server/spent-tickets.ts; not backed up: nothing in it outlives an hour)
 *   demo/                        demo mode only: the demo counsellor's key file AND its passphrase
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STREAM_SEALED_CHUNK_BYTES } from '../../crypto/index.js';
import { isErrno, isTempName } from '../store/durable-fs.js';
import { BLOB_ID, RECORD_ID } from '../store/index.js';

export const RECORDS_DIR = 'records';
export const BLOBS_DIR = 'blobs';
export const DEMO_DIR = 'demo';
export const SECRET_FILE = 'server-secret';
export { SPENT_TICKETS_DIR } from '../spent-tickets.js';
export { JOURNAL_DIR } from '../store/journal-format.js';
export const SECRET_BYTES = 32;
const RECORD_SHARD = /^[0-9A-Z]{2}$/;
const BLOB_SHARD = /^[0-9a-f]{2}$/;
/**
 * Largest record file the tools read into memory. The server's limits keep a record far below
 * (1,000 messages of at most 16 MB together, 1,000 notes): anything larger is damage.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** A length at which an incomplete upload can resume: a whole number of sealed chunks (PROTOCOL §8.1). */
export function resumableLength(size: number): number {
  return size - (size % STREAM_SEALED_CHUNK_BYTES);
}

export const recordPath = (id: string): string => `${RECORDS_DIR}/${id.slice(0, 2)}/${id}.json`;
export const blobPath = (id: string): string => `${BLOBS_DIR}/${id.slice(0, 2)}/${id}`;

/** The record id of an archive or data-directory path, if it is one in the right shard. */
export function recordIdOf(path: string): string | undefined {
  const match = /^records\/([0-9A-Z]{2})\/([0-9A-Z]{8})\.json$/.exec(path);
  return match && RECORD_ID.test(match[2]!) && match[2]!.startsWith(match[1]!)
    ? match[2]
    : undefined;
}

/** Whether an archive or data-directory path is a journal segment (`journal/<n>`). */
export function isJournalPath(path: string): boolean {
  return /^journal\/[1-9][0-9]{0,14}$/.test(path);
}

/** The blob id of an archive or data-directory path, if it is one in the right shard. */
export function blobIdOf(path: string): string | undefined {
  const match = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{32})$/.exec(path);
  return match && BLOB_ID.test(match[2]!) && match[2]!.startsWith(match[1]!) ? match[2] : undefined;
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

/** What a listing found that does not belong to the layout (never temp files: writes in flight leave those). */
export interface Strays {
  readonly strays: string[];
}

/** Every record id in the data directory, shard by shard (listed now: later creates may be missed). */
export async function* listRecords(
  dir: string,
  found: Strays = { strays: [] },
): AsyncGenerator<string> {
  const root = join(dir, RECORDS_DIR);
  for (const shard of await namesIn(root)) {
    if (isTempName(shard)) continue;
    if (!RECORD_SHARD.test(shard)) {
      found.strays.push(`${RECORDS_DIR}/${shard}`);
      continue;
    }
    for (const name of await namesIn(join(root, shard))) {
      if (isTempName(name)) continue;
      const id = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (RECORD_ID.test(id) && id.startsWith(shard)) yield id;
      else found.strays.push(`${RECORDS_DIR}/${shard}/${name}`);
    }
  }
}

/** Every blob id in the data directory. */
export async function* listBlobs(
  dir: string,
  found: Strays = { strays: [] },
): AsyncGenerator<string> {
  const root = join(dir, BLOBS_DIR);
  for (const shard of await namesIn(root)) {
    if (isTempName(shard)) continue;
    if (!BLOB_SHARD.test(shard)) {
      found.strays.push(`${BLOBS_DIR}/${shard}`);
      continue;
    }
    for (const name of await namesIn(join(root, shard))) {
      if (isTempName(name)) continue;
      if (BLOB_ID.test(name) && name.startsWith(shard)) yield name;
      else found.strays.push(`${BLOBS_DIR}/${shard}/${name}`);
    }
  }
}
