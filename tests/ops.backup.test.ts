/**
 * Backup and restore (scripts/backup.ts, scripts/restore.ts,
 * server/ops/backup.ts, restore.ts, archive.ts): a backup taken while a real
 * server takes submissions restores into a store holding every submission
 * acknowledged before the backup started, each case whole; a damaged or
 * cut-short backup is refused before anything is written.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachmentCiphertextLength,
  envelopeHash,
  secureRandom,
  STREAM_SEALED_CHUNK_BYTES,
  toHex,
} from '../crypto/index.js';
import { ArchiveError } from '../server/ops/archive.js';
import { readArchive } from '../server/ops/archive-reader.js';
import { writeSnapshot } from '../server/ops/backup.js';
import { checkStore, hasDamage } from '../server/ops/check-store.js';
import { recordPath } from '../server/ops/layout.js';
import { assertCaseRecord } from '../server/ops/record-check.js';
import { checkArchive, RestoreError, restoreArchive } from '../server/ops/restore.js';
import { type CaseRecord, type CaseSummary, summarize } from '../server/records.js';
import { openFileStore } from '../server/store/index.js';
import { buildCase, counsellorBundle, makeStore } from './fixtures/ops-store.js';
import {
  createCase,
  createUpload,
  type Fetch,
  httpFetch,
  json,
  type ReporterCase,
  sealReport,
  sendSigned,
  submitReport,
} from './helpers/api-client.js';
import { startServer } from './helpers/server-process.js';

const work = mkdtempSync(join(tmpdir(), 'kluis-ops-backup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const counsellor = counsellorBundle(work);

/** Runs an operator script to its end. */
function runScript(script: string, args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking the event loop (the load keeps running meanwhile). */
function runScriptAsync(script: string, args: readonly string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Announces an attachment and sends its bytes (in pieces of `chunks` sealed chunks), stopping after `stopAfter` pieces. */
async function upload(
  fetcher: Fetch,
  reporter: ReporterCase,
  size: number,
  options: { chunks?: number; stopAfter?: number; onPiece?: () => Promise<void> } = {},
) {
  const length = attachmentCiphertextLength(size);
  const response = await createUpload(fetcher, reporter, length);
  if (response.status !== 201)
    throw new Error(`upload: ${response.status} ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const bytes = secureRandom(length);
  const piece = STREAM_SEALED_CHUNK_BYTES * (options.chunks ?? 4);
  let pieces = 0;
  for (let offset = 0; offset < length && pieces !== options.stopAfter; offset += piece, pieces++) {
    const body = bytes.subarray(
      offset,
      Math.min(length, offset + piece),
    ) as Uint8Array<ArrayBuffer>;
    const patch = await fetcher(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'upload-offset': String(offset),
        ...reporter.auth,
      },
      body,
    });
    if (patch.status !== 200) throw new Error(`patch: ${patch.status} ${await patch.text()}`);
    await options.onPiece?.();
  }
  return { id, bytes };
}

/** A report with one attachment, as the page sends it: case, upload, then message 0. */
async function reportWithAttachment(fetcher: Fetch, size: number) {
  const reporter = await createCase(fetcher);
  const file = await upload(fetcher, reporter, size);
  const envelope = sealReport(reporter, counsellor.recipients, 'A report with a file.');
  const response = await fetcher(
    `/api/v1/cases/${reporter.caseNumber}/messages`,
    json({ seq: 0, envelope }, reporter.auth),
  );
  if (response.status !== 201)
    throw new Error(`report: ${response.status} ${await response.text()}`);
  reporter.last = envelopeHash(envelope);
  return { reporter, file };
}

interface Acked {
  readonly reporter: ReporterCase;
  readonly file?: { id: string; bytes: Uint8Array };
}

describe('a backup taken during a load of submissions', () => {
  it('restores into a store that opens with every submission acknowledged before the backup started', async () => {
    const server = await startServer({
      env: { KLUIS_COUNSELLORS: counsellor.file, KLUIS_POW_BITS: '0' },
    });
    const fetcher = httpFetch(server.url);
    const acked = new Map<string, Acked>();
    let stop = false;
    const errors: unknown[] = [];
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        try {
          if ((i + n) % 6 === 0) {
            const { reporter, file } = await reportWithAttachment(fetcher, 150_000 + i);
            acked.set(reporter.caseNumber, { reporter, file });
          } else {
            const reporter = await submitReport(fetcher, counsellor.recipients, `Report ${n}/${i}`);
            acked.set(reporter.caseNumber, { reporter });
          }
        } catch (error) {
          errors.push(error);
          return;
        }
      }
    };
    // And an upload that keeps growing, one sealed chunk at a time, while the backup runs.
    const slow = (async () => {
      const reporter = await createCase(fetcher);
      const onPiece = async () => {
        if (stop) throw new Error('stopped');
      };
      await upload(fetcher, reporter, 60 * 65_536, { chunks: 1, onPiece }).catch(() => {});
    })();
    // And cases that come and go: made with an attachment, then deleted by the counsellor.
    let churned = 0;
    const churn = (async () => {
      while (!stop && errors.length === 0) {
        try {
          const { reporter } = await reportWithAttachment(fetcher, 70_000);
          const path = `/api/v1/counsellor/cases/${reporter.caseNumber}`;
          const { response } = await sendSigned(
            fetcher,
            counsellor.identity,
            'DELETE',
            path,
            undefined,
            new URL(server.url).origin,
          );
          if (response.status !== 200)
            throw new Error(`delete: ${response.status} ${await response.text()}`);
          churned += 1;
        } catch (error) {
          errors.push(error);
        }
      }
    })();
    const workers = [0, 1, 2].map(worker);
    const target = join(work, 'during-load.kluis-backup');
    let before: Map<string, Acked>;
    let backup: Awaited<ReturnType<typeof runScriptAsync>>;
    try {
      while (acked.size < 200 && errors.length === 0)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(errors).toEqual([]);
      before = new Map(acked);
      backup = await runScriptAsync('backup.ts', [target], { KLUIS_DATA_DIR: server.dataDir });
    } finally {
      stop = true;
      await Promise.all([...workers, slow, churn]);
      await server.stop();
    }
    expect(errors).toEqual([]);
    expect(backup.stderr).toMatch(/^backup: \d+ cases and \d+ attachment files .* written to /m);
    expect(backup.status).toBe(0);
    console.log(
      `backup during load: ${before.size} cases acknowledged before it, ${acked.size - before.size} during or after it, ${churned} made and deleted; ${backup.stderr.trim()}`,
    );

    const restored = join(work, 'restored-after-load', 'data');
    const restore = runScript('restore.ts', [target, restored]);
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(restore.stdout).toMatch(/restore: restored \d+ cases and \d+ attachment files/);

    // The restored store opens with every record checked (any damage would throw) and holds every case acknowledged before.
    const store = await openFileStore<CaseRecord, CaseSummary>({
      dir: restored,
      summarize,
      validate: (doc, id) => assertCaseRecord(doc, id),
    });
    try {
      for (const [caseNumber, { reporter, file }] of before) {
        const record = await store.records.get(caseNumber);
        expect(record, caseNumber).toBeDefined();
        expect(toHex(envelopeHash(record!.messages[0]!.envelope))).toBe(toHex(reporter.last));
        if (file) {
          expect(record!.uploads).toMatchObject([
            { id: file.id, complete: true, length: file.bytes.length },
          ]);
          const pieces: Uint8Array[] = [];
          for await (const piece of store.blobs.read(file.id)) pieces.push(piece);
          expect(sha256(Buffer.concat(pieces))).toBe(sha256(file.bytes));
        }
      }
      // Uploads still in progress were cut where a client can resume: whole sealed chunks.
      for (const [, summary] of store.records.summaries()) {
        for (const { id } of summary.incompleteUploads)
          expect(((await store.blobs.size(id)) ?? 0) % STREAM_SEALED_CHUNK_BYTES).toBe(0);
      }
    } finally {
      await store.close();
    }
    const report = await checkStore(restored, { hashes: true });
    expect(hasDamage(report)).toBe(false);

    // And a server serves it: the reporter of a case from before the backup reads it, attachment included.
    const again = await startServer({
      dataDir: restored,
      env: { KLUIS_COUNSELLORS: counsellor.file },
    });
    try {
      expect(again.output()).toMatch(/store check: \d+ cases, .*: no damage found/);
      const withFile = [...before.values()].find((a) => a.file)!;
      const view = await fetch(`${again.url}/api/v1/cases/${withFile.reporter.caseNumber}`, {
        headers: withFile.reporter.auth,
      });
      expect(view.status).toBe(200);
      const blob = await fetch(
        `${again.url}/api/v1/cases/${withFile.reporter.caseNumber}/blobs/${withFile.file!.id}`,
        { headers: withFile.reporter.auth },
      );
      expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(sha256(withFile.file!.bytes));
    } finally {
      await again.stop();
    }
  });
});

describe('restore', () => {
  let source: string;
  let archive: string;
  let bytes: Buffer;
  const cases = [
    buildCase(counsellor.recipients),
    buildCase(counsellor.recipients, { uploads: [{ size: 200_000 }] }),
    buildCase(counsellor.recipients, { uploads: [{ size: 500_000, written: 2 * 65_552 }] }),
  ];
  beforeAll(async () => {
    source = join(work, 'source');
    await makeStore(source, cases);
    writeFileSync(join(source, 'server-secret'), new Uint8Array(32).fill(9));
    mkdirSync(join(source, 'demo'));
    writeFileSync(join(source, 'demo', 'PASSPHRASE.txt'), 'demo passphrase\n');
    archive = join(work, 'source.kluis-backup');
    await writeSnapshot(source, archive, { version: 'test' });
    bytes = readFileSync(archive);
  });

  let n = 0;
  const fresh = () => join(work, `target-${n++}`, 'data');
  const variant = (data: Uint8Array) => {
    const path = join(work, `variant-${n++}.kluis-backup`);
    writeFileSync(path, data);
    return path;
  };
  const flipped = (at: number, mask = 0x01) => {
    const copy = Buffer.from(bytes);
    copy[at] = copy[at]! ^ mask;
    return variant(copy);
  };

  it('restores a sound backup exactly, leaving the demo key out unless asked', async () => {
    const target = fresh();
    const check = await restoreArchive(archive, target);
    expect(check).toMatchObject({
      cases: 3,
      blobs: 2,
      damaged: [],
      meta: { kind: 'snapshot', storeFormat: 2, kluis: 'test', demo: false },
    });
    expect(readFileSync(join(target, 'FORMAT'), 'utf8')).toBe('2\n');
    expect(readFileSync(join(target, 'server-secret'))).toEqual(Buffer.alloc(32, 9));
    expect(existsSync(join(target, 'demo'))).toBe(false);
    for (const built of cases) {
      expect(readFileSync(join(target, recordPath(built.record.case)), 'utf8')).toBe(
        readFileSync(join(source, recordPath(built.record.case)), 'utf8'),
      );
    }
    expect(hasDamage(await checkStore(target, { hashes: true }))).toBe(false);

    const withDemo = join(work, 'with-demo.kluis-backup');
    await writeSnapshot(source, withDemo, { version: 'test', includeDemo: true });
    const demoTarget = fresh();
    await restoreArchive(withDemo, demoTarget);
    expect(readFileSync(join(demoTarget, 'demo', 'PASSPHRASE.txt'), 'utf8')).toBe(
      'demo passphrase\n',
    );
  });

  it('refuses a backup with a flipped byte anywhere, writing nothing', async () => {
    const text = bytes.toString('latin1');
    const blobId = cases[1]!.record.uploads[0]!.id;
    const blobHeader = text.indexOf(`{"path":"blobs/${blobId.slice(0, 2)}/${blobId}"`);
    const places: Array<[string, number, RegExp]> = [
      ['the first line', 3, /not a Kluis backup/],
      ['the description', text.indexOf('"kind"') + 2, /description line is not one Kluis writes/],
      ['a record header', text.indexOf('{"path":"records/') + 12, /damaged/],
      [
        'inside a record',
        text.indexOf('"verifier":"') + 14,
        /records\/.* does not match its checksum/,
      ],
      [
        'inside an attachment',
        text.indexOf('\n', blobHeader) + 1000,
        /blobs\/.* does not match its checksum/,
      ],
      ['a checksum line', text.indexOf('\nsha256 ') + 12, /damaged/],
      ['the end line', text.indexOf('{"end":true') + 20, /damaged/],
    ];
    for (const [where, at, message] of places) {
      const target = fresh();
      const error = await restoreArchive(flipped(at), target).catch((e: unknown) => e);
      expect(error, where).toBeInstanceOf(ArchiveError);
      expect((error as Error).message, where).toMatch(message);
      expect(existsSync(target), where).toBe(false);
    }
  });

  it('refuses a cut-short backup (or one with bytes after its end), writing nothing', async () => {
    const endLine = bytes.toString('latin1').indexOf('{"end":true');
    const cuts: Array<[number, RegExp]> = [
      [0, /the file is empty/],
      [7, /ends inside the first line/],
      [Math.floor(bytes.length / 2), /cut short at byte \d+/],
      [endLine, /cut short at byte \d+: the end line is missing/],
      [bytes.length - 1, /cut short/],
    ];
    for (const [length, message] of cuts) {
      const target = fresh();
      const error = await restoreArchive(variant(bytes.subarray(0, length)), target).catch(
        (e: unknown) => e,
      );
      expect(error, String(length)).toBeInstanceOf(ArchiveError);
      expect((error as Error).message, String(length)).toMatch(message);
      expect(existsSync(target)).toBe(false);
    }
    const longer = variant(Buffer.concat([bytes, Buffer.from('x')]));
    await expect(restoreArchive(longer, fresh())).rejects.toThrow(/bytes after the end line/);
  });

  it('npm run restore refuses a damaged or cut-short backup with one line and exit 1', () => {
    const text = bytes.toString('latin1');
    for (const [file, message] of [
      [
        flipped(text.indexOf('"verifier":"') + 14),
        /^restore: damaged: records\/\S+ does not match its checksum \(a byte in it was altered\)$/,
      ],
      [variant(bytes.subarray(0, bytes.length - 100)), /^restore: cut short at byte \d+/],
    ] as const) {
      const target = fresh();
      const result = runScript('restore.ts', [file, target]);
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
      expect(existsSync(target)).toBe(false);
    }
    const check = runScript('restore.ts', ['--check', archive]);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/the backup is intact: 3 cases and 2 attachment files/);
  });

  it('restores only into a missing or empty directory', async () => {
    const target = fresh();
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'notes.txt'), 'mine');
    await expect(restoreArchive(archive, target)).rejects.toThrow(RestoreError);
    await expect(restoreArchive(archive, target)).rejects.toThrow(/is not empty \(notes\.txt\)/);
    expect(readdirSync(target)).toEqual(['notes.txt']);
    const empty = fresh();
    mkdirSync(empty, { recursive: true });
    await restoreArchive(archive, empty);
    expect(readdirSync(empty).sort()).toEqual(['FORMAT', 'blobs', 'records', 'server-secret']);
  });

  it('a store with a damaged case: the backup says so (exit 3), the restore refuses it unless --allow-damaged', async () => {
    const damagedSource = join(work, 'damaged-source');
    const built = [
      buildCase(counsellor.recipients),
      buildCase(counsellor.recipients, { uploads: [{ size: 1000 }] }),
    ];
    await makeStore(damagedSource, built);
    const path = join(damagedSource, recordPath(built[1]!.record.case));
    writeFileSync(path, readFileSync(path).subarray(0, 120));
    const file = join(work, 'damaged.kluis-backup');
    const backup = runScript('backup.ts', ['--data-dir', damagedSource, file]);
    expect(backup.status).toBe(3);
    expect(backup.stderr).toContain(
      `backup: WARNING: case ${built[1]!.record.case} is damaged in the live store (not valid JSON (damaged or cut short)); backed up as it is`,
    );
    // The damaged case's attachment went into the backup too.
    const paths: string[] = [];
    await readArchive(file, { file: (entry) => void paths.push(entry.path) });
    expect(paths).toContain(
      `blobs/${built[1]!.record.uploads[0]!.id.slice(0, 2)}/${built[1]!.record.uploads[0]!.id}`,
    );

    const refused = fresh();
    const result = runScript('restore.ts', [file, refused]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the backup holds 1 damaged case .*--allow-damaged/);
    expect(existsSync(refused)).toBe(false);
    const target = fresh();
    expect(runScript('restore.ts', [file, target, '--allow-damaged']).status).toBe(0);
    expect((await checkStore(target)).damaged.map((d) => d.case)).toEqual([built[1]!.record.case]);
    expect((await checkArchive(file)).damaged).toHaveLength(1);
  });

  it('a complete attachment missing in the live store: backed up as it is, said so, and the restore check names the case', async () => {
    const dir = join(work, 'missing-blob');
    const built = buildCase(counsellor.recipients, { uploads: [{ size: 5000 }] });
    await makeStore(dir, [built, buildCase(counsellor.recipients)]);
    const id = built.record.uploads[0]!.id;
    rmSync(join(dir, 'blobs', id.slice(0, 2), id));
    const file = join(work, 'missing-blob.kluis-backup');
    const report = await writeSnapshot(dir, file, { version: 'test' });
    expect(report.warnings).toEqual([
      `case ${built.record.case}: its complete attachment ${id} is missing in the live store`,
    ]);
    expect(report.cases).toBe(2);
    const check = await checkArchive(file);
    expect(check.damaged).toEqual([
      { case: built.record.case, problems: [`its complete attachment ${id} is not in the backup`] },
    ]);
  });

  it('backup refuses to overwrite a file, and a directory that is not a store', () => {
    const again = runScript('backup.ts', ['--data-dir', source, archive]);
    expect(again.status).toBe(1);
    expect(again.stderr.trim()).toBe(
      `backup: ${archive} exists already: a backup is never overwritten; choose a new name`,
    );
    expect(readFileSync(archive)).toEqual(bytes);
    const notAStore = mkdtempSync(join(work, 'empty-'));
    const result = runScript('backup.ts', [
      '--data-dir',
      notAStore,
      join(work, 'nothing.kluis-backup'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `backup: ${notAStore} is not a Kluis data directory (no FORMAT file)`,
    );
    expect(existsSync(join(work, 'nothing.kluis-backup'))).toBe(false);
  });
});
