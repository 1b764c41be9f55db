/**
 * The built reporter page, loaded into memory once (it is a handful of
 * small files) and served with the right type. Nothing outside the build
 * directory can be named: paths are looked up in the loaded map, never
 * joined onto the file system.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

/** One file of the page. */
export interface StaticFile {
  readonly body: Uint8Array;
  readonly type: string;
}

/** Loads every file under `dir` (at most 20 MB in all), keyed by URL path; an empty map if it does not exist. */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let total = 0;
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        total += statSync(path).size;
        if (total > 20 * 1024 * 1024)
          throw new Error(`${dir} holds more than 20 MB: is it the built page?`);
        const url = `/${relative(dir, path).split(sep).join('/')}`;
        files.set(url, {
          body: new Uint8Array(readFileSync(path)),
          type: TYPES[extname(path)] ?? 'application/octet-stream',
        });
      }
    }
  };
  try {
    if (statSync(dir).isDirectory()) walk(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return files;
}
