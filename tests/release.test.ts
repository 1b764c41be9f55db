/**
 * The release (`npm run release`, scripts/release.ts), built twice and
 * compared byte for byte, then installed as a deployment would: both npm
 * packages into an empty directory with production dependencies only. A
 * whole flow runs on what was installed: the site step makes the page,
 * `kluis-server` serves it, a report goes through the page in Chromium,
 * the installed `kluis-counsellor` reads it and replies, the reporter
 * reads the reply, the counsellor checks the live page against their own
 * copy; the single executable reads the case with no Node on the PATH.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.js';

const ROOT = join(import.meta.dirname, '..');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
const PASSPHRASE = 'correct horse battery staple release';
const EXECUTABLE = `kluis-counsellor-${VERSION}-linux-x64`;

let work: string;
let first: string;
let second: string;
let install: string;
let server: ChildProcess | undefined;
let serverUrl = '';
let serverOutput = '';
let browser: Browser;
const timings: Record<string, number> = {};

function timed<T>(name: string, fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    timings[name] = Math.round(performance.now() - start);
  }
}

function runOk(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    input: options.input,
    timeout: 240_000,
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')}: exit ${result.status}\n${result.stdout}\n${result.stderr}`,
    );
  return result.stdout;
}

function release(out: string): void {
  runOk(process.execPath, ['--import', 'tsx', 'scripts/release.ts', '--out', out]);
}

/** An installed command run as a person would: only the installed package and Node on the PATH. */
function installed(
  command: string,
  args: string[],
  options: { stdin?: string; path?: string } = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd: install,
    env: { PATH: options.path ?? dirname(process.execPath), HOME: work, KLUIS_PASSPHRASE_FD: '3' },
    input: options.stdin ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, with the passphrase on fd 3 (a file: spawnSync cannot write a pipe on fd 3). */
function counsellor(
  args: string[],
  options: { stdin?: string; binary?: string; path?: string } = {},
) {
  const wrapper = join(work, 'with-passphrase.sh');
  const binary = options.binary ?? join(install, 'node_modules/.bin/kluis-counsellor');
  return installed('/bin/sh', [wrapper, binary, ...args], options);
}

function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}

function startServer(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(install, 'node_modules/.bin/kluis-server'), [], {
      cwd: install,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    const timer = setTimeout(
      () => reject(new Error(`kluis-server did not start:\n${serverOutput}`)),
      30_000,
    );
    const onData = (data: Buffer) => {
      serverOutput += data.toString();
      const match = /Kluis listening on (http:\/\/\S+)/.exec(serverOutput);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`kluis-server exited with ${code}:\n${serverOutput}`)),
    );
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kluis-release-'));
  first = join(work, 'release-1');
  second = join(work, 'release-2');
  install = join(work, 'installed');
  timed('release (first build)', () => release(first));
  timed('release (second build)', () => release(second));
  mkdirSync(install);
  writeFileSync(join(install, 'package.json'), '{ "private": true }\n');
  timed('npm install of both packages', () =>
    runOk(
      'npm',
      [
        'install',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(first, `kluis-server-${VERSION}.tgz`),
        join(first, `kluis-counsellor-${VERSION}.tgz`),
      ],
      {
        cwd: install,
      },
    ),
  );
  writeFileSync(join(work, 'passphrase'), `${PASSPHRASE}\n`);
  writeFileSync(join(work, 'with-passphrase.sh'), `exec "$@" 3<"${join(work, 'passphrase')}"\n`);
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  console.log(`release test timings (ms): ${JSON.stringify(timings)}`);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm run release', () => {
  it('is byte-identical across two builds, with SHA256SUMS naming every file', () => {
    const names = readdirSync(first).sort();
    expect(names).toEqual(
      [
        'SHA256SUMS',
        EXECUTABLE,
        `kluis-counsellor-${VERSION}.tgz`,
        `kluis-server-${VERSION}.tgz`,
      ].sort(),
    );
    expect(readdirSync(second).sort()).toEqual(names);
    for (const name of names)
      expect(readFileSync(join(second, name)).equals(readFileSync(join(first, name))), name).toBe(
        true,
      );
    const sums = readFileSync(join(first, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.map((line) => line.split('  ')[1]).sort()).toEqual(
      names.filter((n) => n !== 'SHA256SUMS'),
    );
    for (const line of sums) {
      const [hash, name] = line.split('  ');
      expect(
        createHash('sha256')
          .update(readFileSync(join(first, name!)))
          .digest('hex'),
      ).toBe(hash);
    }
    expect(runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: first })).toMatch(/OK/);
  });

  it('packages plain JavaScript, with fixed times, no checkout paths, and only run-time dependencies', () => {
    for (const name of ['kluis-server', 'kluis-counsellor']) {
      const listing = runOk('tar', ['-tvzf', join(first, `${name}-${VERSION}.tgz`)])
        .trim()
        .split('\n');
      expect(listing.every((line) => line.includes(' 1985-10-26 '))).toBe(true); // npm pack's fixed time
      const paths = listing.map((line) => line.split(/\s+/).pop()!);
      expect(paths.filter((p) => /\.(ts|tsx|mts)$/.test(p))).toEqual([]);
      expect(paths).toContain('package/page/index.html');
      const dir = join(work, `unpacked-${name}`);
      mkdirSync(dir);
      runOk('tar', ['-xzf', join(first, `${name}-${VERSION}.tgz`), '-C', dir]);
      for (const file of files(dir)) {
        const text = readFileSync(join(dir, file), 'utf8');
        expect(text.includes(ROOT), `${file} names the checkout`).toBe(false);
        expect(text.includes(tmpdir()), `${file} names a temporary directory`).toBe(false);
      }
      const manifest = JSON.parse(readFileSync(join(dir, 'package/package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
        bin: Record<string, string>;
      };
      expect(Object.keys(manifest.bin)).toEqual([name]);
      // lowdb is the shape of the store's record files (its Adapter type), not code the server runs (server/store/lowdb-adapter.ts).
      // pg is the PostgreSQL client of KLUIS_DATABASE_URL (server/store/pg-store.ts).
      const expected =
        name === 'kluis-server'
          ? ['@hono/node-server', 'hono', 'nodemailer', 'pg', 'tweetnacl']
          : ['@hono/node-server', 'commander', 'hono', 'tweetnacl'];
      expect(Object.keys(manifest.dependencies)).toEqual(expected);
    }
    // Installed with production dependencies only: no TypeScript loader, compiler, bundler or test tool.
    const modules = readdirSync(join(install, 'node_modules'));
    for (const tool of [
      'tsx',
      'typescript',
      'vite',
      'vitest',
      'esbuild',
      '@esbuild',
      'rolldown',
      'postject',
      '@biomejs',
      'playwright-core',
    ])
      expect(modules).not.toContain(tool);
    expect(readFileSync(join(first, EXECUTABLE)).includes(Buffer.from(ROOT))).toBe(false);
  });

  it('runs a whole flow on the installed packages: page, server, report, counsellor reads and replies', async () => {
    const kc = (args: string[], stdin?: string) =>
      counsellor(
        ['--key', join(work, 'key/key.json'), ...args],
        stdin === undefined ? {} : { stdin },
      );
    // The counsellor's key, made with the installed client; the operator's configuration from its bundle.
    const init = kc(['init', '--name', 'Released counsellor', '--kdf-cost', '17']);
    expect(init.code, init.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(work, 'key/bundle.json'), 'utf8')) as unknown;
    writeFileSync(join(work, 'counsellors.json'), JSON.stringify([bundle]));
    // The operator starts from the example the server package ships.
    const site = JSON.parse(
      readFileSync(join(install, 'node_modules/kluis-server/site.example.json'), 'utf8'),
    ) as Record<string, unknown>;
    writeFileSync(join(work, 'site.json'), JSON.stringify({ ...site, counsellors: [bundle] }));

    // The site step, by the operator (kluis-server) and by the counsellor (kluis-counsellor): the same page.
    const page = installed(join(install, 'node_modules/.bin/kluis-server'), [
      'build-page',
      '--site',
      join(work, 'site.json'),
      '--out',
      join(work, 'page'),
    ]);
    expect(page.code, page.stderr).toBe(0);
    const own = kc([
      'build-page',
      '--site',
      join(work, 'site.json'),
      '--out',
      join(work, 'own-page'),
    ]);
    expect(own.code, own.stderr).toBe(0);
    for (const name of files(join(work, 'page')))
      expect(
        readFileSync(join(work, 'own-page', name)).equals(readFileSync(join(work, 'page', name))),
        name,
      ).toBe(true);

    serverUrl = await startServer({
      PATH: dirname(process.execPath),
      KLUIS_DATA_DIR: join(work, 'data'),
      KLUIS_PORT: '0',
      KLUIS_POW_BITS: '8',
      KLUIS_COUNSELLORS: join(work, 'counsellors.json'),
      KLUIS_STATIC_DIR: join(work, 'page'),
    });
    expect(serverOutput).toContain(`Kluis ${VERSION}`);
    expect(serverOutput).not.toContain('WARNING');

    // A report through the page, in JIT-less Chromium.
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(serverUrl);
    await tab.getByRole('button', { name: 'English' }).click();
    await tab.getByRole('button', { name: 'Write a report' }).click();
    await tab
      .getByLabel('What happened?')
      .fill('Released and installed: it happened at the meeting.');
    await tab.getByRole('radio', { name: 'No' }).check();
    await tab.getByRole('button', { name: 'Encrypt and send' }).click();
    await tab.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
    const code = (await tab.getByTestId('receipt-code').textContent())!.trim();
    const caseNumber = code.replace(/-/g, '').slice(0, 8);
    await context.close();

    // The installed counsellor client trusts the server's keys, reads the report and replies.
    expect(kc(['--server', serverUrl, 'trust', '--yes']).code).toBe(0);
    const shown = kc(['--server', serverUrl, 'show', caseNumber]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Released and installed: it happened at the meeting.');
    const reply = kc(
      ['--server', serverUrl, 'reply', caseNumber],
      'Thank you; we can talk on Tuesday.',
    );
    expect(reply.code, reply.stderr).toBe(0);

    // The reporter comes back and reads the reply.
    const back = await browser.newContext();
    const again = await back.newPage();
    await again.goto(serverUrl);
    await again.getByRole('button', { name: 'English' }).click();
    await again.getByRole('button', { name: 'I already have a receipt code' }).click();
    await again.getByLabel('Receipt code', { exact: true }).fill(code);
    await again.getByRole('button', { name: 'Open' }).click();
    await again.getByText('Thank you; we can talk on Tuesday.').waitFor({ timeout: 30_000 });
    await back.close();

    // The counsellor's own copy of the page matches the live one.
    const verified = kc(['verify-page', serverUrl, '--build', join(work, 'own-page')]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // The single executable, with no Node anywhere on the PATH, reads the same case.
    const executable = join(work, 'bin', EXECUTABLE);
    mkdirSync(dirname(executable));
    writeFileSync(executable, readFileSync(join(first, EXECUTABLE)));
    chmodSync(executable, 0o755);
    const sea = counsellor(
      ['--key', join(work, 'key/key.json'), '--server', serverUrl, 'show', caseNumber],
      { binary: executable, path: '/nonexistent' },
    );
    expect(sea.code, sea.stderr).toBe(0);
    expect(sea.stdout).toContain('Thank you; we can talk on Tuesday.');
  });

  it('starts the local app from the installed package and from the executable', async () => {
    const copies = () => readdirSync(tmpdir()).filter((n) => n.startsWith('kluis-counsellor-app-'));
    const before = copies();
    for (const binary of [
      join(install, 'node_modules/.bin/kluis-counsellor'),
      join(work, 'bin', EXECUTABLE),
    ]) {
      const child = spawn(
        binary,
        ['--key', join(work, 'key/key.json'), '--server', serverUrl, 'app'],
        {
          cwd: work,
          env: { PATH: dirname(process.execPath), HOME: work },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no app address from ${binary}:\n${output}`)),
          20_000,
        );
        const onData = (data: Buffer) => {
          output += data.toString();
          const match = /(http:\/\/127\.0\.0\.1:\d+)\/#token=/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
      });
      const response = await fetch(`${url}/`);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(
        /<script type="module" crossorigin src="\.\/assets\/app-[\w-]+\.js">/,
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    // The executable's temporary copy of the UI is gone with it.
    expect(copies()).toEqual(before);
  });
});
