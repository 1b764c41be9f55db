/**
 * The HTTP contract of Kluis (docs/API.md) in one place: the routes, the
 * error codes with their statuses, and every answer's type; read.ts is the
 * one shape checker that reads answers. The server's answers are typed with
 * it, the reporter page and the counsellor client read answers only
 * through it, and a test checks docs/API.md against it
 * (tests/api.contract.test.ts).
 *
 * Answers: clients accept exactly the documented fields' types and ignore
 * fields they do not know, so a later server may add one; the server's
 * answers have exactly the documented fields (the contract test checks it).
 * Envelopes and bundles inside answers stay `unknown` here: crypto/ checks
 * them when they are opened or verified. Pure (no I/O), for the browser too.
 * @module
 */

import type { CaseStatus } from '../crypto/index.js';

/** Where every route lives. */
export const API_PREFIX = '/api/v1';

/** Every error code the server answers with, and its HTTP status. */
export const ERROR_STATUS = {
  'malformed-json': 400,
  'invalid-body': 400,
  'invalid-case-number': 400,
  'invalid-id': 400,
  'invalid-ticket': 400,
  'ticket-expired': 400,
  'ticket-spent': 400,
  'insufficient-work': 400,
  'invalid-length': 400,
  unauthorized: 401,
  'expired-signature': 401,
  'replayed-signature': 401,
  'signature-before-start': 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'case-exists': 409,
  'seq-conflict': 409,
  'forward-conflict': 409,
  'offset-mismatch': 409,
  'too-large': 413,
  'unsupported-media-type': 415,
  'too-many-attempts': 429,
  internal: 500,
  'store-full': 503,
  busy: 503,
} as const;

/** A stable error code of the API. */
export type ApiErrorCode = keyof typeof ERROR_STATUS;

/** True iff `code` is one of the API's error codes. */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);
}

/** The codes that say a ticket or its proof of work is not good (anymore): get a new ticket, or pay more. */
export const TICKET_ERROR_CODES: readonly ApiErrorCode[] = [
  'invalid-ticket',
  'ticket-expired',
  'ticket-spent',
  'insufficient-work',
];

/** True iff `code` is one of {@link TICKET_ERROR_CODES}. */
export function isTicketErrorCode(code: string): boolean {
  return (TICKET_ERROR_CODES as readonly string[]).includes(code);
}

/** Every route, as docs/API.md names it (method and path pattern under {@link API_PREFIX}). */
export const ROUTES = [
  'GET /health',
  'GET /info',
  'POST /tickets',
  'POST /cases',
  'GET /cases/:case',
  'POST /cases/:case/messages',
  'POST /cases/:case/uploads',
  'PATCH /cases/:case/uploads/:id',
  'GET /cases/:case/uploads/:id',
  'GET /cases/:case/blobs/:id',
  'GET /counsellor/cases',
  'GET /counsellor/cases/:case',
  'GET /counsellor/case-details',
  'POST /counsellor/cases/:case/notes',
  'POST /counsellor/cases/:case/forward',
  'POST /counsellor/cases/:case/handover',
  'DELETE /counsellor/cases/:case',
] as const;

/** Who wrote a stored message, as the server recorded it (the signature inside says it for sure). */
export type StoredAuthor = 'reporter' | 'counsellor';

/** `GET /health`. */
export interface HealthAnswer {
  readonly status: 'ok';
  readonly version: string;
}

/** `GET /info`. Bundles are unverified here. */
export interface InfoAnswer {
  readonly demo: boolean;
  readonly powBits: number;
  readonly maxFileBytes: number;
  readonly maxCaseBytes: number;
  /** Ciphertext bytes one proof-of-work solution pays for when an upload is announced. */
  readonly uploadBytesPerSolution: number;
  /**
   * Days a closed case is kept after it was closed (KLUIS_RETENTION_DAYS): the server deletes it
   * in the first hour at or after `statusHour + 24 × retentionDays`.
   */
  readonly retentionDays: number;
  readonly counsellors: readonly unknown[];
  readonly escalation: readonly unknown[];
}

/** `POST /tickets`. */
export interface TicketAnswer {
  readonly ticket: string;
  readonly bits: number;
  readonly case: string;
  /** Seconds since the epoch. */
  readonly expires: number;
}

/** `POST /cases`. */
export interface CaseCreatedAnswer {
  readonly case: string;
  readonly hour: number;
  /** The uploads announced with the case (`uploads` in the body), in the body's order; absent without them. */
  readonly uploads?: readonly UploadCreatedAnswer[];
}

/** A message or note as stored: where, when (the hour), and the envelope. */
export interface StoredMessage {
  readonly seq: number;
  readonly hour: number;
  readonly author: StoredAuthor;
  /** Checked by crypto/ when opened. */
  readonly envelope: unknown;
}

/** A private note as stored. */
export interface StoredNote {
  readonly seq: number;
  readonly hour: number;
  readonly envelope: unknown;
}

/** An upload's state: `GET …/uploads/:id`, and in a case. */
export interface UploadAnswer {
  readonly id: string;
  readonly length: number;
  readonly offset: number;
  readonly complete: boolean;
  readonly hour: number;
  /** SHA-256 (hex) of the complete ciphertext, once complete. */
  readonly sha256?: string;
}

/** `GET /cases/:case` (the reporter's view). */
export interface CaseAnswer {
  readonly case: string;
  readonly createdHour: number;
  readonly status: CaseStatus;
  readonly statusHour: number;
  readonly messages: readonly StoredMessage[];
  readonly uploads: readonly UploadAnswer[];
}

/** `GET /counsellor/cases/:case`, and each case of a case-details page. */
export interface CaseDetailAnswer extends CaseAnswer {
  readonly notes: readonly StoredNote[];
  readonly forwardedTo: readonly string[];
  /** Hour of the acknowledgement the server recorded, or null. */
  readonly ackHour: number | null;
}

/** One row of `GET /counsellor/cases`. */
export interface CaseListingAnswer {
  readonly case: string;
  readonly createdHour: number;
  readonly reportHour: number;
  readonly status: CaseStatus;
  readonly statusHour: number;
  readonly ackHour: number | null;
  readonly messages: number;
  /** Private notes (0 for an escalation recipient, who gets none). */
  readonly notes: number;
  /** Wrapped keys over the messages (and, for a counsellor, the notes): a forward or handover raises it. */
  readonly keys: number;
  readonly lastHour: number | null;
  readonly lastAuthor: StoredAuthor | null;
  readonly uploads: number;
  readonly bytes: number;
  readonly forwardedTo: readonly string[];
}

/** `GET /counsellor/case-details`. */
export interface CaseDetailsAnswer {
  readonly cases: readonly CaseDetailAnswer[];
  /** The `after` of the following page, or null at the end. */
  readonly next: string | null;
}

/** Most uploads a new case announces with itself (`uploads` in `POST /cases`); more go one by one. */
export const MAX_CASE_UPLOADS = 20;

/** Most cases in one case-details page. */
export const MAX_CASE_DETAILS = 500;

/** A message or note written: `POST …/messages`, `POST …/notes`. */
export interface WrittenAnswer {
  readonly seq: number;
  readonly hour: number;
}

/** `POST …/uploads` (201). */
export interface UploadCreatedAnswer {
  readonly id: string;
  readonly offset: number;
}

/** `PATCH …/uploads/:id`. */
export interface UploadAppendedAnswer {
  readonly offset: number;
  readonly complete: boolean;
}

/** `POST /counsellor/cases/:case/forward`. */
export interface ForwardAnswer {
  readonly forwardedTo: readonly string[];
}

/** `POST /counsellor/cases/:case/handover`: how many keys were added. */
export interface HandoverAnswer {
  readonly keys: number;
  readonly noteKeys: number;
}

/** `DELETE /counsellor/cases/:case`. */
export interface DeletedAnswer {
  readonly deleted: true;
}

/** Every error: `{ error: { code, message } }`, with extra fields for some codes. */
export interface ErrorAnswer {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
  /** `seq-conflict`: the seq to write at. */
  readonly expected?: number;
  /** `offset-mismatch`: the server's offset. */
  readonly offset?: number;
  /** `insufficient-work`: the solutions an upload needs. */
  readonly solutions?: number;
  /** `signature-before-start`: the earliest time to sign with. */
  readonly notBefore?: number;
}

export * from './read.js';
