#!/usr/bin/env node
/**
 * `npm run counsellor:app [-- --server <url>] [--key <path>] [--proxy <url>] [--idle-minutes n] [--rebuild]`:
 * starts the counsellor's local app on 127.0.0.1 (a random port) and prints
 * its URL with a one-time token. Same defaults as the CLI: the key file in
 * $KLUIS_COUNSELLOR_DIR (or ~/.config/kluis-counsellor), server and proxy
 * from config.json beside it. Builds the UI first, so it matches the code.
 * KLUIS_COUNSELLOR_APP_DIR serves another build (tests). The app locks
 * itself after `--idle-minutes` (config.json `idleMinutes`, default 10)
 * without activity.
 * @module
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultKeyPath, loadConfig, readKeyFile } from '../lib/keys.js';
import { buildApp, DEFAULT_APP_DIR } from './build.js';
import { DEFAULT_IDLE_MINUTES, startApp } from './server.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    key: { type: 'string' },
    proxy: { type: 'string' },
    'page-build': { type: 'string' },
    'idle-minutes': { type: 'string' },
    rebuild: { type: 'boolean', default: false },
  },
  strict: true,
});

/** The page build to check on unlock: as configured, or this checkout's own build if there is one. */
function resolvePageBuild(configured: string | undefined): string | undefined {
  if (configured !== undefined) return resolve(dirname(keyPath), configured);
  const local = resolve('dist/reporter');
  return existsSync(join(local, 'index.html')) ? local : undefined;
}

const keyPath = resolve(values.key ?? defaultKeyPath());
try {
  await readKeyFile(keyPath);
} catch (error) {
  console.error((error as Error).message);
  process.exit(3);
}
let config: Awaited<ReturnType<typeof loadConfig>>;
try {
  config = await loadConfig(dirname(keyPath));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const idleMinutes =
  values['idle-minutes'] === undefined ? config.idleMinutes : Number(values['idle-minutes']);
if (idleMinutes !== undefined && !(Number.isFinite(idleMinutes) && idleMinutes > 0)) {
  console.error('--idle-minutes must be a number of minutes above 0');
  process.exit(2);
}
const staticDir = resolve(process.env.KLUIS_COUNSELLOR_APP_DIR ?? DEFAULT_APP_DIR);
// Built on every start (under a second) so the UI always matches this checkout's code; a
// directory given by KLUIS_COUNSELLOR_APP_DIR (tests) is built only when empty or with --rebuild.
if (
  values.rebuild ||
  !process.env.KLUIS_COUNSELLOR_APP_DIR ||
  !existsSync(join(staticDir, 'index.html'))
)
  await buildApp(staticDir);

const app = await startApp({
  keyPath,
  server: values.server ?? config.server ?? 'http://127.0.0.1:8080',
  proxy: values.proxy ?? config.proxy,
  pageBuild: resolvePageBuild(values['page-build'] ?? config.pageBuild),
  staticDir,
  idleMinutes,
  retentionDays: config.retentionDays,
});
console.log(`Kluis counsellor app for ${keyPath}`);
console.log(`Open in your browser (keep this address to yourself): ${app.url}`);
console.log(
  `Stop with Ctrl-C: the unlocked key is forgotten when this process ends, and after ${idleMinutes ?? DEFAULT_IDLE_MINUTES} minutes without activity.`,
);
const stop = () => {
  void app.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
