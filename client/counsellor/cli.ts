#!/usr/bin/env node
/**
 * kluis-counsellor: the counsellor's (and the escalation recipient's)
 * command line. A thin layer over client/counsellor/lib/: it parses
 * arguments, asks for the passphrase, prints plain text, and maps every
 * failure to a documented exit code.
 * @module
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { addAppCommand } from './cli/app.js';
import { addBuildPageCommand } from './cli/build-page.js';
import { addCaseCommands } from './cli/cases.js';
import { connection, DEFAULT_SERVER, EXIT_HELP, note, out } from './cli/context.js';
import { addIdentityCommands } from './cli/identity.js';
import { addPageCommands } from './cli/page.js';
import { addStatsCommand } from './cli/stats.js';
import { addWriteCommands } from './cli/writes.js';
import { addHandoverCommand } from './cli/handover.js';
import {
  CounsellorError,
  EXIT,
  IntegrityError,
  type RefusalCode,
  ServerRefusedError,
} from './lib/errors.js';
import { safeLine } from './lib/sanitize.js';

/** The whole command line (commander), every command with --help and the exit codes. */
export function buildProgram(): Command {
  const program = new Command('kluis-counsellor')
    .description(
      'The Kluis counsellor client: read, answer and manage reports, on your own machine only.',
    )
    .option(
      '--server <url>',
      `the drop-box server (default: config.json beside the key file, else ${DEFAULT_SERVER})`,
    )
    .option('--key <path>', 'the key file (default: ~/.config/kluis-counsellor/key.json)')
    .option(
      '--proxy <url>',
      'reach the server through a SOCKS5 proxy, e.g. socks5h://127.0.0.1:9050 for Tor',
    )
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_HELP)
    .exitOverride();

  addIdentityCommands(program);
  addCaseCommands(program);
  addWriteCommands(program);
  addHandoverCommand(program);
  addStatsCommand(program);
  addPageCommands(program, { out, proxyOf: async (command) => (await connection(command)).proxy });
  addBuildPageCommand(program);
  addAppCommand(program);

  for (const command of program.commands) command.addHelpText('after', EXIT_HELP);
  return program;
}

const HINTS: Partial<Record<RefusalCode, string>> = {
  'expired-signature':
    'Check this computer’s clock: a signed request is valid for 5 minutes around the server’s time.',
  'replayed-signature':
    'The same signed request arrived twice (a retrying proxy?); run the command again.',
  unauthorized:
    'The server does not accept your key: is your bundle in its KLUIS_COUNSELLORS (or KLUIS_ESCALATION) file?',
  forbidden: 'An escalation key may only read cases forwarded to it.',
  'not-found': 'No such case on this server (deleted, or a typo in the case number?).',
  'too-large': 'The server’s limits: see `GET /api/v1/info` (maxFileBytes, maxCaseBytes).',
};

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // `kluis-counsellor inbox | head`: a reader that stops early is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(EXIT.ok);
        throw error;
      });
    }
  }
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage; // commander printed the message
    }
    if (error instanceof CounsellorError) {
      note(`kluis-counsellor: ${error.message}`);
      if (error instanceof ServerRefusedError && HINTS[error.code]) note(`  ${HINTS[error.code]}`);
      if (error instanceof IntegrityError)
        for (const problem of error.problems) note(`  !! ${safeLine(problem)}`);
      return error.exitCode;
    }
    note(
      `kluis-counsellor: unexpected error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT.failure;
  }
}

function invokedDirectly(): boolean {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
}
// Not a top-level await: the single executable runs this module as CommonJS (scripts/release.ts).
if (invokedDirectly()) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
