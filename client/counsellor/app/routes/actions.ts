/**
 * The local app's routes that write in a case: reply (with files picked
 * in the browser, sent here as multipart and encrypted here before they
 * are uploaded; never written to disk), status, acknowledgement, private
 * note, assignment (a signed private note, assign.ts), forward (only with
 * the reporter's consent: the library refuses otherwise), handover to a
 * colleague (confirmed), delete. Each through the same library the CLI uses.
 * @module
 */

import { Hono } from 'hono';
import {
  CASE_STATUSES,
  type CaseStatus,
  displayFingerprint,
  parseCaseNumber,
} from '../../../../crypto/index.js';
import { assignCase } from '../../lib/assign.js';
import type { MemoryFile } from '../../lib/attachments.js';
import { UsageError } from '../../lib/errors.js';
import { safeLine } from '../../lib/sanitize.js';
import { caseParam, HttpError, jsonBody, stringField } from '../http.js';
import type { AppDeps } from '../server.js';

/** Most files on one reply (as the protocol allows on one message). */
const MAX_FILES = 100;

/** The text and files of a reply: JSON `{ text }`, or multipart with `text` and `file` fields. */
async function replyBody(
  c: Parameters<typeof jsonBody>[0],
): Promise<{ text: string; files: MemoryFile[] }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type))
    return { text: stringField(await jsonBody(c), 'text'), files: [] };
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw new HttpError(400, 'invalid-body', 'the body is not multipart form data');
  }
  const text = form.get('text');
  if (typeof text !== 'string') throw new HttpError(400, 'invalid-body', 'text must be a string');
  const files: MemoryFile[] = [];
  for (const value of form.getAll('file')) {
    if (typeof value === 'string') throw new HttpError(400, 'invalid-body', 'file must be a file');
    if (value.size === 0 && value.name === '') continue; // an empty file input
    files.push({
      name: value.name,
      type: value.type,
      bytes: new Uint8Array(await value.arrayBuffer()),
    });
  }
  if (files.length > MAX_FILES)
    throw new HttpError(400, 'invalid-body', `at most ${MAX_FILES} files`);
  return { text, files };
}

/** The /api routes that write in a case, built from the app's session holder. */
export function actionRoutes({ sessions }: AppDeps): Hono {
  const app = new Hono();
  app.post('/api/cases/:case/reply', async (c) => {
    const { text, files } = await replyBody(c);
    const result = await sessions
      .require()
      .reply(caseParam(c.req.param('case')), text.replace(/\s+$/, ''), files);
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
    const text = stringField(await jsonBody(c), 'text', true);
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

  app.post('/api/cases/:case/assign', async (c) => {
    const to = stringField(await jsonBody(c), 'to');
    const result = await assignCase(
      sessions.require(),
      caseParam(c.req.param('case')),
      to === '' ? null : to,
    );
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

  // Handing the case to a colleague (handover.ts): the page asks the counsellor to confirm first.
  app.post('/api/cases/:case/handover', async (c) => {
    const body = await jsonBody(c);
    if (body.confirm !== true)
      throw new UsageError('confirm the handover first; nothing was handed over');
    const result = await sessions
      .require()
      .handover(
        caseParam(c.req.param('case')),
        stringField(body, 'to'),
        stringField(body, 'text', true),
      );
    return c.json({
      seq: result.seq ?? null,
      to: `${safeLine(result.to.name)} (${displayFingerprint(result.to.fingerprint)})`,
      keys: result.keys + result.noteKeys,
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
      throw new UsageError(
        'type the case number to confirm; nothing was deleted',
        'confirm-case-number',
      );
    await sessions.require().deleteCase(caseNumber);
    return c.json({ deleted: true });
  });
  return app;
}
