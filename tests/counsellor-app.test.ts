/**
 * The counsellor's local app end to end: a real drop-box server, a report
 * submitted as the page does, the app started as `npm run counsellor:app`
 * starts it, and Chromium: unlock, inbox, read, reply; the reporter then
 * reads and verifies the reply. Also: requests without the token, with a
 * wrong Host or a foreign Origin are refused, and a reporter's HTML stays
 * text.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../client/counsellor/app/build.js';
import { displayCase } from '../client/counsellor/lib/format.js';
import { createKeyFile } from '../client/counsellor/lib/keys.js';
import { exportBundle, generateIdentity } from '../crypto/index.js';
import { launchBrowser, seriousViolations } from './helpers/browser.js';
import { type AppProcess, rawRequest, startAppProcess } from './helpers/counsellor-app.js';
import { readAsReporter, type ReporterCase, submitReport } from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const PASSPHRASE = 'correct horse battery staple';
const PAYLOAD = '<img src=x onerror="window.__kluisPwned=1"><script>window.__kluisPwned=2</script>';
const REPORT = `Melding over de aanbesteding. ${PAYLOAD} Einde.`;
const REPLY = 'Dank u voor uw melding. Kunnen we bellen?';

const dir = mkdtempSync(join(tmpdir(), 'kluis-counsellor-app-'));
let server: ServerProcess;
let app: AppProcess;
let browser: Browser;
let reporter: ReporterCase;
const colleague = generateIdentity('counsellor', 'Colleague who joins');

/** A small reporter-page build: what the server serves, and the counsellor's own build of it. */
function makePage(path: string, script: string): string {
  mkdirSync(join(path, 'assets'), { recursive: true });
  writeFileSync(
    join(path, 'index.html'),
    '<!doctype html><title>Kluis</title><script type="module" src="./assets/page.js"></script>',
  );
  writeFileSync(join(path, 'assets', 'page.js'), `console.log(${JSON.stringify(script)});\n`);
  return path;
}

beforeAll(async () => {
  const keyPath = join(dir, 'keys', 'key.json');
  const identity = generateIdentity('counsellor', 'Test counsellor');
  const { bundlePath } = await createKeyFile(keyPath, identity, PASSPHRASE);
  const [appDir] = await Promise.all([
    buildApp(join(dir, 'app')),
    (async () => {
      const { writeFileSync, readFileSync } = await import('node:fs');
      const bundles = join(dir, 'counsellors.json');
      // A colleague beside the app's counsellor: someone to hand a case over to.
      writeFileSync(
        bundles,
        `[${readFileSync(bundlePath, 'utf8')},${JSON.stringify(exportBundle(colleague))}]`,
      );
      const escalation = join(dir, 'escalation.json');
      writeFileSync(
        escalation,
        JSON.stringify([exportBundle(generateIdentity('escalation', 'Secretaris-generaal'))]),
      );
      server = await startServer({
        env: {
          KLUIS_POW_BITS: '0',
          KLUIS_COUNSELLORS: bundles,
          KLUIS_ESCALATION: escalation,
          KLUIS_STATIC_DIR: makePage(join(dir, 'served-page'), 'the published page'),
        },
      });
    })(),
  ]);
  reporter = await submitReport(server.url, { text: REPORT, consent: 'no', language: 'nl' });
  app = await startAppProcess({
    keyPath,
    server: server.url,
    appDir,
    pageBuild: makePage(join(dir, 'own-build'), 'the published page'),
  });
  browser = await launchBrowser({ jit: true });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local app refuses other callers', () => {
  it('prints a 127.0.0.1 URL with a long random token', () => {
    expect(app.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(app.token.length).toBeGreaterThanOrEqual(40);
  });

  it('needs the token on every API call', async () => {
    const host = app.origin.replace('http://', '');
    const ok = await rawRequest(app.origin, '/api/state', { host, 'kluis-app-token': app.token });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).unlocked).toBe(false);
    const none = await rawRequest(app.origin, '/api/state', { host });
    expect(none.status).toBe(401);
    const wrong = await rawRequest(app.origin, '/api/state', {
      host,
      'kluis-app-token': `${app.token.slice(0, -1)}A`,
    });
    expect(wrong.status).toBe(401);
    const unlock = await rawRequest(
      app.origin,
      '/api/unlock',
      { host, 'content-type': 'application/json' },
      'POST',
      JSON.stringify({ passphrase: PASSPHRASE }),
    );
    expect(unlock.status).toBe(401);
  });

  it('refuses a wrong Host (DNS rebinding) and a foreign Origin, even with the token', async () => {
    const host = app.origin.replace('http://', '');
    for (const badHost of ['evil.example', `localhost:${new URL(app.origin).port}`, '127.0.0.1']) {
      const r = await rawRequest(app.origin, '/api/state', {
        host: badHost,
        'kluis-app-token': app.token,
      });
      expect(r.status, badHost).toBe(421);
      expect((await rawRequest(app.origin, '/', { host: badHost })).status).toBe(421);
    }
    const foreign = await rawRequest(app.origin, '/api/state', {
      host,
      origin: 'http://evil.example',
      'kluis-app-token': app.token,
    });
    expect(foreign.status).toBe(403);
    const otherPort = await rawRequest(app.origin, '/api/state', {
      host,
      origin: 'http://127.0.0.1:1',
      'kluis-app-token': app.token,
    });
    expect(otherPort.status).toBe(403);
  });

  it('serves the page with a strict CSP', async () => {
    const host = app.origin.replace('http://', '');
    const page = await rawRequest(app.origin, '/', { host });
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toMatch(/<script>(?!<)/);
  });
});

describe('in Chromium', () => {
  it('unlocks, lists, reads (reporter HTML inert), replies; the reporter verifies the reply', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(app.url);
    // Dutch by default; English on request.
    await page.getByLabel('Wachtwoordzin', { exact: true }).waitFor();
    await page.getByLabel('Taal', { exact: true }).selectOption('en');
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Unlock' }).click();
    // Every unlock compares the live reporter page with the counsellor's own build.
    await page
      .getByText('The reporter page is the same as your own build (2 files checked).')
      .waitFor();
    const caseButton = page.getByRole('button', { name: displayCase(reporter.caseNumber) });
    await caseButton.waitFor({ timeout: 60_000 });
    expect(await page.getByRole('table').textContent()).toContain('Acknowledge by');
    // Keyboard: focus the case and open it with Enter.
    await caseButton.focus();
    await page.keyboard.press('Enter');
    const text = page.locator('article.message .text').first();
    await text.waitFor({ timeout: 30_000 });
    expect(await text.textContent()).toBe(REPORT);
    await page.getByText('Verified: every signature checked').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __kluisPwned?: number }).__kluisPwned)).toBe(
      undefined,
    );

    // Switch to Dutch and back: the labels follow.
    await page.getByLabel('Language', { exact: true }).selectOption('nl');
    await page.getByRole('heading', { name: 'Antwoorden' }).waitFor();
    await page.getByLabel('Taal', { exact: true }).selectOption('en');

    await page.getByLabel('Your reply', { exact: true }).fill(REPLY);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Sent as message 1.').waitFor({ timeout: 30_000 });

    // Forwarding without consent (the report said no) cannot be started, and the reason is beside it.
    expect(await page.getByRole('button', { name: 'Forward' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('consent').textContent()).toContain(
      'Forwarding needs the reporter’s consent',
    );

    expect(errors).toEqual([]);
    await context.close();

    const seen = await readAsReporter(reporter);
    expect(seen.conversation.intact).toBe(true);
    expect(seen.conversation.entries).toHaveLength(2);
    const reply = seen.contents[1];
    expect(reply?.type).toBe('message');
    expect(reply && 'text' in reply ? reply.text : undefined).toBe(REPLY);
  });

  it('hands the case to a colleague only after confirmation; the reporter sees the handover', async () => {
    const before = (await readAsReporter(reporter)).conversation.entries.length;
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByLabel('Taal', { exact: true }).selectOption('en');
    // The app may still be unlocked from the test before (the idle lock has not struck).
    const passphrase = page.getByLabel('Passphrase', { exact: true });
    const caseButton = page.getByRole('button', { name: displayCase(reporter.caseNumber) });
    await passphrase.or(caseButton).first().waitFor({ timeout: 30_000 });
    if (await passphrase.isVisible()) {
      await passphrase.fill(PASSPHRASE);
      await page.getByRole('button', { name: 'Unlock' }).click();
    }
    await caseButton.click();
    const form = page.getByRole('form', { name: 'Hand over to a colleague' });
    await form.waitFor({ timeout: 30_000 });
    const option = form.getByRole('option', { name: /Colleague who joins/ });
    await form
      .getByLabel('Colleague', { exact: true })
      .selectOption((await option.getAttribute('value')) ?? '');
    await form.getByLabel('A word for the reporter (optional)').fill('My colleague takes over.');
    // Without the tick the browser does not send it, and the local process refuses too.
    await form.getByRole('button', { name: 'Hand over to a colleague' }).click();
    const host = app.origin.replace('http://', '');
    const refused = await rawRequest(
      app.origin,
      `/api/cases/${reporter.caseNumber}/handover`,
      {
        host,
        'kluis-app-token': app.token,
        'content-type': 'application/json',
        origin: app.origin,
      },
      'POST',
      JSON.stringify({ to: 'X', text: '' }),
    );
    expect(refused.status).toBe(400);
    expect((await readAsReporter(reporter)).conversation.entries).toHaveLength(before);
    await form.getByRole('checkbox').check();
    expect(await seriousViolations(page)).toEqual([]);
    await form.getByRole('button', { name: 'Hand over to a colleague' }).click();
    await page
      .getByText(/Handed over to Colleague who joins/)
      .first()
      .waitFor({ timeout: 30_000 });
    await context.close();

    const seen = await readAsReporter(reporter);
    expect(seen.conversation.intact).toBe(true);
    expect(seen.conversation.entries).toHaveLength(before + 1);
    const handover = seen.contents[before];
    expect(handover?.type).toBe('handover');
    expect(handover && 'to' in handover ? handover.name : undefined).toBe('Colleague who joins');
  });
});

describe('the page check on unlock', () => {
  it('raises an alarm when the live page is not the counsellor’s own build', async () => {
    const keyPath = join(dir, 'keys', 'key.json');
    const other = await startAppProcess({
      keyPath,
      server: server.url,
      appDir: join(dir, 'app'),
      pageBuild: makePage(join(dir, 'trusted-build'), 'the page the counsellors published'),
    });
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await page.goto(other.url);
      await page.getByLabel('Taal', { exact: true }).selectOption('en');
      await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
      await page.getByRole('button', { name: 'Unlock' }).click();
      const alarm = page.getByTestId('page-check');
      await alarm
        .getByText('ALARM: the reporter page on the server is NOT the same as your own build.')
        .waitFor({ timeout: 30_000 });
      expect(await alarm.getAttribute('role')).toBe('alert');
      expect(await alarm.textContent()).toContain('different: assets/page.js');
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await context.close();
      await other.stop();
    }
  });
});
