/**
 * `npm start`: reads the configuration from the environment, opens the
 * store, and serves the API and the built reporter page until SIGTERM or
 * SIGINT. Prints what it serves and where, never a secret (in demo mode the
 * demo key's passphrase is printed on purpose: it protects nothing real).
 */

import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { displayFingerprint, type VerifiedBundle } from '../crypto/index.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
import { createApp } from './app.js';
import { DEFAULT_GATE_LIMITS } from './basic/gate.js';
import { loadBundles } from './bundles.js';
import { ConfigError, configFromEnv, configuredOrigins, redactUrl } from './config.js';
import { describeFailure } from './errors.js';
import { demoCounsellor } from './demo.js';
import {
  type CheckedStore,
  DataDirError,
  migrateOnStart,
  openCheckedStore,
  preflightDataDir,
} from './ops/startup.js';
import { sweep } from './retention.js';
import { Notifier } from './notify.js';
import { smtpMailer } from './notify-mail.js';
import { loadOrCreateSecret } from './secret.js';
import { pageKeyWarnings } from './page-keys.js';
import { type DatabaseState, openDatabaseState, purgeExpired } from './pg-state.js';
import type { CaseRecord, CaseSummary } from './records.js';
import { openSpentTickets, type SpentTickets, type TicketLedger } from './spent-tickets.js';
import { loadStaticFiles } from './static.js';
import { type Store, StoreError } from './store/index.js';

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** Time for a client to send its request headers (they come in one piece; Tor adds seconds, not minutes). */
const HEADERS_TIMEOUT_MS = 30_000;

function fail(message: string): never {
  console.error(`kluis: ${message}`);
  process.exit(1);
}

/** Ways for the command that starts the server to take part (scripts/start.ts builds the page). */
export interface MainHooks {
  /**
   * Runs once the keys are known (the configured ones, or the demo
   * counsellor's) and before the page is loaded: `npm start` builds the
   * page there, so that in demo mode it holds the demo key.
   */
  readonly preparePage?: (keys: {
    counsellors: readonly VerifiedBundle[];
    escalation: readonly VerifiedBundle[];
    demo: boolean;
  }) => Promise<void>;
}

/** Reads the configuration, opens the store and serves until SIGTERM or SIGINT. */
export async function main(hooks: MainHooks = {}): Promise<void> {
  let config: ReturnType<typeof configFromEnv>;
  let counsellors: VerifiedBundle[];
  let escalation: VerifiedBundle[] = [];
  try {
    config = configFromEnv(process.env);
    counsellors = config.counsellorsPath
      ? loadBundles(config.counsellorsPath, 'counsellor', 'KLUIS_COUNSELLORS')
      : [];
    if (config.escalationPath)
      escalation = loadBundles(config.escalationPath, 'escalation', 'KLUIS_ESCALATION');
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }

  const version = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

  // The data directory: writable, in this Kluis's format (migrated after a backup if older), checked.
  // Damaged cases are reported and set aside; the healthy ones are served (docs/DEPLOY.md).
  // Spent tickets before the store: the store's journal may hold spends a crash left there.
  let checked: CheckedStore | undefined;
  let spentTickets: TicketLedger;
  let store: Store<CaseRecord, CaseSummary>;
  let database: DatabaseState | undefined;
  if (config.databaseUrl !== undefined) {
    // The PostgreSQL store: the cases, spent tickets, nonces and ticket key live in the database
    // that every server process shares (docs/DEPLOY.md, "PostgreSQL"). The URL is never printed.
    try {
      database = await openDatabaseState(config.databaseUrl);
    } catch (error) {
      fail(`the database (KLUIS_DATABASE_URL) cannot be used: ${describeFailure(error)}`);
    }
    store = database.store;
    spentTickets = database.spentTickets;
  } else
    try {
      let files: SpentTickets;
      await preflightDataDir(config.dataDir);
      const migrated = await migrateOnStart(config.dataDir, process.env, version, (line) =>
        console.log(line),
      );
      if (migrated)
        console.log(
          `store migrated from format ${migrated.from} to ${migrated.to}; the copy from before is ${migrated.backup}`,
        );
      try {
        files = await openSpentTickets(config.dataDir, Date.now());
      } catch (error) {
        fail(
          `data directory ${config.dataDir}: spent tickets: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      checked = await openCheckedStore(config.dataDir, files.marks, (error) =>
        console.error(
          `kluis: writing cases from the journal into their files failed: ${describeFailure(error)}; tried again in a moment, the journal keeps them meanwhile`,
        ),
      );
      // From now on a spend is a mark in the store's journal, committed with the writes it pays for.
      files.ridesOn(checked.store);
      spentTickets = files;
      store = checked.store;
    } catch (error) {
      if (error instanceof DataDirError) fail(error.message);
      if (error instanceof StoreError) fail(`data directory ${config.dataDir}: ${error.message}`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
        fail(`data directory ${config.dataDir} is not writable by this user (${code})`);
      throw error;
    }
  const demo = counsellors.length === 0 ? await demoCounsellor(config.dataDir) : undefined;
  if (demo) counsellors = [demo.bundle];

  let secret: Uint8Array;
  try {
    secret = database?.secret ?? (await loadOrCreateSecret(config.dataDir));
  } catch (error) {
    fail(
      `data directory ${config.dataDir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  // Without KLUIS_ORIGINS (or an onion address) only this machine's own address is accepted, once the port is known.
  const origins = configuredOrigins(config);
  const defaultOrigins = origins.length === 0;

  await hooks.preparePage?.({ counsellors, escalation, demo: demo !== undefined });
  const page = loadStaticFiles(config.staticDir);
  const keyWarnings = pageKeyWarnings(page, counsellors, escalation);
  const app = createApp({
    store,
    spentTickets,
    ...(database
      ? { nonces: database.nonces, totalBytes: () => database.store.totalWeight() }
      : {}),
    settings: {
      powBits: config.powBits,
      maxFileBytes: config.maxFileBytes,
      maxCaseBytes: config.maxCaseBytes,
      maxStoreBytes: config.maxStoreBytes,
      minFreeBytes: config.minFreeBytes,
      demo: demo !== undefined,
      onion: config.onion,
      version,
      retentionDays: config.retentionDays,
      origins,
    },
    counsellors,
    escalation,
    secret,
    page,
    verifier: createNativeVerifier(),
    logError: (message) => console.error(`kluis: ${message}`),
    // With PostgreSQL the disk that fills is the database server's: its operator watches it.
    diskFree: database
      ? undefined
      : async () => {
          const stats = await statfs(config.dataDir).catch(() => undefined);
          return stats === undefined ? undefined : stats.bavail * stats.bsize;
        },
    bodyBudgetBytes: config.bodyMemoryBytes,
    basicLimits: { ...DEFAULT_GATE_LIMITS, perHour: config.basicPerHour },
  });

  // Counted before listening: an await between serve() and on('listening') would miss the event.
  const caseCount = await store.records.count();
  const server = serve({
    fetch: app.fetch,
    hostname: config.host,
    port: config.port,
    // A client that stalls is dropped: the headers must come within HEADERS_TIMEOUT_MS and the whole
    // request (one upload chunk, at most 1 MiB, over a slow Tor circuit) within the request timeout.
    serverOptions: { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: config.requestTimeoutMs },
  });
  // Connections beyond the cap are closed as they arrive (each one costs memory however little it sends).
  (server as Server).maxConnections = config.maxConnections;
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE')
      fail(
        `port ${config.port} on ${config.host} is taken; stop the other program or set KLUIS_PORT`,
      );
    if (error.code === 'EACCES')
      fail(`not allowed to listen on ${config.host}:${config.port}; use a port above 1023`);
    fail(`cannot listen on ${config.host}:${config.port}: ${error.message}`);
  });
  server.on('listening', () => {
    const { port } = server.address() as AddressInfo;
    if (defaultOrigins) origins.push(...loopbackOrigins(config.host, port));
    console.log(
      `Kluis ${version}: ${caseCount} cases in ${database ? 'the PostgreSQL database (KLUIS_DATABASE_URL)' : config.dataDir}`,
    );
    const [summary, ...damage] = checked?.lines ?? [];
    if (summary !== undefined) console.log(`  ${summary}`);
    // On stdout with the other start lines, in order (journald keeps both streams).
    for (const line of damage) console.log(`kluis: WARNING: ${line}`);
    if (checked?.damage)
      console.log(
        'kluis: WARNING: the store has damage; the healthy cases are served. See docs/DEPLOY.md, "Damaged cases", and run npm run check-store',
      );
    for (const bundle of counsellors)
      console.log(`  counsellor ${displayFingerprint(bundle.fingerprint)}  ${bundle.name}`);
    for (const bundle of escalation)
      console.log(`  escalation ${displayFingerprint(bundle.fingerprint)}  ${bundle.name}`);
    if (config.notify)
      console.log(
        `  notices: on the full hour, to ${config.notify.to.length} address(es), through ${redactUrl(config.notify.smtpUrl)}`,
      );
    console.log(`  counsellors' signed requests accepted for: ${origins.join(' ')}`);
    if (defaultOrigins)
      console.log(
        '  (set KLUIS_ORIGINS to the address counsellors use, e.g. the onion address: docs/DEPLOY.md)',
      );
    if (page.size === 0)
      console.log(
        `  reporter page not built (${config.staticDir}): run npm run build (from a release: kluis-server build-page, docs/DEPLOY.md)`,
      );
    for (const line of keyWarnings) console.log(`kluis: WARNING: ${line}`);
    if (demo) {
      console.log(
        'DEMO MODE: KLUIS_COUNSELLORS is not set, so a demo counsellor key was made. Do not use this for real reports.',
      );
      console.log(`  demo key file:   ${demo.keyFile}`);
      console.log(`  its passphrase:  ${demo.passphrase}`);
      console.log(
        `  open it with:    npm run counsellor -- inbox --key ${demo.keyFile} --server http://${config.host}:${port}`,
      );
    }
    console.log(`Kluis listening on http://${config.host}:${port}`);
  });

  const runSweep = () => {
    // On a shared database one process at a time sweeps (an advisory lock); the others skip.
    const swept = database
      ? database.store.exclusive(async () => {
          const now = Date.now();
          await purgeExpired(database.store.pool, now);
          return sweep(store, config.retentionDays, now);
        })
      : sweep(store, config.retentionDays, Date.now());
    swept.then(
      (report) => {
        if (report === undefined) return;
        const removed =
          report.closedCases +
          report.abandonedCases +
          report.incompleteUploads +
          report.orphanBlobs;
        if (removed > 0) console.log(`retention: removed ${JSON.stringify(report)}`);
      },
      (error: unknown) => console.error(`kluis: retention sweep failed: ${describeFailure(error)}`),
    );
  };
  runSweep();
  const timer = setInterval(runSweep, RETENTION_INTERVAL_MS);
  timer.unref();

  // Content-free notices to the counsellors, on the full hour (server/notify.ts).
  const notifier = config.notify
    ? new Notifier({
        summaries: () => store.records.summaries(),
        mailer: smtpMailer(config.notify),
        from: config.notify.from,
        to: config.notify.to,
        now: Date.now,
        log: (message) => console.error(`kluis: ${message}`),
      })
    : undefined;
  notifier?.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing requests in flight, then stopping`);
    clearInterval(timer);
    notifier?.stop();
    server.close(() => {
      store.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    // Keep-alive connections would hold close() open; end them after a grace period.
    setTimeout(
      () => (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(),
      5000,
    ).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** The origins of this machine's own address, for a server without KLUIS_ORIGINS. */
function loopbackOrigins(host: string, port: number): string[] {
  const literal = host.includes(':') ? `[${host}]` : host;
  const origins = [new URL(`http://${literal}:${port}`).origin];
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost')
    origins.push(`http://localhost:${port}`, `http://127.0.0.1:${port}`);
  return [...new Set(origins)];
}

// Run directly (node --import tsx server/main.ts); scripts/start.ts imports it and calls main itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
