/**
 * The site step of the reporter page build, in plain Node (no Vite): it
 * turns the generic page (built once by Vite, with no site-specific data
 * in its JavaScript) into one deployment's page. It writes into
 * index.html the title, the `<noscript>` block and the whole checked site
 * configuration as an inert data block
 * (`<script type="application/json" id="kluis-site">`: never executed, so
 * the page's CSP, which allows no inline script, does not concern it; the
 * page reads it at start, client/reporter/src/site.ts), and beside it
 * keys.json (the keys the page seals for) and manifest.json (every file's
 * SHA-256, for verify-page).
 *
 * `npm run build` runs both steps (vite.config.ts); a release ships the
 * generic page and runs this step with `kluis-server build-page`. The same
 * generic page and site configuration give byte-identical files.
 * @module
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { LANGUAGE_LIST } from './catalogues.js';
import {
  escapeHtml,
  loadSiteConfig,
  noscriptHtml,
  type SiteConfig,
  siteTextIn,
} from './site-config.js';

/** The marks in the generic index.html that the site step fills in, each exactly once. */
export const MARKS = {
  title: '<!--kluis:title-->',
  noscript: '<!--kluis:noscript-->',
  site: '<!--kluis:site-->',
} as const;

/** The id of the data block that holds the site configuration. */
export const SITE_BLOCK_ID = 'kluis-site';

/** Files the site step writes; a generic page must not hold them. */
const SITE_FILES = ['keys.json', 'manifest.json'];

/** A page as files: URL path without the leading slash ("assets/x.js") → bytes. */
export type PageFiles = ReadonlyMap<string, Uint8Array>;

export class SiteStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteStepError';
  }
}

/**
 * A value as an inert data block (`<script type="application/json">`, never executed): JSON with
 * `<`, `>` and `&` escaped, so no text can end the element. `attributes` are written as given.
 */
export function jsonDataBlock(id: string, value: unknown, attributes = ''): string {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
  return `<script type="application/json" id="${id}"${attributes}>${json}</script>`;
}

/** The site configuration as a data block. */
export function siteDataBlock(site: SiteConfig): string {
  return jsonDataBlock(SITE_BLOCK_ID, site);
}

/** The keys a page holds, as keys.json spells them (the server compares them with its own at start). */
export function keysJson(site: Pick<SiteConfig, 'counsellors' | 'escalationRecipients'>): string {
  return `${JSON.stringify({ v: 1, counsellors: site.counsellors, escalationRecipients: site.escalationRecipients }, null, 2)}\n`;
}

/** manifest.json for `files` (every file but itself, sorted by name). */
export function manifestJson(files: PageFiles): string {
  const sha256: Record<string, string> = {};
  for (const name of [...files.keys()].filter((n) => n !== 'manifest.json').sort()) {
    sha256[name] = createHash('sha256').update(files.get(name)!).digest('hex');
  }
  return `${JSON.stringify({ v: 1, sha256 }, null, 2)}\n`;
}

function fillOnce(html: string, mark: string, value: string): string {
  const at = html.indexOf(mark);
  if (at < 0 || html.indexOf(mark, at + 1) >= 0)
    throw new SiteStepError(
      `index.html must hold ${mark} exactly once: not a generic reporter page`,
    );
  return html.slice(0, at) + value + html.slice(at + mark.length);
}

/** The deployment's page: the generic page with `site` written in (pure; same inputs, same bytes). */
export function applySite(generic: PageFiles, site: SiteConfig): Map<string, Uint8Array> {
  const index = generic.get('index.html');
  if (!index) throw new SiteStepError('the generic page has no index.html');
  for (const name of SITE_FILES)
    if (generic.has(name))
      throw new SiteStepError(
        `the generic page already holds ${name}: not a generic reporter page`,
      );
  let html = new TextDecoder('utf-8', { fatal: true }).decode(index);
  html = fillOnce(
    html,
    MARKS.title,
    escapeHtml(siteTextIn(site.supportPoint, LANGUAGE_LIST[0]!.code)),
  );
  html = fillOnce(html, MARKS.noscript, noscriptHtml(site));
  html = fillOnce(html, MARKS.site, siteDataBlock(site));
  const out = new Map(generic);
  const encode = (text: string) => new TextEncoder().encode(text);
  out.set('index.html', encode(html));
  out.set('keys.json', encode(keysJson(site)));
  out.set('manifest.json', encode(manifestJson(out)));
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Every file under `dir`, keyed by its path relative to it with `/`. */
export function readPage(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile())
        files.set(relative(dir, path).split(sep).join('/'), new Uint8Array(readFileSync(path)));
    }
  };
  walk(dir);
  return files;
}

/**
 * Writes `files` into `dir`: a directory that is missing, empty, or an
 * earlier page build (it holds manifest.json), whose files are replaced.
 * Anything else is refused, so a wrong `--out` deletes nothing.
 */
export function writePage(files: PageFiles, dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes('manifest.json')) {
      throw new SiteStepError(
        `${dir} is neither empty nor a reporter page build (no manifest.json): not writing into it`,
      );
    }
    for (const entry of entries) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) {
    const path = join(dir, ...name.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
}

/** The site step on disk: the generic page in `genericDir`, the site configuration file `sitePath`, the page into `outDir` (may be `genericDir`). */
export function buildSitePage(
  genericDir: string,
  sitePath: string,
  outDir: string,
): { files: number; site: SiteConfig } {
  const site = loadSiteConfig(sitePath);
  const page = applySite(readPage(genericDir), site);
  writePage(page, outDir);
  return { files: page.size, site };
}
