/**
 * The write-ahead journal (server/store/journal*.ts, checkpoint.ts, recovery.ts): what an open
 * does with what a crash left (whole entries replayed, a torn or damaged last batch cut off,
 * damage before the end refused), marks and their owner (spent tickets), the operator tools
 * reading a store whose latest writes are only in the journal, and the journal's times.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readArchive } from '../server/ops/archive-reader.js';
import { writeSnapshot } from '../server/ops/backup.js';
import { checkStore, hasDamage } from '../server/ops/check-store.js';
import { restoreArchive } from '../server/ops/restore.js';
import { type CaseRecord, type CaseSummary, summarize } from '../server/records.js';
import {
  encodeSpentMark,
  openSpentTickets,
  SPENT_TICKETS_DIR,
  spentTicketId,
} from '../server/spent-tickets.js';
import { TicketSpentError } from '../server/errors.js';
import { isStoreTime } from '../server/store/coarse-time.js';
import { CorruptStoreError, type MarkSink, openFileStore } from '../server/store/index.js';
import {
  encodeDelete,
  encodeMark,
  encodePut,
  scanSegment,
} from '../server/store/journal-format.js';
import { buildCase, counsellorBundle, writeCases } from './fixtures/ops-store.js';

interface Doc {
  title: string;
  n: number;
}
const summarizeDoc = (doc: Doc): number => doc.n;
const text = (doc: Doc): string => `${JSON.stringify(doc)}\n`;

let parent: string;
let dir: string;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), 'kluis-journal-'));
  dir = join(parent, 'data');
});
afterEach(() => rmSync(parent, { recursive: true, force: true }));

/** A format-2 data directory holding these journal segments, as a crashed server leaves it. */
function crashedStore(segments: readonly Buffer[]): void {
  for (const sub of ['records', 'blobs', 'journal']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'FORMAT'), '2\n');
  for (const [i, bytes] of segments.entries())
    writeFileSync(join(dir, 'journal', String(i + 1)), bytes);
}

const open = (marks?: MarkSink) =>
  openFileStore<Doc, number>({
    dir,
    summarize: summarizeDoc,
    checkpointIdleMs: Number.POSITIVE_INFINITY,
    ...(marks ? { marks } : {}),
  });

const A = encodePut('AAAAAAAA', text({ title: 'a', n: 1 }));
const B = encodePut('BBBBBBBB', text({ title: 'b', n: 2 }));
const C = encodePut('CCCCCCCC', text({ title: 'c', n: 3 }));

describe('an open after a crash', () => {
  it('replays whole entries into the record files and drops the journal', async () => {
    crashedStore([
      Buffer.concat([
        A,
        B,
        encodePut('AAAAAAAA', text({ title: 'a2', n: 4 })),
        encodeDelete('BBBBBBBB'),
      ]),
    ]);
    const store = await open();
    expect(await store.records.get('AAAAAAAA')).toEqual({ title: 'a2', n: 4 });
    expect(store.records.has('BBBBBBBB')).toBe(false);
    expect(store.recovered).toEqual({ records: 2, marks: 0, cutBytes: 0 });
    expect(readFileSync(join(dir, 'records', 'AA', 'AAAAAAAA.json'), 'utf8')).toBe(
      text({ title: 'a2', n: 4 }),
    );
    expect(readdirSync(join(dir, 'journal'))).toEqual(['2']); // the new, empty segment
    await store.close();
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });

  it.each([
    ['cut short in the middle of an entry', Buffer.concat([A, B, C.subarray(0, C.length - 5)])],
    ['cut short in the middle of a length', Buffer.concat([A, B, C.subarray(0, 3)])],
    [
      'followed by zeros (pages that never reached the disk)',
      Buffer.concat([A, B, Buffer.alloc(4096)]),
    ],
    [
      'followed by an entry whose checksum fails, and a whole one after it',
      Buffer.concat([
        A,
        B,
        Buffer.from(C).fill(0x41, 20, 21),
        encodePut('DDDDDDDD', text({ title: 'd', n: 5 })),
      ]),
    ],
    [
      'followed by a length beyond the end',
      Buffer.concat([A, B, Buffer.from([0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 1])]),
    ],
  ])('keeps the whole entries of a last batch %s, and nothing after them', async (_, bytes) => {
    crashedStore([bytes]);
    const store = await open();
    expect(new Map(store.records.summaries())).toEqual(
      new Map([
        ['AAAAAAAA', 1],
        ['BBBBBBBB', 2],
      ]),
    );
    expect(store.recovered.cutBytes).toBe(bytes.length - A.length - B.length);
    expect(readdirSync(join(dir, 'records')).sort()).toEqual(['AA', 'BB']);
    await store.close();
  });

  it('refuses a segment damaged before its end when a later one exists, and changes nothing', async () => {
    const damaged = Buffer.concat([A, Buffer.from(B).fill(0, 12, 13), C]);
    crashedStore([damaged, encodePut('DDDDDDDD', text({ title: 'd', n: 5 }))]);
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStoreError);
    expect((error as Error).message).toMatch(/journal\/1: journal segment damaged at byte \d+/);
    expect(readdirSync(join(dir, 'journal')).sort()).toEqual(['1', '2']);
    expect(readFileSync(join(dir, 'journal', '1'))).toEqual(damaged);
    expect(readdirSync(join(dir, 'records'))).toEqual([]);
  });

  it('hands marks to their owner (replay, then materialise) before dropping them; refuses them without one', async () => {
    const marks = [new Uint8Array(20).fill(7), new Uint8Array(20).fill(9)];
    crashedStore([Buffer.concat([encodeMark(marks[0]!), A, encodeMark(marks[1]!)])]);
    await expect(open()).rejects.toBeInstanceOf(CorruptStoreError);
    expect(readdirSync(join(dir, 'journal'))).toEqual(['1']);
    const replayed: Uint8Array[] = [];
    const materialised: Uint8Array[] = [];
    const store = await open({
      replay: (mark) => replayed.push(mark),
      materialise: async (batch) => void materialised.push(...batch),
    });
    expect(replayed).toEqual(marks);
    expect(materialised).toEqual(marks);
    expect(store.recovered).toEqual({ records: 1, marks: 2, cutBytes: 0 });
    await store.close();
  });
});

describe('while the store runs', () => {
  it('acknowledges from the journal (group commit), reads pending writes back, and writes the files at a checkpoint', async () => {
    const store = await open();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        store.records.create(`J${String(i).padStart(7, '0')}`, { title: 't', n: i }),
      ),
    );
    await store.records.update('J0000001', (doc) => ({ ...doc, n: -1 }));
    expect(store.stats().journalCommits).toBeLessThan(50);
    expect(readdirSync(join(dir, 'records'))).toEqual([]); // nothing materialised yet
    expect(await store.records.get('J0000001')).toEqual({ title: 't', n: -1 });
    const segment = join(dir, 'journal', '1');
    // The journal's times are the fixed time, after every batch (checked before this test reads it).
    for (const path of [segment, join(dir, 'journal')])
      expect(isStoreTime(statSync(path).mtimeMs)).toBe(true);
    expect(isStoreTime(statSync(segment).atimeMs)).toBe(true);
    expect(scanSegment(readFileSync(segment)).entries).toHaveLength(101);
    await store.checkpoint();
    expect(readdirSync(join(dir, 'records', 'J0'))).toHaveLength(100);
    expect(readdirSync(join(dir, 'journal'))).toEqual(['2']);
    expect(await store.records.get('J0000001')).toEqual({ title: 't', n: -1 });
    await store.close();
  });

  it('a delete removes the record file before it is acknowledged', async () => {
    const store = await open();
    await store.records.create('DELETEME', { title: 'x', n: 1 });
    await store.checkpoint();
    expect(readdirSync(join(dir, 'records', 'DE'))).toEqual(['DELETEME.json']);
    await store.records.delete('DELETEME');
    expect(readdirSync(join(dir, 'records', 'DE'))).toEqual([]);
    await store.close();
    const reopened = await open();
    expect(reopened.records.has('DELETEME')).toBe(false);
    await reopened.close();
  });
});

describe('the operator tools on a store whose latest writes are in the journal', () => {
  it('backup and check-store read the journal first; the snapshot restores without one', async () => {
    const counsellor = counsellorBundle(parent);
    const [kept, changed, gone] = [0, 1, 2].map(() =>
      buildCase(counsellor.recipients, { uploads: [{ size: 1000 }] }),
    ) as [ReturnType<typeof buildCase>, ReturnType<typeof buildCase>, ReturnType<typeof buildCase>];
    const store = await openFileStore<CaseRecord, CaseSummary>({
      dir,
      summarize,
      checkpointIdleMs: Number.POSITIVE_INFINITY,
      checkpointBytes: Number.POSITIVE_INFINITY,
    });
    try {
      await writeCases(store, [changed, gone]);
      await store.checkpoint(); // these two in their files
      await writeCases(store, [kept]); // only in the journal
      await store.records.update(changed.record.case, (record) => ({
        ...record,
        status: 'closed',
      }));
      await store.records.delete(gone.record.case);
      expect(
        readdirSync(join(dir, 'records')).flatMap((shard) =>
          readdirSync(join(dir, 'records', shard)),
        ),
      ).toEqual([`${changed.record.case}.json`]);

      const report = await checkStore(dir, { hashes: true });
      expect(hasDamage(report)).toBe(false);
      expect(report).toMatchObject({ cases: 2, attachments: 2 });
      expect(report.orphans).toEqual([...gone.blobs.keys()]); // its record is gone, its blob not yet

      const archive = join(parent, 'backup.kluis-backup');
      const backup = await writeSnapshot(dir, archive, { version: 'test' });
      expect(backup).toMatchObject({ cases: 2, deletedDuringBackup: 0 });
      const paths: string[] = [];
      await readArchive(archive, { file: (entry) => void paths.push(entry.path) });
      expect(paths.some((path) => path.startsWith('journal'))).toBe(false);
      const restored = join(parent, 'restored');
      await restoreArchive(archive, restored);
      const again = await openFileStore<CaseRecord, CaseSummary>({ dir: restored, summarize });
      try {
        expect((await again.records.get(kept.record.case))?.messages).toEqual(kept.record.messages);
        expect((await again.records.get(changed.record.case))?.status).toBe('closed');
        expect(again.records.has(gone.record.case)).toBe(false);
      } finally {
        await again.close();
      }
    } finally {
      await store.close();
    }
  });
});

describe('spent tickets in the journal', () => {
  it('a spend is a mark in the store journal; a clean stop writes it to its hour file; after a crash it is replayed', async () => {
    const now = Date.now(); // the owner drops marks of hours that have passed, by the real clock
    const ticket = new Uint8Array(48).fill(3);
    const expires = Math.floor(now / 1000) + 1800;
    const tickets = await openSpentTickets(dir, now);
    const store = await openFileStore<Doc, number>({
      dir,
      summarize: summarizeDoc,
      marks: tickets.marks,
      checkpointIdleMs: Number.POSITIVE_INFINITY,
    });
    tickets.ridesOn(store);
    await tickets.spend(ticket, expires, now);
    expect(
      scanSegment(readFileSync(join(dir, 'journal', '1'))).entries.map((entry) => entry.kind),
    ).toEqual(['mark']);
    await store.close();
    const hours = readdirSync(join(dir, SPENT_TICKETS_DIR));
    expect(hours).toHaveLength(1);
    expect(readFileSync(join(dir, SPENT_TICKETS_DIR, hours[0]!))).toEqual(
      Buffer.from(spentTicketId(ticket)),
    );
    await expect(
      (await openSpentTickets(dir, now)).spend(ticket, expires, now),
    ).rejects.toBeInstanceOf(TicketSpentError);

    // A crash before any checkpoint: the mark is only in the journal.
    const other = new Uint8Array(48).fill(4);
    rmSync(join(dir, SPENT_TICKETS_DIR), { recursive: true });
    writeFileSync(
      join(dir, 'journal', '1'),
      encodeMark(encodeSpentMark(spentTicketId(other), Math.ceil(expires / 3600))),
    );
    const restarted = await openSpentTickets(dir, now);
    const reopened = await openFileStore<Doc, number>({
      dir,
      summarize: summarizeDoc,
      marks: restarted.marks,
    });
    await expect(restarted.spend(other, expires, now)).rejects.toBeInstanceOf(TicketSpentError);
    expect(readdirSync(join(dir, SPENT_TICKETS_DIR))).toHaveLength(1);
    await reopened.close();
  });
});
