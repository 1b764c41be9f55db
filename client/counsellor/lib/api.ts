/**
 * The counsellor API (docs/API.md) as a class: every counsellor route signed
 * (PROTOCOL §10) over the method, the path with query and the exact body
 * bytes. Answers are checked for shape before use; envelopes inside them
 * are checked by crypto/ when they are opened.
 * @module
 */

import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { CaseStatus, Envelope, WrappedKey } from '../../../crypto/index.js';
import { NetworkError, ServerRefusedError } from './errors.js';
import { createNodeTransport, readBody, type Transport } from './http.js';
import type { RequestSigner } from './native.js';

/** GET /api/v1/info. Bundles are unverified here. */
export interface ServerInfo {
  readonly demo: boolean;
  readonly powBits: number;
  readonly maxFileBytes: number;
  readonly maxCaseBytes: number;
  readonly counsellors: readonly unknown[];
  readonly escalation: readonly unknown[];
}

/** One row of GET /api/v1/counsellor/cases. */
export interface CaseListing {
  readonly case: string;
  readonly createdHour: number;
  readonly reportHour: number;
  readonly status: CaseStatus;
  readonly statusHour: number;
  readonly ackHour: number | null;
  readonly messages: number;
  readonly lastHour: number | null;
  readonly lastAuthor: 'reporter' | 'counsellor' | null;
  readonly uploads: number;
  readonly bytes: number;
  readonly forwardedTo: readonly string[];
}

export interface StoredMessageView {
  readonly seq: number;
  readonly hour: number;
  readonly author: 'reporter' | 'counsellor';
  /** Unchecked: crypto/ checks it when opening. */
  readonly envelope: unknown;
}

export interface NoteView {
  readonly seq: number;
  readonly hour: number;
  readonly envelope: unknown;
}

export interface UploadView {
  readonly id: string;
  readonly length: number;
  readonly offset: number;
  readonly complete: boolean;
  readonly hour: number;
}

/** GET /api/v1/counsellor/cases/:case. */
export interface CaseDetail {
  readonly case: string;
  readonly createdHour: number;
  readonly status: CaseStatus;
  readonly statusHour: number;
  readonly messages: readonly StoredMessageView[];
  readonly uploads: readonly UploadView[];
  readonly notes: readonly NoteView[];
  readonly forwardedTo: readonly string[];
  /** Hour of the acknowledgement the server recorded, or null. */
  readonly ackHour: number | null;
}

/** POST /api/v1/cases/:case/messages, as a counsellor. */
export interface PostMessageBody {
  readonly seq: number;
  readonly envelope: Envelope;
  readonly status?: CaseStatus;
  readonly ack?: true;
}

const STATUSES: readonly string[] = ['received', 'in-conversation', 'forwarded', 'closed'];

class Shape {
  constructor(readonly what: string) {}
  fail(field: string): never {
    throw new NetworkError(
      `the server's answer to ${this.what} is not what the Kluis API says (field ${field})`,
    );
  }
  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field);
    return value as Record<string, unknown>;
  }
  count(value: unknown, field: string): number {
    if (!Number.isSafeInteger(value) || (value as number) < 0) this.fail(field);
    return value as number;
  }
  countOrNull(value: unknown, field: string): number | null {
    return value === null ? null : this.count(value, field);
  }
  string(value: unknown, field: string, pattern?: RegExp): string {
    if (typeof value !== 'string' || (pattern && !pattern.test(value))) this.fail(field);
    return value;
  }
  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field);
    return value;
  }
  status(value: unknown, field: string): CaseStatus {
    if (typeof value !== 'string' || !STATUSES.includes(value)) this.fail(field);
    return value as CaseStatus;
  }
  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field);
    return value;
  }
}

const CASE = /^[0-9A-HJKMNP-TV-Z]{8}$/;
const FINGERPRINT = /^[0-9A-HJKMNP-TV-Z]{24}$/;
const BLOB = /^[0-9a-f]{32}$/;

function parseInfo(value: unknown): ServerInfo {
  const s = new Shape('GET /api/v1/info');
  const o = s.object(value, 'info');
  return {
    demo: s.boolean(o.demo, 'demo'),
    powBits: s.count(o.powBits, 'powBits'),
    maxFileBytes: s.count(o.maxFileBytes, 'maxFileBytes'),
    maxCaseBytes: s.count(o.maxCaseBytes, 'maxCaseBytes'),
    counsellors: s.array(o.counsellors, 'counsellors'),
    escalation: s.array(o.escalation ?? [], 'escalation'),
  };
}

function parseListing(value: unknown): CaseListing[] {
  const s = new Shape('GET /api/v1/counsellor/cases');
  return s.array(s.object(value, 'body').cases, 'cases').map((item, i) => {
    const o = s.object(item, `cases[${i}]`);
    const lastAuthor = o.lastAuthor;
    if (lastAuthor !== null && lastAuthor !== 'reporter' && lastAuthor !== 'counsellor')
      s.fail(`cases[${i}].lastAuthor`);
    return {
      case: s.string(o.case, 'case', CASE),
      createdHour: s.count(o.createdHour, 'createdHour'),
      reportHour: s.count(o.reportHour, 'reportHour'),
      status: s.status(o.status, 'status'),
      statusHour: s.count(o.statusHour, 'statusHour'),
      ackHour: s.countOrNull(o.ackHour, 'ackHour'),
      messages: s.count(o.messages, 'messages'),
      lastHour: s.countOrNull(o.lastHour, 'lastHour'),
      lastAuthor: lastAuthor as CaseListing['lastAuthor'],
      uploads: s.count(o.uploads, 'uploads'),
      bytes: s.count(o.bytes, 'bytes'),
      forwardedTo: s
        .array(o.forwardedTo ?? [], 'forwardedTo')
        .map((fp) => s.string(fp, 'forwardedTo', FINGERPRINT)),
    };
  });
}

function parseUpload(s: Shape, value: unknown, field: string): UploadView {
  const o = s.object(value, field);
  return {
    id: s.string(o.id, `${field}.id`, BLOB),
    length: s.count(o.length, `${field}.length`),
    offset: s.count(o.offset, `${field}.offset`),
    complete: s.boolean(o.complete, `${field}.complete`),
    hour: s.count(o.hour, `${field}.hour`),
  };
}

function parseCase(
  value: unknown,
  caseNumber: string,
  s = new Shape(`GET /api/v1/counsellor/cases/${caseNumber}`),
): CaseDetail {
  const o = s.object(value, 'body');
  if (o.case !== caseNumber) s.fail('case');
  return {
    case: caseNumber,
    createdHour: s.count(o.createdHour, 'createdHour'),
    status: s.status(o.status, 'status'),
    statusHour: s.count(o.statusHour, 'statusHour'),
    messages: s.array(o.messages, 'messages').map((item, i) => {
      const m = s.object(item, `messages[${i}]`);
      if (m.author !== 'reporter' && m.author !== 'counsellor') s.fail(`messages[${i}].author`);
      return {
        seq: s.count(m.seq, `messages[${i}].seq`),
        hour: s.count(m.hour, `messages[${i}].hour`),
        author: m.author as StoredMessageView['author'],
        envelope: m.envelope,
      };
    }),
    uploads: s
      .array(o.uploads ?? [], 'uploads')
      .map((item, i) => parseUpload(s, item, `uploads[${i}]`)),
    notes: s.array(o.notes ?? [], 'notes').map((item, i) => {
      const n = s.object(item, `notes[${i}]`);
      return {
        seq: s.count(n.seq, `notes[${i}].seq`),
        hour: s.count(n.hour, `notes[${i}].hour`),
        envelope: n.envelope,
      };
    }),
    forwardedTo: s
      .array(o.forwardedTo ?? [], 'forwardedTo')
      .map((fp) => s.string(fp, 'forwardedTo', FINGERPRINT)),
    ackHour: o.ackHour === undefined ? null : s.countOrNull(o.ackHour, 'ackHour'),
  };
}

/** One page of GET /api/v1/counsellor/case-details. */
export interface CaseDetailsPage {
  readonly cases: readonly CaseDetail[];
  /** The `after` of the following page, or null at the end. */
  readonly next: string | null;
}

/** Most cases the server returns in one case-details page (docs/API.md). */
export const MAX_CASE_DETAILS = 500;

/**
 * A case-details page, checked: every case shaped as GET …/cases/:case,
 * case numbers strictly ascending and after `after`, `next` (if any) the
 * last of them, so that paging always moves forward and ends.
 */
function parseCaseDetails(
  value: unknown,
  after: string | undefined,
  limit: number,
): CaseDetailsPage {
  const s = new Shape('GET /api/v1/counsellor/case-details');
  const o = s.object(value, 'body');
  const items = s.array(o.cases, 'cases');
  if (items.length > limit) s.fail('cases (more than the limit)');
  let last = after;
  const cases = items.map((item, i) => {
    const caseNumber = s.string(s.object(item, `cases[${i}]`).case, `cases[${i}].case`, CASE);
    if (last !== undefined && caseNumber <= last) s.fail(`cases[${i}].case (out of order)`);
    last = caseNumber;
    return parseCase(item, caseNumber, s);
  });
  if (o.next !== null) {
    const next = s.string(o.next, 'next', CASE);
    if (cases.length === 0 || next !== last) s.fail('next');
    return { cases, next };
  }
  return { cases, next: null };
}

function written(value: unknown, what: string): { seq: number; hour: number } {
  const s = new Shape(what);
  const o = s.object(value, 'body');
  return { seq: s.count(o.seq, 'seq'), hour: s.count(o.hour, 'hour') };
}

/** How to reach the server and sign for it. */
export interface ApiOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080` or `http://xyz….onion` (a path prefix is kept). */
  readonly server: string;
  /** Signs counsellor requests; without it only public routes work. */
  readonly signer?: RequestSigner;
  /** Defaults to node:http(s), through `proxy` if given. */
  readonly transport?: Transport;
  readonly proxy?: string | undefined;
  /** Seconds since the epoch (tests move it). */
  readonly clock?: () => number;
}

/** Parses and normalises a server URL. Throws NetworkError for anything but http(s) with a host. */
export function parseServerUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new NetworkError(
      `--server must be a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(server)})`,
    );
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  ) {
    throw new NetworkError(
      '--server must be an http:// or https:// URL without query, fragment or credentials',
    );
  }
  return url;
}

const JSON_LIMIT = 256 * 1024 * 1024;
/** The server's window for signed requests (PROTOCOL §10). */
const SIGNATURE_WINDOW_SECONDS = 300;
/** Longest wait before signing again for a server that has just started. */
const MAX_NOT_BEFORE_WAIT_SECONDS = 5;

/** The `notBefore` of a signature-before-start refusal's body, if it is one. */
function notBeforeOf(body: Buffer): number | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const o = value as { error?: { code?: unknown }; notBefore?: unknown } | null;
  if (o?.error?.code !== 'signature-before-start') return undefined;
  return Number.isSafeInteger(o.notBefore) && (o.notBefore as number) > 0 ? (o.notBefore as number) : undefined;
}

/** The counsellor's side of the HTTP API. */
export class CounsellorApi {
  readonly base: URL;
  /** The base URL's path without its trailing slash ('' at the root). */
  readonly #prefix: string;
  readonly #signer: RequestSigner | undefined;
  readonly #transport: Transport;
  readonly #clock: () => number;
  /** The earliest time a just-started server accepts (0 until one says so). */
  #notBefore = 0;

  constructor(options: ApiOptions) {
    this.base = parseServerUrl(options.server);
    this.#prefix = this.base.pathname.replace(/\/+$/, '');
    this.#signer = options.signer;
    this.#transport = options.transport ?? createNodeTransport({ proxy: options.proxy });
    this.#clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Closes idle connections. */
  close(): void {
    this.#transport.close();
  }

  /** The full path as sent (and signed) for an API path. */
  path(apiPath: string): string {
    return `${this.#prefix}${apiPath}`;
  }

  /** Sends one request; signs it when `signed`. Resolves with the response, whatever its status. */
  async send(
    method: string,
    apiPath: string,
    options: {
      body?: Uint8Array;
      contentType?: string;
      signed?: boolean;
      headers?: Record<string, string>;
    } = {},
  ): Promise<IncomingMessage> {
    const path = this.path(apiPath);
    const body = options.body ?? new Uint8Array(0);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.contentType) headers['content-type'] = options.contentType;
    const url = new URL(path, this.base.origin);
    if (options.signed === false) return this.#transport.request(url, { method, headers, ...(options.body ? { body } : {}) });
    const signer = this.#signer;
    if (!signer) throw new Error('this API client has no signing key');
    // Signed for the origin this client addresses, so the request is good for this server only.
    const origin = this.base.origin;
    const send = (time: number) =>
      this.#transport.request(url, {
        method,
        headers: { ...headers, ...signer({ origin, method, path, time, body }) },
        ...(options.body ? { body } : {}),
      });
    const response = await send(Math.max(this.#clock(), this.#notBefore));
    if (response.statusCode !== 401) return response;
    // A refusal is small: read it to see whether it names a time, and hand on a copy if not.
    const refusal = await readBody(response, 64 * 1024);
    const notBefore = notBeforeOf(refusal);
    if (notBefore === undefined) {
      return Object.assign(Readable.from([refusal]), {
        statusCode: response.statusCode,
        headers: response.headers,
      }) as unknown as IncomingMessage;
    }
    // The server has just started and refuses times it might have seen before (docs/API.md).
    // Sign again with its time, if that is close to ours: a far one would let whoever answered
    // collect requests that only become valid later.
    const wait = notBefore - SIGNATURE_WINDOW_SECONDS - this.#clock();
    if (wait > MAX_NOT_BEFORE_WAIT_SECONDS) {
      throw new ServerRefusedError(
        401,
        'signature-before-start',
        `the server has just started and accepts requests only from ${new Date(notBefore * 1000).toISOString()}: try again in a few minutes, or check this computer's clock`,
        undefined,
      );
    }
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    // Later requests use it too, until our clock passes it (one round trip, not two, each).
    this.#notBefore = notBefore;
    return send(notBefore);
  }

  /** Sends JSON (or nothing) and reads JSON; an API error becomes ServerRefusedError (4xx) or NetworkError. */
  async json(method: string, apiPath: string, body?: unknown, signed = true): Promise<unknown> {
    const response = await this.send(method, apiPath, {
      signed,
      ...(body === undefined
        ? {}
        : {
            body: new TextEncoder().encode(JSON.stringify(body)),
            contentType: 'application/json',
          }),
    });
    return this.#read(response, `${method} ${apiPath}`);
  }

  async #read(response: IncomingMessage, what: string): Promise<unknown> {
    const bytes = await readBody(response, JSON_LIMIT);
    const status = response.statusCode ?? 0;
    let value: unknown;
    try {
      value = bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
    } catch {
      value = undefined;
    }
    if (status >= 200 && status < 300) {
      if (value === undefined)
        throw new NetworkError(
          `the server's answer to ${what} is not JSON (HTTP ${status}): is this a Kluis server?`,
        );
      return value;
    }
    throw apiError(status, value, what);
  }

  /** GET /api/v1/info (public). */
  async info(): Promise<ServerInfo> {
    return parseInfo(await this.json('GET', '/api/v1/info', undefined, false));
  }

  async listCases(): Promise<CaseListing[]> {
    return parseListing(await this.json('GET', '/api/v1/counsellor/cases'));
  }

  async getCase(caseNumber: string): Promise<CaseDetail> {
    return parseCase(await this.json('GET', `/api/v1/counsellor/cases/${caseNumber}`), caseNumber);
  }

  /** One page of whole cases (GET /api/v1/counsellor/case-details), in case-number order. */
  async caseDetails(after: string | undefined, limit: number): Promise<CaseDetailsPage> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CASE_DETAILS)
      throw new RangeError(`limit must be 1 to ${MAX_CASE_DETAILS}`);
    if (after !== undefined && !CASE.test(after)) throw new RangeError('after must be a case number');
    const query = `${after === undefined ? '' : `after=${after}&`}limit=${limit}`;
    return parseCaseDetails(
      await this.json('GET', `/api/v1/counsellor/case-details?${query}`),
      after,
      limit,
    );
  }

  async postMessage(
    caseNumber: string,
    body: PostMessageBody,
  ): Promise<{ seq: number; hour: number }> {
    const what = `POST /api/v1/cases/${caseNumber}/messages`;
    return written(await this.json('POST', `/api/v1/cases/${caseNumber}/messages`, body), what);
  }

  async postNote(caseNumber: string, envelope: Envelope): Promise<{ seq: number; hour: number }> {
    const what = `POST /api/v1/counsellor/cases/${caseNumber}/notes`;
    return written(
      await this.json('POST', `/api/v1/counsellor/cases/${caseNumber}/notes`, { envelope }),
      what,
    );
  }

  async forward(
    caseNumber: string,
    to: string,
    keys: readonly { seq: number; key: WrappedKey }[],
  ): Promise<readonly string[]> {
    const s = new Shape(`POST /api/v1/counsellor/cases/${caseNumber}/forward`);
    const o = s.object(
      await this.json('POST', `/api/v1/counsellor/cases/${caseNumber}/forward`, { to, keys }),
      'body',
    );
    return s
      .array(o.forwardedTo, 'forwardedTo')
      .map((fp) => s.string(fp, 'forwardedTo', FINGERPRINT));
  }

  async deleteCase(caseNumber: string): Promise<void> {
    await this.json('DELETE', `/api/v1/counsellor/cases/${caseNumber}`);
  }

  async createUpload(caseNumber: string, length: number): Promise<{ id: string; offset: number }> {
    const s = new Shape(`POST /api/v1/cases/${caseNumber}/uploads`);
    const o = s.object(
      await this.json('POST', `/api/v1/cases/${caseNumber}/uploads`, { length }),
      'body',
    );
    return { id: s.string(o.id, 'id', BLOB), offset: s.count(o.offset, 'offset') };
  }

  async getUpload(caseNumber: string, id: string): Promise<UploadView> {
    const s = new Shape(`GET /api/v1/cases/${caseNumber}/uploads/${id}`);
    return parseUpload(
      s,
      await this.json('GET', `/api/v1/cases/${caseNumber}/uploads/${id}`),
      'body',
    );
  }

  /** PATCH one slice of an upload. A 409 offset-mismatch carries the server's offset in ServerRefusedError.body. */
  async appendUpload(
    caseNumber: string,
    id: string,
    offset: number,
    bytes: Uint8Array,
  ): Promise<{ offset: number; complete: boolean }> {
    const apiPath = `/api/v1/cases/${caseNumber}/uploads/${id}`;
    const response = await this.send('PATCH', apiPath, {
      body: bytes,
      contentType: 'application/octet-stream',
      headers: { 'upload-offset': String(offset) },
    });
    const s = new Shape(`PATCH ${apiPath}`);
    const o = s.object(await this.#read(response, `PATCH ${apiPath}`), 'body');
    return { offset: s.count(o.offset, 'offset'), complete: s.boolean(o.complete, 'complete') };
  }

  /** GET a blob's ciphertext as a stream. */
  async blob(caseNumber: string, id: string): Promise<IncomingMessage> {
    const apiPath = `/api/v1/cases/${caseNumber}/blobs/${id}`;
    const response = await this.send('GET', apiPath, {
      headers: { accept: 'application/octet-stream' },
    });
    if (response.statusCode !== 200) await this.#read(response, `GET ${apiPath}`); // throws the API error
    return response;
  }

  /** GET any path of the server without signing (verify-page). */
  async getPublic(url: URL): Promise<IncomingMessage> {
    if (url.origin !== this.base.origin)
      throw new NetworkError(`refusing to fetch ${url.origin}: not the server's origin`);
    return this.#transport.request(url, { method: 'GET', headers: { accept: '*/*' } });
  }
}

/** Builds the error for a non-2xx answer. */
export function apiError(status: number, value: unknown, what: string): Error {
  const error =
    typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : undefined;
  const code =
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : `http-${status}`;
  const message =
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
      ? (error as { message: string }).message
      : `HTTP ${status}`;
  const safeCode = code.replace(/[^a-z0-9-]/gi, '?').slice(0, 64);
  const safeMessage = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
  if (status >= 400 && status < 500)
    return new ServerRefusedError(status, safeCode, `${what}: ${safeCode}: ${safeMessage}`, value);
  return new NetworkError(
    `${what}: the server failed (HTTP ${status} ${safeCode}: ${safeMessage})`,
  );
}
