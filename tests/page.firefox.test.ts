/**
 * The reporter's main flows in Firefox ESR with Tor Browser's Safer
 * preferences (no JIT, no WebAssembly: tests/helpers/firefox.ts), against
 * the real server process: a report with a file that the counsellor opens
 * and answers, coming back with the receipt code to read the reply and
 * answer it, and a message the server altered shown as not verified.
 * page.test.ts covers the rest of the page in JIT-less Chromium.
 */

import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachmentDecryptor,
  type AttachmentRef,
  concatBytes,
  fromBase64,
  generateReceiptSecret,
  toBase64,
  toHex,
} from '../crypto/index.js';
import {
  apiCase,
  buildReporter,
  counsellorBlob,
  counsellorPost,
  counsellorRead,
  makeCounsellor,
  type TestCounsellor,
} from './helpers/browser.js';
import {
  byLabel,
  byRole,
  chooseFile,
  countText,
  launchFirefox,
  profilePrefs,
  SAFER_PREFS,
  textOf,
  uploadDir,
  waitForText,
} from './helpers/firefox.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

let server: ServerProcess;
let browser: Browser;
let staticDir: string;
let bundlesFile: string;
const uploads = uploadDir();
const counsellor: TestCounsellor = makeCounsellor('A. de Vries (test)');

beforeAll(async () => {
  staticDir = await buildReporter({ counsellors: [counsellor.bundle] });
  bundlesFile = join(staticDir, '..', `kluis-test-bundles-${process.pid}-firefox.json`);
  writeFileSync(bundlesFile, counsellor.bundlesJson);
  server = await startServer({
    env: { KLUIS_STATIC_DIR: staticDir, KLUIS_COUNSELLORS: bundlesFile, KLUIS_POW_BITS: '8' },
  });
  browser = await launchFirefox();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(staticDir, { recursive: true, force: true });
  rmSync(bundlesFile, { force: true });
  uploads.remove();
});

/** A fresh browser context (no storage shared with any other) on the page at `url`. */
async function openPage(
  url = server.url,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  await page.waitForSelector('.fingerprint');
  return { context, page, errors };
}

async function logIn(page: Page, code: string): Promise<void> {
  await byRole(page, 'button', 'Ik heb al een ontvangstcode').click();
  await byLabel(page, 'Ontvangstcode').fill(code);
  await byRole(page, 'button', 'Openen').click();
}

async function counsellorFile(caseNumber: string, ref: AttachmentRef): Promise<Buffer> {
  const ciphertext = await counsellorBlob(server.url, counsellor, caseNumber, ref.blob);
  const decryptor = new AttachmentDecryptor({ key: ref.key, prefix: ref.prefix, size: ref.size });
  return Buffer.from(concatBytes(...decryptor.push(ciphertext), ...decryptor.finish()));
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

/**
 * A server in front of the real one that alters what it hands out: one
 * ciphertext bit of message `index` of every case flipped, as a hostile
 * or broken server could. Everything else passes unchanged.
 */
async function alteringServer(index: number): Promise<{ url: string; close(): Promise<void> }> {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        ([name]) => !['host', 'connection', 'content-length'].includes(name),
      ),
    ) as Record<string, string>;
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const upstream = await fetch(server.url + request.url, {
      method: request.method!,
      headers,
      ...(body ? { body } : {}),
    });
    let bytes = Buffer.from(await upstream.arrayBuffer());
    if (
      request.method === 'GET' &&
      /^\/api\/v1\/cases\/[0-9A-Z]{8}$/.test(request.url!) &&
      upstream.status === 200
    ) {
      const view = JSON.parse(bytes.toString()) as { messages: { envelope: { ct: string } }[] };
      const ct = fromBase64(view.messages[index]!.envelope.ct);
      ct[40]! ^= 1;
      view.messages[index]!.envelope.ct = toBase64(ct);
      bytes = Buffer.from(JSON.stringify(view));
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
        out[name] = value;
    });
    response.writeHead(upstream.status, { ...out, 'content-length': String(bytes.length) });
    response.end(bytes);
  };
  const proxy: Server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}

describe('the reporter page in Firefox ESR at Tor Browser’s Safer level', () => {
  it('runs in Firefox started with the Safer preferences, and WebAssembly is off in the page', async () => {
    expect(profilePrefs(browser)).toMatchObject(SAFER_PREFS);
    const { context, page } = await openPage();
    expect(await page.evaluate(() => navigator.userAgent)).toMatch(/ Firefox\/\d+/);
    // javascript.options.wasm is false: the profile's preferences are in effect (the JIT ones are in the same file).
    expect(await page.evaluate(() => typeof WebAssembly)).toBe('undefined');
    await context.close();
  });

  it('sends a report with a file; the counsellor reads and replies; the reporter comes back, reads and answers', async () => {
    const canary = `KANARIE-${toHex(generateReceiptSecret())}`;
    const fileName = `verslag-${toHex(generateReceiptSecret()).slice(0, 8)}.pdf`;
    const file = Buffer.alloc(150_000, 0x5a);
    file.write(`BESTANDKANARIE-${toHex(generateReceiptSecret())}`);
    const first = await openPage();
    const { page } = first;

    await byRole(page, 'button', 'Een melding schrijven').click();
    await byLabel(page, 'Wat is er gebeurd?').fill(
      `Tijdens het overleg gebeurde het volgende. ${canary}`,
    );
    await byRole(page, 'radio', 'Ja').click();
    await byLabel(page, 'Hoe wilt u dat de vertrouwenspersoon u noemt?').fill('M.');
    await chooseFile(page, uploads.path, fileName, file);
    await byRole(page, 'button', 'Versleutelen en versturen').click();
    const code = await textOf(page, '[data-testid=receipt-code]', 120_000);
    expect(code).toMatch(/^([0-9A-Z]{4}-){6}[0-9A-Z]{4}$/);
    const caseNumber = code.replace(/-/g, '').slice(0, 8);

    // The counsellor opens the report and its file, acknowledges and replies.
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    expect(view.intact).toBe(true);
    const report = view.messages[0]!.content!;
    if (report.type !== 'report') throw new Error('not a report');
    expect(report.text).toContain(canary);
    expect(report.consent).toBe('yes');
    expect(report.addressAs).toBe('M.');
    expect(report.attachments.map((a) => a.name)).toEqual([fileName]);
    expect((await counsellorFile(caseNumber, report.attachments[0]!)).equals(file)).toBe(true);
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
    await first.context.close();

    // Later, in a fresh context, with only the code.
    const second = await openPage();
    await logIn(second.page, code);
    await waitForText(
      second.page,
      'Dank voor uw melding. Kunt u vertellen wanneer dit was?',
      60_000,
    );
    expect(await textOf(second.page, '[data-testid=integrity]')).toContain(
      'Alle berichten zijn gecontroleerd',
    );
    expect((await second.page.$$('.badge-ok')).length).toBe(3);
    expect(await countText(second.page, canary)).toBe(1);

    const answer = `ANTWOORDKANARIE-${toHex(generateReceiptSecret())}`;
    await byLabel(second.page, 'Uw bericht').fill(`Het was op dinsdag. ${answer}`);
    await byRole(second.page, 'button', 'Versleutelen en versturen').click();
    await waitForText(second.page, 'Uw bericht is verstuurd.', 60_000);

    const after = await counsellorRead(server.url, counsellor, caseNumber);
    expect(after.intact).toBe(true);
    expect(after.count).toBe(4);
    expect(after.messages[3]!.author).toBe('reporter');
    expect(after.messages[3]!.content?.type === 'message' && after.messages[3]!.content.text).toBe(
      `Het was op dinsdag. ${answer}`,
    );
    expect([...first.errors, ...second.errors]).toEqual([]);
    await second.context.close();
  });

  it('shows a message the server altered as not verified, and not its text', async () => {
    const { code, caseNumber } = await apiCase(server.url, counsellor, 'Wat er gebeurde.');
    await counsellorReplies(caseNumber, 'Eerste antwoord.');
    await counsellorReplies(caseNumber, 'Tweede antwoord.');
    const altering = await alteringServer(1);
    try {
      const { context, page, errors } = await openPage(altering.url);
      await logIn(page, code);
      await waitForText(page, 'Waarschuwing: er klopt iets niet in dit gesprek', 60_000);
      await waitForText(
        page,
        'Dit bericht kon niet worden geopend: het is veranderd nadat het werd geschreven.',
      );
      await waitForText(page, 'Tweede antwoord.');
      expect(await countText(page, 'Eerste antwoord.')).toBe(0);
      expect((await page.$$('.badge-bad')).length).toBe(2);
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await altering.close();
    }
  });
});
