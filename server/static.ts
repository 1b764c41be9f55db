/**
 * The built reporter page, loaded into memory once (it is a handful of
 * small files) and served with the right type. Nothing outside the build
 * directory can be named: paths are looked up in the loaded map, never
 * joined onto the file system.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

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
  /** The body gzip-compressed, for text files it makes smaller (served to browsers that accept it). */
  readonly gzip?: Uint8Array;
}

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.txt', '.webmanifest']);

/** The file's gzip form, if it is text and compression helps: made once, at load. */
function gzipped(path: string, body: Uint8Array): Uint8Array | undefined {
  if (!COMPRESSIBLE.has(extname(path))) return undefined;
  const packed = new Uint8Array(gzipSync(body, { level: 9 }));
  return packed.length < body.length ? packed : undefined;
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
        const body = new Uint8Array(readFileSync(path));
        const gzip = gzipped(path, body);
        files.set(url, {
          body,
          type: TYPES[extname(path)] ?? 'application/octet-stream',
          ...(gzip ? { gzip } : {}),
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
