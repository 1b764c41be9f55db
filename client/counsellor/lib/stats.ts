/**
 * Statistics for the annual report, computed on the counsellor's machine
 * from the inbox (every case opened and verified) and holding no content:
 * counts and durations only. Reports per month, per status, days to the
 * acknowledgement and to the first reply, deadlines missed (7 days to
 * acknowledge, 3 months for feedback: deadlines.ts), cases forwarded.
 * Only the cases the server still holds count: a closed case is deleted
 * after the server's retention period.
 * @module
 */

import { addMonths, dayOfHour } from './deadlines.js';
import type { InboxEntry } from './inbox.js';

const HOUR_MS = 3_600_000;

/** Durations in days, summarised. */
export interface DaySummary {
  /** Cases that have the event. */
  readonly count: number;
  readonly median: number | null;
  readonly mean: number | null;
  readonly max: number | null;
}

/** The statistics of a set of cases. */
export interface Statistics {
  /** The year counted (by the day the report was received), or null for every case. */
  readonly year: number | null;
  readonly total: number;
  /** YYYY-MM → reports received that month, in month order. */
  readonly perMonth: readonly { readonly month: string; readonly reports: number }[];
  readonly perStatus: Readonly<
    Record<'received' | 'in-conversation' | 'forwarded' | 'closed', number>
  >;
  readonly perLanguage: Readonly<Record<string, number>>;
  readonly daysToAcknowledge: DaySummary;
  readonly daysToFirstReply: DaySummary;
  /** Acknowledged after 7 days, or not acknowledged and past 7 days. */
  readonly acknowledgeMissed: number;
  /** Feedback after 3 months, or none and past 3 months. */
  readonly feedbackMissed: number;
  readonly forwarded: number;
  /** Cases that do not verify (counted, but their dates may be the server's word only). */
  readonly notVerified: number;
}

function summary(days: number[]): DaySummary {
  if (days.length === 0) return { count: 0, median: null, mean: null, max: null };
  const sorted = [...days].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: days.length,
    median: round(median),
    mean: round(days.reduce((a, b) => a + b, 0) / days.length),
    max: round(sorted.at(-1)!),
  };
}

/** The statistics of the inbox's cases (of one year, by the day received, if `year` is given). */
export function computeStatistics(
  entries: readonly InboxEntry[],
  options: { year?: number | undefined } = {},
): Statistics {
  const year = options.year ?? null;
  const cases = entries.filter((e) => year === null || e.receivedDay.startsWith(`${year}-`));
  const months = new Map<string, number>();
  const perStatus = { received: 0, 'in-conversation': 0, forwarded: 0, closed: 0 };
  const perLanguage: Record<string, number> = {};
  const toAck: number[] = [];
  const toReply: number[] = [];
  let acknowledgeMissed = 0;
  let feedbackMissed = 0;
  let forwarded = 0;
  for (const e of cases) {
    const month = e.receivedDay.slice(0, 7);
    months.set(month, (months.get(month) ?? 0) + 1);
    perStatus[e.status]++;
    const language = e.facts.language ?? 'unknown';
    perLanguage[language] = (perLanguage[language] ?? 0) + 1;
    const reportHour = e.listing.reportHour;
    const ackHour = e.listing.ackHour ?? e.facts.ackHour;
    if (ackHour !== null) toAck.push((ackHour - reportHour) / 24);
    if (e.facts.firstReplyHour !== null) toReply.push((e.facts.firstReplyHour - reportHour) / 24);
    const ackDue = e.deadlines.acknowledge.due.getTime();
    if (ackHour !== null ? ackHour * HOUR_MS > ackDue : e.deadlines.acknowledge.overdue)
      acknowledgeMissed++;
    const feedbackDue =
      ackHour === null ? e.deadlines.feedback.due : addMonths(new Date(ackHour * HOUR_MS), 3);
    if (
      e.facts.feedbackHour !== null
        ? e.facts.feedbackHour * HOUR_MS > feedbackDue.getTime()
        : e.deadlines.feedback.overdue
    )
      feedbackMissed++;
    if (e.facts.forwarded || e.listing.forwardedTo.length > 0) forwarded++;
  }
  return {
    year,
    total: cases.length,
    perMonth: [...months]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([month, reports]) => ({ month, reports })),
    perStatus,
    perLanguage,
    daysToAcknowledge: summary(toAck),
    daysToFirstReply: summary(toReply),
    acknowledgeMissed,
    feedbackMissed,
    forwarded,
    notVerified: cases.filter((e) => !e.intact).length,
  };
}

/** The statistics as CSV (one `section,key,value` row per figure), for a spreadsheet. */
export function statisticsCsv(stats: Statistics): string {
  const rows: (string | number | null)[][] = [['section', 'key', 'value']];
  rows.push(['total', stats.year === null ? 'all' : String(stats.year), stats.total]);
  for (const m of stats.perMonth) rows.push(['reports per month', m.month, m.reports]);
  for (const [k, v] of Object.entries(stats.perStatus)) rows.push(['status', k, v]);
  for (const [k, v] of Object.entries(stats.perLanguage)) rows.push(['language', k, v]);
  for (const [name, s] of [
    ['days to acknowledgement', stats.daysToAcknowledge],
    ['days to first reply', stats.daysToFirstReply],
  ] as const)
    for (const key of ['count', 'median', 'mean', 'max'] as const) rows.push([name, key, s[key]]);
  rows.push(['deadlines missed', 'acknowledge (7 days)', stats.acknowledgeMissed]);
  rows.push(['deadlines missed', 'feedback (3 months)', stats.feedbackMissed]);
  rows.push(['forwarded', 'cases', stats.forwarded]);
  rows.push(['not verified', 'cases', stats.notVerified]);
  return `${rows.map((r) => r.map((c) => (c === null ? '' : String(c))).join(',')).join('\n')}\n`;
}

/** The statistics as a readable table. */
export function formatStatistics(stats: Statistics): string {
  const days = (s: DaySummary) =>
    s.count === 0 ? '—' : `median ${s.median}, mean ${s.mean}, longest ${s.max} (${s.count} cases)`;
  const lines = [
    `Statistics ${stats.year ?? 'of every case the server holds'} (no content; computed on this computer)`,
    '',
    `reports                  ${stats.total}`,
    ...stats.perMonth.map((m) => `  ${m.month}               ${m.reports}`),
    `status                   ${Object.entries(stats.perStatus)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `language                 ${
      Object.entries(stats.perLanguage)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '—'
    }`,
    `days to acknowledgement  ${days(stats.daysToAcknowledge)}`,
    `days to first reply      ${days(stats.daysToFirstReply)}`,
    `acknowledged late        ${stats.acknowledgeMissed} (7 days)`,
    `feedback late            ${stats.feedbackMissed} (3 months)`,
    `forwarded                ${stats.forwarded}`,
  ];
  if (stats.notVerified > 0) lines.push(`!! not verified          ${stats.notVerified}`);
  lines.push('', 'Closed cases the server has deleted (retention) are not counted.');
  return lines.join('\n');
}

/** The day a closed case will be deleted by the server: `retentionDays` after it was closed. */
export function deletionDay(statusHour: number, retentionDays: number): string {
  return dayOfHour(statusHour + retentionDays * 24);
}
