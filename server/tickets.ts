/**
 * Tickets: stateless, MAC'd proof-of-work challenges (docs/API.md,
 * "Tickets and proof of work"). A ticket names its kind, its case number
 * and its expiry; only this server can make one, and the client's proof of
 * work is over the ticket's bytes.
 */

import {
  concatBytes,
  constantTimeEqual,
  hmacSha512,
  isCaseNumber,
  u32be,
  utf8,
} from '../crypto/index.js';
import { InvalidTicketError, TicketExpiredError } from './errors.js';

/** Bytes in a ticket. */
export const TICKET_BYTES = 37;
/** How long a ticket stays valid. */
export const TICKET_LIFETIME_SECONDS = 3600;

/** What a ticket is for. */
export type TicketKind = 'case' | 'message' | 'upload';
const KIND_CODES: Record<TicketKind, number> = { case: 1, message: 2, upload: 3 };
const KINDS: Readonly<Record<number, TicketKind>> = { 1: 'case', 2: 'message', 3: 'upload' };

/** A ticket whose MAC and expiry checked out. */
export interface Ticket {
  readonly kind: TicketKind;
  readonly caseNumber: string;
  readonly expires: number;
}

function mac(secret: Uint8Array, body: Uint8Array): Uint8Array {
  return hmacSha512(secret, concatBytes(utf8('kluis/v1/ticket'), new Uint8Array([0]), body)).slice(
    0,
    16,
  );
}

/** Makes a ticket. `random` gives the 8 bytes that make every ticket distinct. */
export function issueTicket(
  secret: Uint8Array,
  kind: TicketKind,
  caseNumber: string,
  expires: number,
  random: Uint8Array,
): Uint8Array {
  const body = concatBytes(
    new Uint8Array([KIND_CODES[kind]]),
    utf8(caseNumber),
    u32be(expires),
    random.subarray(0, 8),
  );
  return concatBytes(body, mac(secret, body));
}

/** Checks a ticket's MAC, shape and expiry (seconds); throws InvalidTicketError or TicketExpiredError. */
export function openTicket(secret: Uint8Array, ticket: Uint8Array, now: number): Ticket {
  if (ticket.length !== TICKET_BYTES) throw new InvalidTicketError('ticket has the wrong length');
  const body = ticket.subarray(0, 21);
  if (!constantTimeEqual(mac(secret, body), ticket.subarray(21)))
    throw new InvalidTicketError('ticket was not issued by this server');
  const kind = KINDS[body[0]!];
  const caseNumber = new TextDecoder().decode(body.subarray(1, 9));
  if (!kind || !isCaseNumber(caseNumber)) throw new InvalidTicketError('ticket is malformed');
  const expires = new DataView(body.buffer, body.byteOffset + 9, 4).getUint32(0, false);
  if (expires <= now) throw new TicketExpiredError('ticket has expired: ask for a new one');
  return { kind, caseNumber, expires };
}
