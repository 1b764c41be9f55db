/**
 * Downloads through the browser's own download: an attachment decrypted
 * here and streamed to the browser as it is decrypted, or a case
 * exported as plain text. Nothing is written to disk by this process;
 * the browser saves where the counsellor chooses. A page call with the
 * token asks for a one-time link (valid for a minute, forgotten on lock);
 * the browser then follows it as a normal download.
 * @module
 */

import { Hono } from 'hono';
import { decryptedChunks } from '../../lib/attachments.js';
import { IntegrityError } from '../../lib/errors.js';
import { displayCase, formatCase } from '../../lib/format.js';
import { safeFileName } from '../../lib/sanitize.js';
import type { Download } from '../holder.js';
import { caseParam, HttpError, jsonBody } from '../http.js';
import type { AppDeps } from '../server.js';

/** `attachment; filename*=UTF-8''…` with an ASCII fallback. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The download routes, built from the app's session holder. */
export function fileRoutes({ sessions }: AppDeps): Hono {
  const app = new Hono();
  app.post('/api/cases/:case/download', async (c) => {
    sessions.require();
    const caseNumber = caseParam(c.req.param('case'));
    const body = await jsonBody(c);
    let download: Download;
    if (body.export === true) download = { kind: 'export', case: caseNumber };
    else {
      const { message, n } = body;
      if (!Number.isSafeInteger(message) || !Number.isSafeInteger(n))
        throw new HttpError(400, 'invalid-body', 'name the message and the attachment');
      download = {
        kind: 'attachment',
        case: caseNumber,
        message: message as number,
        n: n as number,
      };
    }
    return c.json({ url: sessions.downloadLink(download) });
  });

  // No token here: the ticket in the path is the one-time permission (Host and Origin are checked).
  app.get('/download/:ticket', async (c) => {
    const download = sessions.takeDownload(c.req.param('ticket'));
    const s = sessions.current();
    if (!download || !s) return c.text('This download link has expired. Try again.', 410);
    const view = await s.openCase(download.case);
    if (download.kind === 'export') {
      await s.markRead(view);
      return c.body(formatCase(view, { notes: s.role === 'counsellor' }), 200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Disposition': disposition(`kluis-${displayCase(view.caseNumber)}.txt`),
      });
    }
    const message = view.messages[download.message];
    const content = message?.content;
    const ref =
      message?.ok && content && (content.type === 'report' || content.type === 'message')
        ? content.attachments[download.n]
        : undefined;
    if (!ref) return c.text('No such attachment.', 404);
    if (!view.intact)
      throw new IntegrityError(
        `case ${download.case} does not verify; not opening its attachments`,
        [...view.problems],
        'case-not-verified',
      );
    const chunks = decryptedChunks(s.api, view.caseNumber, ref);
    // The first piece before answering: a refused or broken download fails here, not half-way.
    const first = await chunks.next();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(first.value);
        else controller.close();
      },
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          // The browser marks the download failed; nothing unverified is left as complete.
          console.error(`counsellor app: ${(error as Error).message}`);
          controller.error(error);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    return c.body(stream, 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(ref.size),
      'Content-Disposition': disposition(safeFileName(ref.name)),
    });
  });
  return app;
}
