/**
 * What every command of the CLI shares: output, the connection settings
 * (flags, then config.json beside the key file), unlocking a session, the
 * text of a message, and the exit codes' help.
 * @module
 */

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { displayFingerprint, parseCaseNumber } from '../../../crypto/index.js';
import { IntegrityError, UsageError } from '../lib/errors.js';
import { defaultKeyPath, loadConfig, readKeyFile, unlockKeyFile } from '../lib/keys.js';
import { askPassphrase, editText, PASSPHRASE_SCRIPT_HELP, readStdin } from '../lib/prompt.js';
import { safeLine } from '../lib/sanitize.js';
import { CounsellorSession } from '../lib/session.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const note = (text: string) =>
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

export interface GlobalOptions {
  server?: string;
  key?: string;
  proxy?: string;
}

export function caseArgument(value: string): string {
  try {
    return parseCaseNumber(value);
  } catch {
    throw new UsageError(
      `${JSON.stringify(value)} is not a case number (8 symbols, e.g. K7P4-9QXM)`,
    );
  }
}

export function keyPathOf(command: Command): string {
  const options = command.optsWithGlobals<GlobalOptions>();
  return resolve(options.key ?? defaultKeyPath());
}

export async function connection(
  command: Command,
): Promise<{ keyPath: string; server: string; proxy: string | undefined }> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const keyPath = keyPathOf(command);
  const config = await loadConfig(dirname(keyPath));
  return {
    keyPath,
    server: options.server ?? config.server ?? DEFAULT_SERVER,
    proxy: options.proxy ?? config.proxy,
  };
}

/** Unlocks the key file, opens a session, checks the server's keys, runs `work`, closes. */
export async function withSession<T>(
  command: Command,
  work: (session: CounsellorSession) => Promise<T>,
  options: { checkKeys?: boolean } = {},
): Promise<T> {
  const { keyPath, server, proxy } = await connection(command);
  await readKeyFile(keyPath); // a missing or broken key file is reported before the passphrase is asked
  const identity = await unlockKeyFile(keyPath, await askPassphrase(`Passphrase for ${keyPath}: `));
  const session = await CounsellorSession.open({
    identity,
    server,
    proxy,
    stateDir: dirname(keyPath),
  });
  try {
    if (options.checkKeys !== false) {
      const info = await session.serverInfo();
      if (info.newlyTrusted.length > 0) {
        note(
          `First contact with ${server}: trusting the keys it publishes. Compare these fingerprints with the ones your organisation publishes:`,
        );
        for (const key of info.newlyTrusted)
          note(
            `  ${key.role.padEnd(10)} ${displayFingerprint(key.fingerprint)}  ${safeLine(key.name)}`,
          );
      }
      if (info.raw.demo) note('Note: this server runs in DEMO mode.');
    }
    return await work(session);
  } finally {
    session.close();
  }
}

export async function messageText(options: { file?: string }, what: string): Promise<string> {
  if (options.file === '-' || (options.file === undefined && !process.stdin.isTTY))
    return readStdin();
  if (options.file !== undefined) {
    try {
      return await readFile(options.file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
    }
  }
  const text = await editText(process.env, '');
  if (text.trim() === '') throw new UsageError(`the ${what} is empty; nothing was sent`);
  return text;
}

export function failOnProblems(problems: readonly string[], message: string): void {
  if (problems.length > 0) throw new IntegrityError(message, problems);
}

export const EXIT_HELP = `
Exit codes:
  0  success
  1  unexpected error (a bug: please report it)
  2  wrong use: unknown command or option, bad argument, cancelled
  3  key file: missing, not a key file, or wrong passphrase
  4  the server cannot be reached, or its answer is not the Kluis API
  5  the server refused the request (not authorised, not found, too large, key not configured)
  6  INTEGRITY: a message failed its signature or chain checks, or the server rolled a case back,
     or publishes keys you have not trusted (run \`trust\` after comparing fingerprints)
  7  refused by policy: no consent to forward, already acknowledged, not allowed for this role
  8  verify-page, watch-page: the live page differs from the local build (ALARM)
  9  a local file problem: exists already, cannot be written

The passphrase is asked on the terminal and never echoed. ${PASSPHRASE_SCRIPT_HELP}

The key file defaults to $KLUIS_COUNSELLOR_DIR/key.json, else
~/.config/kluis-counsellor/key.json. Beside it, config.json may hold
{"server": "http://….onion", "proxy": "socks5h://127.0.0.1:9050"}, and state/ keeps what this
client has verified per server (to catch a server that rolls a case back).
`;
