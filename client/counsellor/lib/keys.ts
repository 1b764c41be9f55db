/**
 * The key file on disk (PROTOCOL §11) and the small directory around it:
 *
 *   <dir>/key.json        the passphrase-protected key file (mode 0600)
 *   <dir>/bundle.json     the public bundle, for the operator
 *   <dir>/config.json     optional: { "server": "<url>", "proxy": "socks5h://…", "pageBuild",
 *                         "idleMinutes": 10 }
 *   <dir>/state/…         what this client has seen, per server (state.ts)
 *
 * The directory defaults to $KLUIS_COUNSELLOR_DIR, else
 * $XDG_CONFIG_HOME/kluis-counsellor, else ~/.config/kluis-counsellor.
 * @module
 */

import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  AuthenticationError,
  DEFAULT_SCRYPT_PARAMS,
  type Identity,
  type KeyFile,
  KluisError,
  openKeyFile,
  parseKeyFile,
  type ScryptParams,
  sealKeyFile,
} from '../../../crypto/index.js';
import { nodeScrypt } from '../../../crypto-node/scrypt.js';
import { KeyFileError, LocalFileError, UsageError } from './errors.js';

/** The default directory of the key file and its companions. */
export function defaultKeyDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KLUIS_COUNSELLOR_DIR) return resolve(env.KLUIS_COUNSELLOR_DIR);
  const config = env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config');
  return join(config, 'kluis-counsellor');
}

/** The default key file path. */
export function defaultKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultKeyDir(env), 'key.json');
}

/** Shortest passphrase `init` accepts. */
export const MIN_PASSPHRASE_LENGTH = 12;

/** Per-directory settings beside the key file. */
export interface ClientConfig {
  readonly server?: string;
  readonly proxy?: string;
  /** Your own build of the reporter page (from the organisation's published site config): the app checks the live page against it on every unlock. */
  readonly pageBuild?: string;
  /** The app locks itself after this many minutes without activity (default 10). */
  readonly idleMinutes?: number;
}

const CONFIG_KEYS = ['server', 'proxy', 'pageBuild'] as const;
const NUMBER_KEYS = { idleMinutes: [0.05, 24 * 60] } as const;
/**
 * Settings of earlier versions, accepted and ignored so that an old config.json still works:
 * `retentionDays` (the server publishes its KLUIS_RETENTION_DAYS in GET /api/v1/info now, and
 * the day shown must be the day the server acts on, so no local value overrides it).
 */
const IGNORED_KEYS = ['retentionDays'];

/** Reads `<dir>/config.json`; missing means empty. Throws UsageError if it is not valid. */
export async function loadConfig(dir: string): Promise<ClientConfig> {
  let text: string;
  try {
    text = await readFile(join(dir, 'config.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${join(dir, 'config.json')}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${join(dir, 'config.json')} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`${join(dir, 'config.json')} must be an object`);
  const record = value as Record<string, unknown>;
  const config: { -readonly [K in keyof ClientConfig]: ClientConfig[K] } = {};
  for (const key of Object.keys(record)) {
    if (IGNORED_KEYS.includes(key)) continue;
    if (Object.hasOwn(NUMBER_KEYS, key)) {
      const [min, max] = NUMBER_KEYS[key as keyof typeof NUMBER_KEYS];
      const n = record[key];
      if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max)
        throw new UsageError(
          `${join(dir, 'config.json')}: ${key} must be a number from ${min} to ${max}`,
        );
      config[key as keyof typeof NUMBER_KEYS] = n;
      continue;
    }
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      throw new UsageError(`${join(dir, 'config.json')}: unknown setting ${JSON.stringify(key)}`);
    if (typeof record[key] !== 'string')
      throw new UsageError(`${join(dir, 'config.json')}: ${key} must be a string`);
    config[key as (typeof CONFIG_KEYS)[number]] = record[key] as string;
  }
  return config;
}

/** Writes a new file that must not exist yet (never follows a symlink), with `mode`. */
export async function writeNewFile(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new LocalFileError(`${path} exists already; refusing to overwrite it`);
    throw new LocalFileError(`cannot create ${path}: ${(error as Error).message}`);
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Makes the key file's directory (0700) if needed. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new LocalFileError(`cannot create ${dir}: ${(error as Error).message}`);
  }
}

/** Seals and writes a new key file (refusing to overwrite one) and the public bundle beside it. */
export async function createKeyFile(
  keyPath: string,
  identity: Identity,
  passphrase: string,
  options: { params?: ScryptParams; bundlePath?: string } = {},
): Promise<{ keyFile: KeyFile; bundlePath: string }> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new UsageError(
      `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters (a few unrelated words are best)`,
    );
  }
  await ensurePrivateDir(dirname(keyPath));
  const bundlePath = options.bundlePath ?? join(dirname(keyPath), 'bundle.json');
  for (const path of [keyPath, bundlePath]) {
    if (await exists(path))
      throw new LocalFileError(
        `${path} exists already; refusing to overwrite it (move it away first)`,
      );
  }
  const keyFile = await sealKeyFile(
    identity,
    passphrase,
    nodeScrypt,
    options.params ?? DEFAULT_SCRYPT_PARAMS,
  );
  await writeNewFile(keyPath, `${JSON.stringify(keyFile, null, 2)}\n`, 0o600);
  await writeNewFile(bundlePath, `${JSON.stringify(keyFile.bundle, null, 2)}\n`, 0o644);
  return { keyFile, bundlePath };
}

/** Reads and checks a key file without the passphrase (its public half). Throws KeyFileError. */
export async function readKeyFile(keyPath: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(keyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeyFileError(
        `no key file at ${keyPath} (create one with \`kluis-counsellor init\`, or name yours with --key)`,
      );
    }
    throw new KeyFileError(`cannot read the key file ${keyPath}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyFileError(`${keyPath} is not a Kluis key file (not JSON)`);
  }
  try {
    return parseKeyFile(value);
  } catch (error) {
    if (error instanceof KluisError)
      throw new KeyFileError(`${keyPath} is not a valid Kluis key file: ${error.message}`);
    throw error;
  }
}

/** Opens a key file with its passphrase. Throws KeyFileError (wrong passphrase included). */
export async function unlockKeyFile(keyPath: string, passphrase: string): Promise<Identity> {
  const keyFile = await readKeyFile(keyPath);
  try {
    return await openKeyFile(keyFile, passphrase, nodeScrypt);
  } catch (error) {
    if (error instanceof AuthenticationError)
      throw new KeyFileError(
        `wrong passphrase for ${keyPath} (or the key file was altered)`,
        'wrong-passphrase',
      );
    if (error instanceof KluisError)
      throw new KeyFileError(`${keyPath} cannot be opened: ${error.message}`);
    throw error;
  }
}
