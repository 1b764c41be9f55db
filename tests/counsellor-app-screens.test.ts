/**
 * The counsellor's local app, screen by screen, in Chromium against a real
 * drop-box server: the inbox's filters, search and orders; a case's thread
 * and every action on it (reply with a picked file, attachment download,
 * status, acknowledgement, private note, forward refused and then allowed
 * with consent, export, delete); the statistics; the retention reminder;
 * the idle lock. axe on every screen in Dutch and English, the keyboard,
 * and a screenshot of each screen into client/counsellor/screenshots/.
 */

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../client/counsellor/app/build.js';
import { displayCase } from '../client/counsellor/lib/format.js';
import { createKeyFile } from '../client/counsellor/lib/keys.js';
import { caseAssignment } from '../client/counsellor/lib/assign.js';
import { CounsellorSession } from '../client/counsellor/lib/session.js';
import { exportBundle, fingerprintOf, generateIdentity } from '../crypto/index.js';
import { launchBrowser, seriousViolations } from './helpers/browser.js';
import { type AppProcess, rawRequest, startAppProcess } from './helpers/counsellor-app.js';
import {
  type ReporterCase,
  readAsReporter,
  sendAsReporter,
  submitReport,
} from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const PASSPHRASE = 'correct horse battery staple';
const PAYLOAD = '<img src=x onerror="window.__kluisPwned=1"><script>window.__kluisPwned=2</script>';
// The README's screenshots are refreshed on request (KLUIS_SCREENSHOTS=1), so a test run leaves the checkout as it was.
const SHOTS = process.env.KLUIS_SCREENSHOTS
  ? resolve('client/counsellor/screenshots')
  : mkdtempSync(join(tmpdir(), 'kluis-screenshots-'));
const EVIDENCE = new TextEncoder().encode('Factuur 2026-117: 48.000 euro, zonder offerte.\n');
const PICKED = Buffer.from('Verslag van het gesprek met de afdeling.\n'.repeat(50));

const dir = mkdtempSync(join(tmpdir(), 'kluis-counsellor-screens-'));
const deputy = generateIdentity('counsellor', 'B. Jansen (plaatsvervanger)');
const keyPath = join(dir, 'keys', 'key.json');
let server: ServerProcess;
let app: AppProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let fraud: ReporterCase; // Dutch, consent "ask", an attachment
let hostile: ReporterCase; // English, consent "no", HTML in the text
let old: ReporterCase; // to be closed and deleted
let mine: Uint8Array;
const identityPublicKey = () => mine;

beforeAll(async () => {
  const identity = generateIdentity('counsellor', 'A. de Vries');
  mine = identity.sign.publicKey;
  const { bundlePath } = await createKeyFile(keyPath, identity, PASSPHRASE);
  const bundles = join(dir, 'counsellors.json');
  writeFileSync(
    bundles,
    `[${readFileSync(bundlePath, 'utf8')},${JSON.stringify(exportBundle(deputy))}]`,
  );
  const escalation = join(dir, 'escalation.json');
  writeFileSync(
    escalation,
    JSON.stringify([exportBundle(generateIdentity('escalation', 'Secretaris-generaal'))]),
  );
  const [appDir] = await Promise.all([
    buildApp(join(dir, 'app')),
    startServer({
      // The app shows deletion days from the server's published retention (GET /info).
      env: {
        KLUIS_POW_BITS: '0',
        KLUIS_COUNSELLORS: bundles,
        KLUIS_ESCALATION: escalation,
        KLUIS_RETENTION_DAYS: '3',
      },
    }).then((s) => {
      server = s;
    }),
  ]);
  fraud = await submitReport(server.url, {
    text: 'Mijn leidinggevende gunt opdrachten aan de firma van zijn zwager.',
    consent: 'ask',
    language: 'nl',
    addressAs: 'Jan',
    attachments: [{ name: 'factuur.txt', type: 'text/plain', bytes: EVIDENCE }],
  });
  hostile = await submitReport(server.url, {
    text: `A kickback in procurement. ${PAYLOAD}`,
    consent: 'no',
    language: 'en',
  });
  old = await submitReport(server.url, {
    text: 'Een oude melding.',
    consent: 'no',
    language: 'nl',
  });
  app = await startAppProcess({ keyPath, server: server.url, appDir });
  browser = await launchBrowser({ jit: true });
  context = await browser.newContext({
    locale: 'en-GB',
    timezoneId: 'Europe/Amsterdam',
    viewport: { width: 1200, height: 900 },
    acceptDownloads: true,
  });
  page = await context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** axe in Dutch and in English; leaves the page in English. */
async function axeBoth(): Promise<void> {
  await page.locator('#lang').selectOption('nl');
  expect(await seriousViolations(page), 'Dutch').toEqual([]);
  await page.locator('#lang').selectOption('en');
  expect(await seriousViolations(page), 'English').toEqual([]);
}

/** A screenshot of the screen from its top (the whole page for a case: the thread is the point). */
async function shot(name: string, fullPage = false): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

async function openCase(c: ReporterCase): Promise<void> {
  await page.getByRole('button', { name: 'Inbox', exact: true }).click();
  const button = page.getByRole('button', { name: displayCase(c.caseNumber), exact: true });
  await button.waitFor({ timeout: 60_000 });
  await button.click();
  await page.getByText('Verified: every signature checked').waitFor({ timeout: 30_000 });
}

async function downloaded(start: () => Promise<unknown>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), start()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: readFileSync(path) };
}

describe('the counsellor app in Chromium', () => {
  it('unlocks in Dutch by default; the inbox filters, searches, sorts and counts', async () => {
    await page.goto(app.url);
    await page.getByLabel('Wachtwoordzin', { exact: true }).waitFor();
    await axeBoth();
    await shot('unlock');
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.keyboard.press('Enter');
    await page.getByText('3 of 3 cases shown.').waitFor({ timeout: 60_000 });
    const table = page.getByRole('table');
    const header = await table.locator('thead').textContent();
    expect(header).toContain('Signatures and chain');
    expect(await table.textContent()).toMatch(/due in [67] days/);
    expect(await page.locator('.badge:not(.visit)').count()).toBe(3); // every case unread
    expect(await page.getByRole('button', { name: 'received: 3' }).count()).toBe(1);
    await axeBoth();
    // A first visit: every case is new since the last one.
    expect(await page.getByTestId('since-visit').textContent()).toContain(
      'Since your last visit: new messages in 3 cases, 3 of them new reports.',
    );
    expect(await page.getByTestId('since-visit-mark').allTextContents()).toEqual([
      'new report',
      'new report',
      'new report',
    ]);
    await shot('inbox');

    // The search runs over the decrypted text in the app's process; the keyboard submits it.
    await page.getByLabel('Search the text (on this computer only)').focus();
    await page.keyboard.type('KICKBACK');
    await page.keyboard.press('Enter');
    await page.getByText('1 of 3 cases shown.').waitFor();
    expect(await table.textContent()).toContain(displayCase(hostile.caseNumber));
    await page.getByRole('button', { name: 'Clear the search' }).click();
    await page.getByText('3 of 3 cases shown.').waitFor();

    await page.getByLabel('Language of the report').selectOption('nl');
    await page.getByText('2 of 3 cases shown.').waitFor();
    await page.getByLabel('Language of the report').selectOption('');
    await page.getByLabel('unread only').check();
    await page.getByText('3 of 3 cases shown.').waitFor();
    await page.getByLabel('unread only').uncheck();
    // Overdue and nearest deadline first by default; the other orders on request.
    const rows = () => page.locator('tbody tr th button').allTextContents();
    await page.getByLabel('Sort by').selectOption('oldest');
    const oldest = await rows();
    await page.getByLabel('Sort by').selectOption('newest');
    expect(await rows()).toEqual([...oldest].reverse());
    await page.getByLabel('Sort by').selectOption('urgent');
  });

  it('shows a case as one thread; downloads an attachment; replies with a picked file', async () => {
    await openCase(fraud);
    const report = page.getByTestId('message-0');
    expect(await report.textContent()).toContain('zwager');
    const file = await downloaded(() =>
      page.getByRole('button', { name: 'Download factuur.txt' }).click(),
    );
    expect(file.name).toBe('factuur.txt');
    expect(new Uint8Array(file.bytes)).toEqual(EVIDENCE);

    await page.getByLabel('Your reply', { exact: true }).fill('Dank u. Zie het verslag.');
    await page.getByLabel('Attachments (optional)').setInputFiles({
      name: 'verslag.txt',
      mimeType: 'text/plain',
      buffer: PICKED,
    });
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Sent as message 1.').waitFor({ timeout: 30_000 });
    // The picked file went up encrypted, and comes back as it was.
    const back = await downloaded(() =>
      page.getByRole('button', { name: 'Download verslag.txt' }).click(),
    );
    expect(back.bytes.equals(PICKED)).toBe(true);
    const seen = await readAsReporter(fraud);
    expect(seen.conversation.intact).toBe(true);
    const reply = seen.contents[1];
    expect(reply?.type === 'message' && reply.attachments.map((a) => [a.name, a.size])).toEqual([
      ['verslag.txt', PICKED.length],
    ]);
  });

  it('acknowledges, notes privately, changes the status with an explanation, labels', async () => {
    await page.getByRole('button', { name: 'Acknowledge receipt' }).click();
    await page.getByText('Receipt acknowledged (report received on').waitFor({ timeout: 30_000 });
    await page.getByLabel('Note', { exact: true }).fill('Zwager: check KvK.');
    await page.getByRole('button', { name: 'Add a note' }).click();
    const note = page.locator('article.note');
    await note.waitFor({ timeout: 30_000 });
    expect(await note.textContent()).toContain('PRIVATE NOTE — counsellors only');
    expect(await note.textContent()).toContain('Zwager: check KvK.');
    // Times are to the second; within one second the conversation comes before the notes.
    await page.waitForTimeout(1_100);
    await page.getByLabel('New status').selectOption('in-conversation');
    await page.getByLabel('Explanation for the reporter (optional)').fill('We onderzoeken het.');
    await page.getByRole('button', { name: 'Change status' }).click();
    await page.getByText('Status changed to in conversation').waitFor({ timeout: 30_000 });
    // The thread is in time order: report, reply, acknowledgement, note, status.
    const order = await page.locator('.thread article h4').allTextContents();
    expect(order.map((h) => h.split(' — ').at(-1))).toEqual([
      'report',
      'message',
      'Receipt acknowledged',
      'A. de Vries (you)',
      'Status changed to in conversation',
    ]);
    const reporterSees = await readAsReporter(fraud);
    expect(reporterSees.contents.map((c) => c?.type)).toEqual([
      'report',
      'message',
      'ack',
      'status',
    ]);

    await page
      .getByLabel('Labels (separated by commas; yours only, kept on this computer)')
      .fill('fraude, HR');
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.getByRole('button', { name: 'Inbox', exact: true }).click();
    await page.getByText('3 of 3 cases shown.').waitFor({ timeout: 30_000 });
    await page.getByLabel('Label', { exact: true }).selectOption('fraude');
    await page.getByText('1 of 3 cases shown.').waitFor();
    expect(await page.getByRole('table').textContent()).toContain('fraude, HR');
    await page.getByLabel('Label', { exact: true }).selectOption('');
    // Labels live in the state file beside the key; no content does.
    const stateDir = join(dir, 'keys', 'state');
    const state = readdirSync(stateDir)
      .map((f) => readFileSync(join(stateDir, f), 'utf8'))
      .join();
    expect(state).toContain('fraude');
    expect(state).not.toContain('zwager');
  });

  it('refuses to forward without consent, forwards after it; exports', async () => {
    await openCase(hostile);
    // The reporter's HTML stays text.
    expect(await page.getByTestId('message-0').locator('.text').textContent()).toContain(PAYLOAD);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __kluisPwned?: number }).__kluisPwned)).toBe(
      undefined,
    );
    expect(await page.getByRole('button', { name: 'Forward' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('consent').textContent()).toContain('Consent to forward: no.');
    // The local app refuses too (the library's consent rule), whatever the page does.
    const host = app.origin.replace('http://', '');
    const escalation = await rawRequest(app.origin, '/api/escalation', {
      host,
      'kluis-app-token': app.token,
    });
    const to = JSON.parse(escalation.body).recipients[0].fingerprint as string;
    const refused = await rawRequest(
      app.origin,
      `/api/cases/${hostile.caseNumber}/forward`,
      { host, 'kluis-app-token': app.token, 'content-type': 'application/json' },
      'POST',
      JSON.stringify({ to }),
    );
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body).error.exitCode).toBe(7);

    await sendAsReporter(fraud, { text: 'Ja, u mag het doorsturen.', consent: 'yes' });
    await openCase(fraud);
    expect(await page.getByTestId('consent').textContent()).toContain('The reporter consented');
    await page.getByLabel('Explanation (optional)').fill('Met toestemming van de melder.');
    await page.getByRole('button', { name: 'Forward' }).click();
    await page
      .getByText(/^Forwarded to Secretaris-generaal \(/)
      .first()
      .waitFor({ timeout: 30_000 });
    await axeBoth();
    await shot('case', true);

    await page.getByRole('button', { name: 'Export as a text file…' }).click();
    const exported = await downloaded(() =>
      page.getByRole('button', { name: 'Save the export' }).click(),
    );
    expect(exported.name).toBe(`kluis-${displayCase(fraud.caseNumber)}.txt`);
    const text = exported.bytes.toString('utf8');
    expect(text).toContain('zwager');
    expect(text).toContain('Zwager: check KvK.');
  });

  it('assigns a case to the deputy as a signed private note; the inbox filters by it', async () => {
    await page
      .getByLabel('Assigned to', { exact: true })
      .selectOption(fingerprintOf(deputy.sign.publicKey));
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    const note = page.locator('article.note').last();
    await note.getByText('Assigned to B. Jansen (plaatsvervanger).').waitFor({ timeout: 30_000 });
    // The deputy's own client sees the assignment, signed by the counsellor who made it.
    const session = await CounsellorSession.open({
      identity: deputy,
      server: server.url,
      stateDir: join(dir, 'deputy'),
    });
    try {
      const view = await session.openCase(fraud.caseNumber);
      expect(view.intact).toBe(true);
      expect(caseAssignment(view)).toMatchObject({
        to: fingerprintOf(deputy.sign.publicKey),
        by: fingerprintOf(identityPublicKey()),
      });
    } finally {
      session.close();
    }
    await page.getByRole('button', { name: 'Inbox', exact: true }).click();
    await page.getByText('3 of 3 cases shown.').waitFor({ timeout: 30_000 });
    await page
      .getByLabel('Assigned to', { exact: true })
      .selectOption(fingerprintOf(deputy.sign.publicKey));
    await page.getByText('1 of 3 cases shown.').waitFor();
    await page.getByLabel('Assigned to', { exact: true }).selectOption('none');
    await page.getByText('2 of 3 cases shown.').waitFor();
    await page.getByLabel('Assigned to', { exact: true }).selectOption('');
  });

  it('closes a case: the day of deletion, the reminder; deletes it after typing its number', async () => {
    await openCase(old);
    await page.getByLabel('New status').selectOption('closed');
    await page.getByRole('button', { name: 'Change status' }).click();
    const deletion = page.getByTestId('deletion');
    await deletion.waitFor({ timeout: 30_000 });
    expect(await deletion.textContent()).toMatch(
      /^The server deletes this closed case on \d+ \w+ \d{4}\.$/,
    );
    await page.getByRole('button', { name: 'Inbox', exact: true }).click();
    const reminder = page.getByTestId('deletion-soon');
    await reminder.waitFor({ timeout: 30_000 });
    expect(await reminder.textContent()).toContain(displayCase(old.caseNumber));

    await openCase(old);
    // Keyboard: a new screen puts the focus on its heading; the confirmation opens with Enter.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('case-heading');
    await page.getByRole('button', { name: 'Delete this case…' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'Type the case number to confirm' }).fill('AAAA-BBBB');
    await page.getByRole('button', { name: 'Delete permanently' }).click();
    // The library's refusal, in the app's words for its code (the English message is the detail).
    const failure = page.locator('[role=alert] .failure');
    await failure.waitFor();
    expect(await failure.getAttribute('data-code')).toBe('confirm-case-number');
    expect(await failure.textContent()).toBe(
      'Error: Type the case number to confirm. Nothing was deleted.',
    );
    await page
      .getByRole('textbox', { name: 'Type the case number to confirm' })
      .fill(old.caseNumber.toLowerCase());
    await page.getByRole('button', { name: 'Delete permanently' }).click();
    await page.getByText('2 of 2 cases shown.').waitFor({ timeout: 30_000 });
  });

  it('computes the statistics locally, without content, and offers them as CSV', async () => {
    await page.getByRole('button', { name: 'Statistics', exact: true }).click();
    const table = page.getByTestId('stats');
    await table.waitFor({ timeout: 60_000 });
    const text = await table.textContent();
    expect(text).toContain('Reports2');
    expect(text).toContain('Forwarded1');
    expect(text).toMatch(/Days to acknowledgement(median|mean)/);
    expect(text).toContain('(1 cases)');
    await axeBoth();
    await shot('statistics');
    const csv = await downloaded(() =>
      page.getByRole('button', { name: 'Download as CSV' }).click(),
    );
    expect(csv.bytes.toString('utf8')).toMatch(/^section,key,value\ntotal,all,2\n/);
    expect(csv.bytes.toString('utf8')).not.toContain('zwager');
  });
});

describe('new since the last visit', () => {
  it('counts, on the inbox, the cases with messages by others since the last unlock, and filters them', async () => {
    // Everything so far was one visit; lock, the reporter writes, unlock: a new visit.
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await page.getByLabel('Passphrase', { exact: true }).waitFor({ timeout: 30_000 });
    await sendAsReporter(fraud, { text: 'Het gebeurde gisteren weer.' });
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.keyboard.press('Enter');
    await page.getByText('2 of 2 cases shown.').waitFor({ timeout: 60_000 });
    const since = page.getByTestId('since-visit');
    expect(await since.textContent()).toContain('Since your last visit: new messages in 1 case.');
    // Only the reporter's message: the counsellor's own replies, statuses and forwards of the
    // previous visit are not news to them.
    const marks = page.getByTestId('since-visit-mark');
    expect(await marks.allTextContents()).toEqual(['1 new message']);
    expect(await page.locator('tbody tr', { has: marks }).locator('th button').textContent()).toBe(
      displayCase(fraud.caseNumber),
    );
    await page.getByRole('button', { name: 'Show only those' }).click();
    await page.getByText('1 of 2 cases shown.').waitFor();
    await axeBoth();
    await page.getByLabel('new since last visit only').uncheck();
    await page.getByText('2 of 2 cases shown.').waitFor();
    // In Dutch too, from the app's catalogue.
    await page.locator('#lang').selectOption('nl');
    expect(await since.textContent()).toContain(
      'Sinds uw vorige bezoek: nieuwe berichten in 1 zaak.',
    );
    await page.locator('#lang').selectOption('en');
  });
});

describe('the idle lock', () => {
  it('forgets the key after the idle time and asks for the passphrase again', async () => {
    const idle = await startAppProcess({
      keyPath,
      server: server.url,
      appDir: join(dir, 'app'),
      args: ['--idle-minutes', '0.05'],
    });
    const ctx = await browser.newContext({ locale: 'nl-NL' });
    try {
      const p = await ctx.newPage();
      await p.goto(idle.url);
      // A failure of the library reaches the Dutch page in Dutch, from the app's catalogue by its code.
      await p.getByLabel('Wachtwoordzin', { exact: true }).fill('niet de goede');
      await p.getByRole('button', { name: 'Ontgrendelen' }).click();
      const failure = p.locator('[role=alert] .failure');
      await failure.waitFor({ timeout: 30_000 });
      expect(await failure.getAttribute('data-code')).toBe('wrong-passphrase');
      expect(await failure.textContent()).toBe(
        'Fout: Onjuiste wachtwoordzin (of het sleutelbestand is veranderd). Probeer het opnieuw.',
      );
      expect(await seriousViolations(p)).toEqual([]);
      await p.getByLabel('Wachtwoordzin', { exact: true }).fill(PASSPHRASE);
      await p.getByRole('button', { name: 'Ontgrendelen' }).click();
      await p.getByRole('button', { name: 'Vergrendelen' }).waitFor({ timeout: 30_000 });
      const locked = p.getByTestId('idle-locked');
      await locked.waitFor({ timeout: 20_000 });
      expect(await locked.textContent()).toContain('Vergrendeld na 0.05 minuten zonder activiteit');
      await p.getByLabel('Wachtwoordzin', { exact: true }).waitFor();
      const host = idle.origin.replace('http://', '');
      const inbox = await rawRequest(idle.origin, '/api/inbox', {
        host,
        'kluis-app-token': idle.token,
      });
      expect(inbox.status).toBe(401);
      expect(await seriousViolations(p)).toEqual([]);
    } finally {
      await ctx.close();
      await idle.stop();
    }
  });
});
