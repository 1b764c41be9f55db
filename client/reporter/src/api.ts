/**
 * The HTTP API of docs/API.md, as the reporter page uses it. Every request
 * goes to this page's own origin (relative URLs under `api/v1/`), without
 * cookies or referrer. The server is not trusted with anything secret, but
 * its answers are checked for the shape the page relies on.
 * @module
 */

import {
  type ApiErrorCode,
  type CaseAnswer,
  type CaseCreatedAnswer,
  ContractError,
  errorCodeOf,
  type InfoAnswer,
  parseCase,
  parseCaseCreated,
  parseInfo,
  parseTicket,
  parseUpload,
  parseUploadAppended,
  parseUploadCreated,
  type TicketAnswer,
} from '../../../api/contract.js';
import { isBlobId, toBase64 } from '../../../crypto/index.js';

/** The server could not be reached (offline, a broken Tor circuit, a dropped connection). */
export class NetworkError extends Error {
  constructor() {
    super('network error');
    this.name = 'NetworkError';
  }
}

/**
 * What an ApiError is told apart by: the API's code (api/contract.ts),
 * `http-<status>` for an answer without a known one, or `bad-response:<field>`
 * for an answer that is not the API's.
 */
export type PageErrorCode = ApiErrorCode | `http-${number}` | `bad-response:${string}`;

/** The server answered with an error (`code` from docs/API.md), or with something the page cannot use. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: PageErrorCode;
  readonly body: Record<string, unknown>;
  constructor(status: number, code: PageErrorCode, body: Record<string, unknown> = {}) {
    super(`server error ${status} ${code}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** GET /api/v1/info. */
export type Info = InfoAnswer;
/** POST /api/v1/tickets. */
export type Ticket = TicketAnswer;
/** GET /api/v1/cases/:case. */
export type CaseView = CaseAnswer;
export type { StoredMessage } from '../../../api/contract.js';

/** A ticket and the proof-of-work nonces found for it; sent in the Kluis-Ticket and Kluis-Work headers. */
export interface Work {
  readonly ticket: string;
  readonly nonces: readonly number[];
}

function workHeaders(work: Work | undefined): Record<string, string> {
  return work ? { 'Kluis-Ticket': work.ticket, 'Kluis-Work': work.nonces.join(',') } : {};
}

/** An upload's state on the server, as the page tracks it. */
export interface UploadState {
  readonly id: string;
  readonly offset: number;
  readonly complete: boolean;
}

const BASE = 'api/v1/';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an answer through the contract; one that is not the API's is an ApiError `bad-response:<field>`. */
function read<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ContractError) throw new ApiError(0, `bad-response:${error.field}`);
    throw error;
  }
}

interface RequestOptions {
  readonly json?: unknown;
  readonly bytes?: Uint8Array;
  readonly authKey?: Uint8Array;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.bytes !== undefined) {
    headers['Content-Type'] = 'application/octet-stream';
    body = options.bytes as Uint8Array<ArrayBuffer>;
  }
  if (options.authKey) headers['Kluis-Auth'] = toBase64(options.authKey);
  let response: Response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      redirect: 'error',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new NetworkError();
  }
  if (!response.ok) {
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      parsed = undefined;
    }
    const code =
      errorCodeOf(parsed) ??
      (response.status >= 500 ? 'internal' : (`http-${response.status}` as const));
    throw new ApiError(response.status, code, isRecord(parsed) ? parsed : {});
  }
  return response;
}

async function json(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
  const response = await send(method, path, options);
  let value: unknown;
  try {
    value = await response.json();
  } catch {
    // A connection cut while the body arrives looks the same as a broken body.
    throw new NetworkError();
  }
  return value;
}

/** GET /api/v1/info. */
export async function getInfo(): Promise<Info> {
  const value = await json('GET', 'info');
  return read(() => parseInfo(value));
}

/** POST /api/v1/tickets. */
export async function getTicket(
  request: { kind: 'case' } | { kind: 'message' | 'upload'; case: string },
): Promise<Ticket> {
  const value = await json('POST', 'tickets', { json: request });
  return read(() => parseTicket(value));
}

/**
 * POST /api/v1/cases, paid for by a case ticket: with the report (message 0)
 * when it has no attachments, else announcing its uploads (their ids come back).
 */
export async function createCase(
  body: { verifier: string; report?: unknown; uploads?: readonly number[] },
  work: Work,
): Promise<CaseCreatedAnswer> {
  const value = await json('POST', 'cases', { json: body, headers: workHeaders(work) });
  const created = read(() => parseCaseCreated(value));
  if (created.uploads !== undefined && created.uploads.length !== (body.uploads?.length ?? 0))
    throw new ApiError(0, 'bad-response:uploads');
  return created;
}

/** GET /api/v1/cases/:case with the reporter's key. */
export async function getCase(caseNumber: string, authKey: Uint8Array): Promise<CaseView> {
  const value = await json('GET', `cases/${caseNumber}`, { authKey });
  return read(() => parseCase(value, caseNumber));
}

/** POST /api/v1/cases/:case/messages; every message after the report is paid for by a message ticket. */
export async function postMessage(
  caseNumber: string,
  authKey: Uint8Array,
  body: { seq: number; envelope: unknown },
  work?: Work,
): Promise<void> {
  await json('POST', `cases/${caseNumber}/messages`, {
    json: body,
    authKey,
    headers: workHeaders(work),
  });
}

/** POST /api/v1/cases/:case/uploads, paid for by an upload ticket (one solution per `uploadBytesPerSolution`). */
export async function createUpload(
  caseNumber: string,
  authKey: Uint8Array,
  length: number,
  work: Work,
): Promise<UploadState> {
  const value = await json('POST', `cases/${caseNumber}/uploads`, {
    json: { length },
    authKey,
    headers: workHeaders(work),
  });
  return { ...read(() => parseUploadCreated(value)), complete: false };
}

/** PATCH /api/v1/cases/:case/uploads/:id. */
export async function appendUpload(
  caseNumber: string,
  authKey: Uint8Array,
  id: string,
  offset: number,
  bytes: Uint8Array,
): Promise<UploadState> {
  const value = await json('PATCH', `cases/${caseNumber}/uploads/${id}`, {
    bytes,
    authKey,
    headers: { 'Upload-Offset': String(offset) },
  });
  return { id, ...read(() => parseUploadAppended(value)) };
}

/** GET /api/v1/cases/:case/uploads/:id. */
export async function getUpload(
  caseNumber: string,
  authKey: Uint8Array,
  id: string,
): Promise<UploadState> {
  const value = await json('GET', `cases/${caseNumber}/uploads/${id}`, { authKey });
  const upload = read(() => parseUpload(value));
  return { id, offset: upload.offset, complete: upload.complete };
}

/** GET /api/v1/cases/:case/blobs/:id: the response, to be read as a stream. */
export async function getBlob(
  caseNumber: string,
  authKey: Uint8Array,
  id: string,
): Promise<Response> {
  if (!isBlobId(id)) throw new ApiError(0, 'bad-response:id');
  return send('GET', `cases/${caseNumber}/blobs/${id}`, {
    authKey,
    headers: { Accept: 'application/octet-stream' },
  });
}
