/**
 * What the reporter page and the counsellor app share in their Vite
 * builds: relative asset URLs, content-hashed names, no inline script or
 * style, no data: URIs, no module-preload polyfill (both run under
 * `default-src 'self'`), no source maps, and the same output on every
 * build of the same sources.
 * @module
 */

import type { UserConfig } from 'vite';

/** The Vite configuration of a strict, reproducible static build of `root` into `outDir`; assets are named `<name>-<hash>`. */
export function staticBuild(options: { root: string; outDir: string; name: string }): UserConfig {
  return {
    root: options.root,
    base: './',
    publicDir: false,
    mode: 'production',
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact', development: false } },
    build: {
      outDir: options.outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      cssCodeSplit: false,
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
      rolldownOptions: {
        output: {
          entryFileNames: `assets/${options.name}-[hash].js`,
          chunkFileNames: 'assets/[name]-[hash].js',
          assetFileNames: `assets/${options.name}-[hash][extname]`,
        },
      },
    },
  };
}
