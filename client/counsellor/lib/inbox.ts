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
import type { CachedCase } from './inbox-cache.js';
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
 * Changed cases are fetched in pages of whole cases (every case of the
 * inbox) when they are a tenth of it or more, or more than this many; else
 * one request each (a few round trips instead of pages of unchanged cases).
 */
const MAX_CHANGED_ONE_BY_ONE = 100;

/** What an inbox row needs of a case besides its listing: from an opened case, or the cache. */
function casePart(
  item: CaseListing,
  view: CaseView,
): CachedCase & { intact: boolean; problems: readonly string[] } {
  return {
    listing: item,
    messages: view.messages.length,
    mine: view.messages
      .filter((m) => m.author?.kind === 'counsellor' && m.author.me)
      .map((m) => m.index),
    ...(view.consent ? { consent: view.consent } : {}),
    ...(view.report ? { addressAs: view.report.addressAs } : {}),
    viewAckHour: view.ack?.hour ?? null,
    feedbackGiven: view.feedbackGiven,
    facts: caseFacts(view),
    searchText: searchText(view),
    intact: view.intact,
    problems: view.problems,
  };
}

function inboxEntry(
  item: CaseListing,
  part: CachedCase & { intact: boolean; problems: readonly string[] },
  seen: number,
  known: number | undefined,
  now: Date,
): InboxEntry {
  const mine = new Set(part.mine);
  const othersSince = (from: number): number => {
    let count = 0;
    for (let i = from; i < part.messages; i++) if (!mine.has(i)) count++;
    return count;
  };
  const unread = othersSince(seen);
  return {
    caseNumber: item.case,
    listing: item,
    status: item.status,
    receivedDay: dayOfHour(item.reportHour),
    messages: part.messages,
    unread,
    // Since the last visit: messages by others beyond what this client had verified then.
    sinceVisit: othersSince(known ?? 0),
    newSinceVisit: known === undefined,
    ...(part.consent ? { consent: part.consent as Consent } : {}),
    ...(part.addressAs !== undefined ? { addressAs: part.addressAs } : {}),
    deadlines: caseDeadlines(
      {
        reportHour: item.reportHour,
        ackHour: item.ackHour ?? part.viewAckHour,
        feedbackGiven: part.feedbackGiven,
        closed: item.status === 'closed',
      },
      now,
    ),
    intact: part.intact,
    problems: part.problems,
    facts: part.facts,
    searchText: part.searchText,
  };
}

/**
 * The inbox: every case listed; the cases whose listing row changed since
 * the inbox cache (inbox-cache.ts) kept them, or that this client has not
 * verified, are fetched, opened and checked, the others come from the
 * cache (`full`: every case is opened again). Few changed cases are fetched
 * one request each; many come in pages of whole cases (GET
 * …/case-details, the next page fetched while this one is opened), and a
 * listed case missing from the pages (it changed in between), or a server
 * without that route, falls back to one request per case. With many cases
 * to open, opening runs in worker threads (`workers`, default: one fewer
 * than the cores, see open-pool.ts). A case that was rolled back shows
 * fewer messages in its row, so it is opened again and checked against
 * what the state file remembers (open-case.ts).
 */
export async function readInbox(
  session: CounsellorSession,
  options: { workers?: number; pageSize?: number; full?: boolean } = {},
): Promise<Inbox> {
  const info = await session.serverInfo();
  const listing = await session.api.listCases();
  const cache = await session.inboxCache();
  const cached = new Map<string, CachedCase>();
  if (!options.full)
    for (const item of listing) {
      const hit = cache.fresh(item);
      // The state file must remember the same history: else (removed, or another client's) open again.
      if (hit && session.state.memory(item.case)?.count === hit.messages)
        cached.set(item.case, hit);
    }
  const changed = listing.filter((item) => !cached.has(item.case));
  const size = changed.length >= MIN_CASES_FOR_WORKERS ? (options.workers ?? session.workers) : 0;
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
    const wanted = new Set(changed.map((item) => item.case));
    const views = new Map<string, Promise<CaseView>>();
    if (
      changed.length > 1 &&
      (changed.length * 10 >= listing.length || changed.length > MAX_CHANGED_ONE_BY_ONE)
    ) {
      for await (const page of detailPages(session.api, listing.length, options.pageSize)) {
        for (const detail of page) {
          // Unchanged cases come from the cache; cases that arrived after the listing wait for the next inbox.
          if (!wanted.has(detail.case)) continue;
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
        const seen = () => session.state.memory(item.case)?.seen ?? 0;
        const known = () => session.knownAtStart.get(item.case);
        const hit = cached.get(item.case);
        if (hit)
          return inboxEntry(item, { ...hit, intact: true, problems: [] }, seen(), known(), now);
        const view = await (views.get(item.case) ?? open(await session.api.getCase(item.case)));
        await session.remember(view, false, false);
        const part = casePart(item, view);
        if (view.intact) {
          const { intact: _, problems: __, ...kept } = part;
          cache.put(kept);
        } else cache.drop(item.case);
        return inboxEntry(item, part, seen(), known(), now);
      },
    );
    cache.keepOnly(new Set(listing.map((item) => item.case)));
    await cache.save();
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
