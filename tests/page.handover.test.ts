/**
 * The reporter page shows a handover (PROTOCOL §7) in the conversation, in
 * Chromium against the real server: to a colleague the page was built with,
 * by the page's own name for them; to a key the page does not know, as a
 * warning as loud as any foreign reader (the unexpected-recipient alarm on
 * the message), in Dutch and in English.
 */

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayFingerprint } from '../crypto/index.js';
import {
  apiCase,
  counsellorPost,
  counsellorRead,
  makeCounsellor,
  seriousViolations,
  type PageRig,
  startPageRig,
  type TestCounsellor,
} from './helpers/browser.js';
import type { ServerProcess } from './helpers/server-process.js';

const leaving: TestCounsellor = makeCounsellor('A. de Vries (test)');
const joining: TestCounsellor = makeCounsellor('B. Jansen (test)');
const stranger: TestCounsellor = makeCounsellor('Not on the page');
let rig: PageRig;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  rig = await startPageRig([leaving, joining], { KLUIS_POW_BITS: '0' });
  ({ server, browser } = rig);
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

/** A case whose counsellor wrote a handover to `to`, sealed (as a handover is) for `to` too. */
async function handedOverCase(to: TestCounsellor): Promise<string> {
  const { code, caseNumber } = await apiCase(server.url, leaving, 'Wat er gebeurde.');
  const view = await counsellorRead(server.url, leaving, caseNumber);
  await counsellorPost(
    server.url,
    leaving,
    caseNumber,
    view,
    {
      v: 1,
      type: 'handover',
      time: '2026-12-01T10:00:00Z',
      to: to.fingerprint,
      name: 'B. Jansen (test)', // the name a hostile client could put here; the page trusts its own
      text: 'Mijn collega neemt het over.',
    },
    {},
    [{ fingerprint: to.fingerprint, boxPublicKey: to.identity.box.publicKey }],
  );
  return code;
}

async function openCase(code: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Ik heb al een ontvangstcode' }).click();
  await page.getByLabel('Ontvangstcode', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Openen' }).click();
  await page.getByText('Wat er gebeurde.').waitFor();
  return page;
}

describe('a handover on the reporter page', () => {
  it('to a colleague the page trusts: shown by the page’s name for them, verified, no warning', async () => {
    const page = await openCase(await handedOverCase(joining));
    const handover = page.getByTestId('handover');
    await handover.waitFor();
    expect(await handover.textContent()).toContain(
      'Uw melding is overgedragen aan B. Jansen (test), een vertrouwenspersoon van deze pagina.',
    );
    await page.getByText('Mijn collega neemt het over.').waitFor();
    expect(await page.locator('.badge-bad').count()).toBe(0);
    expect(await page.getByText('Waarschuwing: er klopt iets niet in dit gesprek').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'English' }).click();
    await page
      .getByText('Your report was handed over to B. Jansen (test), a counsellor of this page.', {
        exact: false,
      })
      .waitFor();
    await page.context().close();
  });

  it('to a key the page does not know: named as loudly as any foreign reader, whatever name it claims', async () => {
    const page = await openCase(await handedOverCase(stranger));
    const key = displayFingerprint(stranger.fingerprint);
    await page
      .getByText(
        `Let op: uw melding is overgedragen aan een sleutel die deze pagina niet kent (${key}).`,
        {
          exact: false,
        },
      )
      .waitFor();
    // The unexpected-recipient alarm on the message itself, and the message not verified.
    expect(await page.getByRole('alert').filter({ hasText: key }).count()).toBeGreaterThan(0);
    expect(await page.locator('.badge-bad').count()).toBe(1);
    expect(await page.getByText('overgedragen aan B. Jansen').count()).toBe(0);
    await page.context().close();
  });
});
