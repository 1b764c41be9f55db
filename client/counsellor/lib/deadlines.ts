/**
 * The deadlines of the EU whistleblower directive (2019/1937, art. 9(1)):
 * acknowledge receipt within 7 days of the report, and give feedback within
 * 3 months of the acknowledgement (or, without one, of the end of those 7
 * days). Computed from the server's coarse hours, conservatively: a report
 * in hour h counts as made at the start of h.
 * @module
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One deadline of a case. */
export interface Deadline {
  readonly due: Date;
  /** Met (acknowledged; feedback given or case closed). */
  readonly done: boolean;
  /** Not met and past due. */
  readonly overdue: boolean;
  /** Whole days left (negative when overdue). */
  readonly daysLeft: number;
}

/** What deadlines depend on. */
export interface DeadlineInput {
  readonly reportHour: number;
  readonly ackHour: number | null;
  /** A counsellor message or status update after the acknowledgement. */
  readonly feedbackGiven: boolean;
  readonly closed: boolean;
}

/** Adds calendar months in UTC, clamping the day (30 Nov + 3 months = 28 or 29 Feb). */
export function addMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(date.getUTCDate(), lastDay),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
    ),
  );
}

function deadline(due: Date, done: boolean, now: Date): Deadline {
  const left = due.getTime() - now.getTime();
  return { due, done, overdue: !done && left < 0, daysLeft: Math.floor(left / DAY_MS) };
}

/** Both deadlines of a case at `now`. */
export function caseDeadlines(
  input: DeadlineInput,
  now: Date = new Date(),
): { acknowledge: Deadline; feedback: Deadline } {
  const ackDue = new Date(input.reportHour * HOUR_MS + 7 * DAY_MS);
  const feedbackFrom = input.ackHour === null ? ackDue : new Date(input.ackHour * HOUR_MS);
  return {
    acknowledge: deadline(ackDue, input.ackHour !== null || input.closed, now),
    feedback: deadline(addMonths(feedbackFrom, 3), input.feedbackGiven || input.closed, now),
  };
}

/** YYYY-MM-DD (UTC) of an hour since the epoch. */
export function dayOfHour(hour: number): string {
  return new Date(hour * HOUR_MS).toISOString().slice(0, 10);
}

/** YYYY-MM-DD HH:00 UTC of an hour since the epoch. */
export function formatHour(hour: number): string {
  return `${new Date(hour * HOUR_MS).toISOString().slice(0, 13).replace('T', ' ')}:00 UTC`;
}
