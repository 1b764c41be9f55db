/**
 * The no-JavaScript pages in Chromium, in every language, at phone widths (320 and 390 CSS
 * pixels): the start page, the receipt, the way back and the conversation have no serious axe
 * violation, never scroll sideways, give touch targets of at least 44 pixels, and the Arabic
 * pages run right to left. The pages hold no script; the test measures them from outside.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASIC_LANGUAGES } from '../server/basic/texts.js';
import { writeBasicPage } from './helpers/basic-page.js';
import { launchBrowser, makeCounsellor, seriousViolations } from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

let dir: string;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kluis-basic-chromium-'));
  const counsellor = makeCounsellor('A. de Vries (test)');
  writeFileSync(join(dir, 'counsellors.json'), counsellor.bundlesJson);
  const page = writeBasicPage(join(dir, 'page'), [counsellor.bundle]);
  server = await startServer({
    env: { KLUIS_COUNSELLORS: join(dir, 'counsellors.json'), KLUIS_STATIC_DIR: page },
  });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What a screen must be at both phone widths. */
async function checkScreen(page: Page, lang: string, screen: string): Promise<void> {
  for (const width of [320, 390]) {
    await page.setViewportSize({ width, height: 700 });
    const where = `${lang} ${screen} at ${width} px`;
    const layout = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      dir: getComputedStyle(document.body).direction,
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      // Everything a finger presses: buttons, links, file inputs and the radio buttons' labels.
      small: [...document.querySelectorAll('button, a, input[type=file], label.choice')]
        .map((el) => ({
          text: (el.textContent ?? '').trim().slice(0, 40),
          h: el.getBoundingClientRect().height,
        }))
        .filter((t) => t.h < 44),
      headingSide: (() => {
        const h1 = document.querySelector('h1')!;
        const range = document.createRange();
        range.selectNodeContents(h1);
        const text = range.getBoundingClientRect();
        const box = h1.getBoundingClientRect();
        return { startGap: text.left - box.left, endGap: box.right - text.right };
      })(),
    }));
    expect(layout.lang, where).toBe(lang);
    expect(layout.dir, where).toBe(lang === 'ar' ? 'rtl' : 'ltr');
    expect(layout.scrollWidth, where).toBeLessThanOrEqual(layout.clientWidth);
    expect(layout.small, where).toEqual([]);
    if (lang === 'ar')
      expect(layout.headingSide.startGap, where).toBeGreaterThan(layout.headingSide.endGap);
    expect(await seriousViolations(page), where).toEqual([]);
  }
}

describe('the no-JavaScript pages on a phone, in every language', () => {
  for (const lang of BASIC_LANGUAGES) {
    it(`${lang}: write, receipt, come back, conversation`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/basic/?lang=${lang}`);
      await checkScreen(page, lang, 'start');
      await page.locator('#text').fill(`Test report (${lang}).`);
      await page.locator('form button[type=submit]').click();
      const code = (await page.locator('#receipt-code').textContent())!.trim();
      await checkScreen(page, lang, 'receipt');
      await page.goto(`${server.url}/basic/return?lang=${lang}`);
      await checkScreen(page, lang, 'return');
      await page.locator('#code').fill(code);
      await page.locator('form button[type=submit]').click();
      await page.locator('.messages').waitFor();
      await checkScreen(page, lang, 'conversation');
      await context.close();
    });
  }
});
