/** Small helpers shared by the operator scripts (scripts/backup.ts, restore.ts, ops-check-store.ts). */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULTS } from '../config.js';

/** Exit codes of the operator scripts. */
export const EXIT = { ok: 0, failed: 1, usage: 2, damage: 3 } as const;

/** A wrong command line: print the message and the usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The Kluis version (package.json). */
export function kluisVersion(): string {
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
}

/** The data directory the server would use: KLUIS_DATA_DIR, else ./data. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return resolve(env.KLUIS_DATA_DIR?.trim() || DEFAULTS.dataDir);
}

/** Splits arguments into flags (from `known`, with or without a value) and positionals. */
export function parseArgs(
  argv: readonly string[],
  known: Readonly<Record<string, 'flag' | 'value'>>,
): { flags: Map<string, string | true>; positionals: string[] } {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const [name, inline] = arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
      const kind = known[name];
      if (kind === undefined) throw new UsageError(`unknown option ${name}`);
      if (kind === 'flag') {
        if (inline !== undefined) throw new UsageError(`${name} takes no value`);
        flags.set(name, true);
      } else {
        const value = inline ?? argv[++i];
        if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
        flags.set(name, value);
      }
    } else positionals.push(arg);
  }
  return { flags, positionals };
}

/** Megabytes for people. */
export function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** Runs a script's main, mapping errors to one line on stderr and an exit code. */
export async function runScript(
  name: string,
  usage: string,
  main: () => Promise<number>,
  known: readonly (new (...args: never[]) => Error)[] = [],
): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}\n${usage}`);
      code = EXIT.usage;
    } else if (known.some((kind) => error instanceof kind)) {
      console.error(`${name}: ${(error as Error).message}`);
      code = EXIT.failed;
    } else {
      const errno = error as NodeJS.ErrnoException;
      if (typeof errno.code === 'string' && typeof errno.path === 'string') {
        console.error(
          `${name}: ${errno.path}: ${errno.code === 'EACCES' || errno.code === 'EPERM' ? 'permission denied (run it as the user Kluis runs as, e.g. sudo -u kluis …)' : errno.message}`,
        );
      } else
        console.error(
          `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      code = EXIT.failed;
    }
  }
  process.exit(code);
}
