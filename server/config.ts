/**
 * Configuration from the environment (KLUIS_*), with one clear error per
 * bad value. Nothing here is secret, so the resolved configuration may be
 * printed at start, except `databaseUrl`, which may hold a password and is never printed.
 */

import { resolve } from 'node:path';

/** What the operator configures. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Path of the counsellors' public bundles (a JSON array); undefined means demo mode. */
  readonly counsellorsPath: string | undefined;
  /** Path of the escalation recipients' public bundles (a JSON array), optional. */
  readonly escalationPath: string | undefined;
  readonly powBits: number;
  readonly retentionDays: number;
  /** v3 onion address for the Onion-Location header, optional; `http://` it is one of the origins. */
  readonly onion: string | undefined;
  /**
   * KLUIS_ORIGINS: the addresses counsellors' clients use for this server (their --server),
   * as serialised origins. Signed requests name the origin they were made for.
   */
  readonly origins: readonly string[];
  readonly maxFileBytes: number;
  readonly maxCaseBytes: number;
  /** Byte quota over everything the cases hold; anonymous writes beyond it get 503 store-full. */
  readonly maxStoreBytes: number;
  /** Free disk space below which anonymous writes get 503 store-full. */
  readonly minFreeBytes: number;
  /** Most open connections; the node server drops the ones beyond. */
  readonly maxConnections: number;
  /** Most request-body bytes held in memory at once, across all requests. */
  readonly bodyMemoryBytes: number;
  /** Milliseconds a client has to send one whole request (one upload chunk over a slow Tor circuit). */
  readonly requestTimeoutMs: number;
  /** Where the built reporter page is. */
  readonly staticDir: string;
  /**
   * KLUIS_DATABASE_URL: the PostgreSQL store (postgresql://...) instead of the data directory's.
   * May hold a password: never printed, logged or put in an error.
   */
  readonly databaseUrl: string | undefined;
}

/** A configuration value that cannot be used; the message says which and how to fix it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Defaults, as documented in README.md. */
export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  powBits: 12,
  retentionDays: 180,
  maxFileMb: 100,
  maxCaseMb: 500,
  maxStoreMb: 10240,
  minFreeMb: 1024,
  maxConnections: 1000,
  bodyMemoryMb: 24,
  requestTimeoutS: 300,
  staticDir: './dist/reporter',
} as const;

const MB = 1024 * 1024;

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`,
    );
  }
  return Number(raw);
}

function optionalPath(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : resolve(raw);
}

/** KLUIS_ORIGINS: http(s) URLs without path, query or credentials, separated by commas or spaces; as origins. */
export function parseOrigins(raw: string | undefined): string[] {
  const origins: string[] = [];
  for (const item of (raw ?? '').split(/[\s,]+/).filter((x) => x !== '')) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.pathname !== '/' ||
      url.search ||
      url.hash ||
      url.username ||
      url.password
    ) {
      throw new ConfigError(
        `KLUIS_ORIGINS must list the addresses counsellors use, such as https://kluis.example.org or http://<56 characters>.onion, without a path (got ${JSON.stringify(item)})`,
      );
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return origins;
}

/** The origins signed requests may name: KLUIS_ORIGINS and the onion address. */
export function configuredOrigins(config: Pick<Config, 'origins' | 'onion'>): string[] {
  const origins = [...config.origins];
  if (config.onion && !origins.includes(`http://${config.onion}`))
    origins.push(`http://${config.onion}`);
  return origins;
}

/** Reads the configuration from an environment; throws ConfigError on the first bad value. */
export function configFromEnv(env: NodeJS.ProcessEnv): Config {
  const host = env.KLUIS_HOST?.trim() || DEFAULTS.host;
  if (!/^[0-9A-Za-z.:-]{1,253}$/.test(host)) {
    throw new ConfigError(
      `KLUIS_HOST must be an IP address or host name (got ${JSON.stringify(host)})`,
    );
  }
  const onion = env.KLUIS_ONION?.trim() || undefined;
  if (onion !== undefined && !/^[a-z2-7]{56}\.onion$/.test(onion)) {
    throw new ConfigError(
      'KLUIS_ONION must be a v3 onion address: 56 characters a-z and 2-7, then ".onion" (no scheme, no path)',
    );
  }
  const maxFileBytes = integer(env, 'KLUIS_MAX_FILE_MB', DEFAULTS.maxFileMb, 1, 4096) * MB;
  const maxCaseBytes = integer(env, 'KLUIS_MAX_CASE_MB', DEFAULTS.maxCaseMb, 1, 65536) * MB;
  if (maxCaseBytes < maxFileBytes)
    throw new ConfigError('KLUIS_MAX_CASE_MB must be at least KLUIS_MAX_FILE_MB');
  const maxStoreBytes =
    integer(env, 'KLUIS_MAX_STORE_MB', DEFAULTS.maxStoreMb, 1, 16 * 1024 * 1024) * MB;
  if (maxStoreBytes < maxFileBytes)
    throw new ConfigError('KLUIS_MAX_STORE_MB must be at least KLUIS_MAX_FILE_MB');
  const databaseUrl = env.KLUIS_DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError(
      'KLUIS_DATABASE_URL must be a PostgreSQL connection URL, postgresql://user@host/database (docs/DEPLOY.md)',
    );
  return {
    databaseUrl,
    host,
    port: integer(env, 'KLUIS_PORT', DEFAULTS.port, 0, 65535),
    dataDir: resolve(env.KLUIS_DATA_DIR?.trim() || DEFAULTS.dataDir),
    counsellorsPath: optionalPath(env, 'KLUIS_COUNSELLORS'),
    escalationPath: optionalPath(env, 'KLUIS_ESCALATION'),
    powBits: integer(env, 'KLUIS_POW_BITS', DEFAULTS.powBits, 0, 32),
    retentionDays: integer(env, 'KLUIS_RETENTION_DAYS', DEFAULTS.retentionDays, 1, 3650),
    onion,
    origins: parseOrigins(env.KLUIS_ORIGINS),
    maxFileBytes,
    maxCaseBytes,
    maxStoreBytes,
    minFreeBytes: integer(env, 'KLUIS_MIN_FREE_MB', DEFAULTS.minFreeMb, 0, 16 * 1024 * 1024) * MB,
    maxConnections: integer(env, 'KLUIS_MAX_CONNECTIONS', DEFAULTS.maxConnections, 1, 100_000),
    bodyMemoryBytes: integer(env, 'KLUIS_BODY_MEMORY_MB', DEFAULTS.bodyMemoryMb, 4, 65536) * MB,
    // At least the 30 s the headers may take (node refuses a request timeout shorter than the headers timeout).
    requestTimeoutMs:
      integer(env, 'KLUIS_REQUEST_TIMEOUT_S', DEFAULTS.requestTimeoutS, 30, 3600) * 1000,
    staticDir: resolve(env.KLUIS_STATIC_DIR?.trim() || DEFAULTS.staticDir),
  };
}
