/**
 * `npm start`: runs the server (server/main.ts) in this process, building
 * the reporter page first when it is missing, older than its sources, or
 * built with other keys than its site config names.
 *
 * The page seals only for the keys it was built with (SECURITY.md). In
 * production those are the counsellors' bundles in the operator's site
 * config (KLUIS_SITE_CONFIG), published so that counsellors can rebuild
 * the page and compare (verify-page). In demo mode the demo counsellor's
 * key is made on the first start, so the page is built with it here.
 */

import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keysJson } from '../client/reporter/build/site-step.js';
import type { PublicBundle } from '../crypto/index.js';
import { main } from '../server/main.js';

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const OUT = join('dist', 'reporter');
const SOURCES = [
  'client/reporter',
  'client/build',
  'crypto',
  'vite.config.ts',
  'package-lock.json',
];

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The keys a page built from `site` holds, as its keys.json spells them. */
function builtKeys(site: Record<string, unknown>): string {
  return keysJson({
    counsellors: (site.counsellors ?? []) as PublicBundle[],
    escalationRecipients: (site.escalationRecipients ?? []) as PublicBundle[],
  });
}

function build(siteConfig: string): void {
  console.log('Building the reporter page (npm run build)…');
  const result = spawnSync('npm', ['run', '-s', 'build'], {
    stdio: 'inherit',
    env: { ...process.env, KLUIS_SITE_CONFIG: siteConfig },
  });
  if (result.status !== 0) {
    console.error('kluis: the reporter page did not build; see the messages above');
    process.exit(1);
  }
}

await main({
  async preparePage({ counsellors, escalation, demo }) {
    if (process.env.KLUIS_STATIC_DIR || !existsSync('client/reporter/index.html')) return;
    const configured = process.env.KLUIS_SITE_CONFIG ?? 'client/reporter/site.config.json';
    let site = readJson(configured);
    if (!site) return build(configured); // the build names what is wrong with it
    let siteConfig = configured;
    let temporary: string | undefined;
    if (demo) {
      site = {
        ...site,
        counsellors: counsellors.map((b) => b.bundle),
        escalationRecipients: escalation.map((b) => b.bundle),
      };
      temporary = mkdtempSync(join(tmpdir(), 'kluis-demo-site-'));
      siteConfig = join(temporary, 'site.config.json');
      writeFileSync(siteConfig, JSON.stringify(site));
    }
    const built = join(OUT, 'keys.json');
    const stale =
      !existsSync(built) ||
      Math.max(...SOURCES.map(newest), newest(configured)) > statSync(built).mtimeMs;
    if (stale || readFileSync(built, 'utf8') !== builtKeys(site)) build(siteConfig);
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  },
});
