/**
 * The entry of the counsellor client's single executable (Node's single
 * executable applications; built by `npm run release`, scripts/release.ts,
 * as one CommonJS file with every dependency inside). The app's UI and the
 * generic reporter page travel as SEA assets (`index.json` lists them); a
 * command that needs them gets them in a fresh private temporary directory
 * (0700), removed at exit.
 * @module
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { main } from './cli.js';

function extract(prefix: 'app' | 'page'): string {
  const names = JSON.parse(getAsset('index.json', 'utf8')) as string[];
  const dir = mkdtempSync(join(tmpdir(), `kluis-counsellor-${prefix}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const name of names.filter((n) => n.startsWith(`${prefix}/`))) {
    const path = join(dir, ...name.slice(prefix.length + 1).split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, new Uint8Array(getAsset(name)));
  }
  return dir;
}

// Worker threads need a file to start from, which a single executable has not: cases open on the main thread.
process.env.KLUIS_COUNSELLOR_WORKERS = '0';
if (isSea()) {
  const args = process.argv.slice(2);
  if (args.includes('app')) process.env.KLUIS_COUNSELLOR_APP_DIR ??= extract('app');
  if (args.includes('build-page')) process.env.KLUIS_GENERIC_PAGE_DIR ??= extract('page');
}
void main(process.argv).then((code) => {
  process.exitCode = code;
});
