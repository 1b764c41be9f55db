/** Checking a ticket and its proof of work, the price of an anonymous write. */

import { checkPow, fromBase64, KluisError, toBase64 } from '../crypto/index.js';
import type { Deps } from './deps.js';
import { InsufficientWorkError, InvalidTicketError, TicketSpentError } from './errors.js';
import { openTicket, type Ticket, type TicketKind } from './tickets.js';

/** A checked, not yet spent ticket; `spend` marks it used, `refund` undoes that if the write fails. */
export interface Proof {
  readonly ticket: Ticket;
  spend(): void;
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
  const key = toBase64(bytes);
  return {
    ticket,
    spend() {
      if (!deps.spentTickets.add(key, ticket.expires * 1000, now)) throw new TicketSpentError('ticket already used: ask for a new one');
    },
    refund() {
      deps.spentTickets.delete(key);
    },
  };
}
