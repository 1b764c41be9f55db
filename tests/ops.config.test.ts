/**
 * The data directory at start (server/ops/startup.ts): every way it can be
 * unusable gives one clear `kluis:` line and exit 1, before anything is
 * written. Tests run as root, who may write anywhere; the permission cases
 * run the server as `nobody` (uid 65534) instead, from a copy of the
 * checkout laid out as a deployment (the sources and the production
 * dependencies) that `nobody` may read: the checkout itself may live where
 * only its owner can enter (a home directory of mode 700, a `mktemp -d`).
 */

import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'kluis-ops-config-'));
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));
const FIXTURE = fileURLToPath(new URL('./fixtures/store-v0', import.meta.url));
const asRoot = process.getuid?.() === 0;
const NOBODY = 65_534;
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The directory of package `name` as Node resolves it from `from` (a package directory). */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dirname(dir) === dir) return undefined;
  }
}

/** Gives everyone read access (and search and execute where the owner has it) under `path`. */
function openToAll(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, stat.mode | 0o444 | (stat.mode & 0o100 ? 0o111 : 0));
  if (stat.isDirectory()) for (const name of readdirSync(path)) openToAll(join(path, name));
}

/**
 * A copy of the checkout that any user may read: every top-level entry but
 * node_modules, .git, dist and data, and the packages the production
 * dependencies need (what `npm ci --omit=dev` installs, tsx among them).
 * Made once, in the work directory.
 */
let deployed: string | undefined;
function deployment(): string {
  if (deployed) return deployed;
  const to = join(work, 'kluis');
  for (const name of readdirSync(ROOT)) {
    if (!['node_modules', '.git', 'dist', 'data'].includes(name))
      cpSync(join(ROOT, name), join(to, name), { recursive: true });
  }
  const packages = new Set<string>();
  const visit = (dir: string) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const name of Object.keys({
      ...manifest.dependencies,
      ...manifest.optionalDependencies,
    })) {
      const found = packageDir(name, dir); // an optional dependency for another platform is not installed
      if (found && !packages.has(found)) {
        packages.add(found);
        visit(found);
      }
    }
  };
  visit(ROOT);
  for (const dir of packages) cpSync(dir, join(to, relative(ROOT, dir)), { recursive: true });
  openToAll(to);
  deployed = to;
  return to;
}

/** Runs the server entry (`npm start` runs the same after its build check) until it exits. */
function start(
  env: Record<string, string>,
  options: SpawnSyncOptions = {},
  entry = 'server/main.ts',
) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry], {
    env: {
      PATH: process.env.PATH ?? '',
      KLUIS_PORT: '0',
      KLUIS_STATIC_DIR: join(work, 'no-page'),
      ...env,
    },
    encoding: 'utf8',
    timeout: 30_000,
    // Another user cannot count on reading the checkout: it runs the deployment copy.
    ...(options.uid === undefined ? {} : { cwd: deployment() }),
    ...options,
  });
  const output = `${result.stdout}${result.stderr}`;
  return {
    status: result.status,
    output,
    lines: output
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('kluis:')),
  };
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
    expectRefused(
      start({ KLUIS_DATA_DIR: file }),
      /^kluis: data directory \S+a-file \(KLUIS_DATA_DIR\) is a file, not a directory: point KLUIS_DATA_DIR at a directory$/,
    );
    // The same through npm start's entry point.
    expectRefused(
      start({ KLUIS_DATA_DIR: file }, {}, 'scripts/start.ts'),
      /is a file, not a directory/,
    );
    expectRefused(
      start({ KLUIS_DATA_DIR: join(file, 'data') }),
      /^kluis: data directory \S+ \(KLUIS_DATA_DIR\) cannot be made: \S+a-file is a file, not a directory$/,
    );
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
  });

  it('is not writable by the user Kluis runs as', () => {
    const dir = join(work, 'closed');
    mkdirSync(dir, { mode: 0o555 });
    chmodSync(dir, 0o555);
    expectRefused(
      start({ KLUIS_DATA_DIR: dir }, unprivileged),
      new RegExp(
        `^kluis: data directory \\S+closed \\(KLUIS_DATA_DIR\\) is not writable by ${user}: give that user the directory \\(chown -R\\) or point KLUIS_DATA_DIR elsewhere$`,
      ),
    );
    // A new directory inside it cannot be made either.
    expectRefused(
      start({ KLUIS_DATA_DIR: join(dir, 'data') }, unprivileged),
      new RegExp(`does not exist and cannot be made: \\S+closed is not writable by ${user}`),
    );
    // Behind a directory the user may not enter.
    const locked = join(work, 'locked');
    mkdirSync(join(locked, 'data'), { recursive: true });
    chmodSync(locked, 0o700);
    if (asRoot)
      expectRefused(
        start({ KLUIS_DATA_DIR: join(locked, 'data') }, unprivileged),
        /cannot be reached by user nobody \(uid 65534\): a directory on its path is closed to that user/,
      );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is a store from a newer Kluis, a damaged FORMAT, or a directory of other files', () => {
    const newer = join(work, 'newer');
    mkdirSync(newer);
    writeFileSync(join(newer, 'FORMAT'), '3\n');
    expectRefused(
      start({ KLUIS_DATA_DIR: newer }),
      /^kluis: the store in \S+newer is in format 3, written by a newer Kluis than this one \(\S+, format 2\)\. Nothing was changed\. Run that newer release again/,
    );
    writeFileSync(join(newer, 'FORMAT'), 'banana');
    expectRefused(
      start({ KLUIS_DATA_DIR: newer }),
      /^kluis: data directory \S+newer: \S+FORMAT: expected a format version number$/,
    );
    expect(readdirSync(newer)).toEqual(['FORMAT']);
    const badSecret = join(work, 'bad-secret');
    mkdirSync(badSecret);
    writeFileSync(join(badSecret, 'FORMAT'), '2\n');
    writeFileSync(join(badSecret, 'server-secret'), 'short');
    expectRefused(
      start({ KLUIS_DATA_DIR: badSecret }),
      /^kluis: data directory \S+bad-secret: \S+server-secret is damaged \(expected 32 bytes\); delete it to make a new one/,
    );
    const other = join(work, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    expectRefused(
      start({ KLUIS_DATA_DIR: other }),
      /is not empty and is not a Kluis data directory \(no FORMAT file\)$/,
    );
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
