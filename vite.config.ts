/**
 * Builds the reporter page (client/reporter/) into static files in
 * dist/reporter/, which the server serves at `/`.
 *
 * - Relative asset URLs (`base: './'`), one JavaScript and one CSS file,
 *   content-hashed names: two clean builds of the same sources are
 *   byte-identical.
 * - No inline script, no inline style, no data: URIs, no module-preload
 *   polyfill: the page runs under `default-src 'self'`.
 * - The site's own texts (names, where fingerprints are published, other
 *   ways to reach the counsellor) come from client/reporter/site.config.json,
 *   or the file named by KLUIS_SITE_CONFIG at build time (see
 *   client/reporter/README.md). They are checked here and fail the build
 *   with a clear message when wrong.
 * - Prints the JavaScript shipped (gzip) and fails above the 60 KB budget.
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin, ResolvedConfig } from 'vite';
import { defineConfig } from 'vite';

const ROOT = resolve(import.meta.dirname, 'client/reporter');
const OUT_DIR = resolve(import.meta.dirname, 'dist/reporter');
/** Budget for all JavaScript shipped, gzip-compressed (level 9), in bytes. */
const JS_BUDGET_BYTES = 60 * 1024;

import { escapeHtml, loadSiteConfig, noscriptHtml, type SiteConfig } from './client/reporter/build/site-config.js';

const VIRTUAL_SITE = 'virtual:kluis-site';

/** Serves the checked site config as `virtual:kluis-site` and writes the title and <noscript> block into index.html. */
function siteConfig(): Plugin {
  const path = resolve(process.env.KLUIS_SITE_CONFIG ?? resolve(ROOT, 'site.config.json'));
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
function jsBudget(): Plugin {
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
function hashManifest(): Plugin {
  let outDir = OUT_DIR;
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

export default defineConfig({
  root: ROOT,
  base: './',
  publicDir: false,
  mode: 'production',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact', development: false } },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/reporter-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/reporter-[hash][extname]',
      },
    },
  },
  worker: {
    format: 'es',
    rolldownOptions: { output: { entryFileNames: 'assets/[name]-[hash].js', chunkFileNames: 'assets/[name]-[hash].js' } },
  },
  plugins: [siteConfig(), jsBudget(), hashManifest()],
});
