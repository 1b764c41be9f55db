/**
 * Storage-layer benchmark (a measurement, not a test): `npx tsx bench/store.ts [--cold]`.
 *
 * Prints creates/s and updates/s of the file store with 0 and with 100,000 existing records,
 * open (index rebuild) time and RSS at 100,000, and beside them a baseline measured in the
 * same run: appending the same bytes to one file with an fsync per write, at the same
 * concurrency. Ends with one JSON line of figures.
 *
 * The 100,000 records are seeded by writing files straight into the store's layout (no fsync,
 * then one `sync`), which takes seconds instead of a minute; opening the store afterwards
 * checks that the seeded files are what the store itself writes. --cold drops the page cache
 * (root only) before the open measurement.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openFileStore } from '../server/store/index.js';

const CONCURRENCY = 50;
const OPS = 2_000;
const SEED = 100_000;
const ROUNDS = 3;

interface CaseDoc {
  v: 1;
  case: string;
  created: string;
  updated: string;
  status: 'new' | 'open' | 'closed';
  verifier: string;
  unread: number;
  messages: Array<{ seq: number; author: 'reporter' | 'counsellor'; ciphertext: string }>;
}
interface CaseSummary {
  status: CaseDoc['status'];
  created: string;
  updated: string;
  messages: number;
  unread: number;
}

const summarize = (doc: CaseDoc): CaseSummary => ({
  status: doc.status,
  created: doc.created,
  updated: doc.updated,
  messages: doc.messages.length,
  unread: doc.unread,
});

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const used = new Set<string>();
function newCaseId(): string {
  for (;;) {
    const bytes = randomBytes(8);
    let id = '';
    for (const byte of bytes) id += CROCKFORD[byte & 31];
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

const makeDoc = (id: string): CaseDoc => ({
  v: 1,
  case: id,
  created: '2025-11',
  updated: '2025-11',
  status: 'new',
  verifier: randomBytes(32).toString('base64'),
  unread: 1,
  messages: [{ seq: 0, author: 'reporter', ciphertext: randomBytes(384).toString('base64') }],
});

/** Runs n operations with `concurrency` in flight; returns operations per second. */
async function rate(n: number, concurrency: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Baseline: append the same bytes to one file, fsync after each write, same concurrency. */
async function baseline(dir: string, bytes: Buffer): Promise<number> {
  const path = join(dir, `baseline-${randomBytes(4).toString('hex')}.log`);
  const handle = await open(path, 'a', 0o600);
  try {
    return await rate(OPS, CONCURRENCY, async () => {
      await handle.write(bytes);
      await handle.sync();
    });
  } finally {
    await handle.close();
    await rm(path);
  }
}

type Store = Awaited<ReturnType<typeof openFileStore<CaseDoc, CaseSummary>>>;

/**
 * ROUNDS rounds of: baseline, OPS creates of new records, OPS updates of those records. The
 * baseline runs interleaved with the store so that both see the same disk conditions.
 */
async function storeRates(
  store: Store,
  dir: string,
  bytes: Buffer,
): Promise<{ create: number; update: number; baseline: number }> {
  const creates: number[] = [];
  const updates: number[] = [];
  const baselines: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    baselines.push(await baseline(dir, bytes));
    const ids = Array.from({ length: OPS }, newCaseId);
    creates.push(
      await rate(OPS, CONCURRENCY, (i) =>
        store.records.create(ids[i] as string, makeDoc(ids[i] as string)),
      ),
    );
    updates.push(
      await rate(OPS, CONCURRENCY, (i) =>
        store.records.update(ids[i] as string, (doc) => ({
          ...doc,
          status: 'open',
          unread: doc.unread + 1,
        })),
      ),
    );
  }
  return { create: median(creates), update: median(updates), baseline: median(baselines) };
}

/** Writes count records straight into the store's layout (no fsync), then syncs once. */
function seed(dir: string, count: number): void {
  const shards = new Set<string>();
  for (let i = 0; i < count; i++) {
    const id = newCaseId();
    const shard = id.slice(0, 2);
    const shardDir = join(dir, 'records', shard);
    if (!shards.has(shard)) {
      mkdirSync(shardDir, { recursive: true, mode: 0o700 });
      shards.add(shard);
    }
    writeFileSync(join(shardDir, `${id}.json`), `${JSON.stringify(makeDoc(id))}\n`, {
      mode: 0o600,
    });
  }
  execFileSync('sync');
}

/** Child mode: open the store, report open time and memory as JSON. */
async function openOnly(dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const start = performance.now();
  const store = await openFileStore<CaseDoc, CaseSummary>({ dir, summarize });
  const openMs = performance.now() - start;
  gc?.();
  const after = process.memoryUsage();
  const result = {
    records: store.records.size,
    openMs,
    rssBeforeMb: before.rss / 2 ** 20,
    rssMb: after.rss / 2 ** 20,
    heapUsedMb: after.heapUsed / 2 ** 20,
  };
  await store.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function openInChild(dir: string, cold: boolean) {
  if (cold) {
    execFileSync('sync');
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
  }
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--open', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`open child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop() as string) as {
    records: number;
    openMs: number;
    rssBeforeMb: number;
    rssMb: number;
    heapUsedMb: number;
  };
}

async function main(): Promise<void> {
  const cold = process.argv.includes('--cold');
  const root = await mkdtemp(join(tmpdir(), 'kluis-bench-store-'));
  try {
    const bytes = Buffer.from(`${JSON.stringify(makeDoc(newCaseId()))}\n`);
    console.log(
      `record ~${bytes.length} B, summary ~${JSON.stringify(summarize(makeDoc('X'))).length} B, ` +
        `concurrency ${CONCURRENCY}, ${OPS} ops per measurement, median of ${ROUNDS}`,
    );

    // --- empty store
    const emptyDir = join(root, 'empty');
    const empty = await openFileStore<CaseDoc, CaseSummary>({ dir: emptyDir, summarize });
    const at0 = await storeRates(empty, root, bytes);
    const base0 = at0.baseline;
    const stats0 = empty.stats();
    await empty.close();

    // --- 100,000 records
    const bigDir = join(root, 'big');
    const seedStart = performance.now();
    {
      const init = await openFileStore<CaseDoc, CaseSummary>({ dir: bigDir, summarize });
      await init.close();
    }
    seed(bigDir, SEED);
    const seedS = (performance.now() - seedStart) / 1000;
    const opened = await openInChild(bigDir, cold);
    if (opened.records !== SEED)
      throw new Error(`expected ${SEED} records, opened ${opened.records}`);
    const big = await openFileStore<CaseDoc, CaseSummary>({ dir: bigDir, summarize });
    const at100k = await storeRates(big, root, bytes);
    const base100k = at100k.baseline;
    await big.close();

    const row = (label: string, value: number, base: number) =>
      `${label.padEnd(28)} ${value.toFixed(0).padStart(8)}/s   baseline ${base
        .toFixed(0)
        .padStart(6)}/s   ratio ${(value / base).toFixed(2)}`;
    console.log(row('create, 0 records', at0.create, base0));
    console.log(row('update, 0 records', at0.update, base0));
    console.log(row('create, 100,000 records', at100k.create, base100k));
    console.log(row('update, 100,000 records', at100k.update, base100k));
    console.log(
      `group commit (empty store): ${stats0.dirFsyncs} directory fsyncs for ` +
        `${stats0.dirSyncRequests} requests`,
    );
    console.log(`seed 100,000 records (direct writes + sync): ${seedS.toFixed(1)} s`);
    console.log(
      `open 100,000 records${cold ? ' (cold page cache)' : ''}: ${(opened.openMs / 1000).toFixed(2)} s, ` +
        `RSS ${opened.rssMb.toFixed(0)} MB (${opened.rssBeforeMb.toFixed(0)} MB before open), ` +
        `heap ${opened.heapUsedMb.toFixed(0)} MB`,
    );
    console.log(
      JSON.stringify({
        suite: 'store',
        create_per_s_0: Math.round(at0.create),
        update_per_s_0: Math.round(at0.update),
        create_per_s_100k: Math.round(at100k.create),
        update_per_s_100k: Math.round(at100k.update),
        baseline_per_s_0: Math.round(base0),
        baseline_per_s_100k: Math.round(base100k),
        create_vs_baseline: +(at0.create / base0).toFixed(3),
        update_vs_baseline: +(at0.update / base0).toFixed(3),
        create_100k_vs_baseline: +(at100k.create / base100k).toFixed(3),
        rate_100k_vs_0: +(at100k.create / at0.create).toFixed(3),
        update_rate_100k_vs_0: +(at100k.update / at0.update).toFixed(3),
        open_100k_s: +(opened.openMs / 1000).toFixed(3),
        open_cold: cold,
        rss_mb_100k: +opened.rssMb.toFixed(1),
        rss_growth_mb_100k: +(opened.rssMb - opened.rssBeforeMb).toFixed(1),
      }),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Entry point for bench/run.ts (a `store` suite can be registered there). */
export const run = main;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const openIndex = process.argv.indexOf('--open');
  if (openIndex >= 0) await openOnly(process.argv[openIndex + 1] as string);
  else await main();
}
