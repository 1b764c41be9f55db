/**
 * Replays and reuse (review #10, finding 6): someone who captured a signed
 * counsellor request or a used ticket tries to use it again — at the edge of
 * the time window, after the server restarts, on another deployment that
 * trusts the same key, or after the case it made was deleted.
 */

import { isStoreTime } from '../server/store/coarse-time.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeContent, envelopeHash, sealEnvelope, toBase64 } from '../crypto/index.js';
import { SIGNATURE_WINDOW_SECONDS } from '../server/auth.js';
import { SPENT_TICKETS_DIR } from '../server/spent-tickets.js';
import { counsellorBundle } from './fixtures/ops-store.js';
import {
  httpFetch,
  json,
  reporterRecipient,
  sendSigned,
  signed,
  submitReport,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import { type Harness, makeHarness } from './helpers/app-harness.js';
import { startServer } from './helpers/server-process.js';

async function expectError(
  response: Response,
  status: number,
  code: string,
  soft = false,
): Promise<void> {
  const body = (await response.json()) as { error?: { code?: string } };
  (soft ? expect.soft : expect)({ status: response.status, code: body.error?.code }).toEqual({
    status,
    code,
  });
}

const harnesses: Harness[] = [];
async function harness(...args: Parameters<typeof makeHarness>): Promise<Harness> {
  const h = await makeHarness(...args);
  harnesses.push(h);
  return h;
}
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

describe('a signed request replayed', () => {
  it('at the far edge of the window, when it was timed a window ahead: refused', async () => {
    const h = await harness();
    const path = '/api/v1/counsellor/cases';
    // The counsellor's clock is 300 s ahead (the most the window allows).
    const init = signed(
      h.counsellor,
      'GET',
      path,
      undefined,
      h.seconds() + SIGNATURE_WINDOW_SECONDS,
    );
    const arrival = h.clock.ms;
    expect((await h.fetch(path, init)).status).toBe(200);
    // Its time is still inside the window 600 s after arrival, to the last millisecond of that
    // second (a nonce kept for 600 s after arrival was forgotten by then).
    for (const later of [600_100, 600_999]) {
      h.clock.ms = arrival + later;
      await expectError(await h.fetch(path, init), 401, 'replayed-signature');
    }
    // A second later the time check refuses it by itself.
    h.clock.ms = arrival + 601_000;
    await expectError(await h.fetch(path, init), 401, 'expired-signature');
  });

  it('on another deployment that trusts the same key: refused, as the origin is signed', async () => {
    const a = await harness({ origins: ['https://kluis-a.example.org'] });
    const b = await harness({
      origins: ['http://kluisbexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion'],
    });
    expect(a.counsellor.sign.publicKey).toEqual(b.counsellor.sign.publicKey);
    const path = '/api/v1/counsellor/cases';
    const init = signed(
      a.counsellor,
      'GET',
      path,
      undefined,
      a.seconds(),
      'https://kluis-a.example.org',
    );
    expect((await a.fetch(path, init)).status).toBe(200);
    await expectError(await b.fetch(path, init), 401, 'unauthorized');
    // The same request for B's origin is fine: the refusal is the origin, nothing else.
    const forB = signed(
      b.counsellor,
      'GET',
      path,
      undefined,
      b.seconds(),
      'http://kluisbexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion',
    );
    expect((await b.fetch(path, forB)).status).toBe(200);
  });

  it('timed up to a window after the app started: refused with the time to sign again at', async () => {
    // The harness's app started a window and a second before its clock: it accepts from now on.
    const h = await harness();
    const path = '/api/v1/counsellor/cases';
    const response = await h.fetch(
      path,
      signed(h.counsellor, 'GET', path, undefined, h.seconds() - 1),
    );
    await expectError(response.clone(), 401, 'signature-before-start');
    expect(((await response.json()) as { notBefore: number }).notBefore).toBe(h.seconds());
    expect(
      (await h.fetch(path, signed(h.counsellor, 'GET', path, undefined, h.seconds()))).status,
    ).toBe(200);
  });
});

describe('a ticket used again', () => {
  it('a case ticket, after its case was deleted: refused (the case is not made again)', async () => {
    const h = await harness();
    const t = await ticket(h.fetch, { kind: 'case' });
    const body = () => json({ verifier: toBase64(new Uint8Array(32)) }, workHeaders(t));
    expect((await h.fetch('/api/v1/cases', body())).status).toBe(201);
    const path = `/api/v1/counsellor/cases/${t.caseNumber}`;
    expect(
      (await h.fetch(path, signed(h.counsellor, 'DELETE', path, undefined, h.seconds()))).status,
    ).toBe(200);
    await expectError(await h.fetch('/api/v1/cases', body()), 400, 'ticket-spent');
    expect(h.store.records.has(t.caseNumber)).toBe(false);
  });
});

describe('across a restart of the server process', () => {
  const work = mkdtempSync(join(tmpdir(), 'kluis-replay-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('a captured signed DELETE and a used message ticket are refused by the restarted server', async () => {
    const counsellor = counsellorBundle(work);
    const origin = 'http://kluisreplaytestonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion';
    const env = { KLUIS_COUNSELLORS: counsellor.file, KLUIS_POW_BITS: '0', KLUIS_ORIGINS: origin };
    const dataDir = join(work, 'data');
    const first = await startServer({ dataDir, env, cleanup: false });
    let captured: RequestInit;
    let messageBody: RequestInit;
    let messageHeaders: Record<string, string> = {};
    let reporter: Awaited<ReturnType<typeof submitReport>>;
    let doomed: string;
    try {
      const fetcher = httpFetch(first.url);
      reporter = await submitReport(fetcher, counsellor.recipients);
      doomed = (await submitReport(fetcher, counsellor.recipients)).caseNumber;
      // The reporter writes message 1 with a message ticket.
      const t = await ticket(fetcher, { kind: 'message', case: reporter.caseNumber });
      const content = encodeContent({
        v: 1,
        type: 'message',
        time: '2026-11-28T12:00:00Z',
        text: 'More.',
        attachments: [],
      });
      const recipients = [reporterRecipient(reporter), ...counsellor.recipients];
      const sealed = sealEnvelope({
        caseNumber: reporter.caseNumber,
        seq: 1,
        prev: reporter.last,
        author: reporter.keys.sign,
        content,
        recipients,
      });
      messageHeaders = { ...reporter.auth, ...workHeaders(t) };
      messageBody = json({ seq: 1, envelope: sealed.envelope }, messageHeaders);
      expect(
        (await fetcher(`/api/v1/cases/${reporter.caseNumber}/messages`, messageBody)).status,
      ).toBe(201);
      reporter.last = envelopeHash(sealed.envelope);
      // The counsellor deletes a case; someone keeps the signed request.
      const path = `/api/v1/counsellor/cases/${doomed}`;
      const sent = await sendSigned(
        fetcher,
        counsellor.identity,
        'DELETE',
        path,
        undefined,
        origin,
      );
      expect(sent.response.status).toBe(200);
      captured = sent.init;
    } finally {
      await first.stop();
    }

    const second = await startServer({ dataDir, env });
    try {
      const fetcher = httpFetch(second.url);
      // Accepted before, it would be accepted again with the nonces forgotten (then 404: the case is gone).
      await expectError(
        await fetcher(`/api/v1/counsellor/cases/${doomed}`, captured),
        401,
        'signature-before-start',
        true,
      );
      // The same ticket for message 2: spent before the restart, spent after.
      const again = JSON.parse(messageBody.body as string) as Record<string, unknown>; // the same ticket, in the same headers
      const content = encodeContent({
        v: 1,
        type: 'message',
        time: '2026-11-28T12:01:00Z',
        text: 'Again.',
        attachments: [],
      });
      const recipients = [reporterRecipient(reporter), ...counsellor.recipients];
      const sealed = sealEnvelope({
        caseNumber: reporter.caseNumber,
        seq: 2,
        prev: reporter.last,
        author: reporter.keys.sign,
        content,
        recipients,
      });
      const reuse = json({ ...again, seq: 2, envelope: sealed.envelope }, messageHeaders);
      await expectError(
        await fetcher(`/api/v1/cases/${reporter.caseNumber}/messages`, reuse),
        400,
        'ticket-spent',
      );

      // What the server kept of the tickets: 16-byte hashes, in files named by the hour, with the store's fixed time.
      const dir = join(dataDir, SPENT_TICKETS_DIR);
      const files = readdirSync(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const name of files) {
        expect(name).toMatch(/^[1-9][0-9]*$/);
        const bytes = readFileSync(join(dir, name));
        expect(bytes.length % 16).toBe(0);
        expect(bytes.includes(Buffer.from(reporter.caseNumber))).toBe(false);
        expect(isStoreTime(statSync(join(dir, name)).mtimeMs)).toBe(true);
      }
      expect(isStoreTime(statSync(dir).mtimeMs)).toBe(true);
    } finally {
      await second.stop();
    }
  }, 60_000);
});
