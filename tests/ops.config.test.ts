/**
 * The data directory at start (server/ops/startup.ts): every way it can be
 * unusable gives one clear `kluis:` line and exit 1, before anything is
 * written. Tests run as root, who may write anywhere; the permission cases
 * run the server as `nobody` (uid 65534) instead.
 */

import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'kluis-ops-config-'));
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));
const FIXTURE = fileURLToPath(new URL('./fixtures/store-v0', import.meta.url));
const asRoot = process.getuid?.() === 0;
const NOBODY = 65_534;

/** Runs the server entry (`npm start` runs the same after its build check) until it exits. */
function start(env: Record<string, string>, options: SpawnSyncOptions = {}, entry = 'server/main.ts') {
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH ?? '', KLUIS_PORT: '0', KLUIS_STATIC_DIR: join(work, 'no-page'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
    ...options,
  });
  const output = `${result.stdout}${result.stderr}`;
  return { status: result.status, output, lines: output.trim().split('\n').filter((line) => line.startsWith('kluis:')) };
}

/** Options to run as an unprivileged user (when the tests run as root). */
const unprivileged: SpawnSyncOptions = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
const user = asRoot ? 'user nobody \\(uid 65534\\)' : 'user \\S+';

function expectRefused(result: ReturnType<typeof start>, message: RegExp) {
  expect(result.lines, result.output).toHaveLength(1);
  expect(result.lines[0]).toMatch(message);
  expect(result.status).toBe(1);
  expect(result.output).not.toMatch(/Kluis listening/);
}

describe('a data directory that cannot be used', () => {
  it('is a file', () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'not a directory');
    expectRefused(start({ KLUIS_DATA_DIR: file }), /^kluis: data directory \S+a-file \(KLUIS_DATA_DIR\) is a file, not a directory: point KLUIS_DATA_DIR at a directory$/);
    // The same through npm start's entry point.
    expectRefused(start({ KLUIS_DATA_DIR: file }, {}, 'scripts/start.ts'), /is a file, not a directory/);
    expectRefused(start({ KLUIS_DATA_DIR: join(file, 'data') }), /^kluis: data directory \S+ \(KLUIS_DATA_DIR\) cannot be made: \S+a-file is a file, not a directory$/);
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
  });

  it('is not writable by the user Kluis runs as', () => {
    const dir = join(work, 'closed');
    mkdirSync(dir, { mode: 0o555 });
    chmodSync(dir, 0o555);
    expectRefused(start({ KLUIS_DATA_DIR: dir }, unprivileged), new RegExp(`^kluis: data directory \\S+closed \\(KLUIS_DATA_DIR\\) is not writable by ${user}: give that user the directory \\(chown -R\\) or point KLUIS_DATA_DIR elsewhere$`));
    // A new directory inside it cannot be made either.
    expectRefused(start({ KLUIS_DATA_DIR: join(dir, 'data') }, unprivileged), new RegExp(`does not exist and cannot be made: \\S+closed is not writable by ${user}`));
    // Behind a directory the user may not enter.
    const locked = join(work, 'locked');
    mkdirSync(join(locked, 'data'), { recursive: true });
    chmodSync(locked, 0o700);
    if (asRoot) expectRefused(start({ KLUIS_DATA_DIR: join(locked, 'data') }, unprivileged), /cannot be reached by user nobody \(uid 65534\): a directory on its path is closed to that user/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is a store from a newer Kluis, a damaged FORMAT, or a directory of other files', () => {
    const newer = join(work, 'newer');
    mkdirSync(newer);
    writeFileSync(join(newer, 'FORMAT'), '2\n');
    expectRefused(start({ KLUIS_DATA_DIR: newer }), /^kluis: the store in \S+newer is in format 2, written by a newer Kluis than this one \(\S+, format 1\)\. Nothing was changed\. Run that newer release again/);
    writeFileSync(join(newer, 'FORMAT'), 'banana');
    expectRefused(start({ KLUIS_DATA_DIR: newer }), /^kluis: data directory \S+newer: \S+FORMAT: expected a format version number$/);
    expect(readdirSync(newer)).toEqual(['FORMAT']);
    const badSecret = join(work, 'bad-secret');
    mkdirSync(badSecret);
    writeFileSync(join(badSecret, 'FORMAT'), '1\n');
    writeFileSync(join(badSecret, 'server-secret'), 'short');
    expectRefused(start({ KLUIS_DATA_DIR: badSecret }), /^kluis: data directory \S+bad-secret: \S+server-secret is damaged \(expected 32 bytes\); delete it to make a new one/);
    const other = join(work, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    expectRefused(start({ KLUIS_DATA_DIR: other }), /is not empty and is not a Kluis data directory \(no FORMAT file\)$/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  it('is an older store that cannot be migrated because its backup cannot be written', () => {
    const parent = join(work, 'old');
    cpSync(FIXTURE, join(parent, 'data'), { recursive: true });
    const before = readdirSync(join(parent, 'data', 'records')).sort();
    const blocker = join(work, 'backups-is-a-file');
    writeFileSync(blocker, '');
    expectRefused(
      start({ KLUIS_DATA_DIR: join(parent, 'data'), KLUIS_BACKUP_DIR: blocker }),
      /^kluis: the store in \S+ is in the older format 0 and must be migrated, but the copy kept before migrating cannot be written in \S+backups-is-a-file .*Nothing was changed$/,
    );
    expect(readFileSync(join(parent, 'data', 'FORMAT'), 'utf8')).toBe('0\n');
    expect(readdirSync(join(parent, 'data', 'records')).sort()).toEqual(before);
  });
});
