/**
 * The real app over a real file store in a temporary directory, with a
 * clock the test moves, for `app.request()` tests.
 */

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generateIdentity, type Identity, verifyBundle, exportBundle } from '../../crypto/index.js';
import { createNativeVerifier } from '../../crypto-node/verify.js';
import { createApp } from '../../server/app.js';
import type { Settings } from '../../server/deps.js';
import type { GateLimits } from '../../server/basic/gate.js';
import type { DiskFree } from '../../server/quota.js';
import type { StaticFile } from '../../server/static.js';
import { type CaseRecord, type CaseSummary, summarize } from '../../server/records.js';
import { openFileStore, type FileStore } from '../../server/store/index.js';
import type { Fetch } from './api-client.js';
import { LOCAL_ORIGIN, recipientOf } from './api-client.js';
import { SIGNATURE_WINDOW_SECONDS } from '../../server/auth.js';
import { seededRandom } from './seeded-random.js';

export interface Harness {
  readonly dir: string;
  readonly store: FileStore<CaseRecord, CaseSummary>;
  readonly fetch: Fetch;
  readonly counsellor: Identity;
  readonly deputy: Identity;
  readonly escalation: Identity;
  readonly clock: { ms: number };
  readonly seconds: () => number;
  readonly counsellorRecipients: ReturnType<typeof recipientOf>[];
  readonly errors: string[];
  close(): Promise<void>;
}

export const START_MS = Date.UTC(2026, 10, 28, 12, 0, 0);

/** What a test may set besides the settings. */
export interface HarnessOptions {
  /** Free bytes on the data directory's disk, as the app will see them (no floor without it). */
  readonly diskFree?: DiskFree;
  /** The built page the app serves, in place of the stand-in (e.g. with keys.json for the no-JavaScript pages). */
  readonly page?: (keys: {
    counsellors: Identity[];
    escalation: Identity[];
  }) => Map<string, StaticFile>;
  /** The no-JavaScript pages' gate (defaults in server/basic/gate.ts). */
  readonly basicLimits?: GateLimits;
}

export async function makeHarness(
  settings: Partial<Settings> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kluis-app-'));
  // Record files are written only when a test asks (store.checkpoint()) or at close, so that
  // comparing the files before and after a request sees that request's changes only.
  const store = await openFileStore<CaseRecord, CaseSummary>({
    dir,
    summarize,
    checkpointIdleMs: Number.POSITIVE_INFINITY,
    checkpointBytes: Number.POSITIVE_INFINITY,
  });
  const counsellor = generateIdentity(
    'counsellor',
    'Counsellor',
    seededRandom('harness-counsellor'),
  );
  const deputy = generateIdentity('counsellor', 'Deputy', seededRandom('harness-deputy'));
  const escalation = generateIdentity(
    'escalation',
    'Secretary-general',
    seededRandom('harness-escalation'),
  );
  // The app starts a window and a second before the tests' clock, as a server that has been up
  // a while: right after a start it refuses signed requests timed before start + window.
  const clock = { ms: START_MS - (SIGNATURE_WINDOW_SECONDS + 1) * 1000 };
  const errors: string[] = [];
  const app = createApp({
    store,
    settings: {
      powBits: 4,
      maxFileBytes: 1024 * 1024,
      maxCaseBytes: 3 * 1024 * 1024,
      demo: false,
      onion: undefined,
      maxStoreBytes: 1024 * 1024 * 1024,
      minFreeBytes: 0,
      version: 'test',
      retentionDays: 180,
      origins: [LOCAL_ORIGIN],
      ...settings,
    },
    counsellors: [counsellor, deputy].map((identity) => verifyBundle(exportBundle(identity))),
    escalation: [verifyBundle(exportBundle(escalation))],
    secret: new Uint8Array(32).fill(42),
    // A stand-in for the built page, so the app runs as configured in production.
    page:
      options.page?.({ counsellors: [counsellor, deputy], escalation: [escalation] }) ??
      new Map([
        [
          '/index.html',
          {
            body: new TextEncoder().encode('<!doctype html><title>Kluis</title>'),
            type: 'text/html; charset=utf-8',
          },
        ],
      ]),
    now: () => clock.ms,
    verifier: createNativeVerifier(),
    logError: (message) => errors.push(message),
    ...(options.diskFree ? { diskFree: options.diskFree } : {}),
    ...(options.basicLimits ? { basicLimits: options.basicLimits } : {}),
  });
  clock.ms = START_MS;
  return {
    dir,
    store,
    fetch: async (path, init) => app.request(path, init),
    counsellor,
    deputy,
    escalation,
    clock,
    seconds: () => Math.floor(clock.ms / 1000),
    counsellorRecipients: [recipientOf(counsellor), recipientOf(deputy)],
    errors,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir` with the SHA-256 of its bytes: equal snapshots mean nothing changed on disk. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
