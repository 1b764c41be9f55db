/**
 * `kluis-counsellor app`: the local app (app/server.ts) from an installed
 * client, serving the UI built into the package (`dist/counsellor-app/`
 * beside the compiled client, or KLUIS_COUNSELLOR_APP_DIR). In a checkout,
 * `npm run counsellor:app` (app/main.ts) builds the UI first, then starts
 * the app the same way.
 * @module
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DEFAULT_IDLE_MINUTES, startApp } from '../app/server.js';
import { CounsellorError, EXIT, UsageError } from '../lib/errors.js';
import { loadConfig, readKeyFile } from '../lib/keys.js';
import { connection } from './context.js';

/** The UI the installed client ships, or KLUIS_COUNSELLOR_APP_DIR. */
export function packagedAppDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(
    env.KLUIS_COUNSELLOR_APP_DIR ??
      fileURLToPath(new URL('../../../dist/counsellor-app', import.meta.url)),
  );
}

/** Starts the local app and prints its address; resolves when SIGINT or SIGTERM has stopped it. */
export async function runLocalApp(options: {
  keyPath: string;
  server: string;
  proxy: string | undefined;
  pageBuild: string | undefined;
  staticDir: string;
  /** Minutes without activity before the app forgets the key (default DEFAULT_IDLE_MINUTES). */
  idleMinutes: number | undefined;
}): Promise<void> {
  await readKeyFile(options.keyPath); // a missing or broken key file: KeyFileError, exit 3
  // The page build to check on unlock: as configured (relative to the key's directory), or this directory's own build.
  let pageBuild: string | undefined;
  if (options.pageBuild !== undefined)
    pageBuild = resolve(dirname(options.keyPath), options.pageBuild);
  else if (existsSync(join(resolve('dist/reporter'), 'index.html')))
    pageBuild = resolve('dist/reporter');
  const app = await startApp({
    keyPath: options.keyPath,
    server: options.server,
    proxy: options.proxy,
    pageBuild,
    staticDir: options.staticDir,
    idleMinutes: options.idleMinutes,
  });
  console.log(`Kluis counsellor app for ${options.keyPath}`);
  console.log(`Open in your browser (keep this address to yourself): ${app.url}`);
  console.log(
    `Stop with Ctrl-C: the unlocked key is forgotten when this process ends, and after ${options.idleMinutes ?? DEFAULT_IDLE_MINUTES} minutes without activity.`,
  );
  await new Promise<void>((done) => {
    const stop = () => void app.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Adds `app`. */
export function addAppCommand(program: Command): void {
  program
    .command('app')
    .description(
      'the local app: the same operations in your browser, served on 127.0.0.1 only (see client/counsellor/README.md)',
    )
    .option(
      '--page-build <dir>',
      'your own build of the reporter page, checked against the live page on every unlock (default: pageBuild in config.json)',
    )
    .option(
      '--idle-minutes <n>',
      'forget the unlocked key after this many minutes without activity (default: idleMinutes in config.json, else 10)',
    )
    .action(async (options: { pageBuild?: string; idleMinutes?: string }, command: Command) => {
      const { keyPath, server, proxy } = await connection(command);
      const config = await loadConfig(dirname(keyPath));
      const staticDir = packagedAppDir();
      if (!existsSync(join(staticDir, 'index.html'))) {
        throw new CounsellorError(
          EXIT.failure,
          `the app's UI is missing from ${staticDir} (in a checkout: npm run counsellor:app)`,
        );
      }
      const idleMinutes =
        options.idleMinutes === undefined ? config.idleMinutes : Number(options.idleMinutes);
      if (idleMinutes !== undefined && !(Number.isFinite(idleMinutes) && idleMinutes > 0))
        throw new UsageError('--idle-minutes must be a number of minutes above 0');
      await runLocalApp({
        keyPath,
        server,
        proxy,
        pageBuild: options.pageBuild ?? config.pageBuild,
        staticDir,
        idleMinutes,
      });
    });
}
