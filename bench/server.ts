/**
 * `npm run bench -- server`: durable report submissions against the real
 * server process over loopback, beside a baseline measured in the same run
 * (Hono on @hono/node-server that appends the same bytes to one file and
 * fsyncs before answering), with 0, 10,000 and 100,000 cases already stored,
 * and the server's memory; and the same on PostgreSQL (bench/server-pg.ts) with one and two
 * server processes on one database.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deriveReporterKeys,
  encodeContent,
  exportBundle,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  sealEnvelope,
  toBase64,
  toCrockford,
  type Envelope,
} from '../crypto/index.js';
import { type CaseRecord, type CaseSummary, hourOf, summarize } from '../server/records.js';
import { openFileStore } from '../server/store/index.js';
import { pgRows } from './server-pg.js';
import { printTable, round } from './table.js';

const CONCURRENCY = 32;
const SUBMISSIONS = 2000;

export interface Running {
  readonly url: string;
  readonly child: ChildProcess;
}

export async function start(command: string[], env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, command, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  return { url, child };
}

export async function stop(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** One case-with-report request: its body and the ticket that pays for it (sent in Kluis-Ticket). */
export interface Submission {
  readonly body: string;
  readonly ticket: string;
}

/**
 * Sends `bodies` with CONCURRENCY requests in flight; returns submissions/s and latency
 * percentiles. With several URLs (several server processes) the requests go to each in turn.
 */
export async function load(
  url: string | readonly string[],
  bodies: readonly Submission[],
): Promise<{ rate: number; p50: number; p99: number }> {
  const urls = typeof url === 'string' ? [url] : url;
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const at = next++;
      const { body, ticket } = bodies[at]!;
      const target = urls[at % urls.length]!;
      const begin = performance.now();
      // KLUIS_POW_BITS=0: any nonce solves the ticket, so the bench measures the server, not the work.
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'kluis-ticket': ticket, 'kluis-work': '0' },
        body,
      });
      if (response.status !== 201)
        throw new Error(`bench: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rate: bodies.length / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

/** Tickets fetched ahead (they are stateless and cost the server no write), each made into a case-with-report body. */
export async function submissionBodies(
  url: string,
  count: number,
  report: Envelope,
): Promise<Submission[]> {
  const bodies: Submission[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const response = await fetch(`${url}/api/v1/tickets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"kind":"case"}',
      });
      const { ticket } = (await response.json()) as { ticket: string };
      bodies.push({
        ticket,
        body: JSON.stringify({
          verifier: toBase64(crypto.getRandomValues(new Uint8Array(32))),
          report,
        }),
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return bodies;
}

/** Writes `count` stored cases straight into a data directory, as the server would have. */
async function populate(dataDir: string, count: number, report: Envelope): Promise<void> {
  const store = await openFileStore<CaseRecord, CaseSummary>({ dir: dataDir, summarize });
  const hour = hourOf(Date.now());
  let made = 0;
  const worker = async () => {
    while (made < count) {
      const n = made++;
      const caseNumber = toCrockford(
        new Uint8Array([0xb0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]),
      );
      await store.records.create(caseNumber, {
        v: 1,
        case: caseNumber,
        createdHour: hour,
        verifier: toBase64(new Uint8Array(32)),
        status: 'received',
        statusHour: hour,
        ackHour: null,
        messages: [{ seq: 0, hour, author: 'reporter', envelope: report }],
        notes: [],
        uploads: [],
        forwardedTo: [],
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await store.close();
}

/** Mean time of a failed reporter login: a wrong key on existing cases vs any key on unknown ones, interleaved. */
async function timeAuthentication(
  url: string,
): Promise<{ wrongKeyUs: number; unknownCaseUs: number }> {
  const key = { 'kluis-auth': toBase64(new Uint8Array(32).fill(1)) };
  const existing = (n: number) =>
    toCrockford(new Uint8Array([0xb0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
  const unknown = (n: number) =>
    toCrockford(new Uint8Array([0xc0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
  const time = async (caseNumber: string) => {
    const begin = performance.now();
    const response = await fetch(`${url}/api/v1/cases/${caseNumber}`, { headers: key });
    await response.arrayBuffer();
    if (response.status !== 401) throw new Error(`bench: expected 401, got ${response.status}`);
    return performance.now() - begin;
  };
  let wrong = 0;
  let missing = 0;
  for (let n = 0; n < 2000; n++) {
    wrong += await time(existing(n));
    missing += await time(unknown(n));
  }
  return { wrongKeyUs: (wrong / 2000) * 1000, unknownCaseUs: (missing / 2000) * 1000 };
}

const BASELINE = `
import { appendFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
const fd = openSync(process.env.BASELINE_FILE, 'a');
const app = new Hono();
app.post('/submit', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  appendFileSync(fd, body);
  fsyncSync(fd);
  return c.json({ ok: true }, 201);
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => console.log('listening on http://127.0.0.1:' + info.port));
process.on('SIGTERM', () => server.close(() => { closeSync(fd); process.exit(0); }));
`;

/** Runs the server suite. */
export async function run(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kluis-bench-server-'));
  try {
    const counsellor = generateIdentity('counsellor', 'Bench');
    const bundles = join(work, 'bundles.json');
    writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
    const reporter = deriveReporterKeys({ caseNumber: 'B0000000', secret: new Uint8Array(10) });
    const text = 'x'.repeat(2048);
    const report = sealEnvelope({
      caseNumber: 'B0000000',
      seq: 0,
      prev: GENESIS_HASH,
      author: reporter.sign,
      content: encodeContent({
        v: 1,
        type: 'report',
        time: '2026-11-28T12:00:00Z',
        text,
        consent: 'no',
        addressAs: '',
        language: 'nl',
        reporterBox: toBase64(reporter.box.publicKey),
        attachments: [],
      }),
      recipients: [
        {
          fingerprint: fingerprintOf(counsellor.sign.publicKey),
          boxPublicKey: counsellor.box.publicKey,
        },
      ],
    }).envelope;

    // Baseline: the same bodies appended to one file with an fsync per request.
    const baselineScript = join(process.cwd(), '.bench-baseline.mjs');
    writeFileSync(baselineScript, BASELINE);
    const scratch = await start(['--import', 'tsx', 'server/main.ts'], {
      KLUIS_DATA_DIR: join(work, 'scratch'),
      KLUIS_PORT: '0',
      KLUIS_POW_BITS: '0',
      KLUIS_COUNSELLORS: bundles,
    });
    const baselineBodies = await submissionBodies(scratch.url, SUBMISSIONS, report);
    await stop(scratch);
    const baseline = await start([baselineScript], { BASELINE_FILE: join(work, 'baseline.log') });
    const base = await load(`${baseline.url}/submit`, baselineBodies);
    await stop(baseline);
    rmSync(baselineScript, { force: true });

    const results: Array<{
      stored: number;
      rate: number;
      p50: number;
      p99: number;
      rss: number;
      open: number;
    }> = [];
    let authTiming: { wrongKeyUs: number; unknownCaseUs: number } | undefined;
    for (const stored of [0, 10_000, 100_000]) {
      const dataDir = join(work, `data-${stored}`);
      if (stored > 0) await populate(dataDir, stored, report);
      const begin = performance.now();
      const server = await start(['--import', 'tsx', 'server/main.ts'], {
        KLUIS_DATA_DIR: dataDir,
        KLUIS_PORT: '0',
        KLUIS_POW_BITS: '0',
        KLUIS_COUNSELLORS: bundles,
      });
      const open = (performance.now() - begin) / 1000;
      const bodies = await submissionBodies(server.url, SUBMISSIONS, report);
      const measured = await load(`${server.url}/api/v1/cases`, bodies);
      results.push({ stored, ...measured, rss: rssMb(server.child.pid!), open });
      if (stored === 10_000) authTiming = await timeAuthentication(server.url);
      await stop(server);
      rmSync(dataDir, { recursive: true, force: true });
    }

    // The same submissions on PostgreSQL (KLUIS_DATABASE_URL), one and two processes.
    const pg = await pgRows(bundles, work, report, SUBMISSIONS);
    const pgOne = pg?.find((r) => r.processes === 1 && r.stored === 0);
    const pgTwo = pg?.find((r) => r.processes === 2);
    const pgHundredK = pg?.find((r) => r.stored === 100_000);

    printTable(
      [
        'server (2,048-byte reports, 32 in flight)',
        'submissions/s',
        'p50 ms',
        'p99 ms',
        'RSS MB',
        'start s',
      ],
      [
        [
          'baseline: Hono + append + fsync',
          round(base.rate, 1),
          round(base.p50, 1),
          round(base.p99, 1),
          '',
          '',
        ],
        ...results.map((r) => [
          `Kluis, ${r.stored.toLocaleString('en')} cases stored`,
          round(r.rate, 1),
          round(r.p50, 1),
          round(r.p99, 1),
          round(r.rss, 1),
          round(r.open, 1),
        ]),
        ...(pg ?? []).map((r) => [
          r.label,
          round(r.rate, 1),
          round(r.p50, 1),
          round(r.p99, 1),
          round(r.rss, 1),
          '',
        ]),
      ],
    );
    const [empty, tenK, hundredK] = results as [
      (typeof results)[0],
      (typeof results)[0],
      (typeof results)[0],
    ];
    const timing = authTiming!;
    printTable(
      ['reporter authentication failure (one at a time, 2,000 each)', 'mean µs'],
      [
        ['wrong key for an existing case', round(timing.wrongKeyUs, 1)],
        ['any key for an unknown case', round(timing.unknownCaseUs, 1)],
      ],
    );
    console.log(
      JSON.stringify({
        suite: 'server',
        submit_per_s: round(empty.rate, 1),
        baseline_per_s: round(base.rate, 1),
        submit_vs_baseline: round(empty.rate / base.rate),
        p99_ms: round(empty.p99, 1),
        baseline_p99_ms: round(base.p99, 1),
        rate_10k_vs_0: round(tenK.rate / empty.rate),
        rate_100k_vs_0: round(hundredK.rate / empty.rate),
        p99_ms_100k: round(hundredK.p99, 1),
        rss_mb_0: round(empty.rss, 1),
        rss_mb_100k: round(hundredK.rss, 1),
        start_s_100k: round(hundredK.open, 1),
        auth_unknown_case_vs_wrong_key: round(timing.unknownCaseUs / timing.wrongKeyUs),
        ...(pgOne && pgTwo && pgHundredK
          ? {
              pg_submit_per_s: round(pgOne.rate, 1),
              pg_submit_vs_baseline: round(pgOne.rate / base.rate),
              pg_two_processes_vs_baseline: round(pgTwo.rate / base.rate),
              pg_two_vs_one_process: round(pgTwo.rate / pgOne.rate),
              pg_rate_100k_vs_0: round(pgHundredK.rate / pgOne.rate),
              pg_p99_ms: round(pgOne.p99, 1),
            }
          : {}),
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
