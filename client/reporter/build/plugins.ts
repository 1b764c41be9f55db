/**
 * The reporter page's own build steps, as Vite plugins: the site step
 * (client/reporter/build/site-step.ts: title, `<noscript>` block, the site
 * configuration as a data block in index.html, keys.json, manifest.json)
 * after the generic page is written, and the JavaScript budget.
 * @module
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin, ResolvedConfig } from 'vite';
import { pageCatalogue } from './catalogues.js';
import { loadSiteConfig, type SiteConfig } from './site-config.js';
import languages from '../languages.json' with { type: 'json' };
import { FIRST_CATALOGUE_ID } from '../src/first-catalogue.js';
import { applySite, jsonDataBlock, readPage } from './site-step.js';

/**
 * Budget for the JavaScript a visitor downloads, gzip-compressed (level 9),
 * in bytes: every chunk of code (the worker included) plus the largest
 * message catalogue. Catalogues are JSON files of their own, fetched one at
 * a time (src/i18n.ts), so adding a language does not add to what anyone
 * downloads; the largest stands for the one a visitor gets.
 */
export const JS_BUDGET_BYTES = 60 * 1024;

/**
 * Checks the site configuration (the file at `path`) when the build starts,
 * and writes it into the built page once Vite is done: the site step,
 * exactly as `kluis-server build-page` runs it on a released generic page.
 * With `path` undefined the build is the generic page (marks left in
 * index.html, no keys.json, no manifest.json): what a release ships.
 */
export function siteConfig(path: string | undefined): Plugin {
  let site: SiteConfig | undefined;
  let outDir = '';
  return {
    name: 'kluis-site-config',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    buildStart() {
      if (path === undefined) return;
      site = loadSiteConfig(path);
      this.addWatchFile(path);
    },
    closeBundle() {
      if (site === undefined) return;
      const page = applySite(readPage(outDir), site);
      for (const name of ['index.html', 'keys.json', 'manifest.json'])
        writeFileSync(join(outDir, name), page.get(name)!);
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
      let catalogueRaw = 0;
      let catalogueGzip = 0;
      // The page's chunks, and the worker, which Vite emits as an asset.
      for (const item of Object.values(bundle)) {
        const code =
          item.type === 'chunk'
            ? item.code
            : item.fileName.endsWith('.js') || item.fileName.endsWith('.json')
              ? item.source
              : undefined;
        if (code === undefined) continue;
        const size = gzipSync(code, { level: 9 }).length;
        // KLUIS_BUDGET_DETAIL=1 names each file's share, to see where the budget goes.
        if (process.env.KLUIS_BUDGET_DETAIL === '1')
          logger?.info(`  ${item.fileName}: ${(size / 1024).toFixed(1)} KB gzip`);
        if (item.fileName.endsWith('.json')) {
          // A message catalogue: only the largest counts (one is fetched at a time).
          if (size > catalogueGzip) {
            catalogueGzip = size;
            catalogueRaw = Buffer.byteLength(code);
          }
          continue;
        }
        raw += Buffer.byteLength(code);
        gzip += size;
      }
      raw += catalogueRaw;
      gzip += catalogueGzip;
      const kb = (bytes: number) => (bytes / 1024).toFixed(1);
      logger?.info(
        `JavaScript shipped: ${kb(raw)} KB, ${kb(gzip)} KB gzip, code and the largest catalogue (${kb(catalogueGzip)} KB gzip) (budget ${kb(JS_BUDGET_BYTES)} KB gzip)`,
      );
      if (gzip > JS_BUDGET_BYTES)
        this.error(`JavaScript is ${kb(gzip)} KB gzip, over the ${kb(JS_BUDGET_BYTES)} KB budget`);
    },
  };
}

/**
 * Emits each message catalogue the page imports as `locales/<lang>.json?url` as a file of its
 * own holding only the keys the page shows at run time (`pageCatalogue`): the no-JavaScript
 * pages' and the `<noscript>` block's words stay out of what a visitor downloads. The file is
 * content-named and lands in manifest.json like every other file of the build.
 */
export function pageCatalogues(): Plugin {
  return {
    name: 'kluis-page-catalogues',
    apply: 'build',
    enforce: 'pre',
    // The first language's words in the page itself (src/main.tsx reads them): over Tor, a
    // catalogue fetched after the script would be one more round trip before the first screen.
    transformIndexHtml(html) {
      const lang = languages.default;
      const path = resolve(import.meta.dirname, '..', 'locales', `${lang}.json`);
      const catalogue = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
      const block = jsonDataBlock(FIRST_CATALOGUE_ID, pageCatalogue(catalogue), ` lang="${lang}"`);
      return html.replace('</head>', `  ${block}\n  </head>`);
    },
    load(id) {
      const [path = '', query = ''] = id.split('?');
      if (!query.split('&').includes('url') || !/[/\\]locales[/\\][^/\\]+\.json$/.test(path))
        return null;
      const catalogue = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
      const reference = this.emitFile({
        type: 'asset',
        name: basename(path),
        source: `${JSON.stringify(pageCatalogue(catalogue))}\n`,
      });
      return `export default import.meta.ROLLDOWN_FILE_URL_${reference};`;
    },
  };
}
