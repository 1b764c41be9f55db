/**
 * Typed failures of the Kluis protocol. Callers tell them apart by class
 * (`instanceof`) or by the stable `code`, never by message text.
 * @module
 */

/** Stable, machine-readable names of every protocol failure. */
export type KluisErrorCode =
  | 'malformed'
  | 'auth-failure'
  | 'wrong-key'
  | 'bad-signature'
  | 'out-of-order'
  | 'misplaced'
  | 'expired'
  | 'insufficient-work';

/** Base class of every error raised by `crypto/`. */
export abstract class KluisError extends Error {
  /** Stable name of the failure kind, used in test vectors and APIs. */
  abstract readonly code: KluisErrorCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input does not have the shape the protocol requires (length, encoding, version, padding). */
export class MalformedError extends KluisError {
  readonly code = 'malformed';
}

/** Why a receipt code was refused: checked before any request is made. */
export type ReceiptCodeProblem = 'length' | 'character' | 'checksum';

/** A receipt code that cannot be right: wrong length, a character outside the alphabet, or a typo caught by its check group. */
export class InvalidReceiptCodeError extends MalformedError {
  /** Which check failed, so a page can say it in the reporter's language. */
  readonly problem: ReceiptCodeProblem;
  constructor(problem: ReceiptCodeProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

/** Authenticated decryption failed: the ciphertext, key or passphrase is wrong, or the data was altered or truncated. */
export class AuthenticationError extends KluisError {
  readonly code = 'auth-failure';
}

/** The data is not addressed to the key that tried to open it. */
export class WrongKeyError extends KluisError {
  readonly code = 'wrong-key';
}

/** A signature does not verify, or was made by a key that may not sign this. */
export class BadSignatureError extends KluisError {
  readonly code = 'bad-signature';
}

/** A message does not follow its predecessor: a gap, a reorder, a replay or a fork. */
export class OutOfOrderError extends KluisError {
  readonly code = 'out-of-order';
}

/** Why a message that opened may not stand where it is (PROTOCOL §7, "written by"). */
export type MisplacedReason =
  | 'first-not-report'
  | 'second-report'
  | 'note-in-conversation'
  | 'counsellor-only'
  | 'reporter-only'
  | 'not-a-note';

/** A well-signed message whose content may not stand where it is: a second report, a note in the conversation, a status by the reporter. */
export class MisplacedError extends KluisError {
  readonly code = 'misplaced';
  /** Which rule it breaks, so a client can say it in its own words. */
  readonly reason: MisplacedReason;
  constructor(reason: MisplacedReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A signed request's time lies outside the accepted window. */
export class ExpiredError extends KluisError {
  readonly code = 'expired';
}

/** A proof of work does not meet the required difficulty. */
export class InsufficientWorkError extends KluisError {
  readonly code = 'insufficient-work';
}
