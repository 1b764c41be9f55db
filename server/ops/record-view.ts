/**
 * The cases of a data directory as the server acknowledged them, read from outside the server
 * (the backup and the store check): the record files, overlaid by the journal.
 *
 * The server acknowledges a record write once its journal entry is durable and writes the
 * record file later (server/store/checkpoint.ts), then drops the journal segment. So the
 * journal is read FIRST, then the files: a write acknowledged before the view was taken is
 * either in the journal as read, or was materialised into its file before the journal was read
 * (and the file, read later, holds it or something newer). Reading the other way round could
 * miss a write materialised and dropped between the two reads. A record the journal names is
 * taken from the journal: it holds a state at least as new as any acknowledged before the view
 * was taken (a file read later may be newer still; either is a whole, acknowledged version).
 */
import { readFileQuietSync } from '../store/coarse-time.js';
import { isErrno } from '../store/durable-fs.js';
import { journalOverlay, type ReadSegment, readJournal } from '../store/journal-format.js';
import { join } from 'node:path';
import { listRecords, recordPath, type Strays } from './layout.js';

/** What the view found wrong with the journal itself. */
export interface JournalFindings {
  /** Damage: a segment that does not check before its end although a later one exists. */
  readonly problems: string[];
  /** Not damage: a last segment ending in an incomplete entry (a write in flight, or a crash's). */
  readonly notes: string[];
}

/** The acknowledged records of a data directory, as of the moment the view was taken. */
export class RecordView {
  readonly #dir: string;
  readonly #overlay: Map<string, string | null>;
  readonly findings: JournalFindings;

  private constructor(dir: string, overlay: Map<string, string | null>, findings: JournalFindings) {
    this.#dir = dir;
    this.#overlay = overlay;
    this.findings = findings;
  }

  /** Reads the journal now; the record files are read later, on demand. */
  static async take(dir: string): Promise<RecordView> {
    const segments = await readJournal(dir);
    return new RecordView(dir, journalOverlay(segments), findingsOf(segments));
  }

  /** Records the journal names (written or deleted) not yet in their files as of the view. */
  get journalled(): number {
    return this.#overlay.size;
  }

  /** The record's text in the journal, null if the journal deletes it, undefined if it names it not. */
  fromJournal(id: string): string | null | undefined {
    return this.#overlay.get(id);
  }

  /**
   * Every record id, sorted: the files' (listed now), and the journal's puts, without the
   * journal's deletions. Names that are no part of the layout go to `found`.
   */
  async ids(found?: Strays): Promise<string[]> {
    const ids = new Set<string>();
    for await (const id of listRecords(this.#dir, found)) ids.add(id);
    for (const [id, text] of this.#overlay) {
      if (text === null) ids.delete(id);
      else ids.add(id);
    }
    return [...ids].sort();
  }

  /**
   * The record's bytes as acknowledged (undefined if absent or deleted): the journal's if it
   * names the record, else the file's, read now. File errors other than ENOENT are thrown.
   */
  read(id: string): Buffer | undefined {
    const journalled = this.#overlay.get(id);
    if (journalled !== undefined)
      return journalled === null ? undefined : Buffer.from(journalled, 'utf8');
    try {
      return readFileQuietSync(join(this.#dir, recordPath(id)));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }
}

function findingsOf(segments: readonly ReadSegment[]): JournalFindings {
  const problems: string[] = [];
  const notes: string[] = [];
  segments.forEach((segment, i) => {
    if (!segment.torn) return;
    const where = `journal/${segment.number}`;
    if (i < segments.length - 1) {
      problems.push(
        `${where} is damaged at byte ${segment.validBytes} of ${segment.size}: the server will not start until it is repaired (restore a backup)`,
      );
    } else {
      notes.push(
        `${where} ends in an incomplete entry (${segment.size - segment.validBytes} bytes): a write in flight, or one cut off by a crash, which the next start drops; it was never acknowledged`,
      );
    }
  });
  return { problems, notes };
}
