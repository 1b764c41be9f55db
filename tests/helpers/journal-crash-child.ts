/**
 * Child process of tests/store-journal-crash.test.ts: a concurrent workload of record creates,
 * updates, deletes and marks against a store that checkpoints every few kilobytes of journal,
 * so that group commits and checkpoints (materialisation) are running at almost every moment.
 * Prints one line per acknowledged operation, only after its promise resolved:
 *   c <id>          create
 *   u <id> <rev>    update
 *   x <id>          delete started (not an acknowledgement)
 *   d <id>          delete
 *   m <hex>         mark
 * Marks handed to the sink are appended (and fsynced) to <dir>/../marks-<round>.bin, as
 * spent-tickets.ts does with its hour files.
 * Usage: node --import tsx tests/helpers/journal-crash-child.ts <dir> <round>
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { openFileStore } from '../../server/store/index.js';
import {
  type CrashDoc,
  type CrashSummary,
  crashDoc,
  crashRecordId,
  sayNow,
  summarizeCrashDoc,
} from './store-crash-workload.js';

const [dir, roundText] = process.argv.slice(2);
if (dir === undefined || roundText === undefined) throw new Error('usage: <dir> <round>');
const round = Number(roundText);

const say = sayNow;

/** Marks of this process, appended to a file of their own (any earlier ones were checked by the parent). */
async function appendMarks(marks: readonly Uint8Array[]): Promise<void> {
  const handle = await open(join(dir as string, '..', `marks-${round}.bin`), 'a');
  try {
    await handle.write(Buffer.concat(marks));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const store = await openFileStore<CrashDoc, CrashSummary>({
  dir,
  summarize: summarizeCrashDoc,
  checkpointBytes: 6 * 1024,
  checkpointIdleMs: 5,
  marks: { replay() {}, materialise: appendMarks },
});
say('ready');

let next = 0;
const markOf = (n: number): Uint8Array => Buffer.from(`${round}:${n}`.padEnd(20, '.'));
await Promise.all(
  Array.from({ length: 24 }, async () => {
    for (;;) {
      const n = next++;
      const id = crashRecordId(round, n);
      const mark = markOf(n);
      await store.appendMark(mark);
      say(`m ${Buffer.from(mark).toString('hex')}`);
      await store.records.create(id, crashDoc(id, 0));
      say(`c ${id}`);
      const updated = await store.records.update(id, (doc) => ({ ...doc, rev: doc.rev + 1 }));
      say(`u ${id} ${updated.rev}`);
      if (n % 5 === 0) {
        say(`x ${id}`); // a delete starts: until acknowledged, the case may or may not be gone
        await store.records.delete(id);
        say(`d ${id}`);
      }
    }
  }),
);
