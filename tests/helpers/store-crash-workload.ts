/** The workload shared by the crash test and its child process (tests/helpers/store-crash-child.ts). */
import { createHash } from 'node:crypto';

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
