/**
 * Plain-text and JSON renderings of inbox and cases, shared by `show`,
 * `inbox` and `export`. Everything that came from a reporter (or from the
 * server) passes through safeText/safeLine before it is shown.
 * @module
 */

import { displayFingerprint, type Content, sealedByServer } from '../../../crypto/index.js';
import { dayOfHour, type Deadline, formatHour } from './deadlines.js';
import { indent, safeLine, safeText } from './sanitize.js';
import type { CaseView, Inbox, MessageAuthor, MessageView } from './session.js';

/** A case number as people read it: K7P4-9QXM. */
export function displayCase(caseNumber: string): string {
  return `${caseNumber.slice(0, 4)}-${caseNumber.slice(4)}`;
}

function authorLine(author: MessageAuthor | undefined): string {
  if (!author) return 'unknown author';
  if (author.kind === 'reporter') return 'reporter';
  return `${author.me ? 'you' : 'counsellor'} ${safeLine(author.name)} (${displayFingerprint(author.fingerprint)})`;
}

function deadlineText(d: Deadline): string {
  const day = d.due.toISOString().slice(0, 10);
  if (d.done) return `done (was due ${day})`;
  const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;
  if (d.overdue) return `OVERDUE by ${days(Math.max(1, -d.daysLeft))} (was due ${day})`;
  return `${d.daysLeft === 0 ? 'due today' : `due in ${days(d.daysLeft)}`} (${day})`;
}

/** The inbox as a table; with `retentionDays`, closed cases the server deletes within a week are listed. */
export function formatInbox(
  inbox: Inbox,
  options: { role: 'counsellor' | 'escalation'; retentionDays?: number | undefined; now?: Date },
): string {
  const lines: string[] = [];
  if (inbox.entries.length === 0) lines.push('No cases.');
  else {
    const rows = inbox.entries.map((e) => {
      const marks = [e.intact ? 'yes' : '!! DOES NOT VERIFY'];
      const ack =
        options.role === 'counsellor' && e.status !== 'closed'
          ? deadlineText(e.deadlines.acknowledge)
          : '';
      const feedback =
        options.role === 'counsellor' && e.status !== 'closed'
          ? deadlineText(e.deadlines.feedback)
          : '';
      return [
        displayCase(e.caseNumber),
        e.receivedDay,
        e.status,
        String(e.messages),
        e.unread > 0 ? String(e.unread) : '',
        options.role === 'counsellor'
          ? e.deadlines.acknowledge.done
            ? 'acknowledged'
            : `ack ${ack}`
          : '',
        options.role === 'counsellor' && e.status !== 'closed' ? `feedback ${feedback}` : '',
        marks.join(''),
      ];
    });
    const headers = [
      'case',
      'received',
      'status',
      'msgs',
      'unread',
      'acknowledgement',
      'feedback',
      'verified',
    ];
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    lines.push(line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
    const overdue = inbox.entries.filter(
      (e) => e.deadlines.acknowledge.overdue || e.deadlines.feedback.overdue,
    );
    if (options.role === 'counsellor' && overdue.length > 0) {
      lines.push(
        '',
        `${overdue.length} case(s) with an OVERDUE deadline (7 days to acknowledge, 3 months for feedback: EU directive 2019/1937 art. 9).`,
      );
    }
  }
  if (options.retentionDays !== undefined) {
    const weekAhead = (options.now ?? new Date()).getTime() + 7 * 86_400_000;
    const soon = inbox.entries.filter(
      (e) =>
        e.status === 'closed' &&
        (e.listing.statusHour + options.retentionDays! * 24) * 3_600_000 <= weekAhead,
    );
    if (soon.length > 0)
      lines.push(
        '',
        `Closed case(s) the server deletes within a week (retention ${options.retentionDays} days); export what you must keep:`,
        ...soon.map(
          (e) =>
            `   ${displayCase(e.caseNumber)}  deleted on ${dayOfHour(e.listing.statusHour + options.retentionDays! * 24)}`,
        ),
      );
  }
  for (const e of inbox.entries.filter((x) => !x.intact)) {
    lines.push(
      '',
      `!! case ${displayCase(e.caseNumber)} does not verify:`,
      ...e.problems.map((p) => `   - ${safeLine(p)}`),
    );
  }
  if (inbox.vanished.length > 0) {
    lines.push(
      '',
      `!! the server no longer lists ${inbox.vanished.length} case(s) this client saw before (deleted by a colleague, or dropped by the server): ${inbox.vanished.map(displayCase).join(', ')}`,
    );
  }
  return lines.join('\n');
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** How the CLI marks a report or message the server sealed (PROTOCOL §7.1). */
export const SENT_WITHOUT_JS =
  'sent without JavaScript: the server encrypted it on arrival, so it saw the text and files for a moment';

function contentLines(content: Content): string[] {
  const out: string[] = [];
  switch (content.type) {
    case 'report':
      out.push(
        `report, written ${content.time}; consent to forward: ${content.consent}; language: ${content.language}` +
          (content.addressAs ? `; address as: ${safeLine(content.addressAs)}` : ''),
      );
      if (sealedByServer(content)) out.push(SENT_WITHOUT_JS);
      break;
    case 'message':
      out.push(
        `message, written ${content.time}${content.consent ? `; consent to forward now: ${content.consent}` : ''}`,
      );
      if (sealedByServer(content)) out.push(SENT_WITHOUT_JS);
      break;
    case 'status':
      out.push(`status set to ${content.status}, ${content.time}`);
      break;
    case 'ack':
      out.push(
        `acknowledgement of receipt, ${content.time}: report received ${content.receivedDate}`,
      );
      break;
    case 'forwarded':
      out.push(
        `forwarded to ${safeLine(content.name)} (${displayFingerprint(content.to)}), ${content.time}`,
      );
      break;
    case 'handover':
      out.push(
        `handed over to ${safeLine(content.name)} (${displayFingerprint(content.to)}), ${content.time}`,
      );
      break;
    case 'note':
      out.push(`note, ${content.time}`);
      break;
  }
  if (content.text.length > 0) out.push('', indent(safeText(content.text, { multiline: true })));
  if (content.type === 'report' || content.type === 'message') {
    content.attachments.forEach((a, i) => {
      out.push(
        `    [attachment ${i + 1}] ${safeLine(a.name)} (${safeLine(a.type) || 'unknown type'}, ${sizeText(a.size)})`,
      );
    });
  }
  return out;
}

function messageBlock(m: MessageView): string[] {
  const head =
    `#${m.index}  ${formatHour(m.hour)}  ${m.author ? authorLine(m.author) : ''}`.trimEnd();
  if (!m.shared) return [`${head}  (not forwarded to you)`];
  const out = [head];
  if (m.problem) out.push(`    !! ${safeLine(m.problem)}`);
  if (m.content)
    out.push(
      ...contentLines(m.content).map((l) => (l.startsWith('    ') || l === '' ? l : `    ${l}`)),
    );
  return out;
}

/** A whole case as text: header, problems (first, loudly), messages, notes, problems again. */
export function formatCase(view: CaseView, options: { notes?: boolean } = {}): string {
  const lines: string[] = [];
  const d = view.detail;
  lines.push(
    `Case ${displayCase(view.caseNumber)}   status: ${d.status} (since ${formatHour(d.statusHour)})`,
  );
  if (d.messages[0])
    lines.push(
      `Received: ${dayOfHour(d.messages[0].hour)}   messages: ${view.messages.length}   unread: ${view.unread}`,
    );
  if (view.report) {
    lines.push(
      `Reporter: ${view.reporter ? displayFingerprint(view.reporter.fingerprint) : '?'}   consent to forward: ${view.consent ?? '?'}   language: ${view.report.language}` +
        (view.report.addressAs ? `   address as: ${safeLine(view.report.addressAs)}` : ''),
    );
  }
  if (view.ack)
    lines.push(
      `Acknowledged: message ${view.ack.index} (report received ${view.ack.content.receivedDate})`,
    );
  if (d.forwardedTo.length > 0)
    lines.push(`Forwarded to: ${d.forwardedTo.map(displayFingerprint).join(', ')}`);
  const problems = () => {
    lines.push(
      '',
      `!! THIS CASE DOES NOT VERIFY (${view.problems.length} problem${view.problems.length === 1 ? '' : 's'}):`,
    );
    for (const p of view.problems) lines.push(`!!   ${safeLine(p)}`);
  };
  if (!view.intact) problems();
  lines.push('');
  for (const m of view.messages) lines.push(...messageBlock(m), '');
  if (options.notes !== false && view.notes.length > 0) {
    lines.push('Private notes (counsellors only):', '');
    for (const n of view.notes) {
      lines.push(
        `note ${n.index}  ${formatHour(n.hour)}  ${n.author ? authorLine(n.author) : ''}`.trimEnd(),
      );
      if (n.problem) lines.push(`    !! ${safeLine(n.problem)}`);
      if (n.content) lines.push('', indent(safeText(n.content.text, { multiline: true })));
      lines.push('');
    }
  }
  if (view.intact) {
    const hidden = view.messages.filter((m) => !m.shared).length;
    lines.push(
      `Verified: every signature checked, the chain of ${view.messages.length} message(s) is whole${hidden > 0 ? ` (${hidden} not forwarded to you)` : ''}.`,
    );
  } else {
    problems();
  }
  return lines.join('\n');
}

/** A machine-readable case (decrypted): for `show --json` and `export`. */
export function caseJson(view: CaseView, options: { notes?: boolean } = {}): unknown {
  const author = (a: MessageAuthor | undefined) =>
    a === undefined
      ? null
      : a.kind === 'reporter'
        ? { kind: 'reporter' }
        : { kind: 'counsellor', fingerprint: a.fingerprint, name: a.name };
  return {
    case: view.caseNumber,
    status: view.detail.status,
    statusHour: view.detail.statusHour,
    createdHour: view.detail.createdHour,
    intact: view.intact,
    problems: view.problems,
    reporter: view.reporter?.fingerprint ?? null,
    consent: view.consent ?? null,
    forwardedTo: view.detail.forwardedTo,
    messages: view.messages.map((m) => ({
      index: m.index,
      hour: m.hour,
      ok: m.ok,
      shared: m.shared,
      author: author(m.author),
      hash: m.hash ?? null,
      problem: m.problem ?? null,
      content: m.content ?? null,
    })),
    ...(options.notes === false
      ? {}
      : {
          notes: view.notes.map((n) => ({
            index: n.index,
            hour: n.hour,
            author: author(n.author),
            problem: n.problem ?? null,
            content: n.content ?? null,
          })),
        }),
  };
}
