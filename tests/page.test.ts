/**
 * The reporter page end to end, in JIT-less Chromium against the real
 * server process: reports in Dutch and English with attachments, the
 * counsellor's side through crypto/, coming back with the receipt code, a
 * reply each way, and every failure the page must explain (mistyped and
 * wrong codes, an upload cut off mid-way, a message the server altered or
 * dropped, a server error, sealing that fails). Along the way it proves
 * that no request and no stored byte carries the report, the file or the
 * receipt secret in the clear.
 */

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachmentDecryptor,
  type AttachmentRef,
  concatBytes,
  formatReceiptCode,
  fromBase64,
  generateReceiptSecret,
  parseReceiptCode,
  toBase64,
  toHex,
} from '../crypto/index.js';
import {
  apiCase,
  chooseLanguage,
  counsellorFetch,
  buildReporter,
  counsellorBlob,
  counsellorPost,
  counsellorRead,
  launchBrowser,
  makeCounsellor,
  type RecordedRequest,
  recordRequests,
  requestsContaining,
  seriousViolations,
  type TestCounsellor,
} from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

let server: ServerProcess;
let browser: Browser;
let staticDir: string;
let bundlesFile: string;
const counsellor: TestCounsellor = makeCounsellor('A. de Vries (test)');

beforeAll(async () => {
  staticDir = await buildReporter({ counsellors: [counsellor.bundle] });
  bundlesFile = join(staticDir, '..', `kluis-test-bundles-${process.pid}.json`);
  writeFileSync(bundlesFile, counsellor.bundlesJson);
  server = await startServer({
    env: { KLUIS_STATIC_DIR: staticDir, KLUIS_COUNSELLORS: bundlesFile, KLUIS_POW_BITS: '8' },
  });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(staticDir, { recursive: true, force: true });
  rmSync(bundlesFile, { force: true });
});

/** Remembers every text that appears in a status or alert region, however briefly. */
const WATCH_ANNOUNCEMENTS = `
  window.__announced = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('[role=status],[role=alert]')) {
      const text = el.textContent.trim();
      if (text && !window.__announced.includes(text)) window.__announced.push(text);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

/** Requests to the API (the page's own static files, such as its worker script, are not sent data). */
function apiRequests(requests: readonly RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
}

async function announced(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __announced: string[] }).__announced);
}

async function openPage(): Promise<{
  context: BrowserContext;
  page: Page;
  requests: RecordedRequest[];
  errors: string[];
}> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.addInitScript(WATCH_ANNOUNCEMENTS);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const requests = recordRequests(page);
  await page.goto(server.url);
  await page.locator('.fingerprint').first().waitFor();
  return { context, page, requests, errors };
}

/** Every file under the data directory, as bytes. */
function dataFiles(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push({ path, bytes: readFileSync(path) });
    }
  };
  walk(dir);
  return out;
}

function storedContaining(needle: string | Uint8Array): string[] {
  const bytes = typeof needle === 'string' ? Buffer.from(needle) : Buffer.from(needle);
  return dataFiles(server.dataDir)
    .filter((file) => file.bytes.includes(bytes))
    .map((file) => file.path);
}

/** Everything of a receipt code that must never leave the browser. */
function secretForms(code: string): (string | Uint8Array)[] {
  const { secret } = parseReceiptCode(code);
  const symbols = code.replace(/-/g, '');
  return [
    code,
    symbols,
    symbols.slice(8, 24),
    code.slice(10, 29),
    secret,
    toBase64(secret),
    toHex(secret),
  ];
}

/** Decrypts an attachment as the counsellor. */
async function counsellorFile(caseNumber: string, ref: AttachmentRef): Promise<Buffer> {
  const ciphertext = await counsellorBlob(server.url, counsellor, caseNumber, ref.blob);
  const decryptor = new AttachmentDecryptor({ key: ref.key, prefix: ref.prefix, size: ref.size });
  return Buffer.from(concatBytes(...decryptor.push(ciphertext), ...decryptor.finish()));
}

/** A distinctive file body: text with the canary, then pseudo-random bytes. */
function fileBytes(canary: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  out.write(canary, 0, 'utf8');
  return out;
}

async function readCode(page: Page): Promise<string> {
  await page.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
  const code = (await page.getByTestId('receipt-code').textContent())!.trim();
  expect(code).toMatch(/^([0-9A-Z]{4}-){6}[0-9A-Z]{4}$/);
  return code;
}

async function counsellorReplies(caseNumber: string, text: string): Promise<void> {
  const view = await counsellorRead(server.url, counsellor, caseNumber);
  await counsellorPost(server.url, counsellor, caseNumber, view, {
    v: 1,
    type: 'message',
    time: '2026-11-29T09:30:00Z',
    text,
    attachments: [],
  });
}

async function logIn(
  page: Page,
  typed: string,
  labels = { start: 'Ik heb al een ontvangstcode', field: 'Ontvangstcode', open: 'Openen' },
) {
  await page.getByRole('button', { name: labels.start }).click();
  await page.getByLabel(labels.field, { exact: true }).fill(typed);
  await page.getByRole('button', { name: labels.open }).click();
}

describe('the reporter page', () => {
  it('sends a Dutch report with a file; the counsellor reads it and replies; the reporter comes back, reads and answers', async () => {
    const canary = `KANARIE-${toHex(generateReceiptSecret())}`;
    const fileCanary = `BESTANDKANARIE-${toHex(generateReceiptSecret())}`;
    const fileName = `verslag-${toHex(generateReceiptSecret()).slice(0, 8)}.pdf`;
    const file = fileBytes(fileCanary, 200_000);
    const { context, page, requests, errors } = await openPage();

    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page
      .getByLabel('Wat is er gebeurd?')
      .fill(`Tijdens het overleg gebeurde het volgende. ${canary}`);
    await page.getByRole('radio', { name: 'Ja' }).check();
    await page.getByLabel('Hoe wilt u dat de vertrouwenspersoon u noemt?').fill('M.');
    await page
      .getByLabel('Bestanden kiezen')
      .setInputFiles({ name: fileName, mimeType: 'application/pdf', buffer: file });
    await page.locator('.file-name', { hasText: fileName }).waitFor();
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    const code = await readCode(page);
    const caseNumber = code.replace(/-/g, '').slice(0, 8);

    // The counsellor opens the report and its file.
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    expect(view.intact).toBe(true);
    const report = view.messages[0]!.content!;
    expect(report.type).toBe('report');
    if (report.type !== 'report') throw new Error('not a report');
    expect(report.text).toContain(canary);
    expect(report.consent).toBe('yes');
    expect(report.addressAs).toBe('M.');
    expect(report.language).toBe('nl');
    expect(report.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(report.attachments).toHaveLength(1);
    expect(report.attachments[0]!.name).toBe(fileName);
    expect(report.attachments[0]!.type).toBe('application/pdf');
    expect((await counsellorFile(caseNumber, report.attachments[0]!)).equals(file)).toBe(true);

    // The counsellor acknowledges and replies.
    await counsellorPost(
      server.url,
      counsellor,
      caseNumber,
      view,
      {
        v: 1,
        type: 'ack',
        time: '2026-11-29T09:00:00Z',
        reportHash: toBase64(view.lastHash),
        receivedDate: '2026-11-29',
        text: 'Ontvangen.',
      },
      { ack: true, status: 'in-conversation' },
    );
    await counsellorReplies(caseNumber, 'Dank voor uw melding. Kunt u vertellen wanneer dit was?');

    // The receipt screen cannot be left before the code is stored.
    // aria-disabled, not disabled: it stays focusable and says why when pressed.
    await page.getByRole('button', { name: 'Verder naar mijn melding' }).click({ force: true });
    await page.getByText('Vink eerst aan dat u uw code hebt opgeschreven of bewaard.').waitFor();
    await context.close();

    // Later, in a fresh browser context, with the code typed sloppily.
    const second = await openPage();
    await logIn(second.page, ` ${code.toLowerCase().replace(/-/g, ' ')} `);
    await second.page
      .getByText('Dank voor uw melding. Kunt u vertellen wanneer dit was?')
      .waitFor();
    expect(await second.page.getByTestId('integrity').textContent()).toContain(
      'Alle berichten zijn gecontroleerd',
    );
    expect(await second.page.locator('.badge-ok').count()).toBe(3);
    expect(await second.page.getByTestId('case-status').textContent()).toContain('In gesprek');
    await second.page
      .getByText('Ontvangstbevestiging: uw melding is ontvangen op 29 november 2026.')
      .waitFor();
    expect(await second.page.getByText(canary).count()).toBe(1);

    // The reporter downloads their own file, decrypted in the page.
    const [download] = await Promise.all([
      second.page.waitForEvent('download'),
      second.page.getByRole('button', { name: `${fileName} downloaden` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(fileName);
    expect(readFileSync((await download.path())!).equals(file)).toBe(true);

    // And answers.
    const answer = `ANTWOORDKANARIE-${toHex(generateReceiptSecret())}`;
    await second.page.getByLabel('Uw bericht').fill(`Het was op dinsdag. ${answer}`);
    await second.page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await second.page.getByText('Uw bericht is verstuurd.').waitFor({ timeout: 60_000 });
    await second.page.getByText(`Het was op dinsdag. ${answer}`).waitFor();

    const after = await counsellorRead(server.url, counsellor, caseNumber);
    expect(after.intact).toBe(true);
    expect(after.count).toBe(4);
    const last = after.messages[3]!;
    expect(last.author).toBe('reporter');
    expect(last.content?.type === 'message' && last.content.text).toBe(
      `Het was op dinsdag. ${answer}`,
    );

    // Nothing in the clear: not in the store, not in the server's output, not in any request.
    for (const needle of [canary, fileCanary, fileName, answer, file.subarray(1000, 1064)]) {
      expect(storedContaining(needle)).toEqual([]);
      expect(server.output()).not.toContain(
        typeof needle === 'string' ? needle : needle.toString('latin1'),
      );
    }
    const allRequests = [...requests, ...second.requests];
    for (const needle of [canary, fileCanary, fileName, answer, ...secretForms(code)]) {
      expect(requestsContaining(allRequests, needle)).toEqual([]);
    }
    expect(allRequests.every((r) => new URL(r.url).origin === server.url)).toBe(true);
    expect([...errors, ...second.errors]).toEqual([]);
    await second.context.close();

    // The counsellor closes the case: the reporter's page says the day the server deletes it,
    // from the server's own retention (GET /info, KLUIS_RETENTION_DAYS, 180 by default).
    const open = await counsellorRead(server.url, counsellor, caseNumber);
    await counsellorPost(
      server.url,
      counsellor,
      caseNumber,
      open,
      { v: 1, type: 'status', time: '2026-11-29T10:00:00Z', status: 'closed', text: 'Afgerond.' },
      { status: 'closed' },
    );
    const closed = (await (
      await counsellorFetch(server.url, counsellor, 'GET', `/api/v1/counsellor/cases/${caseNumber}`)
    ).json()) as { status: string; statusHour: number };
    expect(closed.status).toBe('closed');
    const day = new Date((closed.statusHour + 180 * 24) * 3_600_000);
    const dutchDay = new Intl.DateTimeFormat('nl-NL', {
      dateStyle: 'long',
      timeZone: 'UTC',
    }).format(day);
    const third = await openPage();
    await logIn(third.page, code);
    await third.page.getByTestId('deletion').waitFor();
    expect(await third.page.getByTestId('deletion').textContent()).toBe(
      `Deze zaak is gesloten. De server verwijdert haar op ${dutchDay}, met alle berichten en bijlagen; daarna werkt uw ontvangstcode niet meer. Bewaar vóór die dag wat u wilt houden.`,
    );
    expect(await seriousViolations(third.page)).toEqual([]);
    await third.context.close();
  });

  it('sends an English report with a file', async () => {
    const canary = `CANARY-${toHex(generateReceiptSecret())}`;
    const fileName = `notes-${toHex(generateReceiptSecret()).slice(0, 8)}.txt`;
    const file = fileBytes(`FILECANARY-${toHex(generateReceiptSecret())}`, 70_000);
    const { context, page, requests } = await openPage();

    await chooseLanguage(page, 'English');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.getByRole('button', { name: 'Write a report' }).click();
    await page.getByLabel('What happened?').fill(`It happened at the meeting. ${canary}`);
    await page.getByRole('radio', { name: 'No' }).check();
    await page
      .getByLabel('Choose files')
      .setInputFiles({ name: fileName, mimeType: 'text/plain', buffer: file });
    await page.getByRole('button', { name: 'Encrypt and send' }).click();
    const code = await readCode(page);
    await page.getByText('Your report has been sent').waitFor();
    await page.getByLabel('I have written down or saved my code.').check();
    await page.getByRole('button', { name: 'Go on to my report' }).click();
    await page.getByText('All messages have been checked').waitFor();

    const caseNumber = code.replace(/-/g, '').slice(0, 8);
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    const report = view.messages[0]!.content!;
    if (report.type !== 'report') throw new Error('not a report');
    expect(report.language).toBe('en');
    expect(report.consent).toBe('no');
    expect(report.text).toContain(canary);
    expect((await counsellorFile(caseNumber, report.attachments[0]!)).equals(file)).toBe(true);
    for (const needle of [canary, fileName, file.subarray(2000, 2064)])
      expect(storedContaining(needle)).toEqual([]);
    for (const needle of [canary, fileName, ...secretForms(code)])
      expect(requestsContaining(requests, needle)).toEqual([]);
    await context.close();
  });

  it('catches mistyped codes before any request, and says when a code opens nothing', async () => {
    const { context, page, requests } = await openPage();
    const { code } = await apiCase(server.url, counsellor, 'Een melding.');
    const before = requests.length;
    const error = page.getByTestId('code-error');

    await logIn(page, code.slice(0, -5));
    expect(await error.textContent()).toContain(
      'Deze code heeft 24 tekens. Een ontvangstcode heeft er 28',
    );
    await page.getByLabel('Ontvangstcode', { exact: true }).fill(`U${code.slice(1)}`);
    await page.getByRole('button', { name: 'Openen' }).click();
    expect(await error.textContent()).toContain(
      'Er staat een teken in dat niet in een ontvangstcode voorkomt',
    );
    const typo = code.slice(0, 12) + (code[12] === '8' ? 'B' : '8') + code.slice(13);
    await page.getByLabel('Ontvangstcode', { exact: true }).fill(typo);
    await page.getByRole('button', { name: 'Openen' }).click();
    expect(await error.textContent()).toContain('Er zit waarschijnlijk een typefout in de code');
    expect(apiRequests(requests.slice(before))).toEqual([]);

    // English too, for the same typo.
    await chooseLanguage(page, 'English');
    expect(await error.textContent()).toContain('There is probably a typing mistake in the code');
    await chooseLanguage(page, 'Nederlands');

    // A well-formed code with the wrong secret: the server says no, in the same words as an unknown case.
    const wrong = formatReceiptCode({
      caseNumber: parseReceiptCode(code).caseNumber,
      secret: generateReceiptSecret(),
    });
    await page.getByLabel('Ontvangstcode', { exact: true }).fill(wrong);
    await page.getByRole('button', { name: 'Openen' }).click();
    await page.getByText('Met deze code vinden wij geen melding.').waitFor();
    const tried = apiRequests(requests.slice(before)).map(
      (r) => `${r.method} ${new URL(r.url).pathname}`,
    );
    expect(tried).toEqual([`GET /api/v1/cases/${parseReceiptCode(code).caseNumber}`]);

    // The right code opens the case.
    await page.getByLabel('Ontvangstcode', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Openen' }).click();
    await page.getByText('Een melding.').waitFor();
    await context.close();
  });

  it('resumes an upload that broke mid-way, re-encrypting from the chunk where the server stopped', async () => {
    const file = fileBytes(`RESUMEKANARIE-${toHex(generateReceiptSecret())}`, 300_000);
    const { context, page, requests } = await openPage();
    let cut = 0;
    await page.route('**/api/v1/cases/*/uploads/*', async (route) => {
      const request = route.request();
      if (request.method() !== 'PATCH' || cut > 0) return route.fallback();
      // The server receives the first 100,003 bytes (not a chunk boundary); the page sees its connection drop.
      cut = 100_003;
      const response = await route.fetch({ postData: request.postDataBuffer()!.subarray(0, cut) });
      expect(response.status()).toBe(200);
      await route.abort('connectionreset');
    });

    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill('Melding met een groot bestand.');
    await page
      .getByLabel('Bestanden kiezen')
      .setInputFiles({ name: 'foto.jpg', mimeType: 'image/jpeg', buffer: file });
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    const code = await readCode(page);
    expect(await announced(page)).toContain(
      'De verbinding was even weg. We gaan verder waar het stopte.',
    );

    const patches = requests
      .filter((r) => r.method === 'PATCH')
      .map((r) => Number(r.headers['upload-offset']));
    expect(patches).toEqual([0, cut]);
    const caseNumber = code.replace(/-/g, '').slice(0, 8);
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    const report = view.messages[0]!.content!;
    if (report.type !== 'report') throw new Error('not a report');
    expect((await counsellorFile(caseNumber, report.attachments[0]!)).equals(file)).toBe(true);
    await context.close();
  });

  it('shows a message the server altered, and one it dropped, as visible warnings', async () => {
    const { code, caseNumber } = await apiCase(server.url, counsellor, 'Wat er gebeurde.');
    await counsellorReplies(caseNumber, 'Eerste antwoord.');
    await counsellorReplies(caseNumber, 'Tweede antwoord.');

    // Altered: one ciphertext bit of the first reply flipped on the way.
    const { context, page } = await openPage();
    await page.route(`**/api/v1/cases/${caseNumber}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { messages: { envelope: { ct: string } }[] };
      const ct = fromBase64(body.messages[1]!.envelope.ct);
      ct[40]! ^= 1;
      body.messages[1]!.envelope.ct = toBase64(ct);
      await route.fulfill({ response, json: body });
    });
    await logIn(page, code);
    await page.getByText('Waarschuwing: er klopt iets niet in dit gesprek').waitFor();
    await page
      .getByText('Dit bericht kon niet worden geopend: het is veranderd nadat het werd geschreven.')
      .waitFor();
    await page.getByText('Bericht 3 sluit niet aan op het bericht ervoor').first().waitFor();
    expect(await page.getByText('Eerste antwoord.').count()).toBe(0);
    expect(await page.locator('.badge-bad').count()).toBe(2);
    await chooseLanguage(page, 'English');
    await page.getByText('Warning: something is wrong in this conversation').waitFor();
    await page
      .getByText('This message could not be opened: it was changed after it was written.')
      .waitFor();
    await context.close();

    // Dropped: the first reply left out.
    const dropped = await openPage();
    await dropped.page.route(`**/api/v1/cases/${caseNumber}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { messages: unknown[] };
      body.messages.splice(1, 1);
      await route.fulfill({ response, json: body });
    });
    await logIn(dropped.page, code);
    await dropped.page.getByText('Waarschuwing: er klopt iets niet in dit gesprek').waitFor();
    await dropped.page.getByText('Vóór bericht 2 ontbreken berichten.').first().waitFor();
    await dropped.page.getByText('Tweede antwoord.').waitFor(); // shown, with the warning beside it, never hidden
    await dropped.context.close();
  });

  it('re-seals a reply that raced a counsellor message, sends its file, and shows the signed history', async () => {
    const { code, caseNumber } = await apiCase(
      server.url,
      counsellor,
      'Mijn melding, zonder toestemming om door te sturen.',
    );
    let view = await counsellorRead(server.url, counsellor, caseNumber);
    await counsellorPost(server.url, counsellor, caseNumber, view, {
      v: 1,
      type: 'status',
      time: '2026-11-29T10:00:00Z',
      status: 'in-conversation',
      text: 'Ik neem uw melding in behandeling.',
    });
    view = await counsellorRead(server.url, counsellor, caseNumber);
    await counsellorPost(server.url, counsellor, caseNumber, view, {
      v: 1,
      type: 'forwarded',
      time: '2026-11-29T11:00:00Z',
      to: counsellor.fingerprint,
      name: 'Secretaris-generaal',
      text: '',
    });

    const { context, page, requests } = await openPage();
    await logIn(page, code);
    await page.getByText('Nieuwe stand van zaken: In gesprek').waitFor();
    expect(await page.getByTestId('case-status').textContent()).not.toContain('volgens de server');
    await page.getByText('Uw melding is doorgestuurd naar Secretaris-generaal.').waitFor();
    await page.getByText('Let op: u had hiervoor geen toestemming gegeven.').waitFor();

    // The counsellor writes just before the reporter's message arrives: the server refuses it (seq taken).
    let raced = false;
    await page.route(`**/api/v1/cases/${caseNumber}/messages`, async (route) => {
      if (!raced) {
        raced = true;
        await counsellorReplies(caseNumber, 'Net op tijd.');
      }
      await route.fallback();
    });
    const file = fileBytes(`ANTWOORDBESTAND-${toHex(generateReceiptSecret())}`, 5_000);
    await page.getByLabel('Uw bericht').fill('Hier is nog een bestand.');
    await page
      .getByLabel('Bestanden kiezen')
      .setInputFiles({ name: 'extra.txt', mimeType: 'text/plain', buffer: file });
    await page.getByRole('radio', { name: 'Ja' }).check();
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByText('Uw bericht is verstuurd.').waitFor({ timeout: 60_000 });
    await page.getByText('Net op tijd.').waitFor();

    const posts = requests
      .filter((r) => r.method === 'POST' && r.url.endsWith('/messages'))
      .map((r) => JSON.parse(r.body!.toString()).seq);
    expect(posts).toEqual([3, 4]);
    const after = await counsellorRead(server.url, counsellor, caseNumber);
    expect(after.intact).toBe(true);
    const reply = after.messages[4]!;
    expect(reply.author).toBe('reporter');
    if (reply.content?.type !== 'message') throw new Error('not a message');
    expect(reply.content.consent).toBe('yes');
    expect((await counsellorFile(caseNumber, reply.content.attachments[0]!)).equals(file)).toBe(
      true,
    );
    await context.close();
  });

  it('explains a server error, a full store and a lost connection, and sends on retry with nothing lost', async () => {
    const canary = `RETRYKANARIE-${toHex(generateReceiptSecret())}`;
    const { context, page, requests } = await openPage();
    await page.route('**/api/v1/tickets', (route) =>
      route.fulfill({ status: 500, json: { error: { code: 'internal', message: 'test' } } }),
    );
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill(canary);
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByText('Er ging iets mis op de server.').waitFor();
    await page.getByText('Technische code: internal').waitFor();

    // A full store (503 store-full): said plainly, in the reporter's language, and not retried by itself.
    await page.unroute('**/api/v1/tickets');
    let casePosts = 0;
    await page.route('**/api/v1/cases', (route) => {
      casePosts++;
      return route.fulfill({
        status: 503,
        json: { error: { code: 'store-full', message: 'test' } },
      });
    });
    await page.getByRole('button', { name: 'Opnieuw proberen' }).click();
    await page.getByText('De server is op dit moment vol').waitFor({ timeout: 30_000 });
    await page.getByText('Technische code: store-full').waitFor();
    expect(casePosts).toBe(1);
    await chooseLanguage(page, 'English');
    await page.getByText('The server is full at the moment').waitFor();
    await chooseLanguage(page, 'Nederlands');
    await page.unroute('**/api/v1/cases');

    // The page holds its solved ticket now, so the lost connection is on the case request.
    await page.route('**/api/v1/cases', (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Opnieuw proberen' }).click();
    await page.getByText('De server is niet bereikbaar.').waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: 'Terug naar mijn melding' }).click();
    expect(await page.getByLabel('Wat is er gebeurd?').inputValue()).toBe(canary);
    await page.unroute('**/api/v1/cases');
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    const code = await readCode(page);
    const view = await counsellorRead(server.url, counsellor, code.replace(/-/g, '').slice(0, 8));
    expect(view.messages[0]!.content?.type === 'report' && view.messages[0]!.content.text).toBe(
      canary,
    );
    expect(requestsContaining(requests, canary)).toEqual([]);
    await context.close();
  });

  it('recognises its own case when the answer to its creation was lost, though the ticket is spent', async () => {
    const canary = `VERLORENANTWOORD-${toHex(generateReceiptSecret())}`;
    const { context, page } = await openPage();
    let created = 0;
    // The server makes the case (and spends its ticket); the answer never reaches the page.
    await page.route('**/api/v1/cases', async (route) => {
      if (created > 0) return route.continue();
      const response = await route.fetch();
      created = response.status();
      return route.abort('connectionreset');
    });
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill(canary);
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    const code = await readCode(page);
    expect(created).toBe(201);
    const view = await counsellorRead(server.url, counsellor, code.replace(/-/g, '').slice(0, 8));
    expect(view.messages).toHaveLength(1);
    expect(view.messages[0]!.content?.type === 'report' && view.messages[0]!.content.text).toBe(
      canary,
    );
    await context.close();
  });

  it('still sends, on its own thread, when its workers cannot start', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.route('**/assets/worker-*.js', (route) => route.abort('blockedbyclient'));
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill('Zonder workers.');
    const file = fileBytes('ZONDERWORKERS', 150_000);
    await page
      .getByLabel('Bestanden kiezen')
      .setInputFiles({ name: 'w.bin', mimeType: 'application/octet-stream', buffer: file });
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    const code = await readCode(page);
    const caseNumber = code.replace(/-/g, '').slice(0, 8);
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    const report = view.messages[0]!.content!;
    if (report.type !== 'report') throw new Error('not a report');
    expect((await counsellorFile(caseNumber, report.attachments[0]!)).equals(file)).toBe(true);
    await context.close();
  });

  it('sends nothing when the report cannot be sealed', async () => {
    const { context, page, requests } = await openPage();
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    // 190,000 control characters are within the text limit but are 1.1 MB as JSON: over what an envelope holds.
    await page.getByLabel('Wat is er gebeurd?').fill('\u0001'.repeat(190_000));
    const before = requests.length;
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page
      .getByText('Versleutelen is niet gelukt, want de tekst is te lang. Er is niets verstuurd.')
      .waitFor();
    expect(apiRequests(requests.slice(before))).toEqual([]);
    await context.close();
  });

  it('leaves quickly: the page is wiped and replaced, and Back does not return to it', async () => {
    const { context, page } = await openPage();
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill('Iets dat niemand mag zien.');
    await page.getByTestId('quick-exit').click();
    await page.waitForURL('about:blank');
    expect(await page.content()).not.toContain('niemand mag zien');
    await page.goBack().catch(() => undefined);
    expect(page.url()).not.toBe(`${server.url}/`);
    await context.close();

    // Also from the receipt screen, whose "leave this page?" question must not hold it up.
    const receipt = await openPage();
    await receipt.page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await receipt.page.getByLabel('Wat is er gebeurd?').fill('Nog een melding.');
    await receipt.page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await readCode(receipt.page);
    const dialogs: string[] = [];
    receipt.page.on('dialog', (dialog) => {
      dialogs.push(dialog.type());
      void dialog.dismiss(); // a "leave this page?" question answered "stay"
    });
    await receipt.page.getByTestId('quick-exit').click();
    await receipt.page.waitForURL('about:blank');
    expect(dialogs).toEqual([]);
    await receipt.context.close();
  });

  it('works with the keyboard alone, moving focus to each new screen', async () => {
    const { context, page } = await openPage();
    const focused = () =>
      page.evaluate(
        () => document.activeElement?.textContent?.trim() ?? document.activeElement?.tagName,
      );
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Snel weg'); // first: leaving quickly is one key away
    await page.keyboard.press('Tab'); // "skip to content"
    // Then the language picker: one button per language, each named in its own language.
    const picked: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      picked.push((await focused()) ?? '');
    }
    expect([...picked].sort()).toEqual(
      ['English', 'Español', 'Français', 'Nederlands', 'Português', 'العربية'].sort(),
    );
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Een melding schrijven');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Uw melding' }).waitFor();
    expect(await focused()).toBe('Uw melding');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Met het toetsenbord geschreven.');
    await page.keyboard.press('Tab'); // the consent choice
    await page.keyboard.press('ArrowDown'); // from "ask me first" to "yes"
    expect(await page.getByRole('radio', { name: 'Ja' }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.type('K.');
    await page.keyboard.press('Enter'); // submits the form
    await readCode(page);
    expect(await focused()).toBe('Uw melding is verstuurd');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab'); // copy, save, the confirmation
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Met het toetsenbord geschreven.').waitFor();
    await page.getByText('Aanspreken als: K.').waitFor();
    await context.close();
  });

  it('has no serious or critical accessibility violation on any screen, in either language', async () => {
    const { context, page } = await openPage();
    const { code, caseNumber } = await apiCase(server.url, counsellor, 'Toegankelijk?');
    await counsellorReplies(caseNumber, 'Een antwoord.');
    const screens: Record<string, unknown> = {};
    const check = async (name: string) => {
      screens[name] = await seriousViolations(page);
    };
    for (const lang of ['nl', 'en'] as const) {
      const t =
        lang === 'nl'
          ? {
              write: 'Een melding schrijven',
              back: 'Terug',
              have: 'Ik heb al een ontvangstcode',
              field: 'Ontvangstcode',
              open: 'Openen',
              send: 'Versleutelen en versturen',
              close: 'Melding sluiten',
            }
          : {
              write: 'Write a report',
              back: 'Back',
              have: 'I already have a receipt code',
              field: 'Receipt code',
              open: 'Open',
              send: 'Encrypt and send',
              close: 'Close my report',
            };
      if (lang === 'en') await chooseLanguage(page, 'English');
      await check(`${lang} welcome`);
      await page.getByRole('button', { name: t.write }).click();
      await page.getByRole('button', { name: t.send }).click(); // empty: the field's error shows
      await page
        .locator('input[type=file]')
        .setInputFiles({ name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('a') });
      await check(`${lang} write`);
      await page.getByRole('button', { name: t.back }).click();
      await page.getByRole('button', { name: t.have }).click();
      await page.getByLabel(t.field, { exact: true }).fill('abc');
      await page.getByRole('button', { name: t.open }).click();
      await check(`${lang} come back`);
      await page.getByLabel(t.field, { exact: true }).fill(code);
      await page.getByRole('button', { name: t.open }).click();
      await page.getByText('Een antwoord.').waitFor();
      await check(`${lang} case`);
      await page.getByRole('button', { name: t.close }).click();
    }

    // Sending (with its error) and the receipt. The ticket was prepared while the form was open
    // (prepaid.ts): the request that fails is the one Send makes.
    await page.route('**/api/v1/cases', (route) =>
      route.fulfill({ status: 503, json: { error: { code: 'internal', message: 'x' } } }),
    );
    await page.getByRole('button', { name: 'Write a report' }).click();
    await page.getByLabel('What happened?').fill('Accessible?');
    await page.getByRole('button', { name: 'Encrypt and send' }).click();
    await page.getByText('Something went wrong on the server.').waitFor({ timeout: 30_000 });
    await check('en sending, failed');
    await page.unroute('**/api/v1/cases');
    await page.getByRole('button', { name: 'Try again' }).click();
    await readCode(page);
    await check('en receipt');
    await chooseLanguage(page, 'Nederlands');
    await check('nl receipt');
    for (const [name, violations] of Object.entries(screens))
      expect({ name, violations }).toEqual({ name, violations: [] });
    await context.close();
  });
});
