/**
 * `verify-page`: does the live reporter page equal the local build? The
 * counsellor builds the page from the sources they trust; this fetches the
 * page and every file of that build from the server and compares SHA-256
 * hashes, and refuses any reference in the live HTML to a file that is not
 * in the build or to another origin. A server that serves a modified page
 * (which could leak reports before they are encrypted) shows up here.
 *
 * The local build is `dist/reporter/` (the files, hashed here; dot-files
 * and dot-directories such as Vite's `.vite/` are skipped).
 * @module
 */

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { CounsellorApi } from './api.js';
import { LocalFileError } from './errors.js';
import { readBody } from './http.js';

/** One file compared. */
export interface PageFileCheck {
  /** Path relative to the page (e.g. `assets/reporter-5jsVSP2V.js`), or the reference found. */
  readonly path: string;
  readonly result: 'same' | 'different' | 'missing-on-server' | 'not-in-build' | 'other-origin';
  readonly localSha256?: string;
  readonly liveSha256?: string;
  readonly status?: number;
}

export interface PageCheck {
  readonly url: string;
  readonly files: readonly PageFileCheck[];
  readonly ok: boolean;
  /** The page's Content-Security-Policy header as served, if any. */
  readonly csp: string | undefined;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The SHA-256 of every file of a local build: path (with `/`) → hex. A
 * build that has its manifest.json (written by `npm run build`) is read
 * from it, plus the manifest's own hash; an older build is hashed file by
 * file. The local build is the counsellor's own, so its manifest is
 * trusted; the server's copy of the manifest never is.
 */
export async function hashBuild(dir: string): Promise<Map<string, string>> {
  const manifest = await readManifest(dir);
  if (manifest) return manifest;
  const out = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      throw new LocalFileError(
        `cannot read the local build at ${dir}: ${(error as Error).message} (run \`npm run build\` first, or name it with --build)`,
      );
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile())
        out.set(relative(dir, path).split(sep).join('/'), sha256(await readFile(path)));
    }
  };
  await walk(dir);
  if (!out.has('index.html'))
    throw new LocalFileError(`${dir} has no index.html: not a reporter page build`);
  return out;
}

async function readManifest(dir: string): Promise<Map<string, string> | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, 'manifest.json'));
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LocalFileError(
      `${join(dir, 'manifest.json')} is not JSON: rebuild the page (npm run build)`,
    );
  }
  const hashes = (value as { v?: unknown; sha256?: unknown }).sha256;
  if ((value as { v?: unknown }).v !== 1 || typeof hashes !== 'object' || hashes === null) {
    throw new LocalFileError(
      `${join(dir, 'manifest.json')} is not a Kluis build manifest: rebuild the page (npm run build)`,
    );
  }
  const out = new Map<string, string>();
  for (const [path, hash] of Object.entries(hashes)) {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))
      throw new LocalFileError(`${join(dir, 'manifest.json')}: the hash of ${path} is malformed`);
    out.set(path, hash);
  }
  out.set('manifest.json', sha256(bytes));
  if (!out.has('index.html'))
    throw new LocalFileError(`${dir} has no index.html: not a reporter page build`);
  return out;
}

/** The same-origin paths and the foreign URLs an HTML page refers to (src, href, srcset, and CSS url()). */
export function referencesOf(
  html: string,
  page: URL,
): { paths: Set<string>; foreign: Set<string> } {
  const paths = new Set<string>();
  const foreign = new Set<string>();
  const add = (raw: string) => {
    const value = raw.trim().replace(/&amp;/g, '&');
    if (value === '' || value.startsWith('#')) return;
    let url: URL;
    try {
      url = new URL(value, page);
    } catch {
      foreign.add(value);
      return;
    }
    if (url.origin !== page.origin) {
      foreign.add(url.href);
      return;
    }
    const base = page.pathname.replace(/[^/]*$/, '');
    if (url.pathname.startsWith(base))
      paths.add(decodeURIComponent(url.pathname.slice(base.length)) || 'index.html');
    else foreign.add(url.href);
  };
  const attribute = (attrs: string, name: string): string | undefined => {
    const match = new RegExp(
      `(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`,
      'i',
    ).exec(attrs);
    return match ? (match[1] ?? match[2] ?? match[3] ?? '') : undefined;
  };
  for (const tag of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>/g)) {
    const name = tag[1]!.toLowerCase();
    const attrs = tag[2] ?? '';
    // Links people click (a, area) and link rels that load nothing are not resources of the page.
    if (name !== 'a' && name !== 'area') {
      for (const key of ['src', 'action', 'formaction', 'poster', 'data']) {
        const value = attribute(attrs, key);
        if (value !== undefined) add(value);
      }
      const srcset = attribute(attrs, 'srcset');
      if (srcset !== undefined)
        for (const part of srcset.split(',')) add(part.trim().split(/\s+/)[0] ?? '');
    }
    const href = attribute(attrs, 'href');
    if (href !== undefined && name === 'link') {
      const rel = (attribute(attrs, 'rel') ?? '').toLowerCase();
      if (
        /\b(stylesheet|icon|preload|modulepreload|prefetch|manifest|apple-touch-icon|mask-icon)\b/.test(
          rel,
        )
      )
        add(href);
    } else if (href !== undefined && name !== 'a' && name !== 'area' && name !== 'base') {
      add(href);
    }
  }
  for (const match of html.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/gi)) add(match[1] ?? '');
  return { paths, foreign };
}

/** Fetches the page at `pageUrl` and every file of the local build, and compares. */
export async function verifyPage(
  api: CounsellorApi,
  pageUrl: URL,
  buildDir: string,
): Promise<PageCheck> {
  const local = await hashBuild(buildDir);
  const base = new URL(pageUrl.href.replace(/[?#].*$/, '').replace(/[^/]*$/, ''));
  const files: PageFileCheck[] = [];
  let csp: string | undefined;
  let html = '';
  const fetchHash = async (
    url: URL,
  ): Promise<{ status: number; hash?: string; body?: Buffer; csp?: string }> => {
    const response = await api.getPublic(url);
    const body = await readBody(response, 256 * 1024 * 1024);
    const status = response.statusCode ?? 0;
    const header = response.headers['content-security-policy'];
    return status === 200
      ? { status, hash: sha256(body), body, ...(typeof header === 'string' ? { csp: header } : {}) }
      : { status };
  };
  for (const [path, localSha256] of [...local].sort(([a], [b]) =>
    a === 'index.html' ? -1 : b === 'index.html' ? 1 : a.localeCompare(b),
  )) {
    const url =
      path === 'index.html'
        ? base
        : new URL(path.split('/').map(encodeURIComponent).join('/'), base);
    const live = await fetchHash(url);
    if (path === 'index.html') {
      csp = live.csp;
      html = live.body?.toString('utf8') ?? '';
    }
    if (!live.hash)
      files.push({ path, result: 'missing-on-server', localSha256, status: live.status });
    else
      files.push({
        path,
        result: live.hash === localSha256 ? 'same' : 'different',
        localSha256,
        liveSha256: live.hash,
      });
  }
  const { paths, foreign } = referencesOf(html, base);
  for (const path of [...paths].sort())
    if (!local.has(path)) files.push({ path, result: 'not-in-build' });
  for (const url of [...foreign].sort()) files.push({ path: url, result: 'other-origin' });
  return { url: base.href, files, ok: files.every((f) => f.result === 'same'), csp };
}

/** The files of a check that are not the same as the local build, one line each, for people. */
export function pageDifferences(check: PageCheck): string[] {
  return check.files
    .filter((file) => file.result !== 'same')
    .map(
      (file) =>
        `${file.result}: ${file.path}${file.liveSha256 ? ` (live ${file.liveSha256})` : ''}`,
    );
}

/** What the counsellor app reports of the page check it runs on every unlock. */
export type PageCheckReport =
  | { readonly state: 'not-configured' }
  | { readonly state: 'same'; readonly url: string; readonly files: number }
  | { readonly state: 'different'; readonly url: string; readonly differences: readonly string[] }
  | { readonly state: 'failed'; readonly url: string; readonly reason: string };

/**
 * Checks the live page against the counsellor's own build, for the app's
 * unlock: never throws; a difference is `different`, a check that could
 * not run (no local build, server unreachable) is `failed` with the reason.
 */
export async function checkPageOnUnlock(
  api: CounsellorApi,
  pageUrl: URL,
  buildDir: string | undefined,
): Promise<PageCheckReport> {
  if (buildDir === undefined) return { state: 'not-configured' };
  try {
    const check = await verifyPage(api, pageUrl, buildDir);
    return check.ok
      ? { state: 'same', url: check.url, files: check.files.length }
      : { state: 'different', url: check.url, differences: pageDifferences(check) };
  } catch (error) {
    return {
      state: 'failed',
      url: pageUrl.href,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
}
