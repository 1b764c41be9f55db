/**
 * The Kluis drop-box server: a Hono app that stores ciphertext, issues case
 * numbers and serves the built reporter page. `createApp` takes everything
 * from outside (store, settings, bundles, secret, clock), so tests run it
 * with `app.request()` against a real store in a temporary directory.
 */

import { Hono, type MiddlewareHandler } from 'hono';
import {
  secureRandom,
  type RandomSource,
  type SignatureVerifier,
  type VerifiedBundle,
} from '../crypto/index.js';
import { LoginThrottle, type NonceMemory, signedNotBefore } from './auth.js';
import { attachLease, BodyBudget } from './budget.js';
import { DEFAULTS } from './config.js';
import type { Deps, Settings } from './deps.js';
import {
  describeFailure,
  HttpError,
  isClientGone,
  MethodNotAllowedError,
  NotFoundError,
} from './errors.js';
import { ExpiringSet } from './expiring-set.js';
import { type DiskFree, StoreQuota } from './quota.js';
import type { CaseRecord, CaseSummary } from './records.js';
import { SpentTickets, type TicketLedger } from './spent-tickets.js';
import { BasicGate, DEFAULT_GATE_LIMITS, type GateLimits } from './basic/gate.js';
import { readSiteConfig } from './basic/texts.js';
import { pageParties } from './page-keys.js';
import { basicRoutes } from './routes/basic.js';
import { caseRoutes } from './routes/cases.js';
import { counsellorRoutes } from './routes/counsellor.js';
import { handoverRoutes } from './routes/handover.js';
import { publicRoutes } from './routes/public.js';
import { uploadRoutes } from './routes/uploads.js';
import type { StaticFile } from './static.js';
import type { Store } from './store/index.js';

/** What createApp needs. */
export interface AppOptions {
  readonly store: Store<CaseRecord, CaseSummary>;
  readonly settings: Settings;
  readonly counsellors: readonly VerifiedBundle[];
  readonly escalation: readonly VerifiedBundle[];
  /** 32 bytes that key the ticket MACs; kept in the data directory. */
  readonly secret: Uint8Array;
  /** The built reporter page by URL path (see static.ts); empty when not built. */
  readonly page?: ReadonlyMap<string, StaticFile>;
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
  readonly random?: RandomSource;
  /** Ed25519 verifier for signed requests (the native one in production). */
  readonly verifier?: SignatureVerifier;
  /** Where to report unexpected errors (never request data). */
  readonly logError?: (message: string) => void;
  /** Spent tickets read back from the data directory (openSpentTickets), or in the database (PgSpentTickets); in memory only if absent. */
  readonly spentTickets?: TicketLedger;
  /** Nonces of signed requests: in this process if absent; in the database with several processes (PgNonces). */
  readonly nonces?: NonceMemory;
  /** Free bytes on the data directory's disk (statfs in production); without it there is no free-space floor. */
  readonly diskFree?: DiskFree | undefined;
  /** Most request-body bytes held in memory at once, across all requests (see budget.ts). */
  readonly bodyBudgetBytes?: number;
  /** What the no-JavaScript pages accept per hour and at once (basic/gate.ts; defaults there). */
  readonly basicLimits?: GateLimits;
  /** The cases' bytes summed by the store (QuotaOptions.totalBytes); from summaries() if absent. */
  readonly totalBytes?: (() => Promise<number>) | undefined;
}

/** Default memory budget for request bodies in flight (KLUIS_BODY_MEMORY_MB's default). */
export const DEFAULT_BODY_BUDGET_BYTES = DEFAULTS.bodyMemoryMb * 1024 * 1024;

/** Content-Security-Policy of every response: nothing but this origin, no inline code, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Content-Security-Policy of the no-JavaScript pages (/basic/): no script at all, the one same-origin
 * style sheet, and forms that post to this origin only. Everything else keeps the policy above.
 */
export const BASIC_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = new TextEncoder().encode(
  '<!doctype html><html lang="en"><meta charset="utf-8"><title>Kluis</title><p>The reporter page has not been built. Run <code>npm run build</code> and restart.</p></html>',
);

/** Every API route and the methods it answers (for 405 rather than 404 on a wrong method, and for the fuzz tests). */
export const ROUTES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['/api/v1/health', ['GET']],
  ['/api/v1/info', ['GET']],
  ['/api/v1/tickets', ['POST']],
  ['/api/v1/cases', ['POST']],
  ['/api/v1/cases/:case', ['GET']],
  ['/api/v1/cases/:case/messages', ['POST']],
  ['/api/v1/cases/:case/uploads', ['POST']],
  ['/api/v1/cases/:case/uploads/:id', ['GET', 'PATCH']],
  ['/api/v1/cases/:case/blobs/:id', ['GET']],
  ['/api/v1/counsellor/cases', ['GET']],
  ['/api/v1/counsellor/case-details', ['GET']],
  ['/api/v1/counsellor/cases/:case', ['GET', 'DELETE']],
  ['/api/v1/counsellor/cases/:case/notes', ['POST']],
  ['/api/v1/counsellor/cases/:case/forward', ['POST']],
];

/** Builds the app. */
export function createApp(options: AppOptions): Hono {
  const keys = new Map<string, VerifiedBundle>();
  for (const bundle of [...options.counsellors, ...options.escalation])
    keys.set(bundle.fingerprint, bundle);
  const now = options.now ?? Date.now;
  const deps: Deps = {
    store: options.store,
    settings: options.settings,
    counsellors: options.counsellors,
    escalation: options.escalation,
    keys,
    secret: options.secret,
    now,
    random: options.random ?? secureRandom,
    verifier: options.verifier,
    throttle: new LoginThrottle(),
    // The nonce memory starts empty, so requests timed before this app could have seen them are refused.
    signed: {
      origins: options.settings.origins,
      notBefore: signedNotBefore(now()),
      nonces: options.nonces ?? new ExpiringSet(100_000),
    },
    spentTickets: options.spentTickets ?? new SpentTickets(1_000_000),
    quota: new StoreQuota({
      store: options.store,
      maxStoreBytes: options.settings.maxStoreBytes,
      minFreeBytes: options.settings.minFreeBytes,
      diskFree: options.diskFree,
      totalBytes: options.totalBytes,
      now: options.now ?? Date.now,
      ...(options.logError ? { warn: options.logError } : {}),
    }),
  };
  const budget = new BodyBudget(options.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET_BYTES);
  const page = options.page ?? new Map<string, StaticFile>();
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    const headers = c.res.headers;
    const basicPage = c.req.path === '/basic' || c.req.path.startsWith('/basic/');
    headers.set(
      'Content-Security-Policy',
      basicPage ? BASIC_CONTENT_SECURITY_POLICY : CONTENT_SECURITY_POLICY,
    );
    headers.set('Referrer-Policy', 'no-referrer');
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('X-Frame-Options', 'DENY');
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    headers.set(
      'Permissions-Policy',
      'camera=(), microphone=(), geolocation=(), interest-cohort=()',
    );
    // Nothing is cached anywhere: a shared computer's browser cache must not show a visit.
    headers.set('Cache-Control', 'no-store');
    headers.delete('Set-Cookie');
    if (deps.settings.onion)
      headers.set('Onion-Location', `http://${deps.settings.onion}${new URL(c.req.url).pathname}`);
  });

  // Every API or no-JavaScript request's body counts against the memory budget until the request is over.
  const leased: MiddlewareHandler = async (c, next) => {
    const lease = budget.lease();
    attachLease(c.req.raw, lease);
    try {
      await next();
    } finally {
      lease.release();
    }
    // A refusal before the body was read: close the connection rather than read the rest.
    const length = c.req.header('content-length');
    const hasBody =
      (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
    if (c.res.status >= 400 && hasBody && !lease.complete) c.res.headers.set('Connection', 'close');
  };
  app.use('/api/*', leased);
  app.use('/basic/*', leased);

  const api = new Hono();
  api.route('/', publicRoutes(deps));
  api.route('/', caseRoutes(deps));
  api.route('/', uploadRoutes(deps));
  api.route('/', counsellorRoutes(deps));
  api.route('/', handoverRoutes(deps));
  app.route('/api/v1', api);
  app.route(
    '/',
    basicRoutes(deps, {
      parties: pageParties(page, options.counsellors),
      site: readSiteConfig(page),
      gate: new BasicGate(options.basicLimits ?? DEFAULT_GATE_LIMITS, now),
    }),
  );
  for (const [path, methods] of ROUTES) {
    app.all(path, () => {
      throw new MethodNotAllowedError(`use ${methods.join(' or ')}`);
    });
  }

  app.get('*', (c) => {
    const path = c.req.path;
    if (path.startsWith('/api/')) throw new NotFoundError('no such route');
    const file = page.get(path === '/' ? '/index.html' : path);
    if (file) {
      // Compressed for a browser that takes it (the page's scripts shrink to a third: over Tor,
      // about half a second less to a ready page); the same bytes once decoded.
      if (file.gzip && /\bgzip\b/i.test(c.req.header('accept-encoding') ?? ''))
        return c.body(file.gzip as Uint8Array<ArrayBuffer>, 200, {
          'Content-Type': file.type,
          'Content-Encoding': 'gzip',
          Vary: 'Accept-Encoding',
        });
      return c.body(file.body as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': file.type,
        ...(file.gzip ? { Vary: 'Accept-Encoding' } : {}),
      });
    }
    if (path === '/' && page.size === 0)
      return c.body(NOT_BUILT, 503, { 'Content-Type': 'text/html; charset=utf-8' });
    throw new NotFoundError('no such page');
  });

  app.notFound((c) => c.json({ error: { code: 'not-found', message: 'no such route' } }, 404));

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      return c.json(
        { error: { code: error.code, message: error.message }, ...error.details },
        error.status,
      );
    }
    // The client went away mid-request (routine over Tor): no one reads the answer, and nothing is logged.
    if (isClientGone(error, c.req.raw)) return c.body(null, 400);
    // A bug or a failing disk. The route pattern is logged, never the path, headers or body, and of
    // the error only what names no case (describeFailure): each log line carries a precise time.
    options.logError?.(
      `internal error on ${c.req.method} ${c.req.routePath}: ${describeFailure(error)}`,
    );
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });

  return app;
}
