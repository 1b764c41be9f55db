/**
 * The local app's routes for cases: the inbox, one case, and every action
 * on it (reply, status, acknowledgement, note, forward, save, export,
 * delete), each through the same library the CLI uses.
 * @module
 */

import { resolve } from 'node:path';
import { Hono } from 'hono';
import { CASE_STATUSES, type CaseStatus, displayFingerprint, parseCaseNumber } from '../../../../crypto/index.js';
import { IntegrityError, UsageError } from '../../lib/errors.js';
import { exportCase } from '../../lib/export.js';
import { safeLine } from '../../lib/sanitize.js';
import { caseViewJson, inboxJson } from '../views.js';
import { caseParam, HttpError, jsonBody, stringField } from '../http.js';
import type { AppDeps } from '../server.js';


/** The /api routes of cases, built from the app's session holder. */
export function caseRoutes({ sessions }: AppDeps): Hono {
  const app = new Hono();
  app.get('/api/inbox', async (c) => {
    const inbox = await sessions.require().inbox();
    return c.json({ ...inboxJson(inbox), role: sessions.require().role });
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
    return c.json(caseViewJson(view, { notes: s.role === 'counsellor' }));
  });

  app.post('/api/cases/:case/reply', async (c) => {
    const body = await jsonBody(c);
    const text = stringField(body, 'text').replace(/\s+$/, '');
    const attach = body.attach ?? [];
    if (!Array.isArray(attach) || attach.some((f) => typeof f !== 'string' || f === ''))
      throw new HttpError(400, 'invalid-body', 'attach must be a list of file paths');
    const result = await sessions.require().reply(
      caseParam(c.req.param('case')),
      text,
      (attach as string[]).map((f) => resolve(f)),
    );
    return c.json({ seq: result.seq, attachments: result.attachments.length });
  });

  app.post('/api/cases/:case/status', async (c) => {
    const body = await jsonBody(c);
    const status = stringField(body, 'status') as CaseStatus;
    if (!CASE_STATUSES.includes(status))
      throw new HttpError(400, 'invalid-body', `status must be one of ${CASE_STATUSES.join(', ')}`);
    const result = await sessions
      .require()
      .setStatus(caseParam(c.req.param('case')), status, stringField(body, 'text', true));
    return c.json({ seq: result.seq });
  });

  app.post('/api/cases/:case/ack', async (c) => {
    const body = await jsonBody(c);
    const text = stringField(body, 'text', true);
    const result = await sessions
      .require()
      .acknowledge(caseParam(c.req.param('case')), text.trim() === '' ? undefined : text);
    return c.json({ seq: result.seq, receivedDate: result.receivedDate });
  });

  app.post('/api/cases/:case/notes', async (c) => {
    const body = await jsonBody(c);
    const result = await sessions
      .require()
      .addNote(caseParam(c.req.param('case')), stringField(body, 'text').replace(/\s+$/, ''));
    return c.json({ seq: result.seq });
  });

  app.post('/api/cases/:case/forward', async (c) => {
    const s = sessions.require();
    const body = await jsonBody(c);
    const to = stringField(body, 'to');
    const info = await s.serverInfo();
    // The recipient's bundle as the server publishes it (its keys were trusted: see trust).
    const index = info.escalation.findIndex((b) => b.fingerprint === to);
    if (index < 0)
      throw new HttpError(
        400,
        'invalid-body',
        'to must be the fingerprint of an escalation recipient the server lists',
      );
    const result = await s.forward(
      caseParam(c.req.param('case')),
      info.raw.escalation[index],
      stringField(body, 'text', true),
    );
    return c.json({
      seq: result.seq,
      to: `${safeLine(result.to.name)} (${displayFingerprint(result.to.fingerprint)})`,
    });
  });

  app.post('/api/cases/:case/save', async (c) => {
    const s = sessions.require();
    const dir = stringField(await jsonBody(c), 'dir');
    if (dir.trim() === '') throw new HttpError(400, 'invalid-body', 'name a directory');
    const caseNumber = caseParam(c.req.param('case'));
    const view = await s.openCase(caseNumber);
    if (!view.intact)
      throw new IntegrityError(
        `case ${caseNumber} does not verify; not saving its attachments`,
        view.problems,
      );
    const saved = await s.saveAttachments(view, resolve(dir));
    return c.json({
      saved: saved.map((f) => ({ path: safeLine(f.path), size: f.size, name: f.originalName })),
    });
  });

  app.post('/api/cases/:case/export', async (c) => {
    const dir = stringField(await jsonBody(c), 'dir');
    if (dir.trim() === '') throw new HttpError(400, 'invalid-body', 'name a directory');
    const result = await exportCase(
      sessions.require(),
      caseParam(c.req.param('case')),
      resolve(dir),
    );
    return c.json({
      dir: safeLine(result.dir),
      files: result.files.length,
      attachments: result.attachments.length,
    });
  });

  app.post('/api/cases/:case/delete', async (c) => {
    const caseNumber = caseParam(c.req.param('case'));
    const confirmation = stringField(await jsonBody(c), 'confirm');
    let typed: string | undefined;
    try {
      typed = parseCaseNumber(confirmation);
    } catch {
      typed = undefined;
    }
    if (typed !== caseNumber)
      throw new UsageError('type the case number to confirm; nothing was deleted');
    await sessions.require().deleteCase(caseNumber);
    return c.json({ deleted: true });
  });

  app.all('/api/*', (c) => c.json({ error: { code: 'not-found', message: 'no such route' } }, 404));

  // The built UI: index.html at /, files under /assets/.
  return app;
}
