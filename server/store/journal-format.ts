/**
 * The write-ahead journal's bytes: what the server appends (journal.ts) and what the store, the
 * backup and the store check read back. No clock goes in: an entry holds a record id and its
 * document, a deletion, or an opaque mark (a spent ticket's hash and expiry hour), never a time.
 *
 *   <dir>/journal/<n>     segment n (1, 2, ...; a new one is started at each checkpoint)
 *
 * A segment is a sequence of entries, each
 *
 *   length  u32 LE   bytes of the payload (at least 1, at most MAX_ENTRY_BYTES)
 *   crc     u32 LE   CRC-32 of the payload
 *   payload          kind (1 byte) and its body:
 *                      'P' put:    record id (8 ASCII bytes) + the record's JSON (UTF-8)
 *                      'D' delete: record id (8 ASCII bytes)
 *                      'M' mark:   opaque bytes (spent-tickets.ts: ticket hash + expiry hour)
 *
 * A crash in the middle of a group commit leaves the last segment ending in an entry that is cut
 * short, or zeros, or garbage where a page did not reach the disk: none of it was acknowledged
 * (nothing after it was either: a batch is acknowledged only after its fsync, which makes every
 * earlier byte of the file durable too). Reading stops at the first entry that does not check.
 * Zeros never check: a zero length is refused.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readFileQuietSync } from './coarse-time.js';
import { isErrno } from './durable-fs.js';
import { RECORD_ID } from './types.js';

/** The journal's directory in the data directory. */
export const JOURNAL_DIR = 'journal';
/** Segment file names: a positive decimal number. */
export const SEGMENT_NAME = /^[1-9][0-9]{0,14}$/;
/** Bytes before each payload: its length and checksum. */
export const ENTRY_HEADER_BYTES = 8;
/** Longest payload accepted on reading (a record is far smaller: ops/layout.ts MAX_RECORD_BYTES). */
export const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

const PUT = 0x50; // 'P'
const DELETE = 0x44; // 'D'
const MARK = 0x4d; // 'M'

/** One journal entry, decoded. */
export type JournalEntry =
  | { readonly kind: 'put'; readonly id: string; readonly text: string }
  | { readonly kind: 'delete'; readonly id: string }
  | { readonly kind: 'mark'; readonly bytes: Uint8Array };

/** An entry of `bodyBytes` after the kind byte, filled by `fill` at offset 9 (after length, checksum, kind). */
function entry(kind: number, bodyBytes: number, fill: (entry: Buffer, at: number) => void): Buffer {
  const bytes = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + 1 + bodyBytes);
  bytes.writeUInt32LE(1 + bodyBytes, 0);
  bytes[ENTRY_HEADER_BYTES] = kind;
  fill(bytes, ENTRY_HEADER_BYTES + 1);
  bytes.writeUInt32LE(crc32(bytes.subarray(ENTRY_HEADER_BYTES)), 4);
  return bytes;
}

/** The bytes of a put: `text` is the record's JSON as the record file would hold it. */
export function encodePut(id: string, text: string): Buffer {
  return entry(PUT, 8 + Buffer.byteLength(text), (bytes, at) => {
    bytes.write(id, at, 8, 'latin1');
    bytes.write(text, at + 8, 'utf8');
  });
}

/** The bytes of a deletion. */
export function encodeDelete(id: string): Buffer {
  return entry(DELETE, 8, (bytes, at) => void bytes.write(id, at, 8, 'latin1'));
}

/** The bytes of a mark. */
export function encodeMark(mark: Uint8Array): Buffer {
  return entry(MARK, mark.length, (bytes, at) => bytes.set(mark, at));
}

function decode(payload: Buffer): JournalEntry | undefined {
  const kind = payload[0];
  if (kind === MARK) return { kind: 'mark', bytes: new Uint8Array(payload.subarray(1)) };
  if (payload.length < 9) return undefined;
  const id = payload.toString('latin1', 1, 9);
  if (!RECORD_ID.test(id)) return undefined;
  if (kind === DELETE && payload.length === 9) return { kind: 'delete', id };
  if (kind === PUT) return { kind: 'put', id, text: payload.toString('utf8', 9) };
  return undefined;
}

/** What a segment's bytes hold. */
export interface ScannedSegment {
  readonly entries: JournalEntry[];
  /** Bytes up to the end of the last entry that checks. */
  readonly validBytes: number;
  /** Whether bytes follow that do not make a whole entry that checks (a torn or damaged tail). */
  readonly torn: boolean;
}

/** Decodes entries from the start of `bytes` up to the first one that does not check. */
export function scanSegment(bytes: Buffer): ScannedSegment {
  const entries: JournalEntry[] = [];
  let at = 0;
  while (at + ENTRY_HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const end = at + ENTRY_HEADER_BYTES + length;
    if (length === 0 || length > MAX_ENTRY_BYTES || end > bytes.length) break;
    const payload = bytes.subarray(at + ENTRY_HEADER_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32LE(at + 4)) break;
    const entry = decode(payload);
    if (entry === undefined) break;
    entries.push(entry);
    at = end;
  }
  return { entries, validBytes: at, torn: at !== bytes.length };
}

/** The segment numbers in a journal directory, oldest first (none if it does not exist). */
export async function listSegments(journalDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(journalDir);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
  return names
    .filter((name) => SEGMENT_NAME.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}

/** One segment as read. */
export interface ReadSegment extends ScannedSegment {
  readonly number: number;
  readonly path: string;
  /** Bytes of the file as read. */
  readonly size: number;
}

/**
 * Reads every segment of the journal in `dataDir`, oldest first, read-only and without touching
 * atime. A segment removed between the listing and its reading is skipped (a checkpoint
 * materialised it first).
 */
export async function readJournal(dataDir: string): Promise<ReadSegment[]> {
  const journalDir = join(dataDir, JOURNAL_DIR);
  const segments: ReadSegment[] = [];
  for (const number of await listSegments(journalDir)) {
    const path = join(journalDir, String(number));
    let bytes: Buffer;
    try {
      bytes = readFileQuietSync(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) continue;
      throw error;
    }
    segments.push({ number, path, size: bytes.length, ...scanSegment(bytes) });
  }
  return segments;
}

/**
 * The latest state the journal gives each record it names: its JSON text, or null if deleted.
 * Applied over the record files, this is the store's acknowledged state.
 */
export function journalOverlay(segments: readonly ReadSegment[]): Map<string, string | null> {
  const overlay = new Map<string, string | null>();
  for (const segment of segments) {
    for (const entry of segment.entries) {
      if (entry.kind === 'put') overlay.set(entry.id, entry.text);
      else if (entry.kind === 'delete') overlay.set(entry.id, null);
    }
  }
  return overlay;
}
