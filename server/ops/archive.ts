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
 *
 * This module holds the format's constants and types; archive-writer.ts writes an archive,
 * archive-reader.ts reads and checks one.
 */

export const ARCHIVE_MAGIC = 'KLUIS-BACKUP 1\n';
/** Longest header, meta or end line. */
export const MAX_LINE_BYTES = 4096;
const MAX_PATH_CHARS = 512;
const SAFE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

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
