/**
 * Anti-abuse for the no-JavaScript pages, which cannot ask for proof of work and never see an
 * IP address: every submission that would write (a report or a reply) takes one unit of a
 * server-wide budget per clock hour, and at most `concurrent` are sealed at once with at most
 * `queue` more waiting. Past either, the answer is 503 with a translated "try again later" page,
 * before the body is read. The budget is global on purpose: a flood from one person costs the
 * other no-JavaScript reporters their hour, but never a reporter with JavaScript (whose writes
 * are priced in proof of work) nor a counsellor (SECURITY.md, "Flooding the no-JavaScript pages").
 */

import { DEFAULTS } from '../config.js';

/** What the gate allows (docs/API.md, "No-JavaScript pages"). */
export interface GateLimits {
  /** Submissions (reports and replies) accepted per clock hour, across all reporters. */
  readonly perHour: number;
  /** Submissions sealed at the same time. */
  readonly concurrent: number;
  /** Submissions that may wait for their turn. */
  readonly queue: number;
}

/** The defaults: generous for a support point that receives a few reports a week. */
export const DEFAULT_GATE_LIMITS: GateLimits = {
  perHour: DEFAULTS.basicPerHour,
  concurrent: 1,
  queue: 4,
};

/** Why the gate refused. */
export type GateRefusal = 'hour-budget' | 'queue-full';

/** The server-wide gate. */
export class BasicGate {
  readonly #limits: GateLimits;
  readonly #now: () => number;
  #hour = -1;
  #used = 0;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: GateLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /**
   * Takes one unit of this hour's budget and a turn, waiting in the queue if need be; the
   * returned function gives the turn back (call it once, when the response is made), and with
   * `refund` the unit too: a form refused for what it held stored nothing, and a reporter who
   * forgot a field should not pay for it. Returns the refusal instead when the hour's budget is
   * spent or the queue is full.
   */
  async enter(): Promise<((refund?: boolean) => void) | GateRefusal> {
    const hour = Math.floor(this.#now() / 3_600_000);
    if (hour !== this.#hour) {
      this.#hour = hour;
      this.#used = 0;
    }
    if (this.#used >= this.#limits.perHour) return 'hour-budget';
    if (this.#running >= this.#limits.concurrent) {
      if (this.#waiting.length >= this.#limits.queue) return 'queue-full';
      this.#used++;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#used++;
      this.#running++;
    }
    let left = false;
    return (refund = false) => {
      if (left) return;
      left = true;
      if (refund && hour === this.#hour) this.#used--;
      const next = this.#waiting.shift();
      // The turn passes straight to the next in line, so #running stays as it is.
      if (next) next();
      else this.#running--;
    };
  }
}
