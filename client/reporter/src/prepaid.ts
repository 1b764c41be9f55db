/**
 * A ticket and its proof of work, fetched and solved ahead of Send while
 * the reporter writes, and renewed before it expires (docs/ARCHITECTURE.md,
 * "Fast over Tor"). Over Tor every round trip costs about a second, and
 * without a JIT the proof of work a second more: done beforehand, Send
 * costs one request. Only the ticket request leaves the browser early; it
 * carries nothing of the report.
 * @module
 */

import { fromBase64 } from '../../../crypto/index.js';
import type { Ticket, Work } from './api.js';
import { fresh, retrying } from './send.js';
import { solveWorkFast } from './workers.js';

/** Renew this long before a ticket would stop being `fresh`, so one is always ready. */
const RENEW_EARLY_MS = 5 * 60_000;

/** A User Timing mark (page-local; `npm run bench -- tor` reads how long the work took). */
function mark(name: string): void {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function')
    performance.mark(name);
}

/** A ticket with `count` solutions, solved in the background and on demand. */
export class Prepaid {
  readonly #request: () => Promise<Ticket>;
  readonly #onTicket: (ticket: Ticket) => void;
  #ticket: Ticket | undefined;
  #nonces: number[] = [];
  #wanted = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Where the proof of work's progress goes (0 to 1), while someone waits for it. */
  onWork: ((fraction: number) => void) | undefined;

  /** `onTicket` runs for each new ticket, before its work starts (a case ticket names a new case). */
  constructor(request: () => Promise<Ticket>, onTicket: (ticket: Ticket) => void = () => {}) {
    this.#request = request;
    this.#onTicket = onTicket;
  }

  /** The current ticket, if any (fresh or not). */
  get ticket(): Ticket | undefined {
    return this.#ticket;
  }

  /**
   * A fresh ticket with `count` solutions: the ones solved already, and
   * the rest solved now. Calls run one after another.
   */
  work(count: number): Promise<Work & { readonly ticketAnswer: Ticket }> {
    this.#wanted = count;
    const run = this.#queue.then(() => this.#work(count));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Starts `work(count)` in the background, and renewals again; a failure is left for Send to meet again. */
  warm(count: number): void {
    this.#stopped = false;
    if (this.#ticket) this.#renewAt(this.#ticket);
    this.work(count).catch(() => {});
  }

  /** Forgets the ticket (spent, or refused): the next `work` asks for a new one. */
  drop(): void {
    this.#ticket = undefined;
    this.#nonces = [];
  }

  /** No more renewals (the ticket was used, or the screen closed). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #work(count: number): Promise<Work & { readonly ticketAnswer: Ticket }> {
    if (!fresh(this.#ticket)) {
      const ticket = await retrying(this.#request, () => {});
      this.#ticket = ticket;
      this.#nonces = [];
      mark('kluis:ticket');
      this.#onTicket(ticket);
      this.#renewAt(ticket);
    }
    const ticket = this.#ticket;
    while (this.#nonces.length < count) {
      const done = this.#nonces.length;
      const nonce = await solveWorkFast(
        fromBase64(ticket.ticket),
        ticket.bits,
        (fraction) => this.onWork?.((done + fraction) / count),
        (this.#nonces.at(-1) ?? -1) + 1,
      );
      if (this.#ticket !== ticket) return this.#work(count); // dropped meanwhile
      this.#nonces.push(nonce);
    }
    this.onWork?.(1);
    mark('kluis:prepaid');
    return { ticket: ticket.ticket, nonces: this.#nonces.slice(0, count), ticketAnswer: ticket };
  }

  #renewAt(ticket: Ticket): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    // `fresh` stops trusting a ticket two minutes before it expires; renew well before that.
    const ms = Math.max(10_000, ticket.expires * 1000 - Date.now() - RENEW_EARLY_MS);
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      if (this.#ticket === ticket) this.drop();
      this.warm(this.#wanted);
    }, ms);
  }
}
