/**
 * Builds the counsellor's local app (client/counsellor/app/ui/) into
 * dist/counsellor-app/, which `npm run counsellor:app` serves from
 * 127.0.0.1 only (client/counsellor/app/server.ts). Never served by the
 * drop-box server. No inline script or style, no data: URIs, no
 * module-preload polyfill: the app runs under default-src 'self'.
 */

import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: resolve(import.meta.dirname, 'client/counsellor/app/ui'),
  base: './',
  publicDir: false,
  mode: 'production',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact', development: false } },
  build: {
    outDir: resolve(import.meta.dirname, 'dist/counsellor-app'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/app-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/app-[hash][extname]',
      },
    },
  },
});
