/**
 * The page seals only for the keys it was built with (SECURITY.md, "key
 * substitution"). Seen on an earlier version: the page sealed to every
 * bundle `GET /api/v1/info` listed, so an operator that listed its own key
 * could read every new report. Here the server lists a key of the
 * operator's beside the built counsellor's, or only the operator's; and a
 * reply that someone sealed for the operator too is shown with an alarm.
 */

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  displayFingerprint,
  type Envelope,
  exportBundle,
  fingerprintOf,
  generateIdentity,
} from '../crypto/index.js';
import {
  buildReporter,
  counsellorPost,
  counsellorRead,
  launchBrowser,
  makeCounsellor,
  recordRequests,
  seriousViolations,
} from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const counsellor = makeCounsellor('A. de Vries (test)');
const operator = generateIdentity('counsellor', 'A. de Vries (test)');
const operatorFingerprint = fingerprintOf(operator.sign.publicKey);
let staticDir: string;
let browser: Browser;
const servers: ServerProcess[] = [];
const files: string[] = [];

async function serverListing(bundles: unknown[]): Promise<ServerProcess> {
  const file = join(staticDir, '..', `kluis-keys-test-${process.pid}-${files.length}.json`);
  writeFileSync(file, JSON.stringify(bundles));
  files.push(file);
  const server = await startServer({
    env: { KLUIS_STATIC_DIR: staticDir, KLUIS_COUNSELLORS: file, KLUIS_POW_BITS: '4' },
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  staticDir = await buildReporter({ counsellors: [counsellor.bundle] });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const server of servers) await server.stop();
  for (const file of files) rmSync(file, { force: true });
  rmSync(staticDir, { recursive: true, force: true });
});

async function open(server: ServerProcess): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url);
  await page.locator('.fingerprint').first().waitFor();
  return page;
}

describe('the page and the keys it was built with', () => {
  it('a key the server adds is never used, and the page says so; the report is sealed for the built counsellor only', async () => {
    const server = await serverListing([counsellor.bundle, exportBundle(operator)]);
    const page = await open(server);
    await page
      .getByText('de server biedt één sleutel aan die niet bij deze pagina hoort')
      .waitFor();
    // The page shows the fingerprint it was built with, not the operator's look-alike.
    const shown = await page.locator('.fingerprint').allTextContents();
    expect(shown).toEqual([displayFingerprint(counsellor.fingerprint)]);
    expect(await seriousViolations(page)).toEqual([]);

    const requests = recordRequests(page);
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page
      .getByLabel('Wat is er gebeurd?')
      .fill('Een melding voor de echte vertrouwenspersoon.');
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
    const posted = requests.find(
      (r) => r.method === 'POST' && new URL(r.url).pathname === '/api/v1/cases' && r.body,
    );
    const report = (JSON.parse(posted!.body!.toString('utf8')) as { report: Envelope }).report;
    const recipients = report.keys.map((k) => k.to);
    expect(recipients).toContain(counsellor.fingerprint);
    expect(recipients).not.toContain(operatorFingerprint);
    expect(recipients).toHaveLength(2); // the reporter and the built counsellor
  });

  it('if the server lists none of the built keys, the page sends nothing and says why', async () => {
    const server = await serverListing([exportBundle(operator)]);
    const page = await open(server);
    await page
      .getByText('De server biedt geen van de sleutels aan waarmee deze pagina is gemaakt')
      .waitFor();
    expect(await page.getByRole('button', { name: 'Een melding schrijven' }).isDisabled()).toBe(
      true,
    );
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('a reply sealed for a key the reporter did not choose is shown with an alarm, as loud as a forgery', async () => {
    const server = await serverListing([counsellor.bundle]);
    const page = await open(server);
    await page.getByRole('button', { name: 'Een melding schrijven' }).click();
    await page.getByLabel('Wat is er gebeurd?').fill('Een melding.');
    await page.getByRole('button', { name: 'Versleutelen en versturen' }).click();
    await page.getByTestId('receipt-code').waitFor({ timeout: 60_000 });
    const code = (await page.getByTestId('receipt-code').textContent())!.trim();
    const caseNumber = code.replace(/-/g, '').slice(0, 8);
    const view = await counsellorRead(server.url, counsellor, caseNumber);
    const operatorRecipient = {
      fingerprint: operatorFingerprint,
      boxPublicKey: operator.box.publicKey,
    };
    await counsellorPost(
      server.url,
      counsellor,
      caseNumber,
      view,
      {
        v: 1,
        type: 'message',
        time: '2026-11-29T09:30:00Z',
        text: 'Een antwoord.',
        attachments: [],
      },
      {},
      [operatorRecipient],
    );

    const again = await open(server);
    await again.getByRole('button', { name: 'Ik heb al een ontvangstcode' }).click();
    await again.getByLabel('Ontvangstcode', { exact: true }).fill(code);
    await again.getByRole('button', { name: 'Openen' }).click();
    await again.getByText('Een antwoord.').waitFor();
    const alarm = again
      .getByRole('alert')
      .filter({ hasText: displayFingerprint(operatorFingerprint) });
    await alarm.waitFor();
    expect(await alarm.textContent()).toContain('nog iemand kan dit bericht lezen');
    expect(await again.locator('.badge-bad').count()).toBe(1);
    expect(await again.getByTestId('integrity').textContent()).not.toContain(
      'Alle berichten zijn gecontroleerd',
    );
    expect(await seriousViolations(again)).toEqual([]);
  });
});
