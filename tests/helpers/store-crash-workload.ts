/** The workload shared by the crash test and its child process (tests/helpers/store-crash-child.ts). */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';

export interface CrashDoc {
  id: string;
  rev: number;
  body: string;
}
export interface CrashSummary {
  rev: number;
  length: number;
}

export const summarizeCrashDoc = (doc: CrashDoc): CrashSummary => ({
  rev: doc.rev,
  length: doc.body.length,
});

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Record i of round r: `K` + round digit + base-36 index, 8 characters. */
export const crashRecordId = (round: number, i: number): string =>
  `K${round}${i.toString(36).toUpperCase().padStart(6, '0')}`;

/** About 500 bytes that depend on the id, so a torn or mixed-up file is recognisable. */
export const crashBody = (id: string): string => sha256(id).repeat(8);

export const crashDoc = (id: string, rev: number): CrashDoc => ({ id, rev, body: crashBody(id) });

export const crashBlobId = (round: number): string => sha256(`blob ${round}`).slice(0, 32);

export const CRASH_BLOB_CHUNK = 8192;

/** The byte at absolute position p of a round's blob. */
export const crashBlobByte = (round: number, p: number): number =>
  (p * 131 + round * 7 + (p >> 8)) & 0xff;

export function crashBlobBytes(round: number, start: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = crashBlobByte(round, start + i);
  return bytes;
}

/**
 * Writes one line to standard output before returning. process.stdout is asynchronous on a pipe
 * (a slow parent lets lines queue in this process), and a queued line dies with the process at
 * SIGKILL: the parent would then miss a line such as "a delete started" for a deletion the store
 * had already made durable, and call a correct store wrong.
 */
export function sayNow(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done);
    } catch (error) {
      // The pipe is full: wait (busily; this is a test's child) until the parent reads.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}
