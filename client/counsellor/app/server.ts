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
 * - API writes must be application/json, or multipart/form-data for a
 *   reply with files (every one still needs the token header, so a
 *   cross-site form cannot send it);
 * - a download (attachment, export) follows a one-time link made by an
 *   API call with the token, valid for a minute;
 * - strict CSP (default-src 'self', no inline script), no-store, no
 *   referrer, nosniff, frame-ancestors 'none'.
 *
 * The passphrase is typed in the page, sent only here, and used once to
 * unlock the key file; the unlocked identity stays in this process's
 * memory until `lock`, the idle lock (holder.ts) or exit.
 * @module
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createSessionHolder, type SessionHolder } from './holder.js';
import { errorJson, tokenMatches } from './http.js';
import { actionRoutes } from './routes/actions.js';
import { caseRoutes } from './routes/cases.js';
import { fileRoutes } from './routes/files.js';
import { sessionRoutes } from './routes/session.js';

export type { SessionHolder } from './holder.js';

export { tokenMatches } from './http.js';

export const TOKEN_HEADER = 'kluis-app-token';

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
  /** Minutes without activity before the app locks itself (default 10). */
  readonly idleMinutes?: number | undefined;
}

/** The idle lock's default, in minutes. */
export const DEFAULT_IDLE_MINUTES = 10;

/** What the routes of the local app are built from. */
export interface AppDeps {
  readonly options: AppOptions;
  /** The unlocked session, if any (one per app process). */
  readonly sessions: SessionHolder;
}

export interface RunningApp {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** Starts the local app. */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticDir = resolve(options.staticDir);
  const sessions = createSessionHolder({
    idleMinutes: options.idleMinutes ?? DEFAULT_IDLE_MINUTES,
  });
  let port = 0;
  const origin = () => `http://127.0.0.1:${port}`;

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
      return c.json(
        { error: { code: 'unauthorized', message: 'missing or wrong app token' } },
        401,
      );
    // Anything but the page's look at the state is the counsellor's doing: the idle lock starts over.
    if (!(c.req.method === 'GET' && c.req.path === '/api/state')) sessions.touch();
    await next();
  });

  app.onError((error, c) => {
    const { status, body } = errorJson(error);
    return c.json(body, status as 400);
  });

  const deps: AppDeps = { options, sessions };
  app.route('/', sessionRoutes(deps));
  app.route('/', caseRoutes(deps));
  app.route('/', actionRoutes(deps));
  app.route('/', fileRoutes(deps));
  app.all('/api/*', (c) => c.json({ error: { code: 'not-found', message: 'no such route' } }, 404));

  app.get('*', async (c) => {
    const path = c.req.path === '/' ? '/index.html' : c.req.path;
    const file = normalize(join(staticDir, path));
    if (!file.startsWith(staticDir + sep) || !TYPES[extname(file)]) return c.text('not found', 404);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return c.text('not found', 404);
    }
    return c.body(new Uint8Array(bytes), 200, { 'Content-Type': TYPES[extname(file)]! });
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolveServer) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: options.port ?? 0 }, () =>
      resolveServer(s),
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
        sessions.close();
        server.close(() => done());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
