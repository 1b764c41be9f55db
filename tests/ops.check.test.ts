/**
 * The store check (server/ops/check-store.ts) and what the server does with
 * damage at start (server/ops/startup.ts): damaged records are set aside and
 * reported, healthy cases served, orphans kept from retention while there
 * is damage.
 */

import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../crypto/index.js';
import { checkStore, hasDamage } from '../server/ops/check-store.js';
import { blobPath, recordPath } from '../server/ops/layout.js';
import { checkCaseRecord } from '../server/ops/record-check.js';
import { openCheckedStore } from '../server/ops/startup.js';
import { summarize } from '../server/records.js';
import { sweep } from '../server/retention.js';
import { CorruptRecordError, openFileStore, RecordExistsError } from '../server/store/index.js';
import { type BuiltCase, buildCase, counsellorBundle, makeStore } from './fixtures/ops-store.js';
import { startServer } from './helpers/server-process.js';

const work = mkdtempSync(join(tmpdir(), 'kluis-ops-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const counsellor = counsellorBundle(work);

let dir: string;
let healthy: BuiltCase;
let withFile: BuiltCase;
let inProgress: BuiltCase;
let other: BuiltCase;
beforeEach(async () => {
  dir = mkdtempSync(join(work, 'store-'));
  healthy = buildCase(counsellor.recipients);
  withFile = buildCase(counsellor.recipients, { uploads: [{ size: 100_000 }, { size: 3000 }] });
  inProgress = buildCase(counsellor.recipients, { uploads: [{ size: 300_000, written: 65_552 }] });
  other = buildCase(counsellor.recipients);
  await makeStore(dir, [healthy, withFile, inProgress, other]);
});

const file = (path: string) => join(dir, ...path.split('/'));
const firstUpload = () => withFile.record.uploads[0]!;

/** Flips one byte of a file (XOR 0x01 unless told otherwise). */
function flip(path: string, at: number, mask = 0x01): void {
  const bytes = readFileSync(path);
  bytes[at] = bytes[at]! ^ mask;
  writeFileSync(path, bytes);
}

function damagedCases(report: Awaited<ReturnType<typeof checkStore>>) {
  return report.damaged.map((d) => ({ case: d.case, kind: d.kind }));
}

describe('checkStore', () => {
  it('finds no damage in a sound store, counting cases and attachments', async () => {
    const report = await checkStore(dir, { hashes: true });
    expect(hasDamage(report)).toBe(false);
    expect(report).toMatchObject({
      format: 2,
      checked: true,
      cases: 4,
      attachments: 2,
      hashed: 2,
      unhashed: 0,
      blobFiles: 3,
      orphans: [],
      problems: [],
    });
  });

  it('finds a flipped byte inside an attachment by its recorded SHA-256 (and says it only with hashes on)', async () => {
    flip(file(blobPath(firstUpload().id)), 5000);
    expect(hasDamage(await checkStore(dir, { hashes: false }))).toBe(false);
    const report = await checkStore(dir, { hashes: true });
    expect(damagedCases(report)).toEqual([{ case: withFile.record.case, kind: 'attachments' }]);
    expect(report.damaged[0]!.problems.join()).toMatch(/does not match the SHA-256 recorded/);
  });

  it('finds a missing, a cut and a grown attachment by its length', async () => {
    const [first, second] = withFile.record.uploads;
    unlinkSync(file(blobPath(first!.id)));
    truncateSync(file(blobPath(second!.id)), 100);
    let report = await checkStore(dir);
    expect(damagedCases(report)).toEqual([{ case: withFile.record.case, kind: 'attachments' }]);
    expect(report.damaged[0]!.problems).toEqual([
      `attachment ${first!.id} is missing (its ${first!.length} bytes are gone)`,
      `attachment ${second!.id} has 100 bytes instead of ${second!.length}`,
    ]);
    // An upload in progress may be short, but never longer than announced.
    const upload = inProgress.record.uploads[0]!;
    writeFileSync(file(blobPath(upload.id)), new Uint8Array(upload.length + 1));
    report = await checkStore(dir);
    expect(report.damaged.find((d) => d.case === inProgress.record.case)?.problems.join()).toMatch(
      /more than the \d+ announced/,
    );
  });

  it('finds a record that does not parse, one whose shape a flipped byte broke, and one under the wrong name', async () => {
    const cut = file(recordPath(healthy.record.case));
    writeFileSync(cut, readFileSync(cut).subarray(0, 200));
    // A flipped byte inside the base64 of a ciphertext ('A' ^ 0x80 is no base64 character).
    const broken = file(recordPath(withFile.record.case));
    const text = readFileSync(broken, 'latin1');
    flip(broken, text.indexOf('"ct":"') + 10, 0x80);
    // A record copied under another case's name.
    const moved = file(recordPath(other.record.case));
    const stranger = buildCase(counsellor.recipients);
    const strangerPath = file(recordPath(stranger.record.case));
    await mkdir(dirname(strangerPath), { recursive: true });
    writeFileSync(strangerPath, readFileSync(moved));

    const report = await checkStore(dir);
    const byCase = new Map(report.damaged.map((d) => [d.case, d]));
    expect(byCase.get(healthy.record.case)).toMatchObject({
      kind: 'record',
      problems: ['not valid JSON (damaged or cut short)'],
    });
    expect(byCase.get(withFile.record.case)?.problems.join()).toMatch(/message 0: envelope/);
    expect(byCase.get(stranger.record.case)?.problems).toEqual([
      `names case ${other.record.case}, but its file is that of case ${stranger.record.case}`,
    ]);
    expect(byCase.has(other.record.case)).toBe(false);
    // The damaged record's attachments are not orphans.
    expect(report.orphans).toEqual([]);
  });

  it('finds a flipped byte that breaks a field name or a number', () => {
    const record = withFile.record;
    const mutate = (text: string) => checkCaseRecord(JSON.parse(text), record.case).problems;
    const json = JSON.stringify(record);
    expect(mutate(json)).toEqual([]);
    expect(mutate(json.replace('"createdHour"', '"createdHous"'))).toContain(
      'record: field createdHour is missing',
    );
    expect(
      mutate(
        json.replace(
          `"length":${record.uploads[0]!.length}`,
          `"length":${record.uploads[0]!.length + 1}`,
        ),
      ),
    ).toContain('upload 0: length is not one an attachment can have');
    expect(mutate(json.replace('"seq":0', '"seq":1'))).toContain('message 0: seq is 1');
    expect(mutate(json.replace('"status":"received"', '"status":"receivad"'))).toContain(
      'status is not a known status',
    );
    // A field this version does not know is a note, not damage.
    expect(checkCaseRecord({ ...record, later: 1 }, record.case)).toEqual({
      problems: [],
      notes: ['record: unknown field "later"'],
    });
  });

  it('reports orphans, stray files and a damaged FORMAT or server-secret', async () => {
    const orphan = toHex(new Uint8Array(16).fill(0xab));
    await mkdir(dirname(file(blobPath(orphan))), { recursive: true });
    writeFileSync(file(blobPath(orphan)), 'x');
    writeFileSync(join(dir, 'records', 'README'), 'mine');
    writeFileSync(join(dir, 'server-secret'), 'short');
    let report = await checkStore(dir);
    expect(report.orphans).toEqual([orphan]);
    expect(report.notes).toContain('records/README does not belong to a Kluis store (left alone)');
    expect(report.problems.join()).toMatch(/server-secret has 5 bytes instead of 32/);
    writeFileSync(join(dir, 'FORMAT'), 'one');
    report = await checkStore(dir);
    expect(report.problems.join()).toMatch(/FORMAT is damaged/);
    unlinkSync(join(dir, 'FORMAT'));
    expect((await checkStore(dir)).problems.join()).toMatch(/FORMAT is missing/);
    expect((await checkStore(join(dir, 'nothing-here'))).problems).toEqual([
      `${join(dir, 'nothing-here')} does not exist`,
    ]);
  });

  it('npm run check-store prints the damage and exits 1; 0 on a sound store', () => {
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/ops-check-store.ts', dir], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const sound = run();
    expect(sound.status).toBe(0);
    expect(sound.stdout).toMatch(
      /store check: 4 cases, 2 attachments .*, 2 compared with their SHA-256: no damage found/,
    );
    flip(file(blobPath(firstUpload().id)), 10);
    const damaged = run();
    expect(damaged.status).toBe(1);
    expect(damaged.stdout).toContain(
      `damaged case ${withFile.record.case}: attachment ${firstUpload().id} does not match the SHA-256`,
    );
  });
});

describe('the store with damage', () => {
  it('refuses to open by default, as before', async () => {
    writeFileSync(file(recordPath(healthy.record.case)), '{"v":1,');
    await expect(openFileStore({ dir, summarize })).rejects.toBeInstanceOf(CorruptRecordError);
  });

  it('at start: sets damaged records aside, serves the rest, keeps their ids taken and orphans from retention', async () => {
    writeFileSync(
      file(recordPath(healthy.record.case)),
      readFileSync(file(recordPath(healthy.record.case))).subarray(0, 100),
    );
    // The damaged case's attachment must not look like an orphan.
    const damagedOwner = file(recordPath(withFile.record.case));
    writeFileSync(damagedOwner, readFileSync(damagedOwner, 'utf8').replace('"v":1', '"v":7'));
    const orphan = toHex(new Uint8Array(16).fill(0xcd));
    await mkdir(dirname(file(blobPath(orphan))), { recursive: true });
    writeFileSync(file(blobPath(orphan)), 'x');

    const checked = await openCheckedStore(dir);
    const store = checked.store;
    try {
      expect(checked.damage).toBe(true);
      expect(checked.lines[0]).toMatch(/^store check: 4 cases, .*: DAMAGE: 2 damaged cases$/);
      expect(checked.lines).toContain(
        `damaged case ${healthy.record.case} (${recordPath(healthy.record.case)}): not valid JSON (damaged or cut short). Not served until repaired.`,
      );
      expect(checked.lines.at(-1)).toMatch(/^1 attachment file that no case names is kept/);
      expect([...store.damaged.keys()].sort()).toEqual(
        [healthy.record.case, withFile.record.case].sort(),
      );
      expect(store.records.size).toBe(2);
      expect(await store.records.get(other.record.case)).toEqual(other.record);
      expect(await store.records.get(healthy.record.case)).toBeUndefined();
      expect(store.records.has(healthy.record.case)).toBe(true);
      await expect(
        store.records.create(healthy.record.case, healthy.record),
      ).rejects.toBeInstanceOf(RecordExistsError);
      // Retention, with every case long past its time, removes neither the damaged case's files nor the orphan.
      await sweep(store, 1, Date.now() + 10 * 365 * 24 * 3_600_000);
      for (const upload of withFile.record.uploads)
        expect(readFileSync(file(blobPath(upload.id))).length).toBe(upload.length);
      expect(readFileSync(file(blobPath(orphan))).toString()).toBe('x');
      expect(readFileSync(file(recordPath(healthy.record.case))).length).toBe(100);
    } finally {
      await store.close();
    }
  });

  it('the server starts on a store with a damaged case, says which, and serves the healthy ones', async () => {
    const path = file(recordPath(healthy.record.case));
    writeFileSync(path, readFileSync(path).subarray(0, 50));
    const server = await startServer({ dataDir: dir, env: { KLUIS_COUNSELLORS: counsellor.file } });
    try {
      expect(server.output()).toMatch(/store check: 4 cases, .*DAMAGE: 1 damaged case$/m);
      expect(server.output()).toContain(
        `kluis: WARNING: damaged case ${healthy.record.case} (records/`,
      );
      const read = (built: BuiltCase) =>
        fetch(`${server.url}/api/v1/cases/${built.record.case}`, { headers: built.reporter.auth });
      expect((await read(other)).status).toBe(200);
      expect((await read(withFile)).status).toBe(200);
      expect((await read(healthy)).status).toBe(401);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // Nothing was changed or removed.
    expect(readFileSync(path).length).toBe(50);
  });

  it('renaming a damaged record away (the repair) brings the store back to health', async () => {
    const path = file(recordPath(healthy.record.case));
    writeFileSync(path, 'garbage');
    expect(hasDamage(await checkStore(dir))).toBe(true);
    renameSync(path, join(work, `${healthy.record.case}.json.damaged`));
    expect(hasDamage(await checkStore(dir))).toBe(false);
  });
});
