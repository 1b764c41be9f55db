/**
 * The server's typed HTTP errors: one class per failure kind, each with its
 * stable code; the status comes from the code, in the API contract
 * (api/contract.ts, ERROR_STATUS). The single error handler in app.ts
 * turns them into `{ error: { code, message } }`; anything else is a bug
 * and becomes a bare 500, logged by {@link describeFailure} (never a
 * path, message or stack: they can name a case), unless the client had
 * gone ({@link isClientGone}), which is no error and logs nothing.
 */

import { type ApiErrorCode, ERROR_STATUS } from '../api/contract.js';
import { isSystemError, StoreError, StoreIoError } from './store/index.js';

/** Codes the server answers with on purpose (`internal` is the error handler's own). */
type HttpErrorCode = Exclude<ApiErrorCode, 'internal'>;

/** Base of every error the server answers with on purpose. */
export abstract class HttpError extends Error {
  abstract readonly code: HttpErrorCode;
  /** Extra fields for the error body, e.g. the offset to resume at. */
  readonly details: Readonly<Record<string, number | string>>;
  constructor(message: string, details: Readonly<Record<string, number | string>> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
  /** The HTTP status of this code (api/contract.ts). */
  get status(): (typeof ERROR_STATUS)[HttpErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export class MalformedJsonError extends HttpError {
  readonly code = 'malformed-json';
}
export class InvalidBodyError extends HttpError {
  readonly code = 'invalid-body';
}
export class InvalidCaseNumberError extends HttpError {
  readonly code = 'invalid-case-number';
}
export class InvalidIdError extends HttpError {
  readonly code = 'invalid-id';
}
export class InvalidTicketError extends HttpError {
  readonly code = 'invalid-ticket';
}
export class TicketExpiredError extends HttpError {
  readonly code = 'ticket-expired';
}
export class TicketSpentError extends HttpError {
  readonly code = 'ticket-spent';
}
export class InsufficientWorkError extends HttpError {
  readonly code = 'insufficient-work';
}
export class InvalidLengthError extends HttpError {
  readonly code = 'invalid-length';
}
export class UnauthorizedError extends HttpError {
  readonly code = 'unauthorized';
}
export class ExpiredSignatureError extends HttpError {
  readonly code = 'expired-signature';
}
export class ReplayedSignatureError extends HttpError {
  readonly code = 'replayed-signature';
}
/**
 * A signed request timed before this server process could have seen it: after a start the
 * nonce memory is empty, so requests timed up to a window after the start are refused
 * (docs/API.md, "Signed requests"). `notBefore` in the body is the earliest time the server
 * accepts; the client signs again with it.
 */
export class SignatureBeforeStartError extends HttpError {
  readonly code = 'signature-before-start';
}
export class ForbiddenError extends HttpError {
  readonly code = 'forbidden';
}
export class NotFoundError extends HttpError {
  readonly code = 'not-found';
}
export class MethodNotAllowedError extends HttpError {
  readonly code = 'method-not-allowed';
}
export class CaseExistsError extends HttpError {
  readonly code = 'case-exists';
}
export class SeqConflictError extends HttpError {
  readonly code = 'seq-conflict';
}
/** A forward whose keys no longer match the messages not yet forwarded (one arrived in between): re-read and send again. */
export class ForwardConflictError extends HttpError {
  readonly code = 'forward-conflict';
}
export class OffsetMismatchError extends HttpError {
  readonly code = 'offset-mismatch';
}
export class TooLargeError extends HttpError {
  readonly code = 'too-large';
}
export class UnsupportedMediaTypeError extends HttpError {
  readonly code = 'unsupported-media-type';
}
export class TooManyAttemptsError extends HttpError {
  readonly code = 'too-many-attempts';
}
/** The store is at its byte quota or the disk at its free-space floor: anonymous writes wait until counsellors delete. */
export class StoreFullError extends HttpError {
  readonly code = 'store-full';
}
/** The bodies in flight already fill the server's memory budget: try again in a moment. */
export class ServerBusyError extends HttpError {
  readonly code = 'busy';
}

/**
 * True if the request failed because the client went away mid-request (a broken Tor circuit,
 * a closed tab): Node ends the body with ECONNRESET ("aborted"), a stream cut short says
 * ERR_STREAM_PREMATURE_CLOSE, and the request's signal is aborted once the connection closes.
 * Classified by code and signal, never by message text.
 */
export function isClientGone(error: unknown, request: Request): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || request.signal.aborted;
}

/**
 * One line about an unexpected failure that names no case: a store failure as its code and
 * operation ("ENOSPC writing a record"), another system call failure as its code and call, a
 * StoreError by class, anything else by class and the code location it was thrown at. Never
 * the message (a path, an id, a piece of input) and never the whole stack.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof StoreIoError) return error.message;
  if (error instanceof StoreError) return error.name;
  if (isSystemError(error)) return `${error.code} in ${error.syscall}`;
  if (!(error instanceof Error)) return `a thrown ${typeof error}`;
  // The first frame: where in the code, e.g. "at parseEnvelope (file:///srv/kluis/crypto/envelope.ts:88:11)".
  const frame = (error.stack ?? '').split('\n').find((line) => line.startsWith('    at '));
  return frame ? `${error.name} ${frame.trim()}` : error.name;
}
