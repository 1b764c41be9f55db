/**
 * Configuration from the environment (KLUIS_*), with one clear error per
 * bad value. Nothing here is secret except the SMTP password inside
 * `notify.smtpUrl` (KLUIS_SMTP_URL): print the configuration only through
 * {@link redactUrl} for that field; and `databaseUrl`, which may hold a
 * password and is never printed.
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
  /** Reports and replies the no-JavaScript pages accept per clock hour, across all reporters (0: the pages take none). */
  readonly basicPerHour: number;
  /** Milliseconds a client has to send one whole request (one upload chunk over a slow Tor circuit). */
  readonly requestTimeoutMs: number;
  /** Where the built reporter page is. */
  readonly staticDir: string;
  /** Content-free e-mail to the counsellors (KLUIS_SMTP_URL, KLUIS_NOTIFY_TO); undefined: none. */
  readonly notify: NotifyConfig | undefined;
  /**
   * KLUIS_DATABASE_URL: the PostgreSQL store (postgresql://...) instead of the data directory's.
   * May hold a password: never printed, logged or put in an error.
   */
  readonly databaseUrl: string | undefined;
}

/** Where and how the server mails the counsellors that something is new (server/notify.ts). */
export interface NotifyConfig {
  /** smtp:// (STARTTLS, required except on loopback) or smtps:// (TLS from the start); may hold user and password. */
  readonly smtpUrl: URL;
  /** Addresses that get the notice, one mail each. */
  readonly to: readonly string[];
  /** The sender address. */
  readonly from: string;
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
  basicPerHour: 60,
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

/** A URL as text with its password replaced by `***` (for messages and logs). */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

// A plain address: no display name, no list, no spaces or angle brackets (those are what a header
// injection or a second recipient would need).
const ADDRESS = /^[^\s@,;<>"()[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for the loopback names, where a local mail server may go without TLS. */
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.has(hostname);

/** KLUIS_SMTP_URL, KLUIS_NOTIFY_TO and KLUIS_NOTIFY_FROM: both of the first two or neither. */
export function notifyFromEnv(env: NodeJS.ProcessEnv): NotifyConfig | undefined {
  const rawUrl = env.KLUIS_SMTP_URL?.trim() ?? '';
  const rawTo = env.KLUIS_NOTIFY_TO?.trim() ?? '';
  if (rawUrl === '' && rawTo === '') {
    if (env.KLUIS_NOTIFY_FROM?.trim())
      throw new ConfigError(
        'KLUIS_NOTIFY_FROM is set but KLUIS_SMTP_URL and KLUIS_NOTIFY_TO are not',
      );
    return undefined;
  }
  if (rawUrl === '')
    throw new ConfigError('KLUIS_NOTIFY_TO is set but KLUIS_SMTP_URL is not: set both, or neither');
  if (rawTo === '')
    throw new ConfigError('KLUIS_SMTP_URL is set but KLUIS_NOTIFY_TO is not: set both, or neither');
  let url: URL | undefined;
  try {
    url = new URL(rawUrl);
  } catch {
    url = undefined;
  }
  // The message never repeats what was given: it may hold the password.
  if (
    !url ||
    (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') ||
    url.hostname === '' ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search ||
    url.hash
  ) {
    throw new ConfigError(
      'KLUIS_SMTP_URL must be smtps://user:password@host:465 or smtp://user:password@host:587 (STARTTLS), without a path or query',
    );
  }
  const to: string[] = [];
  for (const item of rawTo.split(/[\s,]+/).filter((x) => x !== '')) {
    if (!ADDRESS.test(item))
      throw new ConfigError(
        `KLUIS_NOTIFY_TO must list e-mail addresses separated by commas, such as vertrouwenspersoon@example.org (got ${JSON.stringify(item)})`,
      );
    if (!to.includes(item)) to.push(item);
  }
  const user = decodeURIComponent(url.username);
  const from = env.KLUIS_NOTIFY_FROM?.trim() || (ADDRESS.test(user) ? user : '');
  if (!ADDRESS.test(from))
    throw new ConfigError(
      from === ''
        ? 'KLUIS_NOTIFY_FROM must be set to the sender address (the SMTP user name is not an e-mail address)'
        : `KLUIS_NOTIFY_FROM must be one e-mail address, such as kluis@example.org (got ${JSON.stringify(from)})`,
    );
  return { smtpUrl: url, to, from };
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
    basicPerHour: integer(env, 'KLUIS_BASIC_PER_HOUR', DEFAULTS.basicPerHour, 0, 100_000),
    // At least the 30 s the headers may take (node refuses a request timeout shorter than the headers timeout).
    requestTimeoutMs:
      integer(env, 'KLUIS_REQUEST_TIMEOUT_S', DEFAULTS.requestTimeoutS, 30, 3600) * 1000,
    staticDir: resolve(env.KLUIS_STATIC_DIR?.trim() || DEFAULTS.staticDir),
    notify: notifyFromEnv(env),
  };
}
