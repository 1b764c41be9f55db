/**
 * Hostile review, finding 4 (issue #10): disk and inbox flooding. One cheap
 * proof of work used to buy a case with 490 MiB of attachment allowance,
 * and there was no limit on the store as a whole. Now an upload costs work
 * in proportion to the bytes it announces, and anonymous writes stop at a
 * store quota and a free-disk floor, while counsellors keep working and
 * everything acknowledged before stays whole.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  attachmentCiphertextLength,
  encodeContent,
  fromBase64,
  secureRandom,
  sealEnvelope,
  solvePow,
} from '../crypto/index.js';
import {
  createCase,
  createUpload,
  type Fetch,
  json,
  type ReporterCase,
  reporterRecipient,
  signed,
  submitReport,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import { type Harness, makeHarness, snapshot } from './helpers/app-harness.js';

const MB = 1024 * 1024;
let h: Harness;

afterEach(async () => {
  await h.close();
});

async function errorOf(
  response: Response,
): Promise<{ status: number; code: string | undefined; body: Record<string, unknown> }> {
  const body = (await response.json()) as { error?: { code?: string } } & Record<string, unknown>;
  return { status: response.status, code: body.error?.code, body };
}

/** Sends a whole (junk) ciphertext of `length` bytes to upload `id`, in 1 MiB pieces. */
async function fill(
  fetcher: Fetch,
  reporter: ReporterCase,
  id: string,
  length: number,
  from = 0,
): Promise<Response> {
  let response: Response | undefined;
  for (let offset = from; offset < length; offset += MB) {
    const bytes = secureRandom(Math.min(MB, length - offset));
    response = await fetcher(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        ...reporter.auth,
        'content-type': 'application/octet-stream',
        'upload-offset': String(offset),
      },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    if (response.status !== 200) return response;
  }
  return response!;
}

/** A counsellor's reply as the next message of the case. */
async function counsellorReply(
  reporter: ReporterCase,
  seq: number,
  text: string,
): Promise<Response> {
  const content = encodeContent({
    v: 1,
    type: 'message',
    time: '2026-11-28T13:00:00Z',
    text,
    attachments: [],
  });
  const { envelope } = sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq,
    prev: new Uint8Array(32),
    author: h.counsellor.sign,
    content,
    recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
  });
  const path = `/api/v1/cases/${reporter.caseNumber}/messages`;
  return h.fetch(path, signed(h.counsellor, 'POST', path, { seq, envelope }, h.seconds()));
}

/** A reporter's later message (with its message ticket). */
async function reporterMessage(reporter: ReporterCase, seq: number): Promise<Response> {
  const content = encodeContent({
    v: 1,
    type: 'message',
    time: '2026-11-28T13:00:00Z',
    text: 'junk',
    attachments: [],
  });
  const { envelope } = sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq,
    prev: new Uint8Array(32),
    author: reporter.keys.sign,
    content,
    recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
  });
  const t = await ticket(h.fetch, { kind: 'message', case: reporter.caseNumber });
  return h.fetch(
    `/api/v1/cases/${reporter.caseNumber}/messages`,
    json({ seq, envelope }, { ...reporter.auth, ...workHeaders(t) }),
  );
}

describe('finding 4: disk and inbox flooding', () => {
  it('a flood of cases and uploads stops at the store quota; what was acknowledged stays whole; counsellors read, reply and delete', async () => {
    h = await makeHarness({ maxStoreBytes: 4 * MB, maxFileBytes: 2 * MB, maxCaseBytes: 8 * MB });
    // Before the flood: an honest report with a finished attachment, and one whose upload is under way.
    const honest = await submitReport(h.fetch, h.counsellorRecipients, 'Before the flood.');
    const fileLength = attachmentCiphertextLength(300_000);
    const done = (await (await createUpload(h.fetch, honest, fileLength)).json()) as { id: string };
    expect((await fill(h.fetch, honest, done.id, fileLength)).status).toBe(200);
    const pending = (await (await createUpload(h.fetch, honest, fileLength)).json()) as {
      id: string;
    };
    expect((await fill(h.fetch, honest, pending.id, 100_000)).status).toBe(200);
    const honestView = await (
      await h.fetch(`/api/v1/cases/${honest.caseNumber}`, { headers: honest.auth })
    ).json();
    const honestBlob = new Uint8Array(
      await (
        await h.fetch(`/api/v1/cases/${honest.caseNumber}/blobs/${done.id}`, {
          headers: honest.auth,
        })
      ).arrayBuffer(),
    );

    // The flood: junk uploads as large as the quota lets through (halving when refused), then
    // case after case, then message after message, each phase until the server says no.
    const flood: ReporterCase[] = [await submitReport(h.fetch, h.counsellorRecipients, 'junk')];
    let junkBytes = 0;
    for (let size = Math.floor(1.5 * MB); size >= 1000; ) {
      const length = attachmentCiphertextLength(size);
      const upload = await createUpload(h.fetch, flood[0]!, length);
      if (upload.status !== 201) {
        expect(await errorOf(upload)).toMatchObject({ status: 503, code: 'store-full' });
        size = Math.floor(size / 2);
        continue;
      }
      const { id } = (await upload.json()) as { id: string };
      expect((await fill(h.fetch, flood[0]!, id, length)).status).toBe(200);
      junkBytes += length;
    }
    // 4 MiB of quota, less the honest case: at most about 3.4 MiB of junk, not 490 MiB per case.
    expect(junkBytes).toBeGreaterThan(2 * MB);
    expect(junkBytes).toBeLessThan(3.5 * MB);
    let refusal: string | undefined;
    for (let i = 0; i < 200 && refusal === undefined; i++) {
      try {
        flood.push(await submitReport(h.fetch, h.counsellorRecipients, `junk ${i}`));
      } catch (error) {
        refusal = String(error);
      }
    }
    expect(refusal).toMatch(/503.*"store-full"/);
    let seq = 1;
    for (; seq < 100; seq++) {
      const response = await reporterMessage(flood[0]!, seq);
      if (response.status !== 201) {
        expect(await errorOf(response)).toMatchObject({ status: 503, code: 'store-full' });
        break;
      }
    }
    expect(seq).toBeLessThan(100);
    // The operator is told once (not once per refusal), without anything about the requests.
    expect(h.errors.filter((line) => line.includes('KLUIS_MAX_STORE_MB'))).toHaveLength(1);

    // Every anonymous write is refused now, and changes nothing on disk.
    const before = snapshot(h.dir);
    const caseTicket = await ticket(h.fetch, { kind: 'case' });
    expect(
      await errorOf(
        await h.fetch(
          '/api/v1/cases',
          json({ verifier: honest.auth['kluis-auth'] }, workHeaders(caseTicket)),
        ),
      ),
    ).toMatchObject({ status: 503, code: 'store-full' });
    expect(await errorOf(await reporterMessage(honest, 1))).toMatchObject({
      status: 503,
      code: 'store-full',
    });
    expect(
      await errorOf(await createUpload(h.fetch, honest, attachmentCiphertextLength(10))),
    ).toMatchObject({ status: 503, code: 'store-full' });
    expect(snapshot(h.dir)).toEqual(before);

    // Nothing acknowledged before is harmed: the honest case reads the same, its file is whole,
    // and the upload it had started (its bytes were counted when it was announced) can finish.
    expect(
      await (await h.fetch(`/api/v1/cases/${honest.caseNumber}`, { headers: honest.auth })).json(),
    ).toEqual(honestView);
    expect(
      new Uint8Array(
        await (
          await h.fetch(`/api/v1/cases/${honest.caseNumber}/blobs/${done.id}`, {
            headers: honest.auth,
          })
        ).arrayBuffer(),
      ),
    ).toEqual(honestBlob);
    const finished = await fill(h.fetch, honest, pending.id, fileLength, 100_000);
    expect(await finished.json()).toEqual({ offset: fileLength, complete: true });

    // Counsellors keep working: the inbox, the case, a reply, deletion of the junk.
    const list = '/api/v1/counsellor/cases';
    const inbox = (await (
      await h.fetch(list, signed(h.counsellor, 'GET', list, undefined, h.seconds()))
    ).json()) as { cases: { case: string }[] };
    expect(inbox.cases.map((c) => c.case)).toContain(honest.caseNumber);
    const casePath = `/api/v1/counsellor/cases/${honest.caseNumber}`;
    expect(
      (await h.fetch(casePath, signed(h.counsellor, 'GET', casePath, undefined, h.seconds())))
        .status,
    ).toBe(200);
    expect((await counsellorReply(honest, 1, 'We read you.')).status).toBe(201);
    for (const junk of flood) {
      const path = `/api/v1/counsellor/cases/${junk.caseNumber}`;
      expect(
        (await h.fetch(path, signed(h.counsellor, 'DELETE', path, undefined, h.seconds()))).status,
      ).toBe(200);
    }
    // Deleting freed the quota: reporters can write again.
    expect((await reporterMessage(honest, 2)).status).toBe(201);
    await submitReport(h.fetch, h.counsellorRecipients, 'After the clean-up.');
  });

  it('below the free-disk floor anonymous writes get 503 store-full, while counsellors still reply', async () => {
    const free = { bytes: 10 * 1024 * MB };
    h = await makeHarness({ minFreeBytes: 100 * MB }, { diskFree: async () => free.bytes });
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    free.bytes = 50 * MB;
    h.clock.ms += 2000; // past the cached reading
    const before = snapshot(h.dir);
    await expect(createCase(h.fetch)).rejects.toThrow(/503.*store-full/);
    expect(await errorOf(await reporterMessage(reporter, 1))).toMatchObject({
      status: 503,
      code: 'store-full',
    });
    expect(
      await errorOf(await createUpload(h.fetch, reporter, attachmentCiphertextLength(10))),
    ).toMatchObject({ status: 503, code: 'store-full' });
    expect(snapshot(h.dir)).toEqual(before);
    expect((await counsellorReply(reporter, 1, 'Still here.')).status).toBe(201);
    expect(h.errors).toEqual([
      expect.stringMatching(/^WARNING: 50 MiB free .* below KLUIS_MIN_FREE_MB 100/),
    ]);
  });

  it('an upload costs one proof-of-work solution per 16 MiB announced; too little work is refused and changes nothing', async () => {
    h = await makeHarness({ maxFileBytes: 100 * MB, maxCaseBytes: 500 * MB });
    const reporter = await createCase(h.fetch);
    const length = attachmentCiphertextLength(40 * MB); // over 32 MiB: three solutions
    const path = `/api/v1/cases/${reporter.caseNumber}/uploads`;
    const cheap = await ticket(h.fetch, { kind: 'upload', case: reporter.caseNumber }, 1);
    const before = snapshot(h.dir);
    const refused = await errorOf(
      await h.fetch(path, json({ length }, { ...reporter.auth, ...workHeaders(cheap) })),
    );
    expect(refused).toMatchObject({
      status: 400,
      code: 'insufficient-work',
      body: { solutions: 3 },
    });
    // Two solutions of the same ticket are still too few.
    const two = {
      ticket: cheap.ticket,
      nonces: [cheap.nonce, solvePow(fromBase64(cheap.ticket), 4, cheap.nonce + 1)!],
    };
    expect(
      await errorOf(
        await h.fetch(path, json({ length }, { ...reporter.auth, ...workHeaders(two) })),
      ),
    ).toMatchObject({ status: 400, code: 'insufficient-work' });
    // A ticket of another kind pays for nothing.
    const messageTicket = await ticket(h.fetch, { kind: 'message', case: reporter.caseNumber }, 3);
    expect(
      await errorOf(
        await h.fetch(path, json({ length }, { ...reporter.auth, ...workHeaders(messageTicket) })),
      ),
    ).toMatchObject({ status: 400, code: 'invalid-ticket' });
    expect(snapshot(h.dir)).toEqual(before);
    expect((await h.store.records.get(reporter.caseNumber))!.uploads).toEqual([]);

    // Enough work is accepted once; the ticket is then spent.
    const paid = await ticket(h.fetch, { kind: 'upload', case: reporter.caseNumber }, 3);
    expect(
      (await h.fetch(path, json({ length }, { ...reporter.auth, ...workHeaders(paid) }))).status,
    ).toBe(201);
    expect(
      await errorOf(
        await h.fetch(
          path,
          json(
            { length: attachmentCiphertextLength(10) },
            { ...reporter.auth, ...workHeaders(paid) },
          ),
        ),
      ),
    ).toMatchObject({ status: 400, code: 'ticket-spent' });
    // A small file costs one solution; a counsellor's upload (a signed request) costs none.
    expect(
      (await createUpload(h.fetch, reporter, attachmentCiphertextLength(10 * 1000 * 1000))).status,
    ).toBe(201);
    const small = { length: attachmentCiphertextLength(10) };
    expect(
      (await h.fetch(path, signed(h.counsellor, 'POST', path, small, h.seconds()))).status,
    ).toBe(201);
  });
});
