import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportBundle, generateIdentity } from '../crypto/index.js';
import { startServer } from './helpers/server-process.js';

const work = mkdtempSync(join(tmpdir(), 'kluis-process-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs server/main.ts with `env` until it exits (or 30 s), returning its exit code and output. */
function runOnce(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      KLUIS_DATA_DIR: join(work, `data-${Math.random()}`),
      KLUIS_PORT: '0',
      ...env,
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the server process', () => {
  it('runs in demo mode without KLUIS_COUNSELLORS, says so, and stops cleanly on SIGTERM', async () => {
    const server = await startServer();
    try {
      expect(server.output()).toContain('DEMO MODE');
      expect(server.output()).toMatch(/demo key file: +\S+counsellor\.key\.json/);
      const info = (await (await fetch(`${server.url}/api/v1/info`)).json()) as {
        demo: boolean;
        counsellors: unknown[];
      };
      expect(info).toMatchObject({ demo: true });
      expect(info.counsellors).toHaveLength(1);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).toContain('SIGTERM');
  });

  it('is not in demo mode with counsellors configured, and prints their fingerprints', async () => {
    const file = join(work, 'counsellors.json');
    writeFileSync(
      file,
      JSON.stringify([exportBundle(generateIdentity('counsellor', 'A. de Vries'))]),
    );
    // With notices and a retention set: /info publishes the retention, and the start lines name
    // the mail server without its password.
    const server = await startServer({
      env: {
        KLUIS_COUNSELLORS: file,
        KLUIS_RETENTION_DAYS: '90',
        KLUIS_SMTP_URL: 'smtp://kluis%40example.org:pw-do-not-print@127.0.0.1:2525',
        KLUIS_NOTIFY_TO: 'vp@example.org',
      },
    });
    try {
      expect(server.output()).toContain(
        'notices: on the full hour, to 1 address(es), through smtp://kluis%40example.org:***@127.0.0.1:2525',
      );
      expect(server.output()).not.toContain('pw-do-not-print');
      expect(
        ((await (await fetch(`${server.url}/api/v1/info`)).json()) as { retentionDays: number })
          .retentionDays,
      ).toBe(90);
      expect(server.output()).not.toContain('DEMO');
      expect(server.output()).toMatch(/counsellor [0-9A-Z]{4}(-[0-9A-Z]{4}){5} +A\. de Vries/);
      expect(
        ((await (await fetch(`${server.url}/api/v1/info`)).json()) as { demo: boolean }).demo,
      ).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it('refuses bad configuration with one clear line and a non-zero exit', async () => {
    const altered = join(work, 'altered.json');
    writeFileSync(
      altered,
      JSON.stringify([{ ...exportBundle(generateIdentity('counsellor', 'X')), name: 'Y' }]),
    );
    const escalationAsCounsellor = join(work, 'escalation.json');
    writeFileSync(
      escalationAsCounsellor,
      JSON.stringify([exportBundle(generateIdentity('escalation', 'SG'))]),
    );
    const notJson = join(work, 'not.json');
    writeFileSync(notJson, 'hello');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = String((blocker.address() as { port: number }).port);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ KLUIS_PORT: 'eighty' }, /KLUIS_PORT must be a whole number/],
      [{ KLUIS_PORT: '70000' }, /KLUIS_PORT must be a whole number from 0 to 65535/],
      [{ KLUIS_POW_BITS: '40' }, /KLUIS_POW_BITS must be a whole number from 0 to 32/],
      [{ KLUIS_ONION: 'example.com' }, /KLUIS_ONION must be a v3 onion address/],
      [
        { KLUIS_SMTP_URL: 'mail.example.org', KLUIS_NOTIFY_TO: 'vp@example.org' },
        /KLUIS_SMTP_URL must be smtps:\/\/user:password@host:465/,
      ],
      [{ KLUIS_NOTIFY_TO: 'vp@example.org' }, /KLUIS_NOTIFY_TO is set but KLUIS_SMTP_URL is not/],
      [{ KLUIS_COUNSELLORS: join(work, 'missing.json') }, /KLUIS_COUNSELLORS: cannot read/],
      [{ KLUIS_COUNSELLORS: notJson }, /KLUIS_COUNSELLORS: .* is not JSON/],
      [{ KLUIS_COUNSELLORS: altered }, /KLUIS_COUNSELLORS: bundle 1 .* is not correctly signed/],
      [
        { KLUIS_COUNSELLORS: escalationAsCounsellor },
        /KLUIS_COUNSELLORS: bundle 1 .* is for role escalation/,
      ],
      [{ KLUIS_PORT: takenPort }, /port \d+ on 127\.0\.0\.1 is taken/],
    ];
    try {
      for (const [env, message] of cases) {
        const { status, output } = runOnce(env);
        expect({ env, status }).toEqual({ env, status: 1 });
        expect(output).toMatch(message);
        expect(
          output
            .trim()
            .split('\n')
            .filter((line) => line.startsWith('kluis:')),
        ).toHaveLength(1);
      }
    } finally {
      blocker.close();
    }
  });
});
