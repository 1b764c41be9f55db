/**
 * What the local app's JSON API sends to the page: the library's inbox and
 * case views, with every text from a reporter or the server passed through
 * sanitize.ts (control and bidi characters made visible) and no key
 * material (attachment keys stay in the local process). Shared by the
 * server (app/server.ts) and, as types, the UI.
 * @module
 */

import { type Content, displayFingerprint, sealedByServer } from '../../../crypto/index.js';
import type { Deadline } from '../lib/deadlines.js';
import { caseAssignment, parseAssignment } from '../lib/assign.js';
import { displayCase } from '../lib/format.js';
import { deletionDay } from '../lib/stats.js';
import { safeLine, safeText } from '../lib/sanitize.js';
import type { CaseView, Inbox, MessageAuthor } from '../lib/session.js';

export interface DeadlineJson {
  readonly due: string;
  readonly done: boolean;
  readonly overdue: boolean;
  readonly daysLeft: number;
}

export interface InboxEntryJson {
  readonly case: string;
  readonly display: string;
  readonly received: string;
  readonly status: string;
  readonly messages: number;
  readonly unread: number;
  /** Messages by others since the counsellor's last visit (lib/inbox.ts). */
  readonly sinceVisit: number;
  /** A case not known at the last visit. */
  readonly newSinceVisit: boolean;
  readonly consent: string | null;
  readonly addressAs: string | null;
  readonly acknowledge: DeadlineJson;
  readonly feedback: DeadlineJson;
  readonly intact: boolean;
  readonly problems: readonly string[];
  readonly language: string | null;
  readonly forwarded: boolean;
  /** The counsellor's own labels (local state). */
  readonly labels: readonly string[];
  /** YYYY-MM-DD the server deletes this closed case (retention), or null. */
  readonly deletion: string | null;
  /** The counsellor the case is assigned to (a signed private note), or null. */
  readonly assignee: CounsellorJson | null;
}

/** A counsellor the server lists (and this client trusts). */
export interface CounsellorJson {
  readonly fingerprint: string;
  readonly display: string;
  readonly name: string;
  /** This app's own key. */
  readonly me: boolean;
}

export interface InboxJson {
  readonly entries: readonly InboxEntryJson[];
  readonly vanished: readonly string[];
  /** Every label in use. */
  readonly labels: readonly string[];
  /** The server's retention in days (its KLUIS_RETENTION_DAYS, from GET /api/v1/info). */
  readonly retentionDays: number;
  /** Every counsellor, for the assignment filter. */
  readonly counsellors: readonly CounsellorJson[];
}

/** What the views need beside the library's objects. */
export interface ViewContext {
  readonly labels: (caseNumber: string) => readonly string[];
  readonly allLabels: readonly string[];
  readonly retentionDays: number;
  readonly counsellors: readonly CounsellorJson[];
}

/** A counsellor by fingerprint; one the server no longer lists keeps its fingerprint. */
function counsellorOf(ctx: ViewContext, fingerprint: string | null): CounsellorJson | null {
  if (fingerprint === null) return null;
  return (
    ctx.counsellors.find((c) => c.fingerprint === fingerprint) ?? {
      fingerprint,
      display: displayFingerprint(fingerprint),
      name: '?',
      me: false,
    }
  );
}

export interface AuthorJson {
  readonly kind: 'reporter' | 'counsellor';
  readonly name?: string;
  readonly fingerprint?: string;
  readonly me?: boolean;
}

export interface AttachmentJson {
  /** Its position in its message: with the message's index, what a download names. */
  readonly n: number;
  readonly name: string;
  readonly type: string;
  readonly size: number;
}

export interface MessageJson {
  readonly index: number;
  readonly hour: number;
  readonly ok: boolean;
  readonly shared: boolean;
  readonly author: AuthorJson | null;
  readonly problem: string | null;
  /** report, message, status, ack, forwarded; null when it could not be opened. */
  readonly type: string | null;
  readonly time: string | null;
  readonly text: string | null;
  readonly status: string | null;
  readonly consent: string | null;
  readonly to: string | null;
  readonly receivedDate: string | null;
  readonly attachments: readonly AttachmentJson[];
  /** Sent from the no-JavaScript pages: the server sealed it and saw it for a moment (PROTOCOL §7.1). */
  readonly sentWithoutJavaScript: boolean;
}

export interface NoteJson {
  readonly index: number;
  readonly hour: number;
  readonly author: AuthorJson | null;
  readonly problem: string | null;
  readonly time: string | null;
  readonly text: string | null;
  /** An assignment note: to whom (null: to no one). */
  readonly assignment: { readonly to: CounsellorJson | null } | null;
}

export interface CaseJson {
  readonly case: string;
  readonly display: string;
  readonly status: string;
  readonly statusHour: number;
  readonly intact: boolean;
  readonly problems: readonly string[];
  readonly consent: string | null;
  readonly addressAs: string | null;
  readonly language: string | null;
  readonly acknowledged: boolean;
  readonly forwardedTo: readonly string[];
  readonly messages: readonly MessageJson[];
  readonly notes: readonly NoteJson[];
  readonly attachments: number;
  readonly hiddenMessages: number;
  readonly labels: readonly string[];
  /** YYYY-MM-DD the server deletes this closed case (retention), or null. */
  readonly deletion: string | null;
  readonly retentionDays: number;
  readonly assignee: CounsellorJson | null;
  readonly counsellors: readonly CounsellorJson[];
}

const text = (value: string) => safeText(value, { multiline: true });

function deadline(d: Deadline): DeadlineJson {
  return { due: d.due.toISOString(), done: d.done, overdue: d.overdue, daysLeft: d.daysLeft };
}

const deletion = (status: string, statusHour: number, retentionDays: number) =>
  status === 'closed' ? deletionDay(statusHour, retentionDays) : null;

/** The inbox for the page. */
export function inboxJson(inbox: Inbox, ctx: ViewContext): InboxJson {
  return {
    labels: ctx.allLabels,
    retentionDays: ctx.retentionDays,
    counsellors: ctx.counsellors,
    entries: inbox.entries.map((e) => ({
      case: e.caseNumber,
      display: displayCase(e.caseNumber),
      received: e.receivedDay,
      status: e.status,
      messages: e.messages,
      unread: e.unread,
      sinceVisit: e.sinceVisit,
      newSinceVisit: e.newSinceVisit,
      consent: e.consent ?? null,
      addressAs: e.addressAs === undefined ? null : safeLine(e.addressAs),
      acknowledge: deadline(e.deadlines.acknowledge),
      feedback: deadline(e.deadlines.feedback),
      intact: e.intact,
      problems: e.problems.map(safeLine),
      language: e.facts.language,
      forwarded: e.facts.forwarded || e.listing.forwardedTo.length > 0,
      labels: ctx.labels(e.caseNumber),
      deletion: deletion(e.status, e.listing.statusHour, ctx.retentionDays),
      assignee: counsellorOf(ctx, e.facts.assignee),
    })),
    vanished: inbox.vanished,
  };
}

function author(a: MessageAuthor | undefined): AuthorJson | null {
  if (a === undefined) return null;
  if (a.kind === 'reporter') return { kind: 'reporter' };
  return { kind: 'counsellor', name: safeLine(a.name), fingerprint: a.fingerprint, me: a.me };
}

function contentFields(content: Content | undefined) {
  const c = content as (Content & Record<string, unknown>) | undefined;
  const str = (key: string) => (c && typeof c[key] === 'string' ? (c[key] as string) : null);
  const attachments =
    c && Array.isArray(c.attachments)
      ? (c.attachments as { name: string; type: string; size: number }[]).map((a, n) => ({
          n,
          name: safeLine(a.name),
          type: safeLine(a.type),
          size: a.size,
        }))
      : [];
  const textValue = str('text');
  return {
    type: c?.type ?? null,
    time: str('time'),
    text: textValue === null ? null : text(textValue),
    status: str('status'),
    consent: str('consent'),
    to:
      c?.type === 'forwarded' || c?.type === 'handover'
        ? `${safeLine(c.name)} (${displayFingerprint(String(c.to))})`
        : null,
    receivedDate: str('receivedDate'),
    attachments,
    sentWithoutJavaScript: content !== undefined && sealedByServer(content),
  };
}

/** One case for the page. */
export function caseViewJson(
  view: CaseView,
  options: { notes: boolean },
  ctx: ViewContext,
): CaseJson {
  return {
    case: view.caseNumber,
    display: displayCase(view.caseNumber),
    status: view.detail.status,
    statusHour: view.detail.statusHour,
    intact: view.intact,
    problems: view.problems.map(safeLine),
    consent: view.consent ?? null,
    addressAs: view.report ? safeLine(view.report.addressAs) : null,
    language: view.report?.language ?? null,
    acknowledged: view.ack !== undefined,
    forwardedTo: view.detail.forwardedTo.map(displayFingerprint),
    messages: view.messages.map((m) => ({
      index: m.index,
      hour: m.hour,
      ok: m.ok,
      shared: m.shared,
      author: author(m.author),
      problem: m.problem === undefined ? null : safeLine(m.problem),
      ...contentFields(m.content),
    })),
    notes: options.notes
      ? view.notes.map((n) => ({
          index: n.index,
          hour: n.hour,
          author: author(n.author),
          problem: n.problem === undefined ? null : safeLine(n.problem),
          time: n.content?.time ?? null,
          text: n.content ? text(n.content.text) : null,
          assignment: assignmentOf(n, ctx),
        }))
      : [],
    attachments: view.attachments.length,
    hiddenMessages: view.messages.filter((m) => !m.shared).length,
    labels: ctx.labels(view.caseNumber),
    deletion: deletion(view.detail.status, view.detail.statusHour, ctx.retentionDays),
    retentionDays: ctx.retentionDays,
    assignee: counsellorOf(ctx, caseAssignment(view).to),
    counsellors: ctx.counsellors,
  };
}

function assignmentOf(n: CaseView['notes'][number], ctx: ViewContext): NoteJson['assignment'] {
  if (n.problem !== undefined || !n.content) return null;
  const to = parseAssignment(n.content.text);
  return to === undefined ? null : { to: counsellorOf(ctx, to) };
}
