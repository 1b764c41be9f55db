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
import { runLocalApp } from '../cli/app.js';
import { defaultKeyPath, loadConfig } from '../lib/keys.js';
import { buildApp, DEFAULT_APP_DIR } from './build.js';

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

const keyPath = resolve(values.key ?? defaultKeyPath());
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

// The same start as `kluis-counsellor app` (cli/app.ts), which serves the UI an installed client ships.
try {
  await runLocalApp({
    keyPath,
    server: values.server ?? config.server ?? 'http://127.0.0.1:8080',
    proxy: values.proxy ?? config.proxy,
    pageBuild: values['page-build'] ?? config.pageBuild,
    staticDir,
    idleMinutes,
  });
  process.exit(0);
} catch (error) {
  console.error((error as Error).message);
  process.exit(3);
}
