/**
 * The counsellor's local app: a small HTTP server on 127.0.0.1 only, on a
 * random port, serving the built Preact UI and a JSON API over the same
 * library the CLI uses (lib/session.ts). Never served from the drop-box
 * server.
 *
 * Defences, because any web page the counsellor opens can send requests
 * to 127.0.0.1:
 * - every /api request needs the random token (header `Kluis-App-Token`),
 *   compared in constant time; the token travels in the URL fragment, so
 *   the browser never sends it anywhere by itself;
 * - every request whose Host is not exactly 127.0.0.1:<port> is refused
 *   (DNS rebinding), and every request carrying an Origin other than
 *   http://127.0.0.1:<port> (other local pages);
 * - API writes must be application/json (no simple cross-site form posts);
 * - strict CSP (default-src 'self', no inline script), no-store, no
 *   referrer, nosniff, frame-ancestors 'none'.
 *
 * The passphrase is typed in the page, sent only here, and used once to
 * unlock the key file; the unlocked identity stays in this process's
 * memory until `lock` or exit.
 * @module
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import {
  type CaseStatus,
  displayFingerprint,
  parseCaseNumber,
  verifyBundle,
} from '../../../crypto/index.js';
import { CounsellorError, IntegrityError, UsageError } from '../lib/errors.js';
import { exportCase } from '../lib/export.js';
import { readKeyFile, unlockKeyFile } from '../lib/keys.js';
import { checkPageOnUnlock, type PageCheckReport } from '../lib/verify-page.js';
import { safeLine } from '../lib/sanitize.js';
import { CounsellorSession } from '../lib/session.js';
import { caseViewJson, inboxJson } from './views.js';

export const TOKEN_HEADER = 'kluis-app-token';

const STATUSES: readonly CaseStatus[] = ['received', 'in-conversation', 'forwarded', 'closed'];

export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface AppOptions {
  /** The key file to unlock. */
  readonly keyPath: string;
  /** The drop-box server. */
  readonly server: string;
  readonly proxy?: string | undefined;
  /** The counsellor's own build of the reporter page, checked against the live page on every unlock. */
  readonly pageBuild?: string | undefined;
  /** The built UI (index.html and assets/). */
  readonly staticDir: string;
  /** 0 (default) for a random free port. */
  readonly port?: number;
  /** For tests; a fresh random token by default. */
  readonly token?: string;
}

export interface RunningApp {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** The page check with every server-supplied or local text made safe to show. */
function safePageCheck(report: PageCheckReport): PageCheckReport {
  switch (report.state) {
    case 'different':
      return { ...report, url: safeLine(report.url), differences: report.differences.map(safeLine) };
    case 'failed':
      return { ...report, url: safeLine(report.url), reason: safeLine(report.reason) };
    default:
      return report;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 415 | 421,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time comparison of a presented token with the expected one (hashes of equal length). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function caseParam(value: string): string {
  try {
    return parseCaseNumber(value);
  } catch {
    throw new HttpError(400, 'invalid-case-number', 'not a case number');
  }
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(415, 'unsupported-media-type', 'send application/json');
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new HttpError(400, 'malformed-json', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'invalid-body', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, field: string, optional = false): string {
  const value = body[field];
  if (value === undefined && optional) return '';
  if (typeof value !== 'string')
    throw new HttpError(400, 'invalid-body', `${field} must be a string`);
  return value;
}

/** The JSON error for a library error: its kind, exit code and problems, shown loudly by the UI. */
function errorJson(error: unknown): { status: number; body: unknown } {
  if (error instanceof HttpError)
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof CounsellorError) {
    const problems = error instanceof IntegrityError ? error.problems.map(safeLine) : [];
    return {
      status: error instanceof UsageError ? 400 : 409,
      body: {
        error: {
          code: error.name,
          exitCode: error.exitCode,
          message: safeLine(error.message),
          problems,
        },
      },
    };
  }
  console.error('counsellor app: unexpected error:', error);
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'unexpected error (see the terminal)' } },
  };
}

/** Starts the local app. */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticDir = resolve(options.staticDir);
  let session: CounsellorSession | undefined;
  let port = 0;
  const origin = () => `http://127.0.0.1:${port}`;

  const requireSession = (): CounsellorSession => {
    if (!session) throw new HttpError(401, 'locked', 'unlock the key file first');
    return session;
  };

  const app = new Hono();

  app.use('*', async (c, next) => {
    // DNS rebinding and other local pages: exact Host, and Origin when present.
    const host = c.req.header('host');
    if (host !== `127.0.0.1:${port}`)
      return c.json({ error: { code: 'wrong-host', message: 'wrong Host' } }, 421);
    const requestOrigin = c.req.header('origin');
    if (requestOrigin !== undefined && requestOrigin !== origin())
      return c.json({ error: { code: 'wrong-origin', message: 'wrong Origin' } }, 403);
    const fetchSite = c.req.header('sec-fetch-site');
    if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none')
      return c.json({ error: { code: 'wrong-origin', message: 'cross-site request' } }, 403);
    await next();
    c.header('Content-Security-Policy', APP_CSP);
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('Cache-Control', 'no-store');
  });

  app.use('/api/*', async (c, next) => {
    if (!tokenMatches(c.req.header(TOKEN_HEADER), token))
      return c.json({ error: { code: 'unauthorized', message: 'missing or wrong app token' } }, 401);
    await next();
  });

  app.onError((error, c) => {
    const { status, body } = errorJson(error);
    return c.json(body, status as 400);
  });

  app.get('/api/state', async (c) => {
    const keyFile = await readKeyFile(options.keyPath);
    return c.json({
      unlocked: session !== undefined,
      keyPath: options.keyPath,
      server: options.server,
      role: keyFile.bundle.role,
      name: safeLine(keyFile.bundle.name),
      fingerprint: session ? displayFingerprint(session.fingerprint) : null,
    });
  });

  app.post('/api/unlock', async (c) => {
    const passphrase = stringField(await jsonBody(c), 'passphrase');
    await readKeyFile(options.keyPath);
    const identity = await unlockKeyFile(options.keyPath, passphrase);
    const opened = await CounsellorSession.open({
      identity,
      server: options.server,
      proxy: options.proxy,
      stateDir: join(options.keyPath, '..'),
    });
    session?.close();
    session = opened;
    // Every unlock compares the live reporter page with the counsellor's own build, through the proxy.
    const pageCheck = await checkPageOnUnlock(opened.api, new URL('/', opened.api.base), options.pageBuild);
    let newlyTrusted: { role: string; fingerprint: string; name: string }[] = [];
    let untrusted: string[] = [];
    let demo = false;
    try {
      const info = await opened.serverInfo();
      demo = info.raw.demo;
      newlyTrusted = info.newlyTrusted.map((k) => ({
        role: k.role,
        fingerprint: displayFingerprint(k.fingerprint),
        name: safeLine(k.name),
      }));
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      untrusted = error.problems.map(safeLine); // shown with a trust button
    }
    return c.json({
      unlocked: true,
      fingerprint: displayFingerprint(opened.fingerprint),
      role: opened.role,
      demo,
      newlyTrusted,
      untrusted,
      pageCheck: safePageCheck(pageCheck),
    });
  });

  app.post('/api/lock', (c) => {
    session?.close();
    session = undefined;
    return c.json({ unlocked: false });
  });

  app.get('/api/server-keys', async (c) => {
    const s = requireSession();
    const raw = await s.api.info();
    const keys = [...raw.counsellors, ...raw.escalation].map((value) => {
      try {
        const b = verifyBundle(value, s.verifier);
        return { role: b.role, fingerprint: displayFingerprint(b.fingerprint), name: safeLine(b.name), ok: true };
      } catch {
        return { role: '?', fingerprint: '', name: '', ok: false };
      }
    });
    return c.json({ keys });
  });

  app.post('/api/trust', async (c) => {
    const s = requireSession();
    const { added, removed } = await s.trustServerKeys();
    return c.json({ added: added.length, removed: removed.length });
  });

  app.get('/api/inbox', async (c) => {
    const inbox = await requireSession().inbox();
    return c.json({ ...inboxJson(inbox), role: requireSession().role });
  });

  app.get('/api/escalation', async (c) => {
    const info = await requireSession().serverInfo();
    return c.json({
      recipients: info.escalation.map((b) => ({
        fingerprint: b.fingerprint,
        display: displayFingerprint(b.fingerprint),
        name: safeLine(b.name),
      })),
    });
  });

  app.get('/api/cases/:case', async (c) => {
    const s = requireSession();
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
    const result = await requireSession().reply(
      caseParam(c.req.param('case')),
      text,
      (attach as string[]).map((f) => resolve(f)),
    );
    return c.json({ seq: result.seq, attachments: result.attachments.length });
  });

  app.post('/api/cases/:case/status', async (c) => {
    const body = await jsonBody(c);
    const status = stringField(body, 'status') as CaseStatus;
    if (!STATUSES.includes(status))
      throw new HttpError(400, 'invalid-body', `status must be one of ${STATUSES.join(', ')}`);
    const result = await requireSession().setStatus(
      caseParam(c.req.param('case')),
      status,
      stringField(body, 'text', true),
    );
    return c.json({ seq: result.seq });
  });

  app.post('/api/cases/:case/ack', async (c) => {
    const body = await jsonBody(c);
    const text = stringField(body, 'text', true);
    const result = await requireSession().acknowledge(
      caseParam(c.req.param('case')),
      text.trim() === '' ? undefined : text,
    );
    return c.json({ seq: result.seq, receivedDate: result.receivedDate });
  });

  app.post('/api/cases/:case/notes', async (c) => {
    const body = await jsonBody(c);
    const result = await requireSession().addNote(
      caseParam(c.req.param('case')),
      stringField(body, 'text').replace(/\s+$/, ''),
    );
    return c.json({ seq: result.seq });
  });

  app.post('/api/cases/:case/forward', async (c) => {
    const s = requireSession();
    const body = await jsonBody(c);
    const to = stringField(body, 'to');
    const info = await s.serverInfo();
    // The recipient's bundle as the server publishes it (its keys were trusted: see trust).
    const index = info.escalation.findIndex((b) => b.fingerprint === to);
    if (index < 0)
      throw new HttpError(400, 'invalid-body', 'to must be the fingerprint of an escalation recipient the server lists');
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
    const s = requireSession();
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
    const result = await exportCase(requireSession(), caseParam(c.req.param('case')), resolve(dir));
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
    await requireSession().deleteCase(caseNumber);
    return c.json({ deleted: true });
  });

  app.all('/api/*', (c) => c.json({ error: { code: 'not-found', message: 'no such route' } }, 404));

  // The built UI: index.html at /, files under /assets/.
  app.get('*', async (c) => {
    const path = c.req.path === '/' ? '/index.html' : c.req.path;
    const file = normalize(join(staticDir, path));
    if (!file.startsWith(staticDir + sep) || !TYPES[extname(file)])
      return c.text('not found', 404);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return c.text('not found', 404);
    }
    return c.body(new Uint8Array(bytes), 200, { 'Content-Type': TYPES[extname(file)]! });
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolveServer) => {
    const s = serve(
      { fetch: app.fetch, hostname: '127.0.0.1', port: options.port ?? 0 },
      () => resolveServer(s),
    );
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `${origin()}/#token=${token}`,
    origin: origin(),
    port,
    token,
    close: () =>
      new Promise<void>((done) => {
        session?.close();
        session = undefined;
        server.close(() => done());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
