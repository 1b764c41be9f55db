/**
 * Builds the reporter page (client/reporter/) into static files in
 * dist/reporter/, which the server serves at `/`: a strict, reproducible
 * static build (client/build/static-build.ts) of the generic page, then the
 * site step (client/reporter/build/site-step.ts, run by the plugin in
 * client/reporter/build/plugins.ts): the site configuration from
 * client/reporter/site.config.json, or the file KLUIS_SITE_CONFIG names
 * (texts and the keys the page seals for, checked, failing the build with a
 * clear message) written into index.html, keys.json and manifest.json. The
 * JavaScript budget (60 KB gzip) is checked too. KLUIS_PAGE_GENERIC=1
 * builds only the generic page (what a release ships; `npm run release`).
 * See client/reporter/README.md.
 */

import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { staticBuild } from './client/build/static-build.js';
import { jsBudget, pageCatalogues, siteConfig } from './client/reporter/build/plugins.js';

const root = resolve(import.meta.dirname, 'client/reporter');

export default defineConfig({
  ...staticBuild({ root, outDir: resolve(import.meta.dirname, 'dist/reporter'), name: 'reporter' }),
  worker: {
    format: 'es',
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
      },
    },
  },
  plugins: [
    pageCatalogues(),
    siteConfig(
      process.env.KLUIS_PAGE_GENERIC === '1'
        ? undefined
        : resolve(process.env.KLUIS_SITE_CONFIG ?? resolve(root, 'site.config.json')),
    ),
    jsBudget(),
  ],
});
