/**
 * Store format migrations (server/store/migrate.ts, server/ops/startup.ts):
 * a store in the previous format (the fixture tests/fixtures/store-v0/, the
 * pre-sharded layout) is copied whole into a backup and migrated on start;
 * a half-done migration finishes; a newer format is refused with what to do.
 */

import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex } from '../crypto/index.js';
import { checkStore, hasDamage } from '../server/ops/check-store.js';
import { checkArchive, restoreArchive } from '../server/ops/restore.js';
import { DataDirError, migrateOnStart } from '../server/ops/startup.js';
import { summarize } from '../server/records.js';
import {
  CorruptStoreError,
  FORMAT_VERSION,
  MIGRATIONS,
  type Migration,
  migrateStore,
  openFileStore,
  readFormat,
  UnsupportedFormatError,
} from '../server/store/index.js';
import { reporterFor } from './fixtures/ops-store.js';
import { startServer } from './helpers/server-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/store-v0', import.meta.url));
const REPORTERS = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('./fixtures/store-v0.reporters.json', import.meta.url)),
    'utf8',
  ),
) as Array<{
  case: string;
  secret: string;
  uploads: Array<{ id: string; length: number; complete: boolean }>;
}>;

const work = mkdtempSync(join(tmpdir(), 'kluis-ops-migrate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A fresh copy of the format-0 fixture, as <parent>/data; returns both paths. */
function copyFixture(): { parent: string; dir: string } {
  const parent = mkdtempSync(join(work, 'copy-'));
  const dir = join(parent, 'data');
  cpSync(FIXTURE, dir, { recursive: true });
  return { parent, dir };
}

/** Every file under dir, relative, sorted. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('migrating a format-0 store', () => {
  it('is refused by openFileStore without migration, saying what to do', async () => {
    const { dir } = copyFixture();
    const error = await openFileStore({ dir, summarize }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStoreError);
    expect((error as Error).message).toMatch(
      /store format 0 is older than format 2.*migrate it first/,
    );
  });

  it('writes a copy of the store beside it, then moves every record and blob into its shard', async () => {
    const { parent, dir } = copyFixture();
    const lines: string[] = [];
    const report = await migrateOnStart(dir, {}, 'test', (line) => lines.push(line));
    expect(report).toMatchObject({ from: 0, to: FORMAT_VERSION });
    expect(report!.backup).toMatch(
      new RegExp(`^${parent}/kluis-format-0-before-upgrade-\\d{4}-\\d\\d-\\d\\d\\.kluis-backup$`),
    );
    expect(lines.join('\n')).toMatch(/format 0 to 1: records and blobs into shard directories/);
    expect(lines.join('\n')).toMatch(/format 1 to 2: a write-ahead journal/);
    expect(await readFormat(dir)).toBe(2);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
    expect(tree(dir)).toEqual(
      [
        'FORMAT',
        'server-secret',
        ...REPORTERS.map((r) => `records/${r.case.slice(0, 2)}/${r.case}.json`),
        ...REPORTERS.flatMap((r) => r.uploads.map((u) => `blobs/${u.id.slice(0, 2)}/${u.id}`)),
      ].sort(),
    );
    expect(hasDamage(await checkStore(dir, { hashes: true }))).toBe(false);
    // Nothing more to do the second time.
    expect(await migrateOnStart(dir, {}, 'test', () => {})).toBeUndefined();

    // The copy is the format-0 store as it was (temp file left out), and restores as such.
    const check = await checkArchive(report!.backup);
    expect(check.meta).toMatchObject({ kind: 'raw', storeFormat: 0 });
    expect(check.notes.join()).toMatch(/older store format 0; Kluis migrates it/);
    const restored = join(parent, 'restored');
    await restoreArchive(report!.backup, restored);
    expect(tree(restored)).toEqual(tree(FIXTURE).filter((path) => !path.endsWith('.tmp')));
    for (const path of tree(restored))
      expect(readFileSync(join(restored, path))).toEqual(readFileSync(join(FIXTURE, path)));
  });

  it('finishes a migration that a crash interrupted halfway', async () => {
    const { dir } = copyFixture();
    // As if the process died after moving one record and one blob into their shards.
    const [first, second] = REPORTERS;
    await mkdir(join(dir, 'records', first!.case.slice(0, 2)));
    renameSync(
      join(dir, 'records', `${first!.case}.json`),
      join(dir, 'records', first!.case.slice(0, 2), `${first!.case}.json`),
    );
    const blob = second!.uploads[0]!.id;
    await mkdir(join(dir, 'blobs', blob.slice(0, 2)));
    renameSync(join(dir, 'blobs', blob), join(dir, 'blobs', blob.slice(0, 2), blob));
    const report = await migrateOnStart(dir, {}, 'test', () => {});
    expect(report?.to).toBe(FORMAT_VERSION);
    const store = await openFileStore({ dir, summarize });
    try {
      expect([...store.records.summaries()].map(([id]) => id).sort()).toEqual(
        REPORTERS.map((r) => r.case).sort(),
      );
    } finally {
      await store.close();
    }
  });

  it('the server migrates on start and serves the migrated cases to their reporters', async () => {
    const { parent, dir } = copyFixture();
    const server = await startServer({ dataDir: dir });
    try {
      expect(server.output()).toMatch(
        /store migrated from format 0 to 2; the copy from before is \S+\.kluis-backup/,
      );
      expect(server.output()).toMatch(
        /store check: 3 cases, 1 attachment \(.* in 2 files\): no damage found/,
      );
      for (const { case: caseNumber, secret } of REPORTERS) {
        const reporter = reporterFor(caseNumber, fromHex(secret));
        const response = await fetch(`${server.url}/api/v1/cases/${caseNumber}`, {
          headers: reporter.auth,
        });
        expect(response.status).toBe(200);
      }
      const withFile = REPORTERS.find((r) => r.uploads.some((u) => u.complete))!;
      const blob = await fetch(
        `${server.url}/api/v1/cases/${withFile.case}/blobs/${withFile.uploads[0]!.id}`,
        { headers: reporterFor(withFile.case, fromHex(withFile.secret)).auth },
      );
      expect(new Uint8Array(await blob.arrayBuffer())).toEqual(
        new Uint8Array(readFileSync(join(FIXTURE, 'blobs', withFile.uploads[0]!.id))),
      );
    } finally {
      await server.stop();
    }
    expect(readdirSync(parent).filter((name) => name.endsWith('.kluis-backup'))).toHaveLength(1);
  });

  it('never migrates without its copy: an unwritable backup place changes nothing', async () => {
    const { dir } = copyFixture();
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    const error = await migrateOnStart(dir, { KLUIS_BACKUP_DIR: blocker }, 'test', () => {}).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirError);
    expect((error as Error).message).toMatch(/cannot be written in .*a-file .*Nothing was changed/);
    expect(tree(dir)).toEqual(tree(FIXTURE));
    await expect(
      migrateOnStart(dir, { KLUIS_BACKUP_DIR: join(dir, 'backups') }, 'test', () => {}),
    ).rejects.toThrow(/must not be inside the data directory/);
    // KLUIS_BACKUP_DIR elsewhere is used.
    const elsewhere = mkdtempSync(join(work, 'backups-'));
    const report = await migrateOnStart(dir, { KLUIS_BACKUP_DIR: elsewhere }, 'test', () => {});
    expect(report!.backup.startsWith(`${elsewhere}/`)).toBe(true);
    expect(existsSync(report!.backup)).toBe(true);
  });
});

describe('the migration registry', () => {
  it('runs each step in order, setting FORMAT after each, up to the target', async () => {
    const { dir } = copyFixture();
    const ran: string[] = [];
    const next: Migration = {
      from: 2,
      description: 'a test step',
      run: async (path) => {
        ran.push(`2->3 at format ${await readFormat(path)}`);
        writeFileSync(join(path, 'step-3'), 'done');
      },
    };
    const backups: number[] = [];
    const report = await migrateStore(dir, {
      migrations: [...MIGRATIONS, next],
      target: 3,
      backup: async (_, format) => {
        backups.push(format);
        return 'somewhere';
      },
    });
    expect(report).toEqual({ from: 0, to: 3, backup: 'somewhere' });
    expect(backups).toEqual([0]);
    expect(ran).toEqual(['2->3 at format 2']);
    expect(await readFormat(dir)).toBe(3);
  });

  it('refuses a gap no migration covers, and a newer format, before writing anything', async () => {
    const { dir } = copyFixture();
    const backup = async () => {
      throw new Error('no backup should be written');
    };
    await expect(migrateStore(dir, { migrations: [], backup })).rejects.toThrow(
      /no migration from store format 0 to 1/,
    );
    writeFileSync(join(dir, 'FORMAT'), '7\n');
    await expect(migrateStore(dir, { backup })).rejects.toBeInstanceOf(UnsupportedFormatError);
    const error = await migrateOnStart(dir, {}, '0.1.0', () => {}).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /is in format 7, written by a newer Kluis than this one \(0\.1\.0, format 2\)\. Nothing was changed\. Run that newer release again/,
    );
    expect(readFileSync(join(dir, 'FORMAT'), 'utf8')).toBe('7\n');
  });
});
