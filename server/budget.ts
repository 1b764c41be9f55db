/**
 * The memory budget for request bodies: the bytes of every body being read
 * or handled, across all requests, may not pass a limit. A request whose
 * declared size would pass it is refused before a byte is read, and one
 * that passes it while streaming is cut off; both get `503 busy`. So a
 * flood of slow or stalled uploads holds at most the budget in memory, not
 * one body limit per connection.
 */

import { ServerBusyError } from './errors.js';

/** Bytes counted against a budget for one request; given back when the request ends. */
export class BodyLease {
  readonly #budget: BodyBudget;
  #held = 0;
  /** True once the whole body was read (the connection can then be kept open after an error). */
  complete = false;

  constructor(budget: BodyBudget) {
    this.#budget = budget;
  }

  /** Refuses, before reading, a body of `bytes` that the budget has no room for now. */
  admit(bytes: number): void {
    if (!this.#budget.fits(bytes))
      throw new ServerBusyError('the server is busy: try again in a moment');
  }

  /** Counts `bytes` just read; refuses (without counting) when they do not fit. */
  take(bytes: number): void {
    if (!this.#budget.fits(bytes))
      throw new ServerBusyError('the server is busy: try again in a moment');
    this.#budget.held += bytes;
    this.#held += bytes;
  }

  /** Gives every byte back; safe to call more than once. */
  release(): void {
    this.#budget.held -= this.#held;
    this.#held = 0;
  }
}

/** The server-wide budget. */
export class BodyBudget {
  readonly limit: number;
  /** Bytes counted now, across all requests. */
  held = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  fits(bytes: number): boolean {
    return this.held + bytes <= this.limit;
  }

  lease(): BodyLease {
    return new BodyLease(this);
  }
}

const leases = new WeakMap<Request, BodyLease>();

/** Ties a lease to a request, so readBody counts that request's bytes against it. */
export function attachLease(request: Request, lease: BodyLease): void {
  leases.set(request, lease);
}

/** The lease of a request, if the app gave it one. */
export function leaseOf(request: Request): BodyLease | undefined {
  return leases.get(request);
}
