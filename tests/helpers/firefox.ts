/**
 * The reporter page in Firefox as Tor Browser runs it at its Safer level:
 * Debian's Firefox ESR (Tor Browser is built on Firefox ESR) with the
 * preferences Safer sets for JavaScript, driven over WebDriver BiDi by
 * puppeteer-core (which downloads no browser). playwright-core cannot
 * drive a stock Firefox: it needs its own patched build.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Locator, type Page } from 'puppeteer-core';
import { launchablePath } from './browsers.js';

/**
 * What Tor Browser's Safer level turns off for JavaScript (its security
 * slider sets these on http sites and everywhere at Safest): no JIT
 * (IonMonkey, Baseline), no native regular expressions, no asm.js, no
 * WebAssembly. The page must work with all of them off.
 */
export const SAFER_PREFS: Readonly<Record<string, boolean>> = {
  'javascript.options.ion': false,
  'javascript.options.baselinejit': false,
  'javascript.options.native_regexp': false,
  'javascript.options.asmjs': false,
  'javascript.options.wasm': false,
};

/**
 * What Tor Browser's Safest level adds for the no-JavaScript pages: no JavaScript at all (Safest
 * turns it off everywhere through NoScript; the preference does the same for every page here).
 */
export const SAFEST_PREFS: Readonly<Record<string, boolean>> = {
  ...SAFER_PREFS,
  'javascript.enabled': false,
};

/** Launches headless Firefox ESR with the Safer preferences (or others: `prefs`, e.g. SAFEST_PREFS). */
export function launchFirefox(
  prefs: Readonly<Record<string, boolean | string>> = SAFER_PREFS,
): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: launchablePath('firefox'),
    headless: true,
    extraPrefsFirefox: {
      ...prefs,
      // Quiet and offline: no captive-portal or connectivity probes to hosts this machine cannot reach.
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
}

/** The preferences the running Firefox was started with: its profile's user.js, as puppeteer wrote it. */
export function profilePrefs(browser: Browser): Record<string, unknown> {
  const args = browser.process()?.spawnargs ?? [];
  const profile = args[args.indexOf('--profile') + 1];
  if (!args.includes('--profile') || !profile) throw new Error(`no --profile in ${args.join(' ')}`);
  const prefs: Record<string, unknown> = {};
  for (const match of readFileSync(join(profile, 'user.js'), 'utf8').matchAll(
    /^user_pref\(("[^"]+"), (.+)\);$/gm,
  )) {
    prefs[JSON.parse(match[1]!) as string] = JSON.parse(match[2]!);
  }
  return prefs;
}

/** Escapes a string for puppeteer's ::-p-aria() and ::-p-text() selectors. */
function quoted(text: string): string {
  return JSON.stringify(text);
}

/** An element by its accessible role and name, as the page's users (and screen readers) find it. */
export function byRole(page: Page, role: string, name: string): Locator<Element> {
  return page.locator(`::-p-aria([name=${quoted(name)}][role="${role}"])`);
}

/** A text field by its label's text (the role too: by name alone, Firefox also matches the label). */
export function byLabel(page: Page, label: string): Locator<Element> {
  return byRole(page, 'textbox', label);
}

/** Waits until `text` is shown somewhere on the page. */
export async function waitForText(page: Page, text: string, timeout = 30_000): Promise<void> {
  await page.waitForSelector(`::-p-text(${quoted(text)})`, { timeout });
}

/** How many elements show `text` (each counted once, not with its ancestors). */
export async function countText(page: Page, text: string): Promise<number> {
  return (await page.$$(`::-p-text(${quoted(text)})`)).length;
}

/** The text of the first element matching a CSS selector, waiting for it to appear. */
export async function textOf(page: Page, selector: string, timeout = 60_000): Promise<string> {
  const element = await page.waitForSelector(selector, { timeout });
  return ((await element!.evaluate((el) => el.textContent)) ?? '').trim();
}

/** A directory for the files a test chooses; `remove` when the test is done (Firefox reads them only when sending). */
export function uploadDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'kluis-upload-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Puts a file with `name` and `bytes` in the page's file input, written to `dir` first. */
export async function chooseFile(
  page: Page,
  dir: string,
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const input = await page.waitForSelector('input[type=file]');
  await input!.uploadFile(path);
  await waitForText(page, name);
}
