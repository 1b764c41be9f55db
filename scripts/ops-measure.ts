/**
 * Measures the operator tools on a synthetic store:
 *   node --import tsx scripts/ops-measure.ts [cases=10000]
 * Writes <cases> records (one real sealed report each, shared: the shape is
 * what matters) with a 200 KB attachment on every 50th, then times the
 * server's start (open alone, as before the store check, and open + check),
 * a backup, its verification, a restore and a full store check with hashes.
 * Prints a table, then one JSON line.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachmentCiphertextLength,
  exportBundle,
  generateCaseNumber,
  generateIdentity,
  secureRandom,
  toBase64,
  toHex,
} from '../crypto/index.js';
import { writeSnapshot } from '../server/ops/backup.js';
import { checkStore } from '../server/ops/check-store.js';
import { checkArchive, restoreArchive } from '../server/ops/restore.js';
import { openCheckedStore } from '../server/ops/startup.js';
import { type CaseRecord, type CaseSummary, summarize } from '../server/records.js';
import { openFileStore } from '../server/store/index.js';
import { recipientOf, sealReport } from '../tests/helpers/api-client.js';
import { reporterFor } from '../tests/fixtures/ops-store.js';

const count = Number(process.argv[2] ?? 10_000);
const work = mkdtempSync(join(tmpdir(), 'kluis-ops-measure-'));
const dir = join(work, 'data');
const HOUR = 493_417;

async function time<T>(
  what: string,
  fn: () => Promise<T>,
  rows: Array<[string, number]>,
): Promise<T> {
  const start = process.hrtime.bigint();
  const result = await fn();
  rows.push([what, Number(process.hrtime.bigint() - start) / 1e9]);
  return result;
}

try {
  const identity = generateIdentity('counsellor', 'Measure');
  exportBundle(identity);
  const sample = reporterFor(generateCaseNumber());
  const envelope = sealReport(sample, [recipientOf(identity)], 'x'.repeat(500));
  mkdirSync(join(dir, 'records'), { recursive: true });
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  writeFileSync(join(dir, 'FORMAT'), '1\n');
  writeFileSync(join(dir, 'server-secret'), secureRandom(32));
  const blob = secureRandom(attachmentCiphertextLength(200_000));
  const blobHash = createHash('sha256').update(blob).digest('hex');
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    let caseNumber = generateCaseNumber();
    while (seen.has(caseNumber)) caseNumber = generateCaseNumber();
    seen.add(caseNumber);
    const uploads = [];
    if (i % 50 === 0) {
      const id = toHex(secureRandom(16));
      mkdirSync(join(dir, 'blobs', id.slice(0, 2)), { recursive: true });
      writeFileSync(join(dir, 'blobs', id.slice(0, 2), id), blob);
      uploads.push({ id, length: blob.length, hour: HOUR, complete: true, sha256: blobHash });
    }
    const record: CaseRecord = {
      v: 1,
      case: caseNumber,
      createdHour: HOUR,
      verifier: toBase64(secureRandom(32)),
      status: 'received',
      statusHour: HOUR,
      ackHour: null,
      messages: [{ seq: 0, hour: HOUR, author: 'reporter', envelope }],
      notes: [],
      uploads,
      forwardedTo: [],
    };
    mkdirSync(join(dir, 'records', caseNumber.slice(0, 2)), { recursive: true });
    writeFileSync(
      join(dir, 'records', caseNumber.slice(0, 2), `${caseNumber}.json`),
      `${JSON.stringify(record)}\n`,
    );
  }

  const rows: Array<[string, number]> = [];
  const plain = await time(
    'start: open only (as before)',
    () => openFileStore<CaseRecord, CaseSummary>({ dir, summarize }),
    rows,
  );
  await plain.close();
  const checked = await time('start: open + validate + check', () => openCheckedStore(dir), rows);
  await checked.store.close();
  const archive = join(work, 'backup.kluis-backup');
  const backup = await time(
    'backup (npm run backup)',
    () => writeSnapshot(dir, archive, { version: 'measure' }),
    rows,
  );
  await time('restore --check', () => checkArchive(archive), rows);
  await time('restore', () => restoreArchive(archive, join(work, 'restored')), rows);
  await time('check-store (with hashes)', () => checkStore(dir, { hashes: true }), rows);
  await time('check-store --quick', () => checkStore(dir, { hashes: false }), rows);

  const width = Math.max(...rows.map(([what]) => what.length));
  console.log(
    `${count} cases, ${backup.blobs} attachments, backup ${(statSync(archive).size / 1024 / 1024).toFixed(1)} MB`,
  );
  for (const [what, seconds] of rows) console.log(`${what.padEnd(width)}  ${seconds.toFixed(2)} s`);
  console.log(
    JSON.stringify({
      suite: 'ops',
      cases: count,
      ...Object.fromEntries(
        rows.map(([what, s]) => [
          what.replace(/\W+/g, '_').replace(/_+$/, ''),
          Number(s.toFixed(3)),
        ]),
      ),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
