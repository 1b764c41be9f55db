/**
 * The reporter page's own build steps, as Vite plugins: the site
 * configuration (texts and keys) as `virtual:kluis-site`, `keys.json`, the
 * title and `<noscript>` block in index.html; the JavaScript budget; and
 * manifest.json with every file's SHA-256.
 * @module
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin, ResolvedConfig } from 'vite';
import { escapeHtml, loadSiteConfig, noscriptHtml, type SiteConfig } from './site-config.js';

/** Budget for all JavaScript shipped, gzip-compressed (level 9), in bytes. */
export const JS_BUDGET_BYTES = 60 * 1024;

const VIRTUAL_SITE = 'virtual:kluis-site';

/** Serves the checked site config (the file at `path`) as `virtual:kluis-site`, emits keys.json, and writes the title and <noscript> block into index.html. */
export function siteConfig(path: string): Plugin {
  let site: SiteConfig;
  return {
    name: 'kluis-site-config',
    buildStart() {
      site = loadSiteConfig(path);
      this.addWatchFile(path);
    },
    resolveId(id) {
      return id === VIRTUAL_SITE ? `\0${VIRTUAL_SITE}` : undefined;
    },
    load(id) {
      if (id !== `\0${VIRTUAL_SITE}`) return undefined;
      site ??= loadSiteConfig(path);
      return `export default ${JSON.stringify(site)};`;
    },
    generateBundle() {
      // The keys this page seals for, beside it: the server compares them with its own at start.
      const keys = { v: 1, counsellors: site.counsellors, escalationRecipients: site.escalationRecipients };
      this.emitFile({ type: 'asset', fileName: 'keys.json', source: `${JSON.stringify(keys, null, 2)}\n` });
    },
    transformIndexHtml(html) {
      site ??= loadSiteConfig(path);
      return html
        .replace('<!--kluis:title-->', escapeHtml(site.supportPoint.nl))
        .replace('<!--kluis:noscript-->', noscriptHtml(site));
    },
  };
}

/** Prints the JavaScript shipped, gzip-compressed, and fails the build above the budget. */
export function jsBudget(): Plugin {
  let logger: ResolvedConfig['logger'] | undefined;
  return {
    name: 'kluis-js-budget',
    apply: 'build',
    configResolved(config) {
      logger = config.logger;
    },
    generateBundle(_options, bundle) {
      let raw = 0;
      let gzip = 0;
      // The page's chunks, and the worker, which Vite emits as an asset.
      for (const item of Object.values(bundle)) {
        const code = item.type === 'chunk' ? item.code : item.fileName.endsWith('.js') ? item.source : undefined;
        if (code === undefined) continue;
        raw += Buffer.byteLength(code);
        gzip += gzipSync(code, { level: 9 }).length;
      }
      const kb = (bytes: number) => (bytes / 1024).toFixed(1);
      logger?.info(`JavaScript shipped: ${kb(raw)} KB, ${kb(gzip)} KB gzip (budget ${kb(JS_BUDGET_BYTES)} KB gzip)`);
      if (gzip > JS_BUDGET_BYTES) this.error(`JavaScript is ${kb(gzip)} KB gzip, over the ${kb(JS_BUDGET_BYTES)} KB budget`);
    },
  };
}

/**
 * Writes manifest.json beside the build: the SHA-256 of every file, so a
 * counsellor can compare a live deployment with a build of their own
 * (`kluis-counsellor verify-page`). It is published with the page, but a
 * verifier must trust only its own build's manifest, never the server's.
 */
export function hashManifest(): Plugin {
  let outDir = '';
  return {
    name: 'kluis-hash-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const manifest = join(outDir, 'manifest.json');
      const files: Record<string, string> = {};
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) walk(path);
          else if (path !== manifest) files[relative(outDir, path).split(sep).join('/')] = createHash('sha256').update(readFileSync(path)).digest('hex');
        }
      };
      walk(outDir);
      writeFileSync(manifest, `${JSON.stringify({ v: 1, sha256: files }, null, 2)}\n`);
    },
  };
}
