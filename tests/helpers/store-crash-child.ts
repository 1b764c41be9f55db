/**
 * Child process of tests/store-crash.test.ts: runs a concurrent workload against a file store
 * and prints one line per acknowledged operation, only after its promise resolved:
 *   c <id>          create resolved
 *   u <id> <rev>    update resolved
 *   b <id> <size>   blob append resolved (new size)
 * Usage: node --import tsx tests/helpers/store-crash-child.ts <dir> <round> <count> <concurrency>
 * The parent kills it with SIGKILL midway. (Writes to a pipe are synchronous on Linux, so a line
 * the parent reads was written after the operation had been acknowledged.)
 */
import { openFileStore } from '../../server/store/index.js';
import {
  CRASH_BLOB_CHUNK,
  type CrashDoc,
  type CrashSummary,
  crashBlobBytes,
  crashBlobId,
  crashDoc,
  crashRecordId,
  sayNow,
  summarizeCrashDoc,
} from './store-crash-workload.js';

const [dir, roundText, countText, concurrencyText] = process.argv.slice(2);
if (dir === undefined || roundText === undefined)
  throw new Error('usage: <dir> <round> <count> <concurrency>');
const round = Number(roundText);
const count = Number(countText ?? 1000);
const concurrency = Number(concurrencyText ?? 50);

const say = sayNow;

const store = await openFileStore<CrashDoc, CrashSummary>({ dir, summarize: summarizeCrashDoc });
say('ready');

let recordsDone = false;
const blobId = crashBlobId(round);
const blobWork = (async () => {
  await store.blobs.create(blobId);
  let size = 0;
  while (!recordsDone) {
    size = await store.blobs.append(blobId, size, crashBlobBytes(round, size, CRASH_BLOB_CHUNK));
    say(`b ${blobId} ${size}`);
  }
})();

let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const id = crashRecordId(round, next++);
      await store.records.create(id, crashDoc(id, 0));
      say(`c ${id}`);
      const updated = await store.records.update(id, (doc) => ({ ...doc, rev: doc.rev + 1 }));
      say(`u ${id} ${updated.rev}`);
    }
  }),
);
recordsDone = true;
await blobWork;
await store.close();
say('done');
