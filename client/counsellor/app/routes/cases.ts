/**
 * The local app's routes that read cases: the inbox (with the
 * counsellor's labels and the words for a local search kept in memory),
 * the search over them, one case, its labels, the escalation recipients,
 * and the statistics. Every case is opened and checked by the same
 * library the CLI uses.
 * @module
 */

import { Hono } from 'hono';
import { displayFingerprint } from '../../../../crypto/index.js';
import { matchesSearch } from '../../lib/facts.js';
import type { Inbox } from '../../lib/inbox.js';
import { safeLine } from '../../lib/sanitize.js';
import type { CounsellorSession } from '../../lib/session.js';
import { computeStatistics } from '../../lib/stats.js';
import { caseParam, HttpError, jsonBody } from '../http.js';
import type { AppDeps } from '../server.js';
import { caseViewJson, inboxJson, type ViewContext } from '../views.js';

/** The labels, the server's retention (GET /info), the counsellors: what the views add to the library's. */
export async function viewContext(s: CounsellorSession): Promise<ViewContext> {
  const info = await s.serverInfo();
  return {
    labels: (c) => s.state.labels(c),
    allLabels: s.state.allLabels(),
    retentionDays: info.raw.retentionDays,
    counsellors: info.counsellors.map((b) => ({
      fingerprint: b.fingerprint,
      display: displayFingerprint(b.fingerprint),
      name: safeLine(b.name),
      me: b.fingerprint === s.fingerprint,
    })),
  };
}

/** The /api routes that read cases, built from the app's options and session holder. */
export function caseRoutes({ sessions }: AppDeps): Hono {
  const app = new Hono();
  /** Reads the inbox and keeps its search words (in this process's memory only). */
  const readInbox = async (): Promise<{ s: CounsellorSession; inbox: Inbox }> => {
    const s = sessions.require();
    const inbox = await s.inbox();
    if (sessions.current() === s)
      sessions.searchIndex = new Map(inbox.entries.map((e) => [e.caseNumber, e.searchText]));
    return { s, inbox };
  };

  app.get('/api/inbox', async (c) => {
    const { s, inbox } = await readInbox();
    return c.json({
      ...inboxJson(inbox, await viewContext(s)),
      role: s.role,
    });
  });

  app.get('/api/search', async (c) => {
    const query = (c.req.query('q') ?? '').slice(0, 500);
    if (sessions.searchIndex.size === 0) await readInbox();
    const cases = [...sessions.searchIndex]
      .filter(([, text]) => matchesSearch(text, query))
      .map(([caseNumber]) => caseNumber);
    return c.json({ cases });
  });

  app.get('/api/stats', async (c) => {
    const raw = c.req.query('year');
    const year = raw === undefined || raw === '' ? undefined : Number(raw);
    if (year !== undefined && !(Number.isInteger(year) && year >= 2000 && year <= 9999))
      throw new HttpError(400, 'invalid-query', 'year must be a year');
    const { s, inbox } = await readInbox();
    return c.json({ ...computeStatistics(inbox.entries, { year }), role: s.role });
  });

  app.get('/api/escalation', async (c) => {
    const info = await sessions.require().serverInfo();
    return c.json({
      recipients: info.escalation.map((b) => ({
        fingerprint: b.fingerprint,
        display: displayFingerprint(b.fingerprint),
        name: safeLine(b.name),
      })),
    });
  });

  app.get('/api/cases/:case', async (c) => {
    const s = sessions.require();
    const view = await s.openCase(caseParam(c.req.param('case')));
    await s.markRead(view);
    return c.json(caseViewJson(view, { notes: s.role === 'counsellor' }, await viewContext(s)));
  });

  app.put('/api/cases/:case/labels', async (c) => {
    const s = sessions.require();
    const caseNumber = caseParam(c.req.param('case'));
    const labels = (await jsonBody(c)).labels;
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string'))
      throw new HttpError(400, 'invalid-body', 'labels must be a list of texts');
    const saved = s.state.setLabels(caseNumber, labels as string[]);
    await s.state.save();
    return c.json({ labels: saved, all: s.state.allLabels() });
  });
  return app;
}
