/**
 * The inbox: every case listed, fetched in pages of whole cases, opened
 * (in worker threads when there are many) and checked, with deadlines and
 * unread counts. A part of the counsellor session (session.ts).
 * @module
 */

import type { CaseStatus, Consent } from '../../../crypto/index.js';
import type { CaseDetail, CaseDetailsPage, CaseListing, CounsellorApi } from './api.js';
import { MAX_CASE_DETAILS } from './api.js';
import { caseDeadlines, dayOfHour, type Deadline } from './deadlines.js';
import { ServerRefusedError } from './errors.js';
import { type CaseFacts, caseFacts, searchText } from './facts.js';
import { type CaseView, openCaseDetail } from './open-case.js';
import { OpenPool } from './open-pool.js';
import type { CounsellorSession } from './session.js';

/** One row of the inbox. */
export interface InboxEntry {
  readonly caseNumber: string;
  readonly listing: CaseListing;
  readonly status: CaseStatus;
  readonly receivedDay: string;
  readonly messages: number;
  readonly unread: number;
  /**
   * Messages by someone else (the reporter, a colleague) that arrived since the last visit
   * (session.ts, knownAtStart); the report counts for a case not known then.
   */
  readonly sinceVisit: number;
  /** The case was not known at the last visit: a new report. */
  readonly newSinceVisit: boolean;
  readonly consent?: Consent;
  readonly addressAs?: string;
  readonly deadlines: { readonly acknowledge: Deadline; readonly feedback: Deadline };
  readonly intact: boolean;
  readonly problems: readonly string[];
  /** Language, acknowledgement, first reply, forwards: for filters and statistics (facts.ts). */
  readonly facts: CaseFacts;
  /** The decrypted words of the case, lower-cased, for a local search (facts.ts); never printed or stored. */
  readonly searchText: string;
}

/** The inbox and what it noticed beside the cases. */
export interface Inbox {
  readonly entries: readonly InboxEntry[];
  /** Cases this client knew that the server no longer lists (deleted by a colleague, or dropped). */
  readonly vanished: readonly string[];
}

/** Below this many cases the inbox opens them in place: starting workers costs more than it saves. */
const MIN_CASES_FOR_WORKERS = 64;

/** Runs `work` over `items` with at most `limit` in flight, keeping order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  });
  await Promise.all(runners);
  return results;
}

/**
 * The inbox: every case listed, fetched, opened and checked. The cases
 * come in pages of whole cases (GET …/case-details, a few signed requests
 * instead of one per case; the next page is fetched while this one is
 * opened); a listed case missing from the pages (it changed in between),
 * or a server without that route, falls back to one request per case.
 * With many cases, opening runs in worker threads (`workers`, default:
 * one fewer than the cores, see open-pool.ts).
 */
export async function readInbox(
  session: CounsellorSession,
  options: { workers?: number; pageSize?: number } = {},
): Promise<Inbox> {
  const info = await session.serverInfo();
  const listing = await session.api.listCases();
  const size = listing.length >= MIN_CASES_FOR_WORKERS ? (options.workers ?? session.workers) : 0;
  let pool: OpenPool | undefined;
  try {
    pool = OpenPool.create(
      {
        role: session.role,
        fingerprint: session.fingerprint,
        boxPublicKey: session.identity.box.publicKey,
        boxSecretKey: session.identity.box.secretKey,
      },
      size,
    );
  } catch {
    pool = undefined; // no worker threads here: open in place
  }
  try {
    const now = session.now();
    const open = async (detail: CaseDetail): Promise<CaseView> => {
      const context = session.openContext(info, detail.case);
      if (pool && !pool.broken) {
        try {
          return await pool.open(detail, context);
        } catch {
          // a worker failed (e.g. cannot load): open here instead
        }
      }
      return openCaseDetail(detail, context);
    };
    const listed = new Set(listing.map((item) => item.case));
    const views = new Map<string, Promise<CaseView>>();
    if (listing.length > 0) {
      for await (const page of detailPages(session.api, listing.length, options.pageSize)) {
        for (const detail of page) {
          // Cases that arrived after the listing wait for the next inbox.
          if (!listed.has(detail.case)) continue;
          const view = open(detail);
          view.catch(() => {}); // awaited below
          views.set(detail.case, view);
        }
      }
    }
    const entries = await mapConcurrent(
      listing,
      pool ? 2 * session.concurrency : session.concurrency,
      async (item): Promise<InboxEntry> => {
        const view = await (views.get(item.case) ?? open(await session.api.getCase(item.case)));
        await session.remember(view, false, false);
        const closed = item.status === 'closed';
        const known = session.knownAtStart.get(item.case);
        const sinceVisit = view.messages.filter(
          (m) => m.index >= (known ?? 0) && !(m.author?.kind === 'counsellor' && m.author.me),
        ).length;
        return {
          caseNumber: item.case,
          listing: item,
          status: item.status,
          receivedDay: dayOfHour(item.reportHour),
          messages: view.messages.length,
          unread: view.unread,
          sinceVisit,
          newSinceVisit: known === undefined,
          ...(view.consent ? { consent: view.consent } : {}),
          ...(view.report ? { addressAs: view.report.addressAs } : {}),
          deadlines: caseDeadlines(
            {
              reportHour: item.reportHour,
              ackHour: item.ackHour ?? view.ack?.hour ?? null,
              feedbackGiven: view.feedbackGiven,
              closed,
            },
            now,
          ),
          intact: view.intact,
          problems: view.problems,
          facts: caseFacts(view),
          searchText: searchText(view),
        };
      },
    );
    return await finishInbox(session, listing, entries);
  } finally {
    await pool?.close();
  }
}

/**
 * Whole cases, page by page, the following page requested as soon as this
 * one arrived. Ends early (the caller falls back to one request per case)
 * when the server does not have the case-details route. At most enough
 * pages for `expected` cases and a margin: a server cannot keep the
 * client paging for ever.
 */
async function* detailPages(
  api: CounsellorApi,
  expected: number,
  pageSize = MAX_CASE_DETAILS,
): AsyncGenerator<readonly CaseDetail[]> {
  const maxPages = Math.ceil(expected / pageSize) + 16;
  const fetchPage = (after: string | undefined) => {
    const promise = api.caseDetails(after, pageSize);
    promise.catch(() => {}); // awaited below; not an unhandled rejection if the caller stops early
    return promise;
  };
  let pending = fetchPage(undefined);
  for (let pages = 1; ; pages++) {
    let page: CaseDetailsPage;
    try {
      page = await pending;
    } catch (error) {
      // An older server without the route: 404 (not-found) or 405 on the first page.
      if (
        pages === 1 &&
        error instanceof ServerRefusedError &&
        (error.status === 404 || error.status === 405)
      )
        return;
      throw error;
    }
    const next = page.next !== null && pages < maxPages ? page.next : null;
    if (next !== null) {
      pending = fetchPage(next);
      // Let the request go out before this page is opened (in place, that keeps this thread busy).
      await new Promise((resolve) => setImmediate(resolve));
    }
    yield page.cases;
    if (next === null) return;
  }
}

async function finishInbox(
  session: CounsellorSession,
  listing: readonly CaseListing[],
  entries: InboxEntry[],
): Promise<Inbox> {
  const listed = new Set(listing.map((item) => item.case));
  const vanished = session.state.cases().filter((c) => !listed.has(c));
  for (const c of vanished) session.state.forget(c);
  await session.state.save();
  return { entries, vanished };
}
