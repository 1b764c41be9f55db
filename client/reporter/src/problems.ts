/**
 * Everything that can go wrong, as data: a screen keeps a `Problem` and
 * renders it in the language chosen *now*, so switching language after an
 * error translates the error too.
 * @module
 */

import { KluisError } from '../../../crypto/index.js';
import { ApiError, NetworkError } from './api.js';
import type { Dict } from './i18n.js';
import { isTicketErrorCode } from '../../../api/contract.js';

/** Sealing (encoding or encrypting) failed before anything was sent. */
export class SealError extends Error {
  readonly tooLong: boolean;
  constructor(tooLong: boolean, cause?: unknown) {
    super('sealing failed', { cause });
    this.name = 'SealError';
    this.tooLong = tooLong;
  }
}

/** A chosen file could not be read (moved, changed or removed since it was chosen). */
export class FileReadError extends Error {
  readonly fileName: string;
  constructor(fileName: string) {
    super('file could not be read');
    this.name = 'FileReadError';
    this.fileName = fileName;
  }
}

/**
 * A chosen file changed after part of it was encrypted: sending the changed part under the
 * same key and nonces would reuse keystream. Shown as a file that could not be read.
 */
export class FileChangedError extends FileReadError {
  constructor(fileName: string) {
    super(fileName);
    this.name = 'FileChangedError';
  }
}

/** The proof of work failed (a bug or an impossible ticket). */
export class WorkError extends Error {
  constructor(cause?: unknown) {
    super('proof of work failed', { cause });
    this.name = 'WorkError';
  }
}

/** A failure, kept as data until it is shown. */
export type Problem =
  | { readonly kind: 'network' }
  | { readonly kind: 'server'; readonly status: number; readonly code: string }
  | { readonly kind: 'work' }
  | { readonly kind: 'seal'; readonly tooLong: boolean }
  | { readonly kind: 'file'; readonly name: string }
  | { readonly kind: 'bug'; readonly code: string };

/** Classifies any thrown value. */
export function toProblem(error: unknown): Problem {
  if (error instanceof NetworkError) return { kind: 'network' };
  if (error instanceof ApiError) return { kind: 'server', status: error.status, code: error.code };
  if (error instanceof SealError) return { kind: 'seal', tooLong: error.tooLong };
  if (error instanceof FileReadError) return { kind: 'file', name: error.fileName };
  if (error instanceof WorkError) return { kind: 'work' };
  if (error instanceof KluisError) return { kind: 'bug', code: error.code };
  return { kind: 'bug', code: error instanceof Error ? error.name : 'unknown' };
}

/** The words for a problem, and the technical code to quote to a counsellor, if any. */
export function describeProblem(t: Dict, problem: Problem): { text: string; code?: string } {
  switch (problem.kind) {
    case 'network':
      return { text: t.errNetwork };
    case 'work':
      return { text: t.errWork };
    case 'seal':
      return { text: problem.tooLong ? t.errSealTooLong : t.errSeal };
    case 'file':
      return { text: t.errFile(problem.name) };
    case 'bug':
      return { text: t.errBug, code: problem.code };
    case 'server': {
      const code = problem.code;
      if (isTicketErrorCode(code)) return { text: t.errWork, code };
      if (code === 'too-large') return { text: t.errTooLarge, code };
      if (code === 'store-full') return { text: t.errStoreFull, code };
      if (code === 'busy') return { text: t.errBusy, code };
      if (code === 'unauthorized') return { text: t.errUnauthorized, code };
      if (code === 'too-many-attempts') return { text: t.codeTooManyAttempts, code };
      if (code.startsWith('bad-response')) return { text: t.errResponse, code };
      if (problem.status >= 500 || code === 'internal') return { text: t.errServer, code };
      return { text: t.errRefused, code };
    }
  }
}

/**
 * True for failures worth retrying by themselves: a lost connection or a
 * passing server fault (a busy server included). A full store is not
 * passing: it stays full until a counsellor deletes, so the reporter is told.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError && error.code === 'store-full') return false;
  return (
    error instanceof ApiError &&
    (error.status === 502 || error.status === 503 || error.status === 504)
  );
}
