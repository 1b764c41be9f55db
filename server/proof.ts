/** Checking a ticket and its proof of work, the price of an anonymous write. */

import { checkPow, fromBase64, KluisError } from '../crypto/index.js';
import type { Deps } from './deps.js';
import { InsufficientWorkError, InvalidTicketError } from './errors.js';
import { openTicket, type Ticket, type TicketKind } from './tickets.js';

/**
 * A checked, not yet spent ticket. `spend` marks it used, durably (it throws TicketSpentError if
 * it was); `refund` undoes that in memory if the write fails.
 */
export interface Proof {
  readonly ticket: Ticket;
  spend(): Promise<void>;
  refund(): void;
}

/** Checks a ticket's MAC, kind, case and expiry, and the proof of work over it. */
export function checkProof(deps: Deps, ticketText: unknown, nonce: unknown, kind: TicketKind, caseNumber?: string): Proof {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(ticketText as string, { maxLength: 64 });
  } catch (error) {
    if (error instanceof KluisError) throw new InvalidTicketError('ticket is not base64');
    throw error;
  }
  const now = deps.now();
  const ticket = openTicket(deps.secret, bytes, Math.floor(now / 1000));
  if (ticket.kind !== kind) throw new InvalidTicketError(`this is not a ${kind} ticket`);
  if (caseNumber !== undefined && ticket.caseNumber !== caseNumber) throw new InvalidTicketError('ticket is for another case');
  if (typeof nonce !== 'number' || !checkPow(bytes, deps.settings.powBits, nonce)) {
    throw new InsufficientWorkError('proof of work does not meet the difficulty');
  }
  return {
    ticket,
    spend: () => deps.spentTickets.spend(bytes, ticket.expires, now),
    refund: () => deps.spentTickets.refund(bytes),
  };
}
