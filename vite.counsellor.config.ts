/**
 * Builds the counsellor's local app (client/counsellor/app/ui/) into
 * dist/counsellor-app/, which `npm run counsellor:app` serves from
 * 127.0.0.1 only (client/counsellor/app/server.ts). Never served by the
 * drop-box server. The same strict, reproducible static build as the
 * reporter page (client/build/static-build.ts).
 */

import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { staticBuild } from './client/build/static-build.js';

export default defineConfig(
  staticBuild({
    root: resolve(import.meta.dirname, 'client/counsellor/app/ui'),
    outDir: resolve(import.meta.dirname, 'dist/counsellor-app'),
    name: 'app',
  }),
);
