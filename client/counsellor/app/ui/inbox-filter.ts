/**
 * The inbox's filters and orders, pure (the page applies them to what the
 * local app sent; the search itself runs in the local app's process).
 * @module
 */

import type { InboxEntryJson } from '../views.js';

/** What the counsellor chose to see. */
export interface InboxFilter {
  status: string;
  overdue: boolean;
  unread: boolean;
  /** Only cases with messages by others since the last visit. */
  sinceVisit: boolean;
  forwarded: boolean;
  language: string;
  label: string;
  /** '' all, 'me', 'none', or a counsellor's fingerprint. */
  assignee: string;
  /** Case numbers the search matched, or null for no search. */
  matches: ReadonlySet<string> | null;
}

export type InboxSort = 'urgent' | 'newest' | 'oldest' | 'unread';

export const NO_FILTER: InboxFilter = {
  status: '',
  overdue: false,
  unread: false,
  sinceVisit: false,
  forwarded: false,
  language: '',
  label: '',
  assignee: '',
  matches: null,
};

/** Past a deadline that is not met. */
export const isOverdue = (e: InboxEntryJson) =>
  e.status !== 'closed' && (e.acknowledge.overdue || e.feedback.overdue);

/** Days to the nearest open deadline (negative when overdue); Infinity when none is open. */
function urgency(e: InboxEntryJson): number {
  if (e.status === 'closed') return Number.POSITIVE_INFINITY;
  const open = [e.acknowledge, e.feedback].filter((d) => !d.done).map((d) => d.daysLeft);
  return open.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...open);
}

/** The entries that pass the filter, in the chosen order. */
export function filterInbox(
  entries: readonly InboxEntryJson[],
  filter: InboxFilter,
  sort: InboxSort,
): InboxEntryJson[] {
  const shown = entries.filter(
    (e) =>
      (filter.status === '' || e.status === filter.status) &&
      (!filter.overdue || isOverdue(e)) &&
      (!filter.unread || e.unread > 0) &&
      (!filter.sinceVisit || e.sinceVisit > 0) &&
      (!filter.forwarded || e.forwarded) &&
      (filter.language === '' || e.language === filter.language) &&
      (filter.label === '' || e.labels.includes(filter.label)) &&
      (filter.assignee === '' ||
        (filter.assignee === 'none'
          ? e.assignee === null
          : filter.assignee === 'me'
            ? e.assignee?.me === true
            : e.assignee?.fingerprint === filter.assignee)) &&
      (filter.matches === null || filter.matches.has(e.case)),
  );
  const cmp = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0);
  const byReceived = (a: InboxEntryJson, b: InboxEntryJson) =>
    a.received.localeCompare(b.received) || a.case.localeCompare(b.case);
  const order: Record<InboxSort, (a: InboxEntryJson, b: InboxEntryJson) => number> = {
    // Cases that do not verify first, then overdue, then the nearest deadline, then unread.
    urgent: (a, b) =>
      Number(a.intact) - Number(b.intact) ||
      cmp(urgency(a), urgency(b)) ||
      b.unread - a.unread ||
      byReceived(a, b),
    newest: (a, b) => byReceived(b, a),
    oldest: byReceived,
    unread: (a, b) => b.unread - a.unread || byReceived(b, a),
  };
  return shown.sort(order[sort]);
}

/** What arrived since the last visit: cases with new messages, and how many of them are new reports. */
export function sinceVisitCounts(entries: readonly InboxEntryJson[]): {
  cases: number;
  reports: number;
} {
  const changed = entries.filter((e) => e.sinceVisit > 0);
  return { cases: changed.length, reports: changed.filter((e) => e.newSinceVisit).length };
}

/** Cases per status. */
export function statusCounts(entries: readonly InboxEntryJson[]): Record<string, number> {
  const counts: Record<string, number> = {
    received: 0,
    'in-conversation': 0,
    forwarded: 0,
    closed: 0,
  };
  for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
  return counts;
}
