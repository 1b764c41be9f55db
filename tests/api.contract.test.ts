/**
 * One HTTP contract (api/contract.ts) for the server, both clients and
 * docs/API.md. The real app answers every route of a whole flow; each
 * answer must read through the contract's checker to exactly itself (no
 * field the contract does not know, none missing or of another type), and
 * every field must be named in docs/API.md. The document's routes and
 * error table must be the contract's, and every error class of the server
 * must have a code the contract knows.
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  ERROR_STATUS,
  parseCase,
  parseCaseCreated,
  parseCaseDetail,
  parseCaseDetails,
  parseDeleted,
  parseForward,
  parseHandover,
  parseHealth,
  parseInfo,
  parseListing,
  parseTicket,
  parseUpload,
  parseUploadAppended,
  parseUploadCreated,
  parseWritten,
  ROUTES,
} from '../api/contract.js';
import {
  AttachmentEncryptor,
  attachmentCiphertextLength,
  concatBytes,
  encodeContent,
  newAttachmentKey,
  sealEnvelope,
  wrapContentKey,
} from '../crypto/index.js';
import * as serverErrors from '../server/errors.js';
import {
  json,
  recipientOf,
  reporterRecipient,
  type ReporterCase,
  signed,
  submitReport,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import { type Harness, makeHarness } from './helpers/app-harness.js';

const DOC = readFileSync('docs/API.md', 'utf8');

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h.close();
});

/** Every key of an answer, nested, but not inside envelopes and bundles (PROTOCOL.md defines those). */
function keysOf(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      out.add(key);
      if (key !== 'envelope' && key !== 'counsellors' && key !== 'escalation') keysOf(inner, out);
    }
  }
  return out;
}

/** Checks one answer: the contract reads it to exactly itself, and the document names each field. */
async function conforms<T>(
  response: Response,
  status: number,
  parse: (value: unknown) => T,
): Promise<T> {
  expect(response.status).toBe(status);
  const raw = (await response.json()) as unknown;
  const read = parse(raw);
  expect(read).toEqual(raw);
  for (const key of keysOf(raw))
    expect(DOC, `docs/API.md does not name the field ${key}`).toMatch(
      new RegExp(`["\`]${key}["\`]`),
    );
  return read;
}

const counsellorFetch = (method: string, path: string, body?: unknown) =>
  h.fetch(path, signed(h.counsellor, method, path, body, h.seconds()));

describe('every answer of a whole flow is what the contract and docs/API.md say', () => {
  let reporter: ReporterCase;

  it('public routes', async () => {
    await conforms(await h.fetch('/api/v1/health'), 200, parseHealth);
    await conforms(await h.fetch('/api/v1/info'), 200, parseInfo);
    await conforms(await h.fetch('/api/v1/tickets', json({ kind: 'case' })), 201, parseTicket);
  });

  it('a case, a message and an upload, as the reporter', async () => {
    const t = await ticket(h.fetch, { kind: 'case' });
    const created = await h.fetch(
      '/api/v1/cases',
      json({ verifier: Buffer.alloc(32).toString('base64') }, workHeaders(t)),
    );
    expect((await conforms(created, 201, parseCaseCreated)).case).toBe(t.caseNumber);
    // A report with attachments announces them with its case (paid in the case ticket).
    const withUploads = await ticket(h.fetch, { kind: 'case' }, 2);
    const caseWithUploads = await h.fetch(
      '/api/v1/cases',
      json(
        { verifier: Buffer.alloc(32).toString('base64'), uploads: [attachmentCiphertextLength(1)] },
        workHeaders(withUploads),
      ),
    );
    expect((await conforms(caseWithUploads, 201, parseCaseCreated)).uploads).toHaveLength(1);

    reporter = await submitReport(h.fetch, h.counsellorRecipients, 'A report.');
    const m = await ticket(h.fetch, { kind: 'message', case: reporter.caseNumber });
    const sealed = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 1,
      prev: reporter.last,
      author: reporter.keys.sign,
      content: encodeContent({
        v: 1,
        type: 'message',
        time: '2026-11-28T12:00:00Z',
        text: 'More.',
        attachments: [],
      }),
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    });
    const posted = await h.fetch(
      `/api/v1/cases/${reporter.caseNumber}/messages`,
      json({ seq: 1, envelope: sealed.envelope }, { ...reporter.auth, ...workHeaders(m) }),
    );
    await conforms(posted, 201, (v) => parseWritten(v, 'POST …/messages'));
    reporter.last = sealed.hash;

    const data = crypto.getRandomValues(new Uint8Array(3000));
    const encryptor = new AttachmentEncryptor(newAttachmentKey(data.length));
    const bytes = concatBytes(...encryptor.push(data), ...encryptor.finish());
    const u = await ticket(h.fetch, { kind: 'upload', case: reporter.caseNumber });
    const announced = await h.fetch(
      `/api/v1/cases/${reporter.caseNumber}/uploads`,
      json({ length: bytes.length }, { ...reporter.auth, ...workHeaders(u) }),
    );
    const { id } = await conforms(announced, 201, parseUploadCreated);
    const appended = await h.fetch(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        ...reporter.auth,
        'content-type': 'application/octet-stream',
        'upload-offset': '0',
      },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    expect((await conforms(appended, 200, parseUploadAppended)).complete).toBe(true);
    const state = await conforms(
      await h.fetch(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
        headers: reporter.auth,
      }),
      200,
      parseUpload,
    );
    expect(state.sha256).toMatch(/^[0-9a-f]{64}$/);
    await conforms(
      await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth }),
      200,
      (v) => parseCase(v, reporter.caseNumber),
    );
  });

  it('counsellor routes', async () => {
    await conforms(await counsellorFetch('GET', '/api/v1/counsellor/cases'), 200, (v) => ({
      cases: parseListing(v),
    }));
    const detail = await conforms(
      await counsellorFetch('GET', `/api/v1/counsellor/cases/${reporter.caseNumber}`),
      200,
      (v) => parseCaseDetail(v, reporter.caseNumber),
    );
    await conforms(
      await counsellorFetch('GET', '/api/v1/counsellor/case-details?limit=1'),
      200,
      (v) => parseCaseDetails(v, undefined, 1),
    );
    const note = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 0,
      prev: new Uint8Array(32),
      author: h.counsellor.sign,
      content: encodeContent({ v: 1, type: 'note', time: '2026-11-28T12:00:00Z', text: 'private' }),
      recipients: h.counsellorRecipients,
    });
    await conforms(
      await counsellorFetch('POST', `/api/v1/counsellor/cases/${reporter.caseNumber}/notes`, {
        envelope: note.envelope,
      }),
      201,
      (v) => parseWritten(v, 'POST …/notes'),
    );
    // A forward: one key per message for the escalation recipient (any 32 bytes will do for the server).
    const escalation = recipientOf(h.escalation);
    const keys = detail.messages.map((message) => ({
      seq: message.seq,
      key: wrapContentKey(new Uint8Array(32), escalation),
    }));
    await conforms(
      await counsellorFetch('POST', `/api/v1/counsellor/cases/${reporter.caseNumber}/forward`, {
        to: escalation.fingerprint,
        keys,
      }),
      200,
      parseForward,
    );
    // A handover to the deputy, who can read every message and note already: nothing to add.
    const handover = await conforms(
      await counsellorFetch('POST', `/api/v1/counsellor/cases/${reporter.caseNumber}/handover`, {
        to: h.counsellorRecipients[1]!.fingerprint,
        keys: [],
        noteKeys: [],
      }),
      200,
      parseHandover,
    );
    expect(handover).toEqual({ keys: 0, noteKeys: 0 });
    await conforms(
      await counsellorFetch('DELETE', `/api/v1/counsellor/cases/${reporter.caseNumber}`),
      200,
      parseDeleted,
    );
  });
});

describe('docs/API.md and the contract list the same routes and errors', () => {
  it('every route of the contract has its heading, and every heading is a route of the contract', () => {
    const headings = [...DOC.matchAll(/^####[^`\n]*`(GET|POST|PATCH|PUT|DELETE) ([^`?\s]+)/gm)].map(
      (m) => `${m[1]} ${m[2]!.slice(API_PREFIX.length)}`,
    );
    expect([...headings].sort()).toEqual([...ROUTES].sort());
    for (const m of DOC.matchAll(/^####[^`\n]*`(GET|POST|PATCH|PUT|DELETE) ([^`?\s]+)/gm))
      expect(m[2]!.startsWith(API_PREFIX)).toBe(true);
  });

  it('the error table has exactly the contract’s codes, each with its status', () => {
    const section = DOC.slice(
      DOC.indexOf('## Error codes'),
      DOC.indexOf('## What the server stores'),
    );
    const documented = new Map<string, number>();
    for (const row of section.matchAll(/^\| (\d{3}) \| ([^|]+) \|/gm)) {
      for (const code of row[2]!.matchAll(/`([a-z-]+)`/g)) documented.set(code[1]!, Number(row[1]));
    }
    expect(Object.fromEntries(documented)).toEqual(ERROR_STATUS);
  });

  it('every error class of the server has a code of the contract, and answers with its status', () => {
    type ErrorClass = new (message: string) => serverErrors.HttpError;
    const classes = (Object.values(serverErrors) as unknown[]).filter(
      (value): value is ErrorClass =>
        typeof value === 'function' && value.prototype instanceof serverErrors.HttpError,
    );
    expect(classes.length).toBeGreaterThan(20);
    const codes = new Set<string>();
    for (const Class of classes) {
      const error = new Class('test');
      expect(Object.hasOwn(ERROR_STATUS, error.code), error.code).toBe(true);
      expect(error.status).toBe(ERROR_STATUS[error.code]);
      codes.add(error.code);
    }
    // The contract's other codes are the error handler's own (a bug) and the routing's.
    expect(Object.keys(ERROR_STATUS).filter((code) => !codes.has(code))).toEqual(['internal']);
  });
});
