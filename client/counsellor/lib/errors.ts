/**
 * Failures of the counsellor client, each with the process exit code the
 * CLI uses for it. A later local web app maps the same classes to its own
 * messages; nothing here prints or exits.
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

/** Base class: a failure the user can act on, with its exit code. */
export class CounsellorError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

export class UsageError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.usage, message);
  }
}

export class KeyFileError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.key, message);
  }
}

export class NetworkError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.network, message);
  }
}

/** The server answered with an API error. */
export class ServerRefusedError extends CounsellorError {
  readonly status: number;
  /** The API's code (api/contract.ts); `http-<status>` for an answer without a known one; `key-not-configured` is this client's own. */
  readonly code: RefusalCode;
  /** The whole error body, e.g. `expected` on a seq-conflict. */
  readonly body: unknown;
  constructor(status: number, code: RefusalCode, message: string, body: unknown) {
    super(EXIT.refused, message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** What a refusal is told apart by. */
export type RefusalCode = ApiErrorCode | `http-${number}` | 'key-not-configured';

/** Something in a case does not verify; `problems` lists every one, in order. */
export class IntegrityError extends CounsellorError {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(EXIT.integrity, message);
    this.problems = problems;
  }
}

export class PolicyError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.policy, message);
  }
}

export class PageMismatchError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.pageMismatch, message);
  }
}

export class LocalFileError extends CounsellorError {
  constructor(message: string) {
    super(EXIT.localFile, message);
  }
}
