/**
 * What the inbox, its filters and the statistics need of a case besides
 * its listing, taken from the opened case: the report's language, when it
 * was acknowledged and first answered, whether it was forwarded, and the
 * words to search in. Pure; the search text is decrypted content and
 * stays in memory (the app's process), never on disk or on the network.
 * @module
 */

import { caseAssignment } from './assign.js';
import type { CaseView } from './open-case.js';

/** Times (server hours) and flags of one case. No content. */
export interface CaseFacts {
  /** The report's language, if the report opened. */
  readonly language: string | null;
  /** Hour of the signed acknowledgement, if any. */
  readonly ackHour: number | null;
  /** Hour of the first counsellor message to the reporter (a reply), if any. */
  readonly firstReplyHour: number | null;
  /** Hour of the first feedback (a counsellor message or status after the acknowledgement), if any. */
  readonly feedbackHour: number | null;
  /** Forwarded (with consent) to at least one escalation recipient. */
  readonly forwarded: boolean;
  /** The counsellor the case is assigned to (fingerprint; assign.ts), or null. */
  readonly assignee: string | null;
}

/** The facts of an opened case. */
export function caseFacts(view: CaseView): CaseFacts {
  let firstReplyHour: number | null = null;
  let feedbackHour: number | null = null;
  for (const m of view.messages) {
    if (!m.ok || m.author?.kind !== 'counsellor' || !m.content) continue;
    if (m.content.type === 'message' && firstReplyHour === null) firstReplyHour = m.hour;
    if (
      view.ack &&
      feedbackHour === null &&
      m.index > view.ack.index &&
      (m.content.type === 'message' || m.content.type === 'status')
    )
      feedbackHour = m.hour;
  }
  return {
    language: view.report?.language ?? null,
    ackHour: view.ack?.hour ?? null,
    firstReplyHour,
    feedbackHour,
    forwarded: view.forwardedTo.length > 0 || view.detail.forwardedTo.length > 0,
    assignee: caseAssignment(view).to,
  };
}

/**
 * Everything a counsellor may search for in a case, lower-cased: the
 * texts of messages and notes, the name the reporter gave, attachment
 * names, forward recipients' names.
 */
export function searchText(view: CaseView): string {
  const parts: string[] = [view.caseNumber];
  if (view.report?.addressAs) parts.push(view.report.addressAs);
  for (const m of view.messages) {
    const c = m.content;
    if (!c) continue;
    parts.push(c.text);
    if (c.type === 'report' || c.type === 'message')
      for (const a of c.attachments) parts.push(a.name);
    if (c.type === 'forwarded' || c.type === 'handover') parts.push(c.name);
  }
  for (const n of view.notes) if (n.content) parts.push(n.content.text);
  return parts.join('\n').normalize('NFKC').toLowerCase();
}

/** Whether every word of `query` occurs in `text` (from searchText). */
export function matchesSearch(text: string, query: string): boolean {
  const words = query
    .normalize('NFKC')
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  return words.every((w) => text.includes(w));
}
