/**
 * A small client of the Kluis API for tests, doing what the page and the
 * counsellor client do through crypto/: tickets and proof of work, sealing,
 * signed requests. Works over `app.request()` or real HTTP alike.
 */

import {
  deriveReporterKeys,
  encodeContent,
  envelopeHash,
  fingerprintOf,
  fromBase64,
  GENESIS_HASH,
  generateReceiptSecret,
  type Identity,
  type Recipient,
  type ReporterKeys,
  sealEnvelope,
  signRequest,
  solvePow,
  toBase64,
  type Envelope,
} from '../../crypto/index.js';

/** Fetch relative to the server: `app.request` or `fetch(base + path)`. */
export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

export function httpFetch(base: string): Fetch {
  return (path, init) => fetch(base + path, init);
}

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function recipientOf(identity: Identity): Recipient {
  return {
    fingerprint: fingerprintOf(identity.sign.publicKey),
    boxPublicKey: identity.box.publicKey,
  };
}

/** The origin `app.request()` gives a relative path (and the harness's server accepts). */
export const LOCAL_ORIGIN = 'http://localhost';

/** Headers of a request signed by `identity` at `nowSeconds`, for the server at `origin`. */
export function signedHeaders(
  identity: Identity,
  method: string,
  path: string,
  body: string | Uint8Array,
  nowSeconds: number,
  origin = LOCAL_ORIGIN,
): Record<string, string> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    ...signRequest(
      { origin, method, path, time: nowSeconds, body: bytes },
      identity.sign.secretKey,
    ),
  };
}

/** A signed request (JSON body unless `body` is undefined), for the server at `origin`. */
export function signed(
  identity: Identity,
  method: string,
  path: string,
  body: unknown,
  nowSeconds: number,
  origin = LOCAL_ORIGIN,
): RequestInit {
  const text = body === undefined ? '' : JSON.stringify(body);
  return {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...signedHeaders(identity, method, path, text, nowSeconds, origin),
    },
    ...(body === undefined ? {} : { body: text }),
  };
}

/**
 * Sends a signed request at the current time; if the server has just started and refuses it
 * (401 signature-before-start), signs it again with the `notBefore` it names, as the
 * counsellor client does. Resolves with the last response and the headers it was sent with.
 */
export async function sendSigned(
  fetcher: Fetch,
  identity: Identity,
  method: string,
  path: string,
  body: unknown,
  origin: string,
): Promise<{ response: Response; init: RequestInit }> {
  let init = signed(identity, method, path, body, Math.floor(Date.now() / 1000), origin);
  let response = await fetcher(path, init);
  if (response.status !== 401) return { response, init };
  const refusal = (await response.clone().json()) as {
    error?: { code?: string };
    notBefore?: number;
  };
  const notBefore = refusal.notBefore;
  if (refusal.error?.code !== 'signature-before-start' || notBefore === undefined)
    return { response, init };
  const wait = (notBefore - 300) * 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  init = signed(identity, method, path, body, notBefore, origin);
  response = await fetcher(path, init);
  return { response, init };
}

/** Gets a ticket and solves its proof of work (`solutions` distinct nonces, for an upload's price). */
export async function ticket(
  fetcher: Fetch,
  request: { kind: 'case' } | { kind: 'message' | 'upload'; case: string },
  solutions = 1,
) {
  const response = await fetcher('/api/v1/tickets', json(request));
  if (response.status !== 201)
    throw new Error(`ticket: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { ticket: string; bits: number; case: string };
  const nonces: number[] = [];
  const bytes = fromBase64(body.ticket);
  while (nonces.length < solutions)
    nonces.push(solvePow(bytes, body.bits, (nonces.at(-1) ?? -1) + 1)!);
  return { ticket: body.ticket, nonce: nonces[0]!, nonces, caseNumber: body.case };
}

/** The headers that carry a ticket and its proof of work (docs/API.md). */
export function workHeaders(t: {
  ticket: string;
  nonces: readonly number[];
}): Record<string, string> {
  return { 'kluis-ticket': t.ticket, 'kluis-work': t.nonces.join(',') };
}

/** Announces an upload as a reporter, paying its price (one solution per 16 MiB). */
export async function createUpload(
  fetcher: Fetch,
  reporter: ReporterCase,
  length: number,
): Promise<Response> {
  const t = await ticket(
    fetcher,
    { kind: 'upload', case: reporter.caseNumber },
    Math.max(1, Math.ceil(length / (16 * 1024 * 1024))),
  );
  return fetcher(
    `/api/v1/cases/${reporter.caseNumber}/uploads`,
    json({ length }, { ...reporter.auth, ...workHeaders(t) }),
  );
}

/** A reporter's case as the test knows it. */
export interface ReporterCase {
  readonly caseNumber: string;
  readonly secret: Uint8Array;
  readonly keys: ReporterKeys;
  readonly auth: Record<string, string>;
  /** Hash of the last message the reporter knows. */
  last: Uint8Array;
  count: number;
}

/** Creates a case (ticket, PoW, verifier) without posting the report. */
export async function createCase(fetcher: Fetch): Promise<ReporterCase> {
  const t = await ticket(fetcher, { kind: 'case' });
  const caseNumber = t.caseNumber;
  const secret = generateReceiptSecret();
  const keys = deriveReporterKeys({ caseNumber, secret });
  const response = await fetcher(
    '/api/v1/cases',
    json({ verifier: toBase64(keys.verifier) }, workHeaders(t)),
  );
  if (response.status !== 201)
    throw new Error(`create case: ${response.status} ${await response.text()}`);
  return {
    caseNumber,
    secret,
    keys,
    auth: { 'kluis-auth': toBase64(keys.authKey) },
    last: GENESIS_HASH,
    count: 0,
  };
}

/** Seals the report (message 0) for the counsellors. */
export function sealReport(
  reporter: ReporterCase,
  counsellors: readonly Recipient[],
  text: string,
): Envelope {
  const content = encodeContent({
    v: 1,
    type: 'report',
    time: '2026-11-28T12:00:00Z',
    text,
    consent: 'ask',
    addressAs: '',
    language: 'nl',
    reporterBox: toBase64(reporter.keys.box.publicKey),
    attachments: [],
  });
  // Sealed for the reporter too, so they can read their own report when they come back (PROTOCOL §6).
  const recipients = [reporterRecipient(reporter), ...counsellors];
  return sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq: 0,
    prev: GENESIS_HASH,
    author: reporter.keys.sign,
    content,
    recipients,
  }).envelope;
}

/** Creates a case with its report in one request (as the page does without attachments). */
export async function submitReport(
  fetcher: Fetch,
  counsellors: readonly Recipient[],
  text = 'A report.',
): Promise<ReporterCase> {
  const t = await ticket(fetcher, { kind: 'case' });
  const caseNumber = t.caseNumber;
  const secret = generateReceiptSecret();
  const keys = deriveReporterKeys({ caseNumber, secret });
  const reporter: ReporterCase = {
    caseNumber,
    secret,
    keys,
    auth: { 'kluis-auth': toBase64(keys.authKey) },
    last: GENESIS_HASH,
    count: 0,
  };
  const report = sealReport(reporter, counsellors, text);
  const response = await fetcher(
    '/api/v1/cases',
    json({ verifier: toBase64(keys.verifier), report }, workHeaders(t)),
  );
  if (response.status !== 201)
    throw new Error(`create case with report: ${response.status} ${await response.text()}`);
  reporter.last = envelopeHash(report);
  reporter.count = 1;
  return reporter;
}

/** Creates a case, then posts its report as message 0 (the path a report with attachments takes). */
export async function submitReportInTwoSteps(
  fetcher: Fetch,
  counsellors: readonly Recipient[],
  text = 'A report.',
): Promise<ReporterCase> {
  const reporter = await createCase(fetcher);
  const envelope = sealReport(reporter, counsellors, text);
  const response = await fetcher(
    `/api/v1/cases/${reporter.caseNumber}/messages`,
    json({ seq: 0, envelope }, reporter.auth),
  );
  if (response.status !== 201)
    throw new Error(`report: ${response.status} ${await response.text()}`);
  reporter.last = envelopeHash(envelope);
  reporter.count = 1;
  return reporter;
}

/** The reporter's own recipient entry. */
export function reporterRecipient(reporter: ReporterCase): Recipient {
  return { fingerprint: reporter.keys.fingerprint, boxPublicKey: reporter.keys.box.publicKey };
}
