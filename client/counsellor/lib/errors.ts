/**
 * Failures of the counsellor client, each with the process exit code the
 * CLI uses for it and a stable code. The message is English, for the CLI
 * and the terminal; the local app shows its own words for the code, from
 * its catalogues (app/ui/texts-nl.ts, texts-en.ts `failures`), with the
 * message as the technical detail. Nothing here prints or exits.
 * @module
 */

import type { ApiErrorCode } from '../../../api/contract.js';

/** Exit codes of `kluis-counsellor`, documented in its `--help`. */
export const EXIT = {
  ok: 0,
  /** An unexpected error: a bug (please report it). */
  failure: 1,
  /** Wrong command-line use: unknown command or option, missing or bad argument. */
  usage: 2,
  /** The key file: missing, unreadable, not a key file, wrong passphrase. */
  key: 3,
  /** The server could not be reached, or answered something that is not the Kluis API. */
  network: 4,
  /** The server refused the request (4xx): not authorised, not found, conflict, too large. */
  refused: 5,
  /** Integrity: a message failed its signature or chain checks, or the server rolled a case back. */
  integrity: 6,
  /** Refused by policy: no consent to forward, already acknowledged, not allowed for this role. */
  policy: 7,
  /** verify-page: the live page differs from the local build. */
  pageMismatch: 8,
  /** A local file problem: exists already, unsafe path, cannot write. */
  localFile: 9,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Stable codes of the failures the app tells apart, in its own words. A failure without one of
 * these has its class's code (`usage`, `key-file`, `network`, `integrity`, `policy`,
 * `page-mismatch`, `local-file`), or for a refusal by the server the API's code (api/contract.ts).
 */
export const FAILURE_CODES = [
  'failure',
  'usage',
  'key-file',
  'network',
  'integrity',
  'policy',
  'page-mismatch',
  'local-file',
  'wrong-passphrase',
  'server-unreachable',
  'server-answer',
  'case-kept-changing',
  'case-not-verified',
  'notes-not-verified',
  'no-readable-report',
  'already-acknowledged',
  'escalation-cannot-write',
  'not-an-escalation-recipient',
  'already-forwarded',
  'consent-ask',
  'consent-no',
  'consent-unknown',
  'text-too-long',
  'text-empty',
  'untrusted-keys',
  'bad-server-bundle',
  'attachment-not-verified',
  'attachment-unreadable',
  'confirm-case-number',
  'state-file',
  'assign-unknown',
] as const;

export type FailureCode = (typeof FAILURE_CODES)[number];

const CODE_OF_EXIT: Record<ExitCode, string> = {
  0: 'failure',
  1: 'failure',
  2: 'usage',
  3: 'key-file',
  4: 'network',
  5: 'refused',
  6: 'integrity',
  7: 'policy',
  8: 'page-mismatch',
  9: 'local-file',
};

/** Base class: a failure the user can act on, with its exit code and stable code. */
export class CounsellorError extends Error {
  readonly exitCode: ExitCode;
  /** A {@link FailureCode}, or for {@link ServerRefusedError} a {@link RefusalCode}. */
  readonly code: string;
  constructor(exitCode: ExitCode, message: string, code: string = CODE_OF_EXIT[exitCode]) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.code = code;
  }
}

export class UsageError extends CounsellorError {
  constructor(message: string, code: FailureCode = 'usage') {
    super(EXIT.usage, message, code);
  }
}

export class KeyFileError extends CounsellorError {
  constructor(message: string, code: FailureCode = 'key-file') {
    super(EXIT.key, message, code);
  }
}

export class NetworkError extends CounsellorError {
  constructor(message: string, code: FailureCode = 'network') {
    super(EXIT.network, message, code);
  }
}

/** The server answered with an API error. */
export class ServerRefusedError extends CounsellorError {
  readonly status: number;
  /** The API's code (api/contract.ts); `http-<status>` for an answer without a known one; `key-not-configured` is this client's own. */
  declare readonly code: RefusalCode;
  /** The whole error body, e.g. `expected` on a seq-conflict. */
  readonly body: unknown;
  constructor(status: number, code: RefusalCode, message: string, body: unknown) {
    super(EXIT.refused, message, code);
    this.status = status;
    this.body = body;
  }
}

/** What a refusal is told apart by. */
export type RefusalCode = ApiErrorCode | `http-${number}` | 'key-not-configured';

/** Something in a case does not verify; `problems` lists every one, in order. */
export class IntegrityError extends CounsellorError {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = [], code: FailureCode = 'integrity') {
    super(EXIT.integrity, message, code);
    this.problems = problems;
  }
}

export class PolicyError extends CounsellorError {
  constructor(message: string, code: FailureCode = 'policy') {
    super(EXIT.policy, message, code);
  }
}

export class PageMismatchError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.pageMismatch, message, 'page-mismatch');
  }
}

export class LocalFileError extends CounsellorError {
  constructor(message: string, code: FailureCode = 'local-file') {
    super(EXIT.localFile, message, code);
  }
}
