/**
 * "Knowing without looking": a content-free e-mail to the counsellors when a reporter wrote
 * (a new report, or a message in a case), so that the 7-day deadline does not slip between two
 * visits to the app.
 *
 * Mails go only at fixed times, on the full hour, at most one an hour per address, and say
 * only that something is new since the previous one (notify-mail.ts). So a mail tells its reader
 * no more than the store's coarse hours do: that a reporter wrote within the hour before it.
 *
 * Nothing is written anywhere. Which hours have been mailed lives in memory only; the store's
 * summaries (the hour of each case's latest reporter message) are the source of what is new, so
 * a restart loses nothing: a new process also covers the hour before it started, which may mean
 * one mail twice, never one missed. A failed send is logged (its error code, nothing of the mail,
 * the address or the password) and tried again at the next full hour.
 */

import { hourOf } from './records.js';
import type { CaseSummary } from './records.js';
import { describeMailFailure, type Mailer } from './notify-mail.js';

const HOUR_MS = 3_600_000;

/** What a notifier needs. */
export interface NotifierOptions {
  /** The store's case summaries (store.records.summaries()). */
  readonly summaries: () =>
    | Iterable<readonly [string, Pick<CaseSummary, 'lastReporterHour'>]>
    | AsyncIterable<readonly [string, Pick<CaseSummary, 'lastReporterHour'>]>;
  readonly mailer: Mailer;
  readonly from: string;
  readonly to: readonly string[];
  /** Milliseconds since the epoch (tests move it). */
  readonly now: () => number;
  /** Where failures go (never a secret, an address or a case). */
  readonly log: (message: string) => void;
}

/** What one slot did. */
export interface SlotReport {
  /** The full hour (hours since the epoch) of the slot, or null when no slot was due. */
  readonly slot: number | null;
  readonly sent: number;
  readonly failed: number;
}

/** Mails the counsellors, on the hour, that a reporter wrote. */
export class Notifier {
  readonly #options: NotifierOptions;
  /** Per address: the first hour whose reporter activity it has not been told of. */
  readonly #coveredUntil: number[];
  /** The last slot run (a slot runs once, in its hour). */
  #lastSlot: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SlotReport> | undefined;
  #stopped = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
    const startHour = hourOf(options.now());
    // The hour before the start too: an earlier process may have stopped before its slot.
    this.#coveredUntil = options.to.map(() => startHour - 1);
    this.#lastSlot = startHour;
  }

  /**
   * Runs the slot of the current hour if it has not run yet: mails every address that has not
   * been told of a reporter message written before this hour. Does nothing within the same hour.
   */
  tick(): Promise<SlotReport> {
    // One slot at a time: a slow mail server must not make two mails.
    this.#running ??= this.#slot().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #slot(): Promise<SlotReport> {
    const slot = hourOf(this.#options.now());
    if (slot <= this.#lastSlot) return { slot: null, sent: 0, failed: 0 };
    this.#lastSlot = slot;
    const oldest = Math.min(...this.#coveredUntil);
    // The latest reporter hour before this slot, of any case (activity in this very hour waits for the next).
    let latest: number | null = null;
    for await (const [, summary] of this.#options.summaries()) {
      const hour = summary.lastReporterHour;
      if (hour !== null && hour >= oldest && hour < slot && (latest === null || hour > latest))
        latest = hour;
    }
    let sent = 0;
    let failed = 0;
    const date = new Date(slot * HOUR_MS);
    for (const [i, to] of this.#options.to.entries()) {
      if (latest === null || latest < this.#coveredUntil[i]!) {
        this.#coveredUntil[i] = slot;
        continue;
      }
      try {
        await this.#options.mailer({ from: this.#options.from, to, date });
        this.#coveredUntil[i] = slot;
        sent++;
      } catch (error) {
        failed++;
        this.#options.log(
          `notice mail to KLUIS_NOTIFY_TO address ${i + 1} of ${this.#options.to.length} failed: ${describeMailFailure(error)}; tried again at the next full hour`,
        );
      }
    }
    return { slot, sent, failed };
  }

  /** Runs {@link tick} at every full hour until {@link stop}. */
  start(): void {
    this.#stopped = false;
    const schedule = () => {
      if (this.#stopped) return;
      const now = this.#options.now();
      // A second past the hour, so that a clock a little behind still lands in the new hour.
      const wait = (hourOf(now) + 1) * HOUR_MS - now + 1000;
      this.#timer = setTimeout(() => {
        this.tick().then(schedule, schedule);
      }, wait);
      this.#timer.unref();
    };
    schedule();
  }

  /** Stops the timer (a mail being sent finishes). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
