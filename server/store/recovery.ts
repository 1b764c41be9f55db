/**
 * Opening the journal: what a stopped or crashed process left in it is replayed into the record
 * files before the store is served, and a new segment is started.
 *
 * - Every segment but the last was sealed after its last batch was durable: an entry in one that
 *   does not check is damage, and the open fails (CorruptStoreError) rather than guess.
 * - The last segment may end in a batch that was being written when the process died: it was
 *   not acknowledged. It is cut off at the last entry that checks (and the cut made durable),
 *   so nothing unacknowledged is half there, nor applied later.
 * - Puts and deletions are applied to the record files (checkpoint.ts materialise: idempotent,
 *   a crash during replay replays again), marks handed to their owner, then the segments are
 *   dropped.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { stampHandle, stampPath } from './coarse-time.js';
import { type MarkSink, materialise, REPLAY_CONCURRENCY } from './checkpoint.js';
import { type DirSyncer, type DurableDirs, isErrno } from './durable-fs.js';
import { CorruptStoreError } from './errors.js';
import { JOURNAL_DIR, journalOverlay, readJournal } from './journal-format.js';
import { Journal } from './journal.js';

/** What recovery found (for tests and the start-up log). */
export interface Recovered {
  /** Records written to or removed from their files from the journal. */
  readonly records: number;
  readonly marks: number;
  /** Bytes of a torn last batch cut off. */
  readonly cutBytes: number;
}

/**
 * Replays the journal in `dir` into the record files under `recordsRoot` and starts a new
 * segment: everything replayed is in the files when this resolves.
 */
export async function openJournal(
  dir: string,
  recordsRoot: string,
  shared: { syncer: DirSyncer; dirs: DurableDirs },
  marks: MarkSink | undefined,
): Promise<{ journal: Journal; recovered: Recovered }> {
  const journalDir = join(dir, JOURNAL_DIR);
  try {
    await mkdir(journalDir, { mode: 0o700 });
    await stampPath(journalDir);
    await shared.syncer.sync(dir);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  shared.dirs.known(journalDir);
  const segments = await readJournal(dir);
  let cutBytes = 0;
  segments.forEach((segment, i) => {
    if (segment.torn && i < segments.length - 1) {
      throw new CorruptStoreError(
        segment.path,
        `journal segment damaged at byte ${segment.validBytes} of ${segment.size}, before its end (a later segment exists, so it was complete once): restore a backup, or move the journal directory aside to open the store without the writes after byte ${segment.validBytes}`,
      );
    }
  });
  const last = segments.at(-1);
  if (last?.torn) {
    const handle = await open(last.path, 'r+');
    try {
      await handle.truncate(last.validBytes);
      await stampHandle(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    cutBytes = last.size - last.validBytes;
  }
  const records = journalOverlay(segments);
  const found = segments.flatMap((segment) =>
    segment.entries.flatMap((entry) => (entry.kind === 'mark' ? [entry.bytes] : [])),
  );
  if (found.length > 0 && marks === undefined) {
    throw new CorruptStoreError(
      journalDir,
      'the journal holds marks (spent tickets) and the store was opened without their owner: open it through the server (npm start)',
    );
  }
  await materialise(recordsRoot, records, shared, undefined, REPLAY_CONCURRENCY);
  if (found.length > 0 && marks !== undefined) {
    for (const mark of found) marks.replay(mark);
    await marks.materialise(found);
  }
  const next = (last?.number ?? 0) + 1;
  const journal = await Journal.start(journalDir, shared.syncer, next);
  await journal.drop(next - 1);
  return { journal, recovered: { records: records.size, marks: found.length, cutBytes } };
}
