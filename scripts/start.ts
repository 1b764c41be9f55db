/**
 * `npm start`: builds the reporter page if it is missing or older than its
 * sources, then runs the server (server/main.ts) in this process.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const built = join('dist', 'reporter', 'index.html');
const sources = ['client/reporter', 'crypto', 'vite.config.ts', 'package-lock.json'];
if (existsSync('client/reporter/index.html') && !process.env.KLUIS_STATIC_DIR) {
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (Math.max(...sources.map(newest)) > builtAt) {
    console.log('Building the reporter page (npm run build)…');
    const result = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
    if (result.status !== 0) {
      console.error('kluis: the reporter page did not build; see the messages above');
      process.exit(1);
    }
  }
}

await import('../server/main.js');
