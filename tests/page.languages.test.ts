/**
 * The reporter page in every language, on phones, in JIT-less Chromium against the real server:
 * for each language of client/reporter/languages.json a report with a file is written, sent and
 * opened again, and on every screen (welcome, write, receipt, case, come back) at 320 and 390
 * pixels wide: no horizontal scrolling, every touch target at least 44 px, no serious axe
 * violation, `lang` and `dir` of the language, and the language picker. Arabic is laid out right
 * to left. The counsellor sees the report's language; the case screen shows where the case
 * stands on the procedure.
 */

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUES, LANGUAGE_LIST } from '../client/reporter/build/catalogues.js';
import { message } from '../client/reporter/src/catalogue.js';
import {
  chooseLanguage,
  counsellorPost,
  counsellorRead,
  makeCounsellor,
  seriousViolations,
  type PageRig,
  startPageRig,
  type TestCounsellor,
} from './helpers/browser.js';
import type { ServerProcess } from './helpers/server-process.js';

const counsellor: TestCounsellor = makeCounsellor('A. de Vries (test)');
let rig: PageRig;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  rig = await startPageRig([counsellor]);
  ({ server, browser } = rig);
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

/** What breaks a phone layout or a finger: measured in the page. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth)
      problems.push(`page is ${root.scrollWidth} px wide in a ${root.clientWidth} px viewport`);
    const targets = document.querySelectorAll<HTMLElement>(
      'button, a[href], input, select, textarea',
    );
    for (const element of targets) {
      const style = getComputedStyle(element);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      if (element.closest('.visually-hidden')) continue;
      // A radio button or checkbox is touched through its label.
      const input = element as HTMLInputElement;
      const target =
        input.type === 'radio' || input.type === 'checkbox'
          ? (element.closest('label') ?? element)
          : element;
      const rect = target.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      if (rect.height < 44 || rect.width < 44) {
        const name =
          (target.textContent ?? '').trim().slice(0, 30) || target.outerHTML.slice(0, 60);
        problems.push(`touch target ${Math.round(rect.width)}×${Math.round(rect.height)}: ${name}`);
      }
    }
    return problems;
  });
}

/** Checks the screen as it is at 320 and at 390 px wide; axe once (its rules do not depend on width). */
async function checkScreen(page: Page, code: string, screen: string): Promise<void> {
  const language = LANGUAGE_LIST.find((l) => l.code === code)!;
  const c = CATALOGUES[code]!;
  for (const width of [320, 390]) {
    await page.setViewportSize({ width, height: 740 });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
    expect(await layoutProblems(page), `${code} ${screen} at ${width} px`).toEqual([]);
  }
  expect(await seriousViolations(page), `${code} ${screen}`).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.lang)).toBe(code);
  expect(await page.evaluate(() => document.documentElement.dir)).toBe(language.dir);
  // The picker, on every screen: every language by its own name, this one pressed.
  const picker = page.getByRole('navigation', { name: c.languagePicker! });
  expect(await picker.getByRole('button').count()).toBe(LANGUAGE_LIST.length);
  for (const { name } of LANGUAGE_LIST)
    expect(await picker.getByRole('button', { name, exact: true }).isVisible()).toBe(true);
  expect(await picker.locator('button[aria-pressed="true"]').getAttribute('lang')).toBe(code);
}

/** Where the page's parts sit: the mirrored layout of a right-to-left language. */
async function sides(page: Page): Promise<{ exitStart: boolean; direction: string }> {
  return page.evaluate(() => {
    const exit = document.querySelector('[data-testid="quick-exit"]')!.getBoundingClientRect();
    const middle = document.documentElement.clientWidth / 2;
    const main = document.getElementById('main')!;
    const direction = getComputedStyle(main).direction;
    // The inline start is the left in left-to-right, the right in right-to-left.
    const exitStart = direction === 'rtl' ? exit.left > middle : exit.right < middle;
    return { exitStart, direction };
  });
}

describe('the reporter page in every language, on phones', () => {
  for (const { code, name, dir } of LANGUAGE_LIST) {
    it(`${name} (${code}): every screen fits 320 and 390 px, is accessible, ${dir}`, async () => {
      const c = CATALOGUES[code]!;
      const t = (key: string, params: Record<string, string | number> = {}) =>
        message(c, code, key, params);
      const context = await browser.newContext({ viewport: { width: 320, height: 740 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(server.url);
      await page.locator('.fingerprint').first().waitFor();
      await chooseLanguage(page, name);
      await page.getByRole('heading', { level: 1, name: t('welcomeTitle') }).waitFor();
      await page.getByRole('heading', { name: t('procedureTitle') }).waitFor();
      await checkScreen(page, code, 'welcome');
      const layout = await sides(page);
      expect(layout.direction).toBe(dir);
      expect(layout.exitStart, 'leave quickly sits at the inline start').toBe(true);

      // Write, with a file whose long name must wrap, not widen the page.
      await page.getByRole('button', { name: t('startReport') }).click();
      await page.getByLabel(t('textLabel')).fill(`Report in ${code}.`);
      await page.getByLabel(t('chooseFiles')).setInputFiles({
        name: `Screenshot_2026-11-29-10-15-33-123_com.example.messenger.${code}.png`,
        mimeType: 'image/png',
        buffer: Buffer.alloc(2048, 7),
      });
      await page.locator('.file-name').waitFor();
      await checkScreen(page, code, 'write');

      await page.getByRole('button', { name: t('send') }).click();
      await page.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
      const receipt = (await page.getByTestId('receipt-code').textContent())!.trim();
      await checkScreen(page, code, 'receipt');

      // The counsellor sees the language the reporter used.
      const caseNumber = receipt.replace(/-/g, '').slice(0, 8);
      const view = await counsellorRead(server.url, counsellor, caseNumber);
      const report = view.messages[0]!.content!;
      expect(report.type === 'report' && report.language).toBe(code);

      await page.getByLabel(t('confirmStored')).check();
      await page.getByRole('button', { name: t('toCase') }).click();
      await page.getByTestId('case-procedure').waitFor();
      const current = page.locator('[data-testid="case-procedure"] li[aria-current="step"]');
      expect(await current.getAttribute('data-step')).toBe('received');
      // The counsellor answers: the case is now in conversation.
      await counsellorPost(server.url, counsellor, caseNumber, view, {
        v: 1,
        type: 'message',
        time: '2026-11-29T09:30:00Z',
        text: `Answer in ${code}.`,
        attachments: [],
      });
      await page.getByRole('button', { name: t('reload') }).click();
      await page.getByText(`Answer in ${code}.`).waitFor();
      expect(await current.getAttribute('data-step')).toBe('conversation');
      expect(await current.textContent()).toContain(t('procedureStateCurrent'));
      await checkScreen(page, code, 'case');

      await page.getByRole('button', { name: t('closeCase') }).click();
      await page.getByRole('button', { name: t('haveCode') }).click();
      await page.getByLabel(t('loginLabel'), { exact: true }).fill(receipt);
      await checkScreen(page, code, 'come back');
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it('offers the browser’s preferred language first in the picker', async () => {
    for (const [locale, first] of [
      ['pt-BR', 'Português'],
      ['ar-EG', 'العربية'],
    ] as const) {
      const context = await browser.newContext({ locale });
      const page = await context.newPage();
      await page.goto(server.url);
      const picker = page.locator('nav.langs');
      await picker.waitFor();
      expect((await picker.getByRole('button').first().textContent())?.trim()).toBe(first);
      await context.close();
    }
  });
});
