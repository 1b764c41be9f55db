/**
 * Builds the local app's UI with vite.counsellor.config.ts (into
 * dist/counsellor-app/ unless `outDir` is given).
 * @module
 */

import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
export const DEFAULT_APP_DIR = resolve(ROOT, 'dist/counsellor-app');

export async function buildApp(outDir = DEFAULT_APP_DIR): Promise<string> {
  const { build } = await import('vite');
  await build({
    configFile: resolve(ROOT, 'vite.counsellor.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

// `tsx client/counsellor/app/build.ts`: build only.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  console.log(`Built the counsellor app into ${await buildApp()}`);
}
