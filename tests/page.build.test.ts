/**
 * The built reporter page itself: reproducible, within its JavaScript
 * budget, nothing a strict CSP or Tor Browser's Safer level would block,
 * a <noscript> explanation when JavaScript is off, and the demo banner
 * when the server runs without configured counsellors.
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashBuild } from '../client/counsellor/lib/verify-page.js';
import { applySite, readPage } from '../client/reporter/build/site-step.js';
import { CATALOGUES, LANGUAGE_LIST } from '../client/reporter/build/catalogues.js';
import { loadSiteConfig } from '../client/reporter/build/site-config.js';
import {
  buildGenericReporter,
  chooseLanguage,
  buildReporter,
  launchBrowser,
  recordRequests,
} from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const site = JSON.parse(readFileSync('client/reporter/site.config.json', 'utf8')) as {
  otherWays: { nl: string[]; en: string[] };
};

function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}

let first: string;
let second: string;
let generic: string;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  first = await buildReporter();
  second = await buildReporter();
  generic = await buildGenericReporter();
  // No KLUIS_COUNSELLORS: demo mode.
  server = await startServer({ env: { KLUIS_STATIC_DIR: first } });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  for (const dir of [first, second, generic])
    if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built reporter page', () => {
  it('is byte-identical across two clean builds, with relative, content-named assets', async () => {
    const names = files(first).sort();
    expect(files(second).sort()).toEqual(names);
    for (const name of names)
      expect(readFileSync(join(second, name)).equals(readFileSync(join(first, name))), name).toBe(
        true,
      );
    // The page, and the worker that encrypts attachments on every core.
    expect(
      names.filter((n) => n.endsWith('.js')).map((n) => n.replace(/-[\w-]{8}\.js$/, '')),
    ).toEqual(['assets/reporter', 'assets/worker']);
    expect(names.filter((n) => n.endsWith('.css'))).toHaveLength(1);
    // The manifest names every other file with its SHA-256, for verify-page.
    const manifest = JSON.parse(readFileSync(join(first, 'manifest.json'), 'utf8')) as {
      v: number;
      sha256: Record<string, string>;
    };
    expect(Object.keys(manifest.sha256).sort()).toEqual(names.filter((n) => n !== 'manifest.json'));
    for (const [name, hash] of Object.entries(manifest.sha256))
      expect(
        createHash('sha256')
          .update(readFileSync(join(first, name)))
          .digest('hex'),
      ).toBe(hash);
    // verify-page reads the local build through its manifest: the same hashes as every file on disk.
    const walked = new Map(
      names.map(
        (name) =>
          [
            name,
            createHash('sha256')
              .update(readFileSync(join(first, name)))
              .digest('hex'),
          ] as const,
      ),
    );
    expect(await hashBuild(first)).toEqual(walked);
    const html = readFileSync(join(first, 'index.html'), 'utf8');
    expect(html).toMatch(
      /<script type="module" crossorigin src="\.\/assets\/reporter-[\w-]+\.js"><\/script>/,
    );
    expect(html).toMatch(
      /<link rel="stylesheet" crossorigin href="\.\/assets\/reporter-[\w-]+\.css">/,
    );
  });

  it('ships at most 60 KB of JavaScript (gzip) with its largest catalogue, and nothing Safer level or the CSP would refuse', () => {
    const gzipped = (n: string) => gzipSync(readFileSync(join(first, n)), { level: 9 }).length;
    const js = files(first).filter((n) => n.endsWith('.js'));
    // One message catalogue per language, each its own file: a visitor fetches one at a time.
    const catalogues = files(first).filter((n) => /^assets\/.*\.json$/.test(n));
    expect(catalogues).toHaveLength(LANGUAGE_LIST.length);
    // Only what the page shows: the <noscript> block's and the no-JavaScript pages' words stay home.
    for (const name of catalogues) {
      const keys = Object.keys(JSON.parse(readFileSync(join(first, name), 'utf8')) as object);
      expect(keys).toContain('welcomeTitle');
      expect(keys.filter((k) => /^(basic|noscript)[A-Z0-9_]|^ackDefaultText$/.test(k))).toEqual([]);
    }
    const gzip = js.reduce((sum, n) => sum + gzipped(n), 0) + Math.max(...catalogues.map(gzipped));
    expect(gzip).toBeLessThanOrEqual(60 * 1024);
    const html = readFileSync(join(first, 'index.html'), 'utf8');
    // No inline script: the <script>s without src are inert data blocks, the site configuration
    // and the first language's words (so the first screen needs no request after the script's).
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toEqual([
      '<script type="application/json" id="kluis-site">',
      '<script type="application/json" id="kluis-first-catalogue" lang="nl">',
    ]);
    expect(html).not.toMatch(/\sstyle=|<style/); // no inline style
    expect(html).not.toMatch(/\bon[a-z]+=/); // no inline handlers
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from elsewhere
    const code = js.map((n) => readFileSync(join(first, n), 'utf8')).join('\n');
    for (const banned of [
      /\beval\(/,
      /new Function\(/,
      /WebAssembly/,
      /localStorage/,
      /sessionStorage/,
      /indexedDB/,
      /document\.cookie/,
    ]) {
      expect(code).not.toMatch(banned);
    }
    const css = files(first)
      .filter((n) => n.endsWith('.css'))
      .map((n) => readFileSync(join(first, n), 'utf8'))
      .join('\n');
    expect(css).not.toMatch(/@font-face|@import|url\(/);
  });

  it('is the generic page plus the site step, and the generic page holds nothing of the site', () => {
    // What a release ships and `kluis-server build-page` runs: the same bytes as `npm run build`.
    const site = loadSiteConfig('client/reporter/site.config.json');
    const built = applySite(readPage(generic), site);
    const direct = readPage(first);
    expect([...built.keys()]).toEqual([...direct.keys()].sort());
    for (const [name, bytes] of built)
      expect(Buffer.from(bytes).equals(Buffer.from(direct.get(name)!)), name).toBe(true);
    // The generic page: marks where the site goes, no keys, no manifest, and no site text in any file.
    const genericFiles = readPage(generic);
    expect([...genericFiles.keys()].filter((n) => !n.startsWith('assets/'))).toEqual([
      'index.html',
    ]);
    const texts = [
      site.supportPoint.nl!,
      site.supportPoint.en,
      site.fingerprintsPublishedAt.nl!,
      ...site.otherWays.nl!,
    ];
    for (const [name, bytes] of genericFiles) {
      const text = Buffer.from(bytes).toString('utf8');
      for (const t of texts) expect(text.includes(t), `${name} holds ${t}`).toBe(false);
    }
    const html = Buffer.from(genericFiles.get('index.html')!).toString('utf8');
    for (const mark of ['<!--kluis:title-->', '<!--kluis:site-->', '<!--kluis:noscript-->'])
      expect(html).toContain(mark);
  });

  it('reads its site configuration from the data block under the server’s CSP, with no violation', async () => {
    const context = await browser.newContext();
    // An init script is the browser's own, not the page's: the CSP does not apply to it.
    await context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { violations: string[] }).violations = seen;
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const response = await page.goto(server.url);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    await page.getByTestId('demo-banner').waitFor();
    // The support point's name reaches the page only through the data block.
    expect(await page.locator('#app').textContent()).toContain('Extern steunpunt integriteit');
    expect(
      await page.evaluate(() => (window as unknown as { violations: string[] }).violations),
    ).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('explains itself without JavaScript: why it is needed, Safest to Safer, and other ways to reach the counsellor', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const requests = recordRequests(page);
    await page.goto(server.url);
    // innerText on purpose: only what is rendered counts (with JavaScript on, <noscript> is not).
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is being tested
    const text = await page.locator('body').innerText();
    expect(text).toContain('Deze pagina heeft JavaScript nodig');
    expect(text).toContain('Zet het dan op ‘Veiliger’ (Safer)');
    expect(text).toContain('This page needs JavaScript');
    expect(text).toContain('Choose ‘Safer’. If Tor Browser asks to restart, do so.');
    for (const way of [...site.otherWays.nl, ...site.otherWays.en]) expect(text).toContain(way);
    // The way to report without JavaScript, in each language (server/routes/basic.tsx).
    expect(
      await page.getByRole('link', { name: 'Melden zonder JavaScript' }).getAttribute('href'),
    ).toBe('/basic/?lang=nl');
    expect(
      await page.getByRole('link', { name: 'Report without JavaScript' }).getAttribute('href'),
    ).toBe('/basic/?lang=en');
    expect(text.indexOf('Deze pagina heeft JavaScript nodig')).toBeLessThan(
      text.indexOf('This page needs JavaScript'),
    );
    // Every language has its section, in its own language and direction, linking to the no-JavaScript path.
    for (const { code, dir } of LANGUAGE_LIST) {
      const section = page.locator(
        `noscript section[lang="${code}"], section.noscript[lang="${code}"]`,
      );
      expect(await section.getAttribute('dir')).toBe(dir);
      const c = CATALOGUES[code]!;
      const link = section.getByRole('link', { name: c.noscriptBasicLink! });
      expect(await link.getAttribute('href')).toBe(`/basic/?lang=${code}`);
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is being tested
      const own = await section.innerText();
      expect(own).toContain(c.noscriptWhy!);
      expect(own).toContain(c.noscriptBasic!);
    }
    expect(requests.every((r) => new URL(r.url).origin === server.url)).toBe(true);
    await context.close();
  });

  it('shows a clear banner in demo mode', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    const banner = page.getByTestId('demo-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Stuur hier geen echte melding');
    await chooseLanguage(page, 'English');
    expect(await banner.textContent()).toContain('Do not send a real report here');
    await context.close();
  });
});
