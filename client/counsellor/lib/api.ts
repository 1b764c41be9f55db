/**
 * The counsellor API (docs/API.md) as a class: every counsellor route signed
 * (PROTOCOL §10) over the method, the path with query and the exact body
 * bytes. Answers are checked for shape before use; envelopes inside them
 * are checked by crypto/ when they are opened.
 * @module
 */

import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  type CaseDetailAnswer,
  type CaseDetailsAnswer,
  type CaseListingAnswer,
  ContractError,
  errorCodeOf,
  type InfoAnswer,
  MAX_CASE_DETAILS,
  parseCaseDetail,
  parseCaseDetails,
  parseDeleted,
  parseForward,
  parseHandover,
  parseInfo,
  parseListing,
  parseUpload,
  parseUploadAppended,
  parseUploadCreated,
  parseWritten,
  type UploadAnswer,
  type WrittenAnswer,
} from '../../../api/contract.js';
import {
  type CaseStatus,
  type Envelope,
  isCaseNumber,
  type WrappedKey,
} from '../../../crypto/index.js';
import { NetworkError, ServerRefusedError } from './errors.js';
import { createNodeTransport, readBody, type Transport } from './http.js';
import type { RequestSigner } from './native.js';

export type {
  CaseDetailAnswer as CaseDetail,
  CaseDetailsAnswer as CaseDetailsPage,
  CaseListingAnswer as CaseListing,
  InfoAnswer as ServerInfo,
  StoredMessage as StoredMessageView,
  StoredNote as NoteView,
  UploadAnswer as UploadView,
} from '../../../api/contract.js';
export { MAX_CASE_DETAILS } from '../../../api/contract.js';

/** POST /api/v1/cases/:case/messages, as a counsellor. */
export interface PostMessageBody {
  readonly seq: number;
  readonly envelope: Envelope;
  readonly status?: CaseStatus;
  readonly ack?: true;
}

/** Reads an answer through the contract; an answer that is not the API's is a NetworkError (exit 4). */
function read<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ContractError) throw new NetworkError(error.message, 'server-answer');
    throw error;
  }
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
  return Number.isSafeInteger(o.notBefore) && (o.notBefore as number) > 0
    ? (o.notBefore as number)
    : undefined;
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
    if (options.signed === false)
      return this.#transport.request(url, { method, headers, ...(options.body ? { body } : {}) });
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
          'server-answer',
        );
      return value;
    }
    throw apiError(status, value, what);
  }

  /** GET /api/v1/info (public). */
  async info(): Promise<InfoAnswer> {
    const value = await this.json('GET', '/api/v1/info', undefined, false);
    return read(() => parseInfo(value));
  }

  async listCases(): Promise<CaseListingAnswer[]> {
    const value = await this.json('GET', '/api/v1/counsellor/cases');
    return read(() => parseListing(value));
  }

  async getCase(caseNumber: string): Promise<CaseDetailAnswer> {
    const value = await this.json('GET', `/api/v1/counsellor/cases/${caseNumber}`);
    return read(() => parseCaseDetail(value, caseNumber));
  }

  /** One page of whole cases (GET /api/v1/counsellor/case-details), in case-number order. */
  async caseDetails(after: string | undefined, limit: number): Promise<CaseDetailsAnswer> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CASE_DETAILS)
      throw new RangeError(`limit must be 1 to ${MAX_CASE_DETAILS}`);
    if (after !== undefined && !isCaseNumber(after))
      throw new RangeError('after must be a case number');
    const query = `${after === undefined ? '' : `after=${after}&`}limit=${limit}`;
    const value = await this.json('GET', `/api/v1/counsellor/case-details?${query}`);
    return read(() => parseCaseDetails(value, after, limit));
  }

  async postMessage(caseNumber: string, body: PostMessageBody): Promise<WrittenAnswer> {
    const value = await this.json('POST', `/api/v1/cases/${caseNumber}/messages`, body);
    return read(() => parseWritten(value, `POST /api/v1/cases/${caseNumber}/messages`));
  }

  async postNote(caseNumber: string, envelope: Envelope): Promise<WrittenAnswer> {
    const value = await this.json('POST', `/api/v1/counsellor/cases/${caseNumber}/notes`, {
      envelope,
    });
    return read(() => parseWritten(value, `POST /api/v1/counsellor/cases/${caseNumber}/notes`));
  }

  async forward(
    caseNumber: string,
    to: string,
    keys: readonly { seq: number; key: WrappedKey }[],
  ): Promise<readonly string[]> {
    const value = await this.json('POST', `/api/v1/counsellor/cases/${caseNumber}/forward`, {
      to,
      keys,
    });
    return read(() => parseForward(value)).forwardedTo;
  }

  /** Adds keys for a counsellor a case is handed to: one per message and note it cannot read yet. */
  async handover(
    caseNumber: string,
    to: string,
    keys: readonly { seq: number; key: WrappedKey }[],
    noteKeys: readonly { seq: number; key: WrappedKey }[],
  ): Promise<{ keys: number; noteKeys: number }> {
    const value = await this.json('POST', `/api/v1/counsellor/cases/${caseNumber}/handover`, {
      to,
      keys,
      noteKeys,
    });
    return read(() => parseHandover(value));
  }

  async deleteCase(caseNumber: string): Promise<void> {
    const value = await this.json('DELETE', `/api/v1/counsellor/cases/${caseNumber}`);
    read(() => parseDeleted(value));
  }

  async createUpload(caseNumber: string, length: number): Promise<{ id: string; offset: number }> {
    const value = await this.json('POST', `/api/v1/cases/${caseNumber}/uploads`, { length });
    return read(() => parseUploadCreated(value));
  }

  async getUpload(caseNumber: string, id: string): Promise<UploadAnswer> {
    const value = await this.json('GET', `/api/v1/cases/${caseNumber}/uploads/${id}`);
    return read(() => parseUpload(value));
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
    const value = await this.#read(response, `PATCH ${apiPath}`);
    return read(() => parseUploadAppended(value));
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

/** Builds the error for a non-2xx answer: told apart by the contract's code, never by its message. */
export function apiError(status: number, value: unknown, what: string): Error {
  const code = errorCodeOf(value) ?? (`http-${status}` as const);
  const error =
    typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : undefined;
  const message =
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
      ? (error as { message: string }).message
      : `HTTP ${status}`;
  const safeMessage = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
  if (status >= 400 && status < 500)
    return new ServerRefusedError(status, code, `${what}: ${code}: ${safeMessage}`, value);
  return new NetworkError(`${what}: the server failed (HTTP ${status} ${code}: ${safeMessage})`);
}
