import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirSyncer } from '../server/store/durable-fs.js';
import {
  BlobExistsError,
  BlobNotFoundError,
  CorruptRecordError,
  CorruptStoreError,
  FORMAT_VERSION,
  type FileStore,
  InvalidIdError,
  InvalidRangeError,
  InvalidRecordError,
  NotAStoreError,
  OffsetMismatchError,
  openFileStore,
  READ_CHUNK_BYTES,
  RecordExistsError,
  RecordNotFoundError,
  StoreClosedError,
  StoreError,
  StoreInUseError,
  UnsupportedFormatError,
} from '../server/store/index.js';

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

let parent: string;
let dir: string;
const opened: Array<FileStore<Doc, Summary>> = [];

async function openStore(at = dir): Promise<FileStore<Doc, Summary>> {
  const store = await openFileStore<Doc, Summary>({ dir: at, summarize });
  opened.push(store);
  return store;
}

async function collect(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ bytes: Buffer; chunks: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return { bytes: Buffer.concat(parts), chunks: parts.map((part) => part.length) };
}

/** Every path under root, relative, sorted. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map(String).sort();
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

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'kluis-store-test-'));
  dir = join(parent, 'data');
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await rm(parent, { recursive: true, force: true });
});

describe('errors', () => {
  it('are StoreErrors, told apart by class', () => {
    const errors = [
      new InvalidIdError('record', '../x'),
      new RecordExistsError('ABCDEFGH'),
      new RecordNotFoundError('ABCDEFGH'),
      new InvalidRecordError('x'),
      new CorruptRecordError('/p'),
      new BlobExistsError(BLOB),
      new BlobNotFoundError(BLOB),
      new OffsetMismatchError(BLOB, 1, 2),
      new InvalidRangeError('x'),
      new UnsupportedFormatError(2, 1),
      new CorruptStoreError('/p', 'x'),
      new NotAStoreError('/p'),
      new StoreInUseError('/p'),
      new StoreClosedError(),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toBeInstanceOf(Error);
    }
    expect(new Set(errors.map((error) => error.constructor)).size).toBe(errors.length);
    expect(new Set(errors.map((error) => error.name)).size).toBe(errors.length);
  });
});

describe('opening', () => {
  it('creates a missing directory (and parents) with a FORMAT file', async () => {
    const nested = join(parent, 'a', 'b', 'data');
    const store = await openStore(nested);
    expect(await readFile(join(nested, 'FORMAT'), 'utf8')).toBe(`${FORMAT_VERSION}\n`);
    expect(FORMAT_VERSION).toBe(2);
    expect(store.records.size).toBe(0);
    // journal/1: the segment the next writes go to (removed again by a clean close).
    expect(await tree(nested)).toEqual(['FORMAT', 'blobs', 'journal', 'journal/1', 'records']);
    await store.close();
    expect(await tree(nested)).toEqual(['FORMAT', 'blobs', 'journal', 'records']);
  });

  it('opens an existing empty directory', async () => {
    await mkdir(dir);
    await openStore();
    expect(await readFile(join(dir, 'FORMAT'), 'utf8')).toBe('2\n');
  });

  it('refuses a FORMAT newer than supported', async () => {
    await mkdir(dir);
    await writeFile(join(dir, 'FORMAT'), '3\n');
    const error = await openStore().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect((error as UnsupportedFormatError).found).toBe(3);
    expect((error as UnsupportedFormatError).supported).toBe(2);
    expect(await tree(dir)).toEqual(['FORMAT']);
  });

  it('refuses an unreadable FORMAT', async () => {
    await mkdir(dir);
    for (const content of ['banana', '', '0', '-1', '1.5']) {
      await writeFile(join(dir, 'FORMAT'), content);
      await expect(openStore()).rejects.toBeInstanceOf(CorruptStoreError);
    }
  });

  it('refuses a non-empty directory without FORMAT and writes nothing into it', async () => {
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(openStore()).rejects.toBeInstanceOf(NotAStoreError);
    expect(await tree(dir)).toEqual(['notes.txt']);
  });

  it('finishes an interrupted initialisation (temp FORMAT left behind)', async () => {
    await mkdir(dir);
    await writeFile(join(dir, '.FORMAT.4242.1.tmp'), '1');
    await openStore();
    expect(await tree(dir)).toEqual(['FORMAT', 'blobs', 'journal', 'journal/1', 'records']);
  });

  it('refuses a second open in the same process until the first is closed', async () => {
    const first = await openStore();
    await expect(openStore()).rejects.toBeInstanceOf(StoreInUseError);
    await expect(openStore(join(dir, '.'))).rejects.toBeInstanceOf(StoreInUseError);
    await first.close();
    await openStore();
  });

  it('refuses a corrupt record file, naming it', async () => {
    const store = await openStore();
    await store.records.create('ABCDEFGH', { title: 'a', n: 1 });
    await store.close();
    const path = join(dir, 'records', 'AB', 'ABCDEFGH.json');
    await writeFile(path, '{"title":"a","n":');
    const error = await openStore().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as CorruptRecordError).path).toBe(path);
    await writeFile(path, '{"title":"a","n":1}\n');
    expect((await openStore()).records.has('ABCDEFGH')).toBe(true);
  });

  it('rebuilds the index on reopen and cleans temp files', async () => {
    const store = await openStore();
    const ids = Array.from(
      { length: 300 },
      (_, i) => `C${i.toString(36).toUpperCase().padStart(7, '0')}`,
    );
    await Promise.all(ids.map((id, i) => store.records.create(id, { title: `t${i}`, n: i })));
    await Promise.all(
      ids.slice(0, 100).map((id) => store.records.update(id, (d) => ({ ...d, n: -d.n }))),
    );
    await Promise.all(ids.slice(100, 150).map((id) => store.records.delete(id)));
    const before = new Map(store.records.summaries());
    expect(before.size).toBe(250);
    await store.close();

    const shard = join(dir, 'records', 'C0');
    await writeFile(join(shard, '.C0000001.json.999.1.tmp'), '{"title":"half');
    await writeFile(join(shard, '.C00000ZZ.json.999.2.tmp'), '');
    await writeFile(join(dir, 'records', '.stray.tmp'), '');
    await writeFile(join(dir, '.FORMAT.999.3.tmp'), '');
    await writeFile(join(shard, 'README'), 'ignored, kept');

    const reopened = await openStore();
    expect(new Map(reopened.records.summaries())).toEqual(before);
    expect(reopened.records.size).toBe(250);
    expect((await tree(dir)).filter((path) => path.endsWith('.tmp'))).toEqual([]);
    expect(await readFile(join(shard, 'README'), 'utf8')).toBe('ignored, kept');
    expect(await reopened.records.get('C0000001')).toEqual({ title: 't1', n: -1 });
  });
});

describe('records', () => {
  it('create, get, has, size, summaries', async () => {
    const store = await openStore();
    const { records } = store;
    expect(records.has('ABCDEFGH')).toBe(false);
    expect(await records.get('ABCDEFGH')).toBeUndefined();
    await records.create('ABCDEFGH', { title: 'first', n: 1, tags: ['x'] });
    await records.create('0000ZZZZ', { title: 'second', n: 2 });
    expect(records.has('ABCDEFGH')).toBe(true);
    expect(records.size).toBe(2);
    expect(await records.get('ABCDEFGH')).toEqual({ title: 'first', n: 1, tags: ['x'] });
    expect(new Map(records.summaries())).toEqual(
      new Map([
        ['ABCDEFGH', { title: 'first', n: 1 }],
        ['0000ZZZZ', { title: 'second', n: 2 }],
      ]),
    );
  });

  it('stores one JSON file per record in a shard directory, readable by its owner only', async () => {
    const store = await openStore();
    await store.records.create('ABCDEFGH', { title: 'a', n: 1 });
    await store.checkpoint(); // acknowledged in the journal; in its file after a checkpoint
    const path = join(dir, 'records', 'AB', 'ABCDEFGH.json');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ title: 'a', n: 1 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'records', 'AB'))).mode & 0o777).toBe(0o700);
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

  it('acknowledges only durable state: has() turns true when create resolves; get() waits', async () => {
    const { records } = await openStore();
    const creating = records.create('ABCDEFGH', { title: 'a', n: 1 });
    expect(records.has('ABCDEFGH')).toBe(false);
    const read = records.get('ABCDEFGH');
    await creating;
    expect(records.has('ABCDEFGH')).toBe(true);
    expect(await read).toEqual({ title: 'a', n: 1 });
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
    expect(records.has('ABCDEFGH')).toBe(false);
    expect(await tree(join(dir, 'records'))).toEqual([]);
  });

  it('propagates a summarize failure on create and writes nothing', async () => {
    const boom = new Error('summarize failed');
    const store = await openFileStore<Doc, Summary>({
      dir,
      summarize: (doc) => {
        if (doc.n < 0) throw boom;
        return summarize(doc);
      },
    });
    opened.push(store);
    await expect(store.records.create('ABCDEFGH', { title: 'a', n: -1 })).rejects.toBe(boom);
    expect(store.records.has('ABCDEFGH')).toBe(false);
    expect(await tree(join(dir, 'records'))).toEqual([]);
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
    expect(new Map(records.summaries()).get('ABCDEFGH')).toEqual({ title: 'a', n: 2 });
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

  it('a mutate that throws (or returns garbage) leaves the file byte-identical', async () => {
    const store = await openStore();
    const { records } = store;
    await records.create('ABCDEFGH', { title: 'a', n: 1 });
    await store.checkpoint();
    const path = join(dir, 'records', 'AB', 'ABCDEFGH.json');
    const bytes = await readFile(path);
    const { ino } = await stat(path);

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
      await expect(records.update('ABCDEFGH', mutate)).rejects.toBeInstanceOf(InvalidRecordError);
    }

    expect(await readFile(path)).toEqual(bytes);
    expect((await stat(path)).ino).toBe(ino);
    expect(await records.get('ABCDEFGH')).toEqual({ title: 'a', n: 1 });
    expect(new Map(records.summaries()).get('ABCDEFGH')).toEqual({ title: 'a', n: 1 });
    expect((await tree(join(dir, 'records'))).filter((p) => p.endsWith('.tmp'))).toEqual([]);
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
    expect(records.has('ABCDEFGH')).toBe(false);
    expect(records.size).toBe(0);
    expect(await records.get('ABCDEFGH')).toBeUndefined();
    expect([...records.summaries()]).toEqual([]);
    await expect(stat(join(dir, 'records', 'AB', 'ABCDEFGH.json'))).rejects.toThrow();
    expect(await records.delete('ABCDEFGH')).toBe(false);
    await expect(records.update('ABCDEFGH', (d) => d)).rejects.toBeInstanceOf(RecordNotFoundError);
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
      expect(() => records.has(bad)).toThrow(InvalidIdError);
    }
    expect(await tree(parent)).toEqual([
      'data',
      'data/FORMAT',
      'data/blobs',
      'data/journal',
      'data/journal/1',
      'data/records',
    ]);
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
    expect(await readFile(join(dir, 'blobs', '0f', BLOB))).toEqual(data);
    expect((await stat(join(dir, 'blobs', '0f', BLOB))).mode & 0o777).toBe(0o600);

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
    expect(await tree(join(dir, 'blobs'))).toEqual([]);
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
    expect(chunks.length).toBe(17);
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
    expect(await tree(parent)).toEqual([
      'data',
      'data/FORMAT',
      'data/blobs',
      'data/journal',
      'data/journal/1',
      'data/records',
    ]);
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
    expect(() => store.records.has('CLOSE000')).toThrow(StoreClosedError);
    expect(() => store.records.size).toThrow(StoreClosedError);
    await store.close();
    const reopened = await openStore();
    expect(reopened.records.size).toBe(20);
  });
});

describe('group commit of directory fsyncs', () => {
  it('never releases a caller before an fsync that started after its call', async () => {
    const started: Array<{ resolve: () => void }> = [];
    const syncer = new DirSyncer(
      () =>
        new Promise<void>((resolve) => {
          started.push({ resolve });
        }),
    );
    const done: string[] = [];
    const call = (name: string) => syncer.sync('/d').then(() => done.push(name));
    call('a');
    await Promise.resolve();
    expect(started).toHaveLength(1); // a's fsync started immediately
    call('b');
    call('c');
    await Promise.resolve();
    expect(started).toHaveLength(1); // b and c wait: the running fsync may predate their renames
    started[0]?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toEqual(['a']);
    expect(started).toHaveLength(2); // one fsync for b and c together
    call('d');
    started[1]?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toEqual(['a', 'b', 'c']);
    started[2]?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toEqual(['a', 'b', 'c', 'd']);
    expect(syncer.fsyncs).toBe(3);
    expect(syncer.requests).toBe(4);
  });

  it('propagates an fsync failure to every caller of that batch only', async () => {
    let fail = true;
    const syncer = new DirSyncer(async () => {
      if (fail) {
        fail = false;
        throw new Error('EIO');
      }
    });
    const results = await Promise.allSettled([
      syncer.sync('/d'),
      syncer.sync('/d'),
      syncer.sync('/e'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });

  it('directories are fsynced per batch under concurrent creates', async () => {
    const store = await openStore();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.records.create(`GC${i.toString().padStart(6, '0')}`, { title: 'g', n: i }),
      ),
    );
    // Acknowledged through the journal: 200 entries, far fewer fsyncs (group commit).
    const { journalCommits, journalEntries } = store.stats();
    expect(journalEntries).toBe(200);
    expect(journalCommits).toBeLessThan(50);
    // Then materialised into 200 files of one shard: one fsync of that directory for all of them.
    const before = store.stats().dirFsyncs;
    await store.checkpoint();
    const { dirFsyncs, dirSyncRequests } = store.stats();
    // records/ (the new shard's entry), the shard, journal/ twice (a segment made, one dropped)
    expect(dirFsyncs - before).toBeLessThanOrEqual(4);
    expect(dirFsyncs).toBeLessThanOrEqual(dirSyncRequests);
    expect((await readdir(join(dir, 'records', 'GC'))).length).toBe(200);
  });
});
