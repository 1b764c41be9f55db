/**
 * The configurations docs/DEPLOY.md tells an operator to write, taken from
 * the document itself and checked with the real tools of Debian 12, the
 * release DEPLOY.md supports: `systemd-analyze verify` (and `security`,
 * which rates the service's sandbox) on the units, `tor --verify-config`
 * on the torrc lines, `nginx -t` on the site. .ci/run installs the tools
 * (systemd, tor, nginx) and sets KLUIS_DEPLOY_TOOLS=required; elsewhere a
 * missing tool skips its check with a note.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const DEPLOY = readFileSync(join(import.meta.dirname, '../docs/DEPLOY.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'kluis-deploy-'));
const REQUIRED = process.env.KLUIS_DEPLOY_TOOLS === 'required';

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The code block right after the line that names `file` (e.g. "`/etc/systemd/system/kluis.service`:"). */
function blockAfter(file: string): string {
  const at = DEPLOY.indexOf(`\`${file}\``);
  if (at < 0) throw new Error(`docs/DEPLOY.md does not name ${file}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(DEPLOY.slice(at));
  if (!match) throw new Error(`no code block after ${file} in docs/DEPLOY.md`);
  return match[1]!;
}

function tool(path: string): boolean {
  if (existsSync(path)) return true;
  if (REQUIRED)
    throw new Error(`${path} is missing (KLUIS_DEPLOY_TOOLS=required): install it, see .ci/run`);
  console.warn(
    `deploy.config: ${path} is missing, its check is skipped (apt-get install systemd tor nginx)`,
  );
  return false;
}

function run(command: string, args: string[]): { code: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: work, timeout: 60_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('docs/DEPLOY.md configurations', () => {
  it.skipIf(!tool('/usr/bin/systemd-analyze'))(
    'the systemd units verify, and the service keeps its 1.4 exposure rating',
    () => {
      const dir = join(work, 'units');
      mkdirSync(dir);
      const units = ['kluis.service', 'kluis-backup.service', 'kluis-backup.timer'];
      for (const unit of units)
        writeFileSync(join(dir, unit), blockAfter(`/etc/systemd/system/${unit}`));
      const verify = run('systemd-analyze', ['verify', ...units.map((unit) => join(dir, unit))]);
      // Only complaints about these units count (a container's own units may draw warnings too).
      const ours = verify.output.split('\n').filter((line) => /kluis/.test(line));
      expect(ours, verify.output).toEqual([]);
      expect(verify.code, verify.output).toBe(0);
      const security = run('systemd-analyze', [
        'security',
        '--offline=true',
        join(dir, 'kluis.service'),
      ]);
      const rating = /Overall exposure level for kluis\.service: ([\d.]+)/.exec(security.output);
      expect(rating, security.output).not.toBeNull();
      expect(Number(rating![1])).toBeLessThanOrEqual(1.4);
    },
  );

  it.skipIf(!tool('/usr/sbin/tor'))('tor accepts the torrc lines', () => {
    const hidden = join(work, 'tor-hidden');
    const data = join(work, 'tor-data');
    mkdirSync(hidden, { mode: 0o700 });
    mkdirSync(data, { mode: 0o700 });
    const lines = blockAfter('/etc/tor/torrc').replace('/var/lib/tor/kluis/', `${hidden}/`);
    expect(lines).toContain(`HiddenServiceDir ${hidden}/`);
    const torrc = join(work, 'torrc');
    writeFileSync(torrc, `DataDirectory ${data}\n${lines}`);
    const result = run('tor', ['--verify-config', '-f', torrc, '--defaults-torrc', '/dev/null']);
    expect(result.output).toContain('Configuration was valid');
    expect(result.code, result.output).toBe(0);
  });

  it.skipIf(!tool('/usr/sbin/nginx'))('nginx accepts the site (Debian 12: nginx 1.22)', () => {
    const dir = join(work, 'nginx');
    mkdirSync(dir);
    // A throwaway certificate where certbot's would be, and logs in the scratch directory.
    const cert = join(dir, 'fullchain.pem');
    const key = join(dir, 'privkey.pem');
    const made = run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=meldpunt.example.org',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    expect(made.code, made.output).toBe(0);
    const site = blockAfter('/etc/nginx/sites-available/kluis')
      .replace('/etc/letsencrypt/live/meldpunt.example.org/fullchain.pem', cert)
      .replace('/etc/letsencrypt/live/meldpunt.example.org/privkey.pem', key)
      .replace('/var/log/nginx/', `${dir}/`);
    writeFileSync(join(dir, 'kluis'), site);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log ${dir}/access.log;\n  include ${dir}/kluis;\n}\n`,
    );
    const result = run('nginx', ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir]);
    expect(result.output).toContain('test is successful');
    expect(result.output).not.toMatch(/\[warn\]|\[emerg\]/);
    expect(result.code, result.output).toBe(0);
  });
});
