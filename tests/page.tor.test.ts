/**
 * Fast over Tor (issue #13), in jitless Chromium against the real server:
 * while the reporter writes, the page asks for its ticket and nothing else
 * (nothing of the report or its files leaves before Send); after Send, a
 * text report and a reply are one request each; a report with a file is
 * the case announcing its upload, the upload, and the report, with no
 * ticket request in between. Timings are for `npm run bench -- tor`.
 */

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReceiptSecret, toHex } from '../crypto/index.js';
import {
  counsellorPost,
  counsellorRead,
  makeCounsellor,
  type RecordedRequest,
  recordRequests,
  requestsContaining,
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

/** The API requests among `requests`, as `METHOD /path` with the case number and ids left out. */
function apiCalls(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((r) => new URL(r.url).pathname.startsWith('/api/'))
    .map((r) =>
      `${r.method} ${new URL(r.url).pathname}`
        .replace(/\/cases\/[0-9A-Z]{8}/, '/cases/:case')
        .replace(/\/uploads\/[0-9a-f]{32}/, '/uploads/:id'),
    );
}

/** Waits until the page has solved the proof of work it prepared `times` times (prepaid.ts marks it). */
async function prepaid(page: Page, times = 1): Promise<void> {
  await page.waitForFunction(
    (n) => performance.getEntriesByName('kluis:prepaid').length >= n,
    times,
    { timeout: 60_000 },
  );
}

/** A new page, once it has the server's list of keys. */
async function ready(): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  const info = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/info');
  await page.goto(server.url);
  await info;
  return page;
}

describe('the page over a slow link', () => {
  it('prepares only a ticket while the reporter writes; Send is then one request for a text report and for a reply', async () => {
    const canary = `TORKANARIE-${toHex(generateReceiptSecret())}`;
    const page = await ready();
    const writing = recordRequests(page);
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill(`Het gebeurde zo. ${canary}`);
    await prepaid(page);
    // Only the case ticket went out while writing: nothing of the report.
    expect(apiCalls(writing)).toEqual(['POST /api/v1/tickets']);
    expect(requestsContaining(writing, canary)).toEqual([]);

    const sending = recordRequests(page);
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
    expect(apiCalls(sending)).toEqual(['POST /api/v1/cases']);
    expect(requestsContaining(sending, canary)).toEqual([]); // sealed

    // The conversation: the reply form prepares its message ticket; the reply is one request.
    const code = (await page.getByTestId('receipt-code').textContent())!.trim();
    const caseNumber = code.replace(/-/g, '').slice(0, 8);
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    await counsellorPost(server.url, counsellor, caseNumber, view, {
      v: 1,
      type: 'message',
      time: '2026-11-29T09:30:00Z',
      text: 'Dank voor uw melding.',
      attachments: [],
    });
    await page.getByLabel('Ik heb mijn code opgeschreven of bewaard.').check();
    await page.getByRole('button', { name: 'Verder naar mijn melding' }).click();
    await page.getByText('Dank voor uw melding.').waitFor({ timeout: 60_000 });
    await prepaid(page, 2);
    const replying = recordRequests(page);
    await page.getByLabel('Uw bericht').fill('Nog een detail.');
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByText('Uw bericht is verstuurd.').waitFor({ timeout: 60_000 });
    // The reply goes after the conversation as shown, without reading it again first.
    expect(apiCalls(replying).slice(0, 1)).toEqual(['POST /api/v1/cases/:case/messages']);
    const after = await counsellorRead(server.url, counsellor, caseNumber);
    expect(after.intact).toBe(true);
    expect(after.messages.map((m) => m.author)).toEqual(['reporter', 'counsellor', 'reporter']);
  });

  it('a report with a file: the case announces its upload, then the upload and the report, no ticket after Send', async () => {
    const page = await ready();
    const writing = recordRequests(page);
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill('Met een bijlage.');
    const fileCanary = `BESTANDKANARIE-${toHex(generateReceiptSecret())}`;
    const file = Buffer.alloc(200_000, 7);
    file.write(fileCanary, 100, 'utf8');
    await page
      .getByLabel('Bestanden kiezen')
      .setInputFiles({ name: 'bijlage.bin', mimeType: 'application/octet-stream', buffer: file });
    await page.locator('.file-name').waitFor();
    await prepaid(page, 2); // the report's solution, then one more for the file
    expect(apiCalls(writing)).toEqual(['POST /api/v1/tickets']);
    expect(requestsContaining(writing, fileCanary)).toEqual([]);

    const sending = recordRequests(page);
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
    expect(apiCalls(sending)).toEqual([
      'POST /api/v1/cases',
      'PATCH /api/v1/cases/:case/uploads/:id',
      'POST /api/v1/cases/:case/messages',
    ]);
    expect(requestsContaining(sending, fileCanary)).toEqual([]);
    const created = sending.find((r) => r.method === 'POST' && r.url.endsWith('/api/v1/cases'))!;
    const body = JSON.parse(created.body!.toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['uploads', 'verifier']);
    expect(created.headers['kluis-work']?.split(',')).toHaveLength(2);
  });
});
