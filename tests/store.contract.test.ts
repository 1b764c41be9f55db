/**
 * The store interface's contract (server/store/types.ts), run against both implementations:
 * the embedded file store in a temporary directory, and the PostgreSQL store on a real
 * PostgreSQL server that this file starts (tests/helpers/postgres.ts). The file store's own
 * layout, journal and fsync behaviour are tested in store.test.ts and store-journal*.test.ts.
 *
 * "Writes nothing" is checked on each backend's footprint: the files under the data directory,
 * or the rows in every Kluis table.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BlobExistsError,
  BlobNotFoundError,
  InvalidIdError,
  InvalidRangeError,
  InvalidRecordError,
  OffsetMismatchError,
  openFileStore,
  openPgStore,
  READ_CHUNK_BYTES,
  RecordExistsError,
  RecordNotFoundError,
  type Store,
  StoreClosedError,
} from '../server/store/index.js';
import {
  POSTGRES_BIN,
  POSTGRES_SKIP_REASON,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.js';

interface Doc {
  title: string;
  n: number;
  tags?: string[];
}
interface Summary {
  title: string;
  n: number;
}
const summarize = (doc: Doc): Summary => ({ title: doc.title, n: doc.n });

interface Backend {
  /** Opens the store under test (again, after a close: the same data). */
  open(summarizeWith?: (doc: Doc) => Summary): Promise<Store<Doc, Summary>>;
  /** What the backend holds: files under the data directory, or rows per table. */
  footprint(): Promise<unknown>;
}

async function entries<X>(iterable: Iterable<X> | AsyncIterable<X>): Promise<X[]> {
  const all: X[] = [];
  for await (const item of iterable) all.push(item);
  return all;
}

/** Calls fn and turns a synchronous throw into a rejection (the file store's index reads throw at once). */
function later<R>(fn: () => R): Promise<Awaited<R>> {
  return Promise.resolve().then(fn) as Promise<Awaited<R>>;
}

async function collect(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ bytes: Buffer; chunks: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return { bytes: Buffer.concat(parts), chunks: parts.map((part) => part.length) };
}

const pattern = (length: number, seed = 0): Buffer => {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
};

const BLOB = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const BLOB2 = 'ffeeddccbbaa99887766554433221100';

const BAD_RECORD_IDS: unknown[] = [
  '',
  '../x',
  'AB/CD',
  '../ABCDE',
  'AB/CDEFG',
  'AB\\CDEFG',
  '..',
  '.',
  'abcdefgh',
  'ABCDEFG',
  'ABCDEFGHI',
  'ABCDEFGH\n',
  ' ABCDEFG',
  'ABCD\0EFG',
  'ABCDÉFGH',
  'ＡＢＣＤＥＦＧＨ',
  'ABCDEFG\u200b',
  undefined,
  null,
  12345678,
  {},
];
const BAD_BLOB_IDS: unknown[] = [
  '',
  '../x',
  `../${'a'.repeat(29)}`,
  `aa/${'a'.repeat(29)}`,
  'a'.repeat(31),
  'a'.repeat(33),
  'A'.repeat(32),
  `${'a'.repeat(31)}g`,
  `${'a'.repeat(32)}\n`,
  'é'.repeat(32),
  undefined,
  null,
  1,
];

const opened: Array<Store<Doc, Summary>> = [];
const closeAll = async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
};
afterEach(closeAll);

/** The embedded store in a fresh temporary directory per test. */
function fileBackend(): Backend {
  let parent = '';
  let dir = '';
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'kluis-contract-'));
    dir = join(parent, 'data');
  });
  afterEach(async () => {
    await closeAll();
    await rm(parent, { recursive: true, force: true });
  });
  return {
    async open(summarizeWith = summarize) {
      const store = await openFileStore<Doc, Summary>({ dir, summarize: summarizeWith });
      opened.push(store);
      return store;
    },
    async footprint() {
      // Every entry and its size: a write lands in the journal first, so its size counts.
      const paths = (await readdir(dir, { recursive: true })).map(String).sort();
      return Promise.all(paths.map(async (path) => [path, (await stat(join(dir, path))).size]));
    },
  };
}

/** The PostgreSQL store on a fresh database per test, on one server for the file. */
function pgBackend(): Backend {
  let server: TestPostgres | undefined;
  let url = '';
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    url = await server!.createDatabase();
  });
  return {
    async open(summarizeWith = summarize) {
      const store = await openPgStore<Doc, Summary>({ url, summarize: summarizeWith });
      opened.push(store);
      return store;
    },
    async footprint() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const counts: Record<string, number> = {};
        for (const table of ['kluis_records', 'kluis_blobs', 'kluis_blob_chunks']) {
          const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
          counts[table] = Number(result.rows[0]!.n);
        }
        const rows = await client.query<{ doc: string }>(
          'SELECT id || doc AS doc FROM kluis_records ORDER BY id',
        );
        return { counts, docs: rows.rows.map((row) => row.doc) };
      } finally {
        await client.end();
      }
    },
  };
}

const BACKENDS: ReadonlyArray<[string, () => Backend, boolean]> = [
  ['file store', fileBackend, false],
  [
    `PostgreSQL store${POSTGRES_BIN === undefined ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
    pgBackend,
    POSTGRES_BIN === undefined,
  ],
];

for (const [name, make, skip] of BACKENDS) {
  describe.skipIf(skip)(name, () => {
    const backend = make();
    const openStore = () => backend.open();
    let empty: unknown;
    beforeEach(async () => {
      // What a freshly opened store holds, before any write.
      const store = await openStore();
      empty = await backend.footprint();
      await store.close();
    });

    describe('records', () => {
      it('create, get, has, size, summaries', async () => {
        const store = await openStore();
        const { records } = store;
        expect(await records.has('ABCDEFGH')).toBe(false);
        expect(await records.get('ABCDEFGH')).toBeUndefined();
        await records.create('ABCDEFGH', { title: 'first', n: 1, tags: ['x'] });
        await records.create('0000ZZZZ', { title: 'second', n: 2 });
        expect(await records.has('ABCDEFGH')).toBe(true);
        expect(await records.count()).toBe(2);
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'first', n: 1, tags: ['x'] });
        expect(new Map(await entries(records.summaries()))).toEqual(
          new Map([
            ['ABCDEFGH', { title: 'first', n: 1 }],
            ['0000ZZZZ', { title: 'second', n: 2 }],
          ]),
        );
      });

      it('rejects creating an existing id, also when creates race', async () => {
        const { records } = await openStore();
        await records.create('ABCDEFGH', { title: 'a', n: 1 });
        await expect(records.create('ABCDEFGH', { title: 'b', n: 2 })).rejects.toBeInstanceOf(
          RecordExistsError,
        );
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'a', n: 1 });

        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => records.create('RACE0000', { title: 'r', n: i })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results.filter((r) => r.status === 'rejected')) {
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RecordExistsError);
        }
      });

      it('acknowledges only durable state: has() is true once create resolves', async () => {
        const { records } = await openStore();
        // Asked before the create starts: false. (An ask while it is in flight may see it as soon as
        // it is durable: the file store's journal entry fsynced, PostgreSQL's transaction committed.)
        const before = records.has('ABCDEFGH');
        const creating = records.create('ABCDEFGH', { title: 'a', n: 1 });
        expect(await before).toBe(false);
        const read = records.get('ABCDEFGH');
        await creating;
        expect(await records.has('ABCDEFGH')).toBe(true);
        // A read in flight sees the record or nothing (the file store waits for the create).
        expect([undefined, { title: 'a', n: 1 }]).toContainEqual(await read);
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'a', n: 1 });
      });

      it('copies the document at call time', async () => {
        const { records } = await openStore();
        const doc: Doc = { title: 'a', n: 1, tags: ['x'] };
        const creating = records.create('ABCDEFGH', doc);
        doc.title = 'changed';
        doc.tags?.push('y');
        await creating;
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'a', n: 1, tags: ['x'] });
      });

      it('refuses documents that are not JSON objects and writes nothing', async () => {
        const { records } = await openStore();
        const cyclic: Record<string, unknown> = { title: 'c', n: 1 };
        cyclic.self = cyclic;
        const bad: unknown[] = [
          null,
          undefined,
          'text',
          42,
          true,
          { title: 'big', n: 10n },
          cyclic,
          Promise.resolve({ title: 'p', n: 1 }),
          new Date(0),
        ];
        for (const doc of bad) {
          await expect(records.create('ABCDEFGH', doc as Doc)).rejects.toBeInstanceOf(
            InvalidRecordError,
          );
        }
        expect(await records.has('ABCDEFGH')).toBe(false);
        expect(await backend.footprint()).toEqual(empty);
      });

      it('propagates a summarize failure on create and writes nothing', async () => {
        const boom = new Error('summarize failed');
        const store = await backend.open((doc) => {
          if (doc.n < 0) throw boom;
          return summarize(doc);
        });
        await expect(store.records.create('ABCDEFGH', { title: 'a', n: -1 })).rejects.toBe(boom);
        expect(await store.records.has('ABCDEFGH')).toBe(false);
        expect(await backend.footprint()).toEqual(empty);
      });

      it('update applies mutate, returns the stored document and updates the summary', async () => {
        const { records } = await openStore();
        await records.create('ABCDEFGH', { title: 'a', n: 1 });
        const updated = await records.update('ABCDEFGH', (doc) => ({
          ...doc,
          n: doc.n + 1,
          tags: ['t'],
        }));
        expect(updated).toEqual({ title: 'a', n: 2, tags: ['t'] });
        expect(await records.get('ABCDEFGH')).toEqual(updated);
        expect(new Map(await entries(records.summaries())).get('ABCDEFGH')).toEqual({
          title: 'a',
          n: 2,
        });
      });

      it('update of a missing id rejects with RecordNotFoundError', async () => {
        const { records } = await openStore();
        let called = false;
        await expect(
          records.update('ABCDEFGH', (doc) => {
            called = true;
            return doc;
          }),
        ).rejects.toBeInstanceOf(RecordNotFoundError);
        expect(called).toBe(false);
      });

      it('a mutate that throws (or returns garbage) leaves the record as it was', async () => {
        const store = await openStore();
        const { records } = store;
        await records.create('ABCDEFGH', { title: 'a', n: 1 });
        const before = await backend.footprint();

        const boom = new TypeError('nope');
        await expect(
          records.update('ABCDEFGH', (doc) => {
            doc.n = 99; // mutating the argument in place must not leak either
            throw boom;
          }),
        ).rejects.toBe(boom);
        const garbage: Array<(doc: Doc) => Doc> = [
          () => null as unknown as Doc,
          () => undefined as unknown as Doc,
          (doc) => Promise.resolve(doc) as unknown as Doc,
          (doc) => ({ ...doc, n: 1n }) as unknown as Doc,
        ];
        for (const mutate of garbage) {
          await expect(records.update('ABCDEFGH', mutate)).rejects.toBeInstanceOf(
            InvalidRecordError,
          );
        }

        expect(await backend.footprint()).toEqual(before);
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'a', n: 1 });
        expect(new Map(await entries(records.summaries())).get('ABCDEFGH')).toEqual({
          title: 'a',
          n: 1,
        });
      });

      it('serialises updates of one id', async () => {
        const { records } = await openStore();
        await records.create('ABCDEFGH', { title: 'a', n: 0 });
        await Promise.all(
          Array.from({ length: 100 }, () =>
            records.update('ABCDEFGH', (doc) => ({ ...doc, n: doc.n + 1 })),
          ),
        );
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'a', n: 100 });
      });

      it('delete removes the file for good; false when absent; the id can be reused', async () => {
        const { records } = await openStore();
        expect(await records.delete('ABCDEFGH')).toBe(false);
        await records.create('ABCDEFGH', { title: 'a', n: 1 });
        expect(await records.delete('ABCDEFGH')).toBe(true);
        expect(await records.has('ABCDEFGH')).toBe(false);
        expect(await records.count()).toBe(0);
        expect(await records.get('ABCDEFGH')).toBeUndefined();
        expect(await entries(records.summaries())).toEqual([]);
        expect(await records.delete('ABCDEFGH')).toBe(false);
        await expect(records.update('ABCDEFGH', (d) => d)).rejects.toBeInstanceOf(
          RecordNotFoundError,
        );
        await records.create('ABCDEFGH', { title: 'again', n: 2 });
        expect(await records.get('ABCDEFGH')).toEqual({ title: 'again', n: 2 });
      });

      it('rejects bad ids in every method and touches no file', async () => {
        const { records } = await openStore();
        for (const id of BAD_RECORD_IDS) {
          const bad = id as string;
          await expect(records.create(bad, { title: 'x', n: 1 })).rejects.toBeInstanceOf(
            InvalidIdError,
          );
          await expect(records.get(bad)).rejects.toBeInstanceOf(InvalidIdError);
          await expect(records.update(bad, (d) => d)).rejects.toBeInstanceOf(InvalidIdError);
          await expect(records.delete(bad)).rejects.toBeInstanceOf(InvalidIdError);
          await expect(later(() => records.has(bad))).rejects.toBeInstanceOf(InvalidIdError);
          await expect(later(() => records.summary(bad))).rejects.toBeInstanceOf(InvalidIdError);
        }
        expect(await backend.footprint()).toEqual(empty);
      });
    });

    describe('blobs', () => {
      it('create, append, size, read, delete, ids', async () => {
        const { blobs } = await openStore();
        expect(await blobs.size(BLOB)).toBeUndefined();
        await blobs.create(BLOB);
        expect(await blobs.size(BLOB)).toBe(0);
        const data = pattern(10_000);
        expect(await blobs.append(BLOB, 0, data.subarray(0, 4000))).toBe(4000);
        expect(await blobs.append(BLOB, 4000, data.subarray(4000))).toBe(10_000);
        expect(await blobs.append(BLOB, 10_000, new Uint8Array(0))).toBe(10_000);
        expect(await blobs.size(BLOB)).toBe(10_000);
        expect((await collect(blobs.read(BLOB))).bytes).toEqual(data);

        await blobs.create(BLOB2);
        const ids: string[] = [];
        for await (const id of blobs.ids()) ids.push(id);
        expect(ids.sort()).toEqual([BLOB, BLOB2].sort());

        expect(await blobs.delete(BLOB)).toBe(true);
        expect(await blobs.delete(BLOB)).toBe(false);
        expect(await blobs.size(BLOB)).toBeUndefined();
        const left: string[] = [];
        for await (const id of blobs.ids()) left.push(id);
        expect(left).toEqual([BLOB2]);
      });

      it('create twice rejects with BlobExistsError', async () => {
        const { blobs } = await openStore();
        await blobs.create(BLOB);
        await blobs.append(BLOB, 0, pattern(10));
        await expect(blobs.create(BLOB)).rejects.toBeInstanceOf(BlobExistsError);
        expect(await blobs.size(BLOB)).toBe(10);
      });

      it('append at the wrong offset rejects with the current size and writes nothing', async () => {
        const { blobs } = await openStore();
        await blobs.create(BLOB);
        await blobs.append(BLOB, 0, pattern(100));
        for (const offset of [0, 99, 101, 1_000_000]) {
          const error = await blobs.append(BLOB, offset, pattern(5)).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(OffsetMismatchError);
          expect((error as OffsetMismatchError).currentSize).toBe(100);
          expect((error as OffsetMismatchError).offset).toBe(offset);
        }
        expect(await blobs.size(BLOB)).toBe(100);
        expect((await collect(blobs.read(BLOB))).bytes).toEqual(pattern(100));
      });

      it('concurrent appends at one offset: exactly one wins', async () => {
        const { blobs } = await openStore();
        await blobs.create(BLOB);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => blobs.append(BLOB, 0, pattern(50, i))),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results.filter((r) => r.status === 'rejected')) {
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(OffsetMismatchError);
        }
        expect(await blobs.size(BLOB)).toBe(50);
      });

      it('missing blobs: append and read reject with BlobNotFoundError', async () => {
        const { blobs } = await openStore();
        await expect(blobs.append(BLOB, 0, pattern(1))).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(collect(blobs.read(BLOB))).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await blobs.delete(BLOB)).toBe(false);
        expect(await backend.footprint()).toEqual(empty);
      });

      it('rejects bad offsets, bytes and ranges', async () => {
        const { blobs } = await openStore();
        await blobs.create(BLOB);
        for (const offset of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '0']) {
          await expect(blobs.append(BLOB, offset as number, pattern(1))).rejects.toBeInstanceOf(
            InvalidRangeError,
          );
        }
        for (const bytes of ['abc', [1, 2], null, new ArrayBuffer(2)] as unknown[]) {
          await expect(blobs.append(BLOB, 0, bytes as Uint8Array)).rejects.toBeInstanceOf(
            InvalidRangeError,
          );
        }
        await expect(collect(blobs.read(BLOB, 5, 4))).rejects.toBeInstanceOf(InvalidRangeError);
        await expect(collect(blobs.read(BLOB, -1))).rejects.toBeInstanceOf(InvalidRangeError);
        await expect(collect(blobs.read(BLOB, 0, 0.5))).rejects.toBeInstanceOf(InvalidRangeError);
        expect(await blobs.size(BLOB)).toBe(0);
      });

      it('reads ranges [start, end), clamped to the size', async () => {
        const { blobs } = await openStore();
        await blobs.create(BLOB);
        const data = pattern(1000);
        await blobs.append(BLOB, 0, data);
        const read = async (start?: number, end?: number) =>
          (await collect(blobs.read(BLOB, start, end))).bytes;
        expect(await read(10, 20)).toEqual(data.subarray(10, 20));
        expect(await read(990)).toEqual(data.subarray(990));
        expect(await read(500, 5000)).toEqual(data.subarray(500));
        expect(await read(7, 7)).toEqual(Buffer.alloc(0));
        expect(await read(2000, 3000)).toEqual(Buffer.alloc(0));
        expect(await read(undefined, 3)).toEqual(data.subarray(0, 3));
      });

      it('streams a large blob in bounded chunks', async () => {
        const { blobs } = await openStore();
        await blobs.create(BLOB);
        const data = pattern(16 * READ_CHUNK_BYTES + 17, 7);
        for (let offset = 0; offset < data.length; offset += 300_000) {
          await blobs.append(BLOB, offset, data.subarray(offset, offset + 300_000));
        }
        const { bytes, chunks } = await collect(blobs.read(BLOB));
        expect(bytes.equals(data)).toBe(true);
        expect(Math.max(...chunks)).toBeLessThanOrEqual(READ_CHUNK_BYTES);
        const partial = await collect(blobs.read(BLOB, 100, 100 + 3 * READ_CHUNK_BYTES));
        expect(partial.bytes.equals(data.subarray(100, 100 + 3 * READ_CHUNK_BYTES))).toBe(true);
      });

      it('rejects bad ids in every method and touches no file', async () => {
        const { blobs } = await openStore();
        for (const id of BAD_BLOB_IDS) {
          const bad = id as string;
          await expect(blobs.create(bad)).rejects.toBeInstanceOf(InvalidIdError);
          await expect(blobs.append(bad, 0, pattern(1))).rejects.toBeInstanceOf(InvalidIdError);
          await expect(blobs.size(bad)).rejects.toBeInstanceOf(InvalidIdError);
          await expect(collect(blobs.read(bad))).rejects.toBeInstanceOf(InvalidIdError);
          await expect(blobs.delete(bad)).rejects.toBeInstanceOf(InvalidIdError);
        }
        expect(await backend.footprint()).toEqual(empty);
      });

      it('survive close and reopen', async () => {
        const store = await openStore();
        await store.blobs.create(BLOB);
        await store.blobs.append(BLOB, 0, pattern(123));
        await store.close();
        const reopened = await openStore();
        expect(await reopened.blobs.size(BLOB)).toBe(123);
        expect(await reopened.blobs.append(BLOB, 123, pattern(1))).toBe(124);
      });
    });

    describe('closing', () => {
      it('waits for operations in flight, then refuses new ones', async () => {
        const store = await openStore();
        const ids = Array.from({ length: 20 }, (_, i) => `CLOSE${i.toString().padStart(3, '0')}`);
        const creates = ids.map((id, i) => store.records.create(id, { title: id, n: i }));
        await store.close();
        await expect(Promise.all(creates)).resolves.toBeDefined();
        await expect(store.records.create('ABCDEFGH', { title: 'a', n: 1 })).rejects.toBeInstanceOf(
          StoreClosedError,
        );
        await expect(store.records.get('CLOSE000')).rejects.toBeInstanceOf(StoreClosedError);
        await expect(store.blobs.create(BLOB)).rejects.toBeInstanceOf(StoreClosedError);
        await expect(later(() => store.records.has('CLOSE000'))).rejects.toBeInstanceOf(
          StoreClosedError,
        );
        await expect(later(() => store.records.count())).rejects.toBeInstanceOf(StoreClosedError);
        await store.close();
        const reopened = await openStore();
        expect(await reopened.records.count()).toBe(20);
      });
    });
  });
}
