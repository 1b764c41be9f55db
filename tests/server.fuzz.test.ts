/**
 * Fuzzing every route of the real app with fast-check-generated requests:
 * wrong methods and content types, wrong types, huge and empty values, deep
 * JSON, bad base64, unicode, path tricks, truncated bodies. No response may
 * be a 5xx; without credentials nothing on disk may change; with them,
 * whatever was stored must still be well-formed.
 */

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvelope, signRequest, toBase64 } from '../crypto/index.js';
import { ROUTES as API_ROUTES } from '../server/app.js';
import { type CaseRecord, type CaseSummary, summarize } from '../server/records.js';
import { openFileStore } from '../server/store/index.js';
import { LOCAL_ORIGIN, type ReporterCase, submitReport, ticket } from './helpers/api-client.js';
import { type Harness, makeHarness, snapshot } from './helpers/app-harness.js';

let h: Harness;
let reporter: ReporterCase;
let validTicket: string;
beforeAll(async () => {
  h = await makeHarness({ powBits: 0 });
  reporter = await submitReport(h.fetch, h.counsellorRecipients);
  validTicket = (await ticket(h.fetch, { kind: 'case' })).ticket;
});
afterAll(async () => {
  await h.close();
});

// Each route with the methods it answers (and the page); the fuzzer uses those most of the time and any method otherwise.
const ROUTES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ...API_ROUTES,
  ['/', ['GET']],
  ['/index.html', ['GET']],
];
const ANY_METHOD = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'];

// '@case' and '@ticket' stand for the real case number and a valid ticket; build() fills them in.
const segment = () =>
  fc.oneof(
    fc.constantFrom(
      '@case',
      '0000ZZZZ',
      '..',
      '%2e%2e',
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      'AAAAAAAA%0A',
      'ä',
      '💥',
      '',
      'a'.repeat(300),
      '0'.repeat(32),
      'ffffffffffffffffffffffffffffffff',
    ),
    fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
    fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => encodeURIComponent(s)),
  );

const base64ish = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((b) => toBase64(b)),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '=', 'AAAA====', 'A'.repeat(10_000), '////', '-_-_'),
);

const envelopeish = fc.oneof(
  fc.record({
    v: fc.oneof(fc.constant(1), fc.integer()),
    nonce: base64ish,
    ct: base64ish,
    keys: fc.array(fc.record({ to: fc.string(), epk: base64ish, wk: base64ish }), { maxLength: 3 }),
  }),
  fc.anything({ maxDepth: 3 }),
);

const jsonBody = fc.oneof(
  fc.record(
    {
      kind: fc.oneof(fc.constantFrom('case', 'message'), fc.string()),
      case: fc.oneof(fc.constant('@case'), fc.string({ maxLength: 12 })),
      ticket: fc.oneof(base64ish, fc.constant('@ticket')),
      nonce: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
      verifier: base64ish,
      report: envelopeish,
      seq: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.string()),
      envelope: envelopeish,
      length: fc.oneof(fc.integer(), fc.constantFrom(16 + 512, 2 ** 53, -1, 1e300)),
      status: fc.string(),
      ack: fc.anything({ maxDepth: 1 }),
      to: fc.string(),
      keys: fc.anything({ maxDepth: 3 }),
    },
    { requiredKeys: [] },
  ),
  fc.json({ maxDepth: 4 }).map((text) => JSON.parse(text) as unknown),
  fc.anything({ maxDepth: 4 }),
);

const body = fc.oneof(
  jsonBody.map((value) => JSON.stringify(value) ?? 'null'),
  jsonBody.map((value) => (JSON.stringify(value) ?? 'null').slice(0, 7)), // truncated
  fc.constantFrom(
    '',
    '{',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    '{"kind":"case"}',
  ),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(new Uint8Array(1024 * 1024 + 10)),
);

const routeAndMethod = fc.constantFrom(...ROUTES).chain(([route, methods]) =>
  fc.record({
    route: fc.constant(route),
    method: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...methods) },
      { weight: 1, arbitrary: fc.constantFrom(...ANY_METHOD) },
    ),
  }),
);

const request = fc.record({
  target: routeAndMethod,
  caseSegment: segment(),
  idSegment: segment(),
  query: fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 20 }).map((s) => `?${encodeURIComponent(s)}`),
  ),
  contentType: fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/octet-stream',
    'text/plain',
    'multipart/form-data; boundary=x',
    'APPLICATION/JSON',
    '',
  ),
  auth: fc.constantFrom('none', 'garbage', 'random', 'signed-garbage'),
  // The ticket and its proof of work travel in headers (Kluis-Ticket, Kluis-Work).
  work: fc.oneof(
    fc.constant(undefined),
    fc.record({
      ticket: fc.oneof(base64ish, fc.constant('@ticket')),
      work: fc.oneof(
        fc.constantFrom('0', '0,1', '1,0', '', 'x', '0,'.repeat(300)),
        fc.string({ maxLength: 20 }),
      ),
    }),
  ),
  offset: fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('0', '-1', '1e3', '99999999999999999999', 'abc'),
    fc.nat().map(String),
  ),
  body,
});

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

function build(r: Generated, credentials: boolean): [string, RequestInit] {
  const fill = (text: string) =>
    text.replaceAll('@case', reporter.caseNumber).replaceAll('@ticket', validTicket);
  const { route, method } = r.target;
  const path = fill(route.replace(':case', r.caseSegment).replace(':id', r.idSegment)) + r.query;
  const headers: Record<string, string> = {};
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  if (r.offset !== undefined) headers['upload-offset'] = r.offset;
  if (r.work !== undefined)
    Object.assign(headers, {
      'kluis-ticket': fill(r.work.ticket).replace(/[^\x20-\x7e]/g, ''),
      'kluis-work': r.work.work.replace(/[^\x20-\x7e]/g, ''),
    });
  const bytes = typeof r.body === 'string' ? new TextEncoder().encode(fill(r.body)) : r.body;
  if (r.auth === 'garbage') headers['kluis-auth'] = 'Zm9v';
  if (r.auth === 'random')
    headers['kluis-auth'] = toBase64(crypto.getRandomValues(new Uint8Array(32)));
  if (r.auth === 'signed-garbage')
    Object.assign(headers, {
      'kluis-key': 'X'.repeat(24),
      'kluis-time': '1',
      'kluis-nonce': 'AAAAAAAAAAAAAAAAAAAAAA==',
      'kluis-signature': 'AA==',
    });
  if (credentials) {
    if (r.auth === 'random') Object.assign(headers, reporter.auth);
    if (r.auth === 'signed-garbage') {
      const signedBody = method === 'GET' || method === 'HEAD' ? new Uint8Array(0) : bytes;
      try {
        Object.assign(
          headers,
          signRequest(
            { origin: LOCAL_ORIGIN, method: method, path, time: h.seconds(), body: signedBody },
            h.counsellor.sign.secretKey,
          ),
        );
      } catch {
        // A path a real client could not sign (not printable ASCII): send it unsigned.
      }
    }
  }
  const init: RequestInit = { method: method, headers };
  if (method !== 'GET' && method !== 'HEAD') init.body = bytes as Uint8Array<ArrayBuffer>;
  return [path, init];
}

async function check(r: Generated, credentials: boolean): Promise<number> {
  const [path, init] = build(r, credentials);
  let response: Response;
  try {
    response = await h.fetch(path, init);
  } catch (error) {
    // A request the platform itself refuses to build (e.g. an invalid URL) never reaches the server.
    if (error instanceof TypeError) return 0;
    throw error;
  }
  const text = await response.text();
  expect(response.status, `${init.method} ${path} → ${text.slice(0, 200)}`).toBeLessThan(500);
  if (response.status >= 400 && init.method !== 'HEAD') {
    const parsed = JSON.parse(text) as { error: { code: string } };
    expect(typeof parsed.error.code).toBe('string');
  }
  return response.status;
}

describe('fuzzing the real app', () => {
  it('10,000 requests without credentials: never a 5xx, nothing on disk changes', async () => {
    const before = snapshot(h.dir);
    let count = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        count++;
        await check(r, false);
      }),
      { numRuns: 10_000, interruptAfterTimeLimit: 240_000 },
    );
    console.log(`fuzz: ${count} requests without credentials`);
    expect(count).toBeGreaterThanOrEqual(1000);
    expect(h.errors).toEqual([]);
    expect(snapshot(h.dir)).toEqual(before);
  });

  it('2,000 requests with a valid reporter key or counsellor signature: never a 5xx, and what was stored is well-formed', async () => {
    let count = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        count++;
        const status = await check(r, true);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 120_000 },
    );
    console.log(
      `fuzz: ${count} requests with credentials; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // The credentials got the fuzzer past authentication: some requests succeeded and some were judged on their bodies.
    expect([...statuses.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
    expect((statuses.get(400) ?? 0) + (statuses.get(413) ?? 0)).toBeGreaterThan(0);
    expect(h.errors).toEqual([]);
    // Reopen what is on disk independently: every record parses and every stored envelope has the exact shape.
    await h.store.close();
    const reopened = await openFileStore<CaseRecord, CaseSummary>({ dir: h.dir, summarize });
    try {
      for (const [caseNumber] of reopened.records.summaries()) {
        const record = (await reopened.records.get(caseNumber))!;
        expect(record.case).toBe(caseNumber);
        for (const message of [...record.messages, ...record.notes])
          expect(() => parseEnvelope(message.envelope)).not.toThrow();
      }
    } finally {
      await reopened.close();
      // The harness closes its own store in afterAll; give it one to close.
      (h as { store: unknown }).store = await openFileStore<CaseRecord, CaseSummary>({
        dir: h.dir,
        summarize,
      });
    }
  });
});
