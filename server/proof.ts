/**
 * Checking a ticket and its proof of work, the price of an anonymous write.
 * Both travel in headers (`Kluis-Ticket`, `Kluis-Work`), so the price is
 * checked before the server reads, let alone holds, a request body.
 */

import { checkPow, fromBase64, KluisError } from '../crypto/index.js';
import type { Deps } from './deps.js';
import { InsufficientWorkError, InvalidTicketError } from './errors.js';
import { openTicket, type Ticket, type TicketKind } from './tickets.js';

/**
 * Ciphertext bytes one proof-of-work solution pays for when an upload is
 * announced: an honest 10 MB attachment costs one solution, about a second
 * at Tor Browser's Safer level (docs/API.md, "Uploads").
 */
export const UPLOAD_BYTES_PER_SOLUTION = 16 * 1024 * 1024;
/** Most solutions one request may carry (4 GiB of uploads at 16 MiB each). */
export const MAX_SOLUTIONS = 256;

const WORK = new RegExp(`^(0|[1-9]\\d{0,15})(,(0|[1-9]\\d{0,15})){0,${MAX_SOLUTIONS - 1}}$`);

/** Solutions an upload of `length` ciphertext bytes needs. */
export function solutionsFor(length: number): number {
  return Math.max(1, Math.ceil(length / UPLOAD_BYTES_PER_SOLUTION));
}

/**
 * A checked ticket, spent (durably, spent-tickets.ts) before the body is
 * read, so one ticket cannot open many requests at once nor be used again
 * after a restart. `refund` gives it back in memory when the write fails
 * (bad input changes nothing); after a restart it stays spent.
 */
export interface Proof {
  readonly ticket: Ticket;
  /** Distinct solutions carried. */
  readonly solutions: number;
  /** Throws InsufficientWorkError unless at least `count` solutions came. */
  require(count: number): void;
  refund(): Promise<void>;
}

function parseWork(text: string): number[] {
  if (!WORK.test(text))
    throw new InsufficientWorkError(
      'Kluis-Work must be nonces in rising order, separated by commas',
    );
  const nonces = text.split(',').map(Number);
  for (let i = 0; i < nonces.length; i++) {
    if (!Number.isSafeInteger(nonces[i]) || (i > 0 && nonces[i]! <= nonces[i - 1]!)) {
      throw new InsufficientWorkError('Kluis-Work must be distinct nonces in rising order');
    }
  }
  return nonces;
}

/**
 * Checks the ticket in the headers (MAC, kind, case, expiry) and every
 * nonce's proof of work over it, and spends the ticket. Undefined when the
 * request carries neither header.
 */
export async function proofFromHeaders(
  deps: Deps,
  headers: Headers,
  kind: TicketKind,
  caseNumber?: string,
): Promise<Proof | undefined> {
  const ticketText = headers.get('kluis-ticket');
  const workText = headers.get('kluis-work');
  if (ticketText === null && workText === null) return undefined;
  if (ticketText === null || workText === null)
    throw new InvalidTicketError('send both Kluis-Ticket and Kluis-Work');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(ticketText.trim(), { maxLength: 64 });
  } catch (error) {
    if (error instanceof KluisError) throw new InvalidTicketError('ticket is not base64');
    throw error;
  }
  const now = deps.now();
  const ticket = openTicket(deps.secret, bytes, Math.floor(now / 1000));
  if (ticket.kind !== kind) throw new InvalidTicketError(`this is not a ${kind} ticket`);
  if (caseNumber !== undefined && ticket.caseNumber !== caseNumber)
    throw new InvalidTicketError('ticket is for another case');
  const nonces = parseWork(workText.trim());
  for (const nonce of nonces) {
    if (!checkPow(bytes, deps.settings.powBits, nonce))
      throw new InsufficientWorkError('proof of work does not meet the difficulty');
  }
  await deps.spentTickets.spend(bytes, ticket.expires, now); // TicketSpentError if it was
  return {
    ticket,
    solutions: nonces.length,
    require(count) {
      if (nonces.length < count)
        throw new InsufficientWorkError(
          `this needs ${count} proof-of-work solutions, not ${nonces.length}`,
          { solutions: count },
        );
    },
    async refund() {
      await deps.spentTickets.refund(bytes);
    },
  };
}
