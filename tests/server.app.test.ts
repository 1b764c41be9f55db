import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AttachmentEncryptor,
  attachmentCiphertextLength,
  concatBytes,
  decodeContent,
  encodeContent,
  envelopeHash,
  fromBase64,
  newAttachmentKey,
  openConversation,
  openEnvelope,
  sealEnvelope,
  solvePow,
  toBase64,
  wrapContentKey,
  type Envelope,
} from '../crypto/index.js';
import {
  createCase,
  createUpload,
  json,
  recipientOf,
  reporterRecipient,
  type ReporterCase,
  sealReport,
  signed,
  signedHeaders,
  submitReport,
  submitReportInTwoSteps,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import { type Harness, makeHarness, snapshot } from './helpers/app-harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  expect(h.errors).toEqual([]);
  await h.close();
});

async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  const body = (await response.json()) as { error: { code: string } } & Record<string, unknown>;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  return body;
}

function counsellorGet(path: string) {
  return h.fetch(path, signed(h.counsellor, 'GET', path, undefined, h.seconds()));
}

async function reply(
  reporter: ReporterCase,
  text: string,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  const content = encodeContent({
    v: 1,
    type: 'message',
    time: '2026-11-28T13:00:00Z',
    text,
    attachments: [],
  });
  const { envelope, hash } = sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq: reporter.count,
    prev: reporter.last,
    author: h.counsellor.sign,
    content,
    recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
  });
  const path = `/api/v1/cases/${reporter.caseNumber}/messages`;
  const response = await h.fetch(
    path,
    signed(h.counsellor, 'POST', path, { seq: reporter.count, envelope, ...extra }, h.seconds()),
  );
  if (response.status === 201) {
    reporter.last = hash;
    reporter.count++;
  }
  return response;
}

describe('public routes and headers', () => {
  it('health and info; every response carries the security headers and no cookie', async () => {
    const health = await h.fetch('/api/v1/health');
    expect(await health.json()).toEqual({ status: 'ok', version: 'test' });
    const info = (await (await h.fetch('/api/v1/info')).json()) as {
      counsellors: unknown[];
      escalation: unknown[];
      powBits: number;
    };
    expect(info.counsellors).toHaveLength(2);
    expect(info.escalation).toHaveLength(1);
    expect(info.powBits).toBe(4);
    for (const response of [
      health,
      await h.fetch('/api/v1/nope'),
      await h.fetch('/'),
      await h.fetch('/api/v1/info', { method: 'DELETE' }),
    ]) {
      const headers = response.headers;
      expect(headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(headers.get('content-security-policy')).not.toContain('unsafe');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('cache-control')).toBe('no-store');
      expect(headers.get('set-cookie')).toBeNull();
      expect(headers.get('server')).toBeNull();
      expect(headers.get('x-powered-by')).toBeNull();
      expect(headers.get('onion-location')).toBeNull();
    }
  });

  it('sends Onion-Location when an onion address is configured', async () => {
    const onion = `${'a'.repeat(56)}.onion`;
    const other = await makeHarness({ onion });
    try {
      expect((await other.fetch('/')).headers.get('onion-location')).toBe(`http://${onion}/`);
    } finally {
      await other.close();
    }
  });
});

describe('a case from report to reply', () => {
  it('the reporter reports, the counsellor lists, reads and replies, the reporter reads the reply', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients, 'Ik word geïntimideerd.');
    const inbox = (await (await counsellorGet('/api/v1/counsellor/cases')).json()) as {
      cases: Array<Record<string, unknown>>;
    };
    expect(inbox.cases).toHaveLength(1);
    expect(inbox.cases[0]).toMatchObject({
      case: reporter.caseNumber,
      messages: 1,
      notes: 0,
      keys: h.counsellorRecipients.length + 1,
      status: 'received',
      lastAuthor: 'reporter',
      ackHour: null,
    });
    expect(inbox.cases[0]!.reportHour).toBe(Math.floor(h.clock.ms / 3_600_000));

    const path = `/api/v1/counsellor/cases/${reporter.caseNumber}`;
    const full = (await (await counsellorGet(path)).json()) as {
      messages: Array<{ envelope: Envelope; author: string }>;
      notes: unknown[];
    };
    expect(full.notes).toEqual([]);
    const key = { ...recipientOf(h.counsellor), boxSecretKey: h.counsellor.box.secretKey };
    const opened = openEnvelope(full.messages[0]!.envelope, key, {
      caseNumber: reporter.caseNumber,
    });
    expect(decodeContent(opened.content)).toMatchObject({
      type: 'report',
      text: 'Ik word geïntimideerd.',
    });

    expect(
      (await reply(reporter, 'Dank u. Wij lezen mee.', { status: 'in-conversation', ack: true }))
        .status,
    ).toBe(201);
    const view = (await (
      await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth })
    ).json()) as {
      status: string;
      messages: Array<{ envelope: Envelope; author: string }>;
    };
    expect(view.status).toBe('in-conversation');
    expect(view.messages.map((m) => m.author)).toEqual(['reporter', 'counsellor']);
    const conversation = openConversation(
      view.messages.map((m) => m.envelope),
      { ...reporterRecipient(reporter), boxSecretKey: reporter.keys.box.secretKey },
      {
        caseNumber: reporter.caseNumber,
        counsellorSignKeys: [h.counsellor.sign.publicKey, h.deputy.sign.publicKey],
        reporterSignKey: reporter.keys.sign.publicKey,
      },
    );
    expect(conversation.intact).toBe(true);
    expect(
      conversation.entries[1]!.ok && decodeContent(conversation.entries[1]!.opened.content),
    ).toMatchObject({ text: 'Dank u. Wij lezen mee.' });
    const after = (await (await counsellorGet('/api/v1/counsellor/cases')).json()) as {
      cases: Array<Record<string, unknown>>;
    };
    expect(after.cases[0]).toMatchObject({
      status: 'in-conversation',
      messages: 2,
      lastAuthor: 'counsellor',
    });
    expect(after.cases[0]!.ackHour).toBe(Math.floor(h.clock.ms / 3_600_000));

    // The reporter answers with a message ticket and its proof of work.
    const t = await ticket(h.fetch, { kind: 'message', case: reporter.caseNumber });
    const content = encodeContent({
      v: 1,
      type: 'message',
      time: '2026-11-28T14:00:00Z',
      text: 'Ja, graag.',
      attachments: [],
      consent: 'yes',
    });
    const { envelope } = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 2,
      prev: reporter.last,
      author: reporter.keys.sign,
      content,
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    });
    const posted = await h.fetch(
      `/api/v1/cases/${reporter.caseNumber}/messages`,
      json({ seq: 2, envelope }, { ...reporter.auth, ...workHeaders(t) }),
    );
    expect(posted.status).toBe(201);
    // The same ticket cannot pay for another message.
    const again = await h.fetch(
      `/api/v1/cases/${reporter.caseNumber}/messages`,
      json({ seq: 3, envelope }, { ...reporter.auth, ...workHeaders(t) }),
    );
    await expectError(again, 400, 'ticket-spent');
  });

  it('a report posted after the case was created lands as message 0, like one sent with the case', async () => {
    const oneStep = await submitReport(h.fetch, h.counsellorRecipients);
    const twoSteps = await submitReportInTwoSteps(h.fetch, h.counsellorRecipients);
    for (const reporter of [oneStep, twoSteps]) {
      const view = (await (
        await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth })
      ).json()) as { messages: Array<{ seq: number; author: string; envelope: Envelope }> };
      expect(view.messages.map((m) => [m.seq, m.author])).toEqual([[0, 'reporter']]);
      expect(envelopeHash(view.messages[0]!.envelope)).toEqual(reporter.last);
    }
  });

  it('refuses a second message at a taken position and says where the conversation stands', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    expect((await reply(reporter, 'one')).status).toBe(201);
    reporter.count = 1; // pretend this client did not see the reply
    const body = await expectError(await reply(reporter, 'two'), 409, 'seq-conflict');
    expect(body.expected).toBe(2);
  });
});

describe('bad input gets its 4xx and changes nothing', () => {
  it('each bad request answers with its code and leaves the data directory byte-identical', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const other = await submitReport(h.fetch, h.counsellorRecipients);
    const report = sealReport(reporter, h.counsellorRecipients, 'x');
    const messages = `/api/v1/cases/${reporter.caseNumber}/messages`;
    const casePath = `/api/v1/cases/${reporter.caseNumber}`;
    const goodTicket = await ticket(h.fetch, { kind: 'message', case: reporter.caseNumber });
    const caseTicket = await ticket(h.fetch, { kind: 'case' });
    const uploadTicket = await ticket(h.fetch, { kind: 'upload', case: reporter.caseNumber });
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const replayInit = signed(
      h.counsellor,
      'GET',
      '/api/v1/counsellor/cases',
      undefined,
      h.seconds(),
    );
    expect((await h.fetch('/api/v1/counsellor/cases', replayInit)).status).toBe(200);
    const before = snapshot(h.dir);

    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      [
        'malformed JSON',
        () =>
          h.fetch('/api/v1/tickets', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"kind":',
          }),
        400,
        'malformed-json',
      ],
      [
        'invalid UTF-8',
        () =>
          h.fetch('/api/v1/tickets', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: new Uint8Array([0x7b, 0xff, 0x7d]),
          }),
        400,
        'malformed-json',
      ],
      [
        'deeply nested JSON',
        () =>
          h.fetch(messages, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...reporter.auth },
            body: deep,
          }),
        400,
        'invalid-body',
      ],
      ['wrong type', () => h.fetch('/api/v1/tickets', json({ kind: 7 })), 400, 'invalid-body'],
      [
        'extra field',
        () => h.fetch('/api/v1/tickets', json({ kind: 'case', admin: true })),
        400,
        'invalid-body',
      ],
      ['array body', () => h.fetch('/api/v1/tickets', json([])), 400, 'invalid-body'],
      [
        'oversize body',
        () => h.fetch('/api/v1/tickets', json({ kind: 'x'.repeat(5000) })),
        413,
        'too-large',
      ],
      [
        'oversize message',
        () =>
          h.fetch(
            messages,
            json({ seq: 1, envelope: { pad: 'x'.repeat(3 * 1024 * 1024) } }, reporter.auth),
          ),
        413,
        'too-large',
      ],
      [
        'wrong content type',
        () =>
          h.fetch('/api/v1/tickets', {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: '{"kind":"case"}',
          }),
        415,
        'unsupported-media-type',
      ],
      [
        'wrong method',
        () => h.fetch('/api/v1/tickets', { method: 'GET' }),
        405,
        'method-not-allowed',
      ],
      [
        'bad proof of work',
        () =>
          h.fetch(
            '/api/v1/cases',
            json(
              { verifier: toBase64(new Uint8Array(32)) },
              workHeaders({ ticket: caseTicket.ticket, nonces: [badNonce(caseTicket.ticket)] }),
            ),
          ),
        400,
        'insufficient-work',
      ],
      [
        'nonces out of order',
        () =>
          h.fetch(
            '/api/v1/cases',
            json(
              { verifier: toBase64(new Uint8Array(32)) },
              workHeaders({
                ticket: caseTicket.ticket,
                nonces: [caseTicket.nonce, caseTicket.nonce],
              }),
            ),
          ),
        400,
        'insufficient-work',
      ],
      [
        'ticket without its work',
        () =>
          h.fetch(
            '/api/v1/cases',
            json({ verifier: toBase64(new Uint8Array(32)) }, { 'kluis-ticket': caseTicket.ticket }),
          ),
        400,
        'invalid-ticket',
      ],
      [
        'ticket in the body (the old wire)',
        () =>
          h.fetch(
            '/api/v1/cases',
            json({
              ticket: caseTicket.ticket,
              nonce: caseTicket.nonce,
              verifier: toBase64(new Uint8Array(32)),
            }),
          ),
        400,
        'invalid-ticket',
      ],
      [
        'forged ticket',
        () =>
          h.fetch(
            '/api/v1/cases',
            json(
              { verifier: toBase64(new Uint8Array(32)) },
              workHeaders({ ticket: toBase64(new Uint8Array(37)), nonces: [0] }),
            ),
          ),
        400,
        'invalid-ticket',
      ],
      [
        'message ticket used to create a case',
        () =>
          h.fetch(
            '/api/v1/cases',
            json({ verifier: toBase64(new Uint8Array(32)) }, workHeaders(goodTicket)),
          ),
        400,
        'invalid-ticket',
      ],
      [
        'ticket for another case',
        () =>
          h.fetch(
            `/api/v1/cases/${other.caseNumber}/messages`,
            json({ seq: 1, envelope: report }, { ...other.auth, ...workHeaders(goodTicket) }),
          ),
        400,
        'invalid-ticket',
      ],
      [
        'reporter message without ticket',
        () => h.fetch(messages, json({ seq: 1, envelope: report }, reporter.auth)),
        400,
        'invalid-ticket',
      ],
      [
        'case already has a report',
        () => h.fetch(messages, json({ seq: 0, envelope: report }, reporter.auth)),
        409,
        'seq-conflict',
      ],
      [
        'envelope with an extra field',
        () =>
          h.fetch(
            messages,
            json(
              { seq: 1, envelope: { ...report, x: 1 } },
              { ...reporter.auth, ...workHeaders(goodTicket) },
            ),
          ),
        400,
        'invalid-body',
      ],
      [
        'envelope with a short nonce',
        () =>
          h.fetch(
            messages,
            json(
              { seq: 1, envelope: { ...report, nonce: toBase64(new Uint8Array(23)) } },
              { ...reporter.auth, ...workHeaders(goodTicket) },
            ),
          ),
        400,
        'invalid-body',
      ],
      [
        'envelope with a line break in its base64',
        () =>
          h.fetch(
            messages,
            json(
              {
                seq: 1,
                envelope: { ...report, ct: `${report.ct.slice(0, 76)}\n${report.ct.slice(76)}` },
              },
              { ...reporter.auth, ...workHeaders(goodTicket) },
            ),
          ),
        400,
        'invalid-body',
      ],
      [
        'envelope with base64url',
        () =>
          h.fetch(
            messages,
            json(
              { seq: 1, envelope: { ...report, nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-' } },
              { ...reporter.auth, ...workHeaders(goodTicket) },
            ),
          ),
        400,
        'invalid-body',
      ],
      ['missing reporter key', () => h.fetch(casePath), 401, 'unauthorized'],
      [
        'wrong reporter key',
        () => h.fetch(casePath, { headers: { 'kluis-auth': toBase64(new Uint8Array(32)) } }),
        401,
        'unauthorized',
      ],
      [
        'malformed reporter key',
        () => h.fetch(casePath, { headers: { 'kluis-auth': 'not base64!' } }),
        401,
        'unauthorized',
      ],
      ['another case’s key', () => h.fetch(casePath, { headers: other.auth }), 401, 'unauthorized'],
      [
        'unknown case for a reporter',
        () => h.fetch('/api/v1/cases/0000ZZZZ', { headers: reporter.auth }),
        401,
        'unauthorized',
      ],
      [
        'unknown case for a counsellor',
        () => counsellorGet('/api/v1/counsellor/cases/0000ZZZZ'),
        404,
        'not-found',
      ],
      [
        'replayed signature',
        () => h.fetch('/api/v1/counsellor/cases', replayInit),
        401,
        'replayed-signature',
      ],
      [
        'expired signature',
        () =>
          h.fetch(
            '/api/v1/counsellor/cases',
            signed(h.counsellor, 'GET', '/api/v1/counsellor/cases', undefined, h.seconds() - 301),
          ),
        401,
        'expired-signature',
      ],
      [
        'signature over another body',
        () =>
          h.fetch(`/api/v1/counsellor/cases/${reporter.caseNumber}/notes`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...signedHeaders(
                h.counsellor,
                'POST',
                `/api/v1/counsellor/cases/${reporter.caseNumber}/notes`,
                '{"envelope":1}',
                h.seconds(),
              ),
            },
            body: '{"envelope":2}',
          }),
        401,
        'unauthorized',
      ],
      [
        'signature for another path',
        () =>
          h.fetch(`/api/v1/counsellor/cases/${other.caseNumber}`, {
            method: 'DELETE',
            headers: signedHeaders(
              h.counsellor,
              'DELETE',
              `/api/v1/counsellor/cases/${reporter.caseNumber}`,
              '',
              h.seconds(),
            ),
          }),
        401,
        'unauthorized',
      ],
      [
        'escalation recipient deleting',
        () =>
          h.fetch(
            `/api/v1/counsellor/cases/${reporter.caseNumber}`,
            signed(
              h.escalation,
              'DELETE',
              `/api/v1/counsellor/cases/${reporter.caseNumber}`,
              undefined,
              h.seconds(),
            ),
          ),
        403,
        'forbidden',
      ],
      [
        'escalation recipient reading an unforwarded case',
        () => h.fetch(casePath, signed(h.escalation, 'GET', casePath, undefined, h.seconds())),
        403,
        'forbidden',
      ],
      [
        'path tricks in the case number',
        () =>
          h.fetch(
            '/api/v1/cases/..%2F..%2Fetc/messages',
            json({ seq: 1, envelope: report }, reporter.auth),
          ),
        400,
        'invalid-case-number',
      ],
      [
        'lower-case case number',
        () =>
          h.fetch(`/api/v1/cases/${reporter.caseNumber.toLowerCase()}`, { headers: reporter.auth }),
        400,
        'invalid-case-number',
      ],
      [
        'path tricks in an upload id',
        () =>
          h.fetch(`/api/v1/cases/${reporter.caseNumber}/uploads/..%2F..%2Frecords`, {
            headers: reporter.auth,
          }),
        400,
        'invalid-id',
      ],
      [
        'unknown upload',
        () =>
          h.fetch(`/api/v1/cases/${reporter.caseNumber}/uploads/${'0'.repeat(32)}`, {
            headers: reporter.auth,
          }),
        404,
        'not-found',
      ],
      [
        'upload without a ticket',
        () =>
          h.fetch(
            `/api/v1/cases/${reporter.caseNumber}/uploads`,
            json({ length: attachmentCiphertextLength(10) }, reporter.auth),
          ),
        400,
        'invalid-ticket',
      ],
      [
        'impossible upload length',
        () =>
          h.fetch(
            `/api/v1/cases/${reporter.caseNumber}/uploads`,
            json({ length: 1000 }, { ...reporter.auth, ...workHeaders(uploadTicket) }),
          ),
        400,
        'invalid-length',
      ],
      [
        'upload over the file limit',
        () =>
          h.fetch(
            `/api/v1/cases/${reporter.caseNumber}/uploads`,
            json(
              { length: attachmentCiphertextLength(2 * 1024 * 1024) },
              { ...reporter.auth, ...workHeaders(uploadTicket) },
            ),
          ),
        413,
        'too-large',
      ],
      [
        'forward to a stranger',
        () =>
          h.fetch(
            `/api/v1/counsellor/cases/${reporter.caseNumber}/forward`,
            signed(
              h.counsellor,
              'POST',
              `/api/v1/counsellor/cases/${reporter.caseNumber}/forward`,
              { to: recipientOf(h.counsellor).fingerprint, keys: [] },
              h.seconds(),
            ),
          ),
        400,
        'invalid-body',
      ],
      [
        'forward with missing keys',
        () =>
          h.fetch(
            `/api/v1/counsellor/cases/${reporter.caseNumber}/forward`,
            signed(
              h.counsellor,
              'POST',
              `/api/v1/counsellor/cases/${reporter.caseNumber}/forward`,
              { to: recipientOf(h.escalation).fingerprint, keys: [] },
              h.seconds(),
            ),
          ),
        409,
        'forward-conflict',
      ],
      ['no such route', () => h.fetch('/api/v1/admin'), 404, 'not-found'],
    ];
    for (const [name, send, status, code] of cases) {
      const response = await send();
      const body = (await response.json()) as { error?: { code?: string } };
      expect({ name, status: response.status, code: body.error?.code }).toEqual({
        name,
        status,
        code,
      });
    }
    expect(snapshot(h.dir)).toEqual(before);
  });

  it('locks a case after 10 failed logins, even for the right key, for 15 minutes', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const path = `/api/v1/cases/${reporter.caseNumber}`;
    for (let i = 0; i < 10; i++)
      expect(
        (await h.fetch(path, { headers: { 'kluis-auth': toBase64(new Uint8Array(32).fill(i)) } }))
          .status,
      ).toBe(401);
    await expectError(await h.fetch(path, { headers: reporter.auth }), 429, 'too-many-attempts');
    h.clock.ms += 15 * 60 * 1000;
    expect((await h.fetch(path, { headers: reporter.auth })).status).toBe(200);
  });

  it('an unknown case and a wrong key take the same path: one in-memory lookup, no disk read, the same answer', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const calls: string[] = [];
    const records = h.store.records;
    const original = { get: records.get.bind(records), summary: records.summary.bind(records) };
    records.get = async (id) => {
      calls.push(`get ${id}`);
      return original.get(id);
    };
    records.summary = (id) => {
      calls.push(`summary ${id}`);
      return original.summary(id);
    };
    try {
      const wrongKey = await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, {
        headers: { 'kluis-auth': toBase64(new Uint8Array(32)) },
      });
      const unknownCase = await h.fetch('/api/v1/cases/0000ZZZZ', {
        headers: { 'kluis-auth': toBase64(new Uint8Array(32)) },
      });
      expect(await wrongKey.json()).toEqual(await unknownCase.json());
      expect(calls).toEqual([`summary ${reporter.caseNumber}`, 'summary 0000ZZZZ']);
    } finally {
      records.get = original.get;
      records.summary = original.summary;
    }
  });

  it('an expired ticket is refused', async () => {
    const t = await ticket(h.fetch, { kind: 'case' });
    h.clock.ms += 3601 * 1000;
    await expectError(
      await h.fetch(
        '/api/v1/cases',
        json({ verifier: toBase64(new Uint8Array(32)) }, workHeaders(t)),
      ),
      400,
      'ticket-expired',
    );
  });

  it('a case ticket creates its case once', async () => {
    const t = await ticket(h.fetch, { kind: 'case' });
    const body = () => json({ verifier: toBase64(new Uint8Array(32)) }, workHeaders(t));
    expect((await h.fetch('/api/v1/cases', body())).status).toBe(201);
    // The ticket is spent with the case (before, 409 case-exists: review #10, finding 6).
    await expectError(await h.fetch('/api/v1/cases', body()), 400, 'ticket-spent');
  });
});

function badNonce(ticketText: string): number {
  // The smallest nonce that does not solve the ticket at 4 bits.
  const bytes = fromBase64(ticketText);
  for (let n = 0; ; n++) if (solvePow(bytes, 4, n, 1) === undefined) return n;
}

describe('uploads', () => {
  async function encrypted(size: number) {
    const key = newAttachmentKey(size);
    const data = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    const encryptor = new AttachmentEncryptor(key);
    return { key, data, ciphertext: concatBytes(...encryptor.push(data), ...encryptor.finish()) };
  }

  function patch(reporter: ReporterCase, id: string, offset: number, bytes: Uint8Array) {
    return h.fetch(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        ...reporter.auth,
        'content-type': 'application/octet-stream',
        'upload-offset': String(offset),
      },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
  }

  it('resumes after a broken connection and serves the finished ciphertext back', async () => {
    const reporter = await createCase(h.fetch);
    const { ciphertext } = await encrypted(300_000);
    const created = await createUpload(h.fetch, reporter, ciphertext.length);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await patch(reporter, id, 0, ciphertext.subarray(0, 100_000))).status).toBe(200);
    // The "connection broke": the client asks where the upload stands.
    const status = (await (
      await h.fetch(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
        headers: reporter.auth,
      })
    ).json()) as { offset: number; complete: boolean };
    expect(status).toMatchObject({ offset: 100_000, complete: false });
    const mismatch = await expectError(
      await patch(reporter, id, 0, ciphertext.subarray(0, 10)),
      409,
      'offset-mismatch',
    );
    expect(mismatch.offset).toBe(100_000);
    await expectError(
      await patch(reporter, id, 100_000, new Uint8Array(ciphertext.length)),
      413,
      'too-large',
    );
    const last = await patch(reporter, id, 100_000, ciphertext.subarray(100_000));
    expect(await last.json()).toEqual({ offset: ciphertext.length, complete: true });
    const blob = await h.fetch(`/api/v1/cases/${reporter.caseNumber}/blobs/${id}`, {
      headers: reporter.auth,
    });
    expect(blob.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(ciphertext);
    const stored = (await h.store.records.get(reporter.caseNumber))!.uploads.find(
      (u) => u.id === id,
    )!;
    expect(stored).toMatchObject({
      complete: true,
      length: ciphertext.length,
      sha256: createHash('sha256').update(ciphertext).digest('hex'),
    });
    await expectError(
      await patch(reporter, id, ciphertext.length, new Uint8Array(1)),
      409,
      'offset-mismatch',
    );
  });

  it('holds each case to its total', async () => {
    const reporter = await createCase(h.fetch);
    const length = attachmentCiphertextLength(900_000);
    for (let i = 0; i < 3; i++)
      expect((await createUpload(h.fetch, reporter, length)).status).toBe(201);
    await expectError(await createUpload(h.fetch, reporter, length), 413, 'too-large');
  });
});

describe('notes, forwarding and deletion', () => {
  it('an escalation recipient reads a case only once forwarded, and never the notes', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients, 'Forward me.');
    const notePath = `/api/v1/counsellor/cases/${reporter.caseNumber}/notes`;
    const note = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 0,
      prev: new Uint8Array(32),
      author: h.counsellor.sign,
      content: encodeContent({ v: 1, type: 'note', time: '2026-11-28T12:00:00Z', text: 'private' }),
      recipients: h.counsellorRecipients,
    }).envelope;
    expect(
      (
        await h.fetch(
          notePath,
          signed(h.counsellor, 'POST', notePath, { envelope: note }, h.seconds()),
        )
      ).status,
    ).toBe(201);
    await expectError(
      await h.fetch(
        notePath,
        signed(h.escalation, 'POST', notePath, { envelope: note }, h.seconds()),
      ),
      403,
      'forbidden',
    );

    const listPath = '/api/v1/counsellor/cases';
    const listed = async () =>
      (
        (await (
          await h.fetch(listPath, signed(h.escalation, 'GET', listPath, undefined, h.seconds()))
        ).json()) as { cases: unknown[] }
      ).cases;
    expect(await listed()).toEqual([]);

    const casePath = `/api/v1/counsellor/cases/${reporter.caseNumber}`;
    const full = (await (await counsellorGet(casePath)).json()) as {
      messages: Array<{ seq: number; envelope: Envelope }>;
    };
    const key = { ...recipientOf(h.counsellor), boxSecretKey: h.counsellor.box.secretKey };
    const escalationRecipient = recipientOf(h.escalation);
    const keys = full.messages.map((m) => ({
      seq: m.seq,
      key: wrapContentKey(
        openEnvelope(m.envelope, key, { caseNumber: reporter.caseNumber }).contentKey,
        escalationRecipient,
      ),
    }));
    const forwardPath = `/api/v1/counsellor/cases/${reporter.caseNumber}/forward`;
    const forwarded = await h.fetch(
      forwardPath,
      signed(
        h.counsellor,
        'POST',
        forwardPath,
        { to: escalationRecipient.fingerprint, keys },
        h.seconds(),
      ),
    );
    expect(await forwarded.json()).toEqual({ forwardedTo: [escalationRecipient.fingerprint] });
    // Forwarding again with nothing new to forward sends no keys and changes nothing.
    expect(
      (
        await h.fetch(
          forwardPath,
          signed(
            h.counsellor,
            'POST',
            forwardPath,
            { to: escalationRecipient.fingerprint, keys: [] },
            h.seconds(),
          ),
        )
      ).status,
    ).toBe(200);

    expect(await listed()).toHaveLength(1);
    const seen = (await (
      await h.fetch(casePath, signed(h.escalation, 'GET', casePath, undefined, h.seconds()))
    ).json()) as { messages: Array<{ envelope: Envelope }>; notes: unknown[] };
    expect(seen.notes).toEqual([]);
    const escalationKey = { ...escalationRecipient, boxSecretKey: h.escalation.box.secretKey };
    const opened = openEnvelope(seen.messages[0]!.envelope, escalationKey, {
      caseNumber: reporter.caseNumber,
    });
    expect(decodeContent(opened.content)).toMatchObject({ text: 'Forward me.' });
    // The forward did not change the message's hash: the chain still holds.
    expect(envelopeHash(seen.messages[0]!.envelope)).toEqual(reporter.last);
  });

  it('delete removes the record and every blob from disk', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const length = attachmentCiphertextLength(10);
    const { id } = (await (await createUpload(h.fetch, reporter, length)).json()) as { id: string };
    await h.store.checkpoint(); // the record into its file
    const files = () => Object.keys(snapshot(h.dir));
    expect(files().some((f) => f.includes(reporter.caseNumber))).toBe(true);
    expect(files().some((f) => f.includes(id))).toBe(true);
    const path = `/api/v1/counsellor/cases/${reporter.caseNumber}`;
    expect(
      await (
        await h.fetch(path, signed(h.counsellor, 'DELETE', path, undefined, h.seconds()))
      ).json(),
    ).toEqual({ deleted: true });
    expect(files().some((f) => f.includes(reporter.caseNumber) || f.includes(id))).toBe(false);
    expect(
      (await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth })).status,
    ).toBe(401);
  });
});

describe('case details in bulk', () => {
  it('pages through every reported case in case-number order, with the same view as one case at a time', async () => {
    const reporters = [];
    for (let i = 0; i < 5; i++)
      reporters.push(await submitReport(h.fetch, h.counsellorRecipients, `report ${i}`));
    await createCase(h.fetch); // no report yet: not listed
    const numbers = reporters.map((r) => r.caseNumber).sort();
    const seen: string[] = [];
    let after: string | null = null;
    let requests = 0;
    do {
      const path = `/api/v1/counsellor/case-details?limit=2${after ? `&after=${after}` : ''}`;
      const page = (await (await counsellorGet(path)).json()) as {
        cases: Array<{ case: string }>;
        next: string | null;
      };
      requests++;
      for (const detail of page.cases) {
        seen.push(detail.case);
        expect(detail).toEqual(
          await (await counsellorGet(`/api/v1/counsellor/cases/${detail.case}`)).json(),
        );
      }
      after = page.next;
    } while (after);
    expect(seen).toEqual(numbers);
    expect(requests).toBe(3);
    await expectError(
      await counsellorGet('/api/v1/counsellor/case-details?limit=0'),
      400,
      'invalid-body',
    );
    await expectError(
      await counsellorGet('/api/v1/counsellor/case-details?after=../x'),
      400,
      'invalid-body',
    );
    await expectError(
      await counsellorGet('/api/v1/counsellor/case-details?sort=desc'),
      400,
      'invalid-body',
    );
    const path = '/api/v1/counsellor/case-details';
    expect(
      (
        (await (
          await h.fetch(path, signed(h.escalation, 'GET', path, undefined, h.seconds()))
        ).json()) as { cases: unknown[] }
      ).cases,
    ).toEqual([]);
  });
});

describe('what is stored', () => {
  it('a case file holds ciphertext and coarse hours only', async () => {
    const reporter = await submitReport(
      h.fetch,
      h.counsellorRecipients,
      'canary-7f3a9 plaintext that must not be stored',
    );
    await h.store.checkpoint(); // acknowledged in the journal; now in its file too
    const shard = join(h.dir, 'records', reporter.caseNumber.slice(0, 2));
    const text = readFileSync(join(shard, `${reporter.caseNumber}.json`), 'utf8');
    expect(text).not.toContain('canary-7f3a9');
    const record = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(record).sort()).toEqual([
      'ackHour',
      'case',
      'createdHour',
      'forwardedTo',
      'messages',
      'notes',
      'status',
      'statusHour',
      'uploads',
      'v',
      'verifier',
    ]);
    expect(record.createdHour).toBe(Math.floor(h.clock.ms / 3_600_000));
    expect(existsSync(shard) && readdirSync(shard)).toEqual([`${reporter.caseNumber}.json`]);
  });
});
