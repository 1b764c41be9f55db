/**
 * Hostile review #10, finding 2: a seized server must not tell when reports,
 * messages and uploads arrived through the times of its files. After a real
 * flow through the real server over HTTP (a report, attachments, replies,
 * notes, reads, deletions, a restart), every file and directory in the data
 * directory carries the store's fixed time (mtime; atime too for files);
 * a backup and its restore carry none either; and check-store flags, and
 * --fix-times stamps, a precise time.
 */

import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  attachmentCiphertextLength,
  encodeContent,
  exportBundle,
  generateIdentity,
  type Identity,
  sealEnvelope,
  secureRandom,
} from '../crypto/index.js';
import { readArchive } from '../server/ops/archive-reader.js';
import { writeSnapshot } from '../server/ops/backup.js';
import { checkStore } from '../server/ops/check-store.js';
import { restoreArchive } from '../server/ops/restore.js';
import { STORE_TIME_SECONDS } from '../server/store/coarse-time.js';
import {
  createUpload,
  type Fetch,
  httpFetch,
  recipientOf,
  reporterRecipient,
  type ReporterCase,
  sendSigned,
  submitReport,
} from './helpers/api-client.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const FIXED_MS = STORE_TIME_SECONDS * 1000;
const work = mkdtempSync(join(tmpdir(), 'kluis-times-'));
const counsellor = generateIdentity('counsellor', 'Times test');
let server: ServerProcess;
let dataDir: string;

/** Every path under `dir` (and `dir`) whose mtime, or for a file whose atime, is not the fixed time. */
function preciseTimes(dir: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const info = lstatSync(path);
    if (info.mtimeMs !== FIXED_MS) found.push(`${path} mtime ${info.mtime.toISOString()}`);
    if (info.isFile() && info.atimeMs !== FIXED_MS)
      found.push(`${path} atime ${info.atime.toISOString()}`);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return found;
}

/** The origin counsellor requests are signed for: the server of the moment (PROTOCOL §10). */
let origin = '';

async function counsellorPost(fetcher: Fetch, path: string, body: unknown): Promise<Response> {
  return (await sendSigned(fetcher, counsellor, 'POST', path, body, origin)).response;
}

/** A counsellor reply, as the counsellor client sends it. */
async function reply(fetcher: Fetch, reporter: ReporterCase, text: string): Promise<void> {
  const content = encodeContent({
    v: 1,
    type: 'message',
    time: '2026-11-28T13:00:00Z',
    text,
    attachments: [],
  });
  const { envelope, hash } = sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq: reporter.count,
    prev: reporter.last,
    author: counsellor.sign,
    content,
    recipients: [reporterRecipient(reporter), recipientOf(counsellor)],
  });
  const response = await counsellorPost(fetcher, `/api/v1/cases/${reporter.caseNumber}/messages`, {
    seq: reporter.count,
    envelope,
    status: 'in-conversation',
    ack: true,
  });
  expect(response.status).toBe(201);
  reporter.last = hash;
  reporter.count++;
}

async function note(fetcher: Fetch, reporter: ReporterCase, text: string): Promise<void> {
  const content = encodeContent({ v: 1, type: 'note', time: '2026-11-28T13:00:00Z', text });
  const envelope = sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq: 0,
    prev: new Uint8Array(32),
    author: counsellor.sign,
    content,
    recipients: [recipientOf(counsellor)],
  }).envelope;
  expect(
    (
      await counsellorPost(fetcher, `/api/v1/counsellor/cases/${reporter.caseNumber}/notes`, {
        envelope,
      })
    ).status,
  ).toBe(201);
}

/** Announces an attachment and appends `pieces` of its ciphertext (all of it by default). */
async function upload(
  fetcher: Fetch,
  reporter: ReporterCase,
  size: number,
  pieces = 3,
  stopAfter = pieces,
): Promise<string> {
  const length = attachmentCiphertextLength(size);
  const created = await createUpload(fetcher, reporter, length);
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const bytes = secureRandom(length);
  const step = Math.ceil(length / pieces);
  for (let offset = 0, n = 0; offset < length && n < stopAfter; offset += step, n++) {
    const response = await fetcher(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        ...reporter.auth,
        'content-type': 'application/octet-stream',
        'upload-offset': String(offset),
      },
      body: bytes.subarray(offset, Math.min(length, offset + step)) as Uint8Array<ArrayBuffer>,
    });
    expect(response.status).toBe(200);
  }
  return id;
}

beforeAll(async () => {
  const bundles = join(work, 'bundles.json');
  writeFileSync(bundles, JSON.stringify([exportBundle(counsellor as Identity)]));
  dataDir = join(work, 'data');
  const env = { KLUIS_COUNSELLORS: bundles, KLUIS_POW_BITS: '0' };
  server = await startServer({ dataDir, env, cleanup: false });
  let fetcher = httpFetch(server.url);
  origin = new URL(server.url).origin;
  const counsellors = [recipientOf(counsellor)];
  const kept = await submitReport(fetcher, counsellors, 'A report that stays.');
  const deleted = await submitReport(fetcher, counsellors, 'A report the counsellor deletes.');
  for (const reporter of [kept, deleted]) {
    await upload(fetcher, reporter, 150_000);
    await reply(fetcher, reporter, 'Thank you, we read along.');
    await note(fetcher, reporter, 'private note');
  }
  const blob = await upload(fetcher, kept, 200_000);
  await upload(fetcher, kept, 200_000, 3, 1); // left in progress
  // The reporter comes back and reads (record and attachment): reads must not stamp atime.
  expect((await fetcher(`/api/v1/cases/${kept.caseNumber}`, { headers: kept.auth })).status).toBe(
    200,
  );
  expect(
    (await fetcher(`/api/v1/cases/${kept.caseNumber}/blobs/${blob}`, { headers: kept.auth }))
      .status,
  ).toBe(200);
  const path = `/api/v1/counsellor/cases/${deleted.caseNumber}`;
  expect(
    (await sendSigned(fetcher, counsellor, 'DELETE', path, undefined, origin)).response.status,
  ).toBe(200);
  // A restart: the open reads every record and fsyncs every directory.
  await server.stop();
  server = await startServer({ dataDir, env, cleanup: false });
  fetcher = httpFetch(server.url);
  origin = new URL(server.url).origin;
  await reply(fetcher, kept, 'After the restart.');
  // A clean stop writes that reply from the journal into its record file; a server left running
  // would do it in a background checkpoint a moment later, and a check that happened to look
  // between the checkpoint's rename and its stamp of the shard directory would see the time of
  // that very moment (a live observer sees writes as they happen; it is history that must not show).
  await server.stop();
  server = await startServer({ dataDir, env, cleanup: false });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

it('after a whole flow over HTTP, every file and directory of the data directory carries the fixed time', () => {
  expect(readdirSync(join(dataDir, 'blobs')).length).toBeGreaterThan(0);
  expect(preciseTimes(dataDir)).toEqual([]);
});

it('a backup and its restore carry no time: not in the archive, not on the restored files; the backup reads leave atime alone', async () => {
  const archive = join(work, 'times.kluis-backup');
  const report = await writeSnapshot(dataDir, archive, { version: 'test' });
  expect(report.blobs).toBeGreaterThan(0);
  // The backup read every file of the live store: their atimes are untouched.
  expect(preciseTimes(dataDir)).toEqual([]);
  // The archive holds no time: its description line has none, and readArchive accepts only file
  // headers of exactly a path and a size (and the end line, counts and a checksum).
  const lines = readFileSync(archive).toString('latin1').split('\n', 2);
  expect(Object.keys(JSON.parse(lines[1]!) as object).sort()).toEqual([
    'demo',
    'kind',
    'kluis',
    'storeFormat',
  ]);
  const entries: object[] = [];
  await readArchive(archive, { file: (entry) => void entries.push(entry) });
  expect(entries.length).toBe(report.files);
  for (const entry of entries) expect(Object.keys(entry).sort()).toEqual(['path', 'size']);
  const restored = join(work, 'restored');
  await restoreArchive(archive, restored);
  expect(readdirSync(join(restored, 'records')).length).toBeGreaterThan(0);
  expect(preciseTimes(restored)).toEqual([]);
});

it('check-store flags a precise time, and --fix-times stamps it', async () => {
  const run = (...args: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/ops-check-store.ts', dataDir, '--quick', ...args],
      { encoding: 'utf8', timeout: 60_000 },
    );
  const clean = run();
  expect(clean.stdout).not.toContain('precise');
  expect(clean.status).toBe(0);
  // As an older Kluis (or another program) would leave them: a written record, a changed shard directory.
  // (The shard of the deleted case is empty.)
  const shard = readdirSync(join(dataDir, 'records')).find(
    (name) => readdirSync(join(dataDir, 'records', name)).length > 0,
  )!;
  const record = readdirSync(join(dataDir, 'records', shard))[0]!;
  const date = new Date(Date.UTC(2026, 10, 28, 14, 23, 7, 512));
  utimesSync(join(dataDir, 'records', shard, record), date, date);
  utimesSync(join(dataDir, 'records', shard), new Date(FIXED_MS), date);
  const report = await checkStore(dataDir, { times: true });
  expect(report.preciseTimes).toEqual([
    { path: `records/${shard}`, directory: true, mtime: true, atime: false },
    { path: `records/${shard}/${record}`, directory: false, mtime: true, atime: true },
  ]);
  const flagged = run();
  expect(flagged.status).toBe(1);
  expect(flagged.stdout).toContain(
    'WARNING: 2 files and directories carry a precise modification time',
  );
  expect(flagged.stdout).toContain(`records/${shard}/${record} (mtime, atime)`);
  const fixed = run('--fix-times');
  expect(fixed.stdout).toContain('stamped 2 files and directories');
  expect(fixed.status).toBe(0);
  expect(preciseTimes(dataDir)).toEqual([]);
});

it('a file with only a precise access time is a note, not a failure', () => {
  const file = join(dataDir, 'FORMAT');
  utimesSync(file, new Date(), new Date(FIXED_MS));
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/ops-check-store.ts', dataDir, '--quick'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(result.stdout).toContain('note: 1 file carries a precise access time');
  expect(result.status).toBe(0);
});
