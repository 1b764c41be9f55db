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

type Localised = { nl: string; en: string };
type LocalisedList = { nl: string[]; en: string[] };

/** The build-time site configuration (see client/reporter/README.md). */
export interface SiteConfig {
  supportPoint: Localised;
  organisation: Localised;
  escalation: Localised;
  fingerprintsPublishedAt: Localised;
  otherWays: LocalisedList;
}

function fail(path: string, what: string): never {
  throw new Error(`site config ${path}: ${what}`);
}

function checkText(path: string, value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') fail(path, `${field} must be a non-empty string`);
  if (value.length > max) fail(path, `${field} is longer than ${max} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) fail(path, `${field} contains a control character`);
  return value;
}

function checkLocalised(path: string, value: unknown, field: string, max: number): Localised {
  if (typeof value !== 'object' || value === null) fail(path, `${field} must be an object { "nl": …, "en": … }`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => key !== 'nl' && key !== 'en');
  if (extra.length > 0) fail(path, `${field} has unknown keys: ${extra.join(', ')}`);
  return { nl: checkText(path, record.nl, `${field}.nl`, max), en: checkText(path, record.en, `${field}.en`, max) };
}

function checkList(path: string, value: unknown, field: string): LocalisedList {
  if (typeof value !== 'object' || value === null) fail(path, `${field} must be an object { "nl": [...], "en": [...] }`);
  const record = value as Record<string, unknown>;
  const list = (language: 'nl' | 'en'): string[] => {
    const items = record[language];
    if (!Array.isArray(items) || items.length === 0 || items.length > 10) {
      fail(path, `${field}.${language} must be a list of 1 to 10 strings`);
    }
    return items.map((item, i) => checkText(path, item, `${field}.${language}[${i}]`, 500));
  };
  const extra = Object.keys(record).filter((key) => key !== 'nl' && key !== 'en');
  if (extra.length > 0) fail(path, `${field} has unknown keys: ${extra.join(', ')}`);
  return { nl: list('nl'), en: list('en') };
}

/** Reads and checks the site configuration file. Throws with a message naming the file and field. */
export function loadSiteConfig(path: string): SiteConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(path, `cannot be read as JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be a JSON object');
  const record = value as Record<string, unknown>;
  const known = ['supportPoint', 'organisation', 'escalation', 'fingerprintsPublishedAt', 'otherWays'];
  const extra = Object.keys(record).filter((key) => !known.includes(key));
  if (extra.length > 0) fail(path, `unknown fields: ${extra.join(', ')}`);
  return {
    supportPoint: checkLocalised(path, record.supportPoint, 'supportPoint', 100),
    organisation: checkLocalised(path, record.organisation, 'organisation', 100),
    escalation: checkLocalised(path, record.escalation, 'escalation', 100),
    fingerprintsPublishedAt: checkLocalised(path, record.fingerprintsPublishedAt, 'fingerprintsPublishedAt', 300),
    otherWays: checkList(path, record.otherWays, 'otherWays'),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The <noscript> block, Dutch first: why JavaScript is needed, how to go from Safest to Safer, other ways in. */
export function noscriptHtml(site: SiteConfig): string {
  const text = {
    nl: {
      why: 'Deze pagina heeft JavaScript nodig',
      because:
        'Uw melding wordt in uw eigen browser versleuteld, voordat er iets wordt verstuurd. Alleen de vertrouwenspersoon kan haar lezen. Dat versleutelen doet JavaScript. Zonder JavaScript kan deze pagina niets voor u doen.',
      tor: 'Gebruikt u Tor Browser met het beveiligingsniveau ‘Veiligst’ (Safest)? Zet het dan op ‘Veiliger’ (Safer):',
      steps: [
        'Klik op het schildje naast de adresbalk.',
        'Kies ‘Wijzigen…’ of ‘Instellingen…’ (Change… / Settings…).',
        'Kies ‘Veiliger’ (Safer). Vraagt Tor Browser om opnieuw te starten? Doe dat.',
        'Open deze pagina opnieuw.',
      ],
      safer:
        'Deze pagina werkt op ‘Veiliger’. Zij gebruikt geen WebAssembly, geen lettertypen of plaatjes van andere websites, en maakt geen contact met andere websites. Bent u klaar? Dan kunt u het niveau weer op ‘Veiligst’ zetten.',
      other: 'Liever niet? U kunt ons ook zo bereiken:',
    },
    en: {
      why: 'This page needs JavaScript',
      because:
        'Your report is encrypted in your own browser before anything is sent. Only the counsellor can read it. JavaScript does that encryption. Without JavaScript, this page cannot do anything for you.',
      tor: 'Are you using Tor Browser at the security level ‘Safest’? Then set it to ‘Safer’:',
      steps: [
        'Click the shield icon next to the address bar.',
        'Choose ‘Change…’ or ‘Settings…’.',
        'Choose ‘Safer’. If Tor Browser asks to restart, do so.',
        'Open this page again.',
      ],
      safer:
        'This page works at ‘Safer’. It uses no WebAssembly, no fonts or images from other websites, and contacts no other website. When you are done, you can set the level back to ‘Safest’.',
      other: 'Would you rather not? You can also reach us like this:',
    },
  } as const;
  const block = (language: 'nl' | 'en'): string => {
    const t = text[language];
    return [
      `<section class="noscript" lang="${language}">`,
      `<h1>${escapeHtml(site.supportPoint[language])}</h1>`,
      `<h2>${escapeHtml(t.why)}</h2>`,
      `<p>${escapeHtml(t.because)}</p>`,
      `<p>${escapeHtml(t.tor)}</p>`,
      `<ol>${t.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>`,
      `<p>${escapeHtml(t.safer)}</p>`,
      `<h2>${escapeHtml(t.other)}</h2>`,
      `<ul>${site.otherWays[language].map((way) => `<li>${escapeHtml(way)}</li>`).join('')}</ul>`,
      '</section>',
    ].join('\n');
  };
  return `<noscript><main class="noscript-main">\n${block('nl')}\n${block('en')}\n</main></noscript>`;
}

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
