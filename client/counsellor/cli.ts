#!/usr/bin/env node
/**
 * kluis-counsellor: the counsellor's (and the escalation recipient's)
 * command line. A thin layer over client/counsellor/lib/: it parses
 * arguments, asks for the passphrase, prints plain text, and maps every
 * failure to a documented exit code.
 * @module
 */

import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import {
  type CaseStatus,
  DEFAULT_SCRYPT_PARAMS,
  displayFingerprint,
  fingerprintOf,
  fromBase64,
  generateIdentity,
  KluisError,
  parseCaseNumber,
  verifyBundle,
} from '../../crypto/index.js';
import {
  CounsellorError,
  EXIT,
  IntegrityError,
  ServerRefusedError,
  UsageError,
} from './lib/errors.js';
import { exportCase } from './lib/export.js';
import { caseJson, displayCase, formatCase, formatInbox } from './lib/format.js';
import {
  createKeyFile,
  defaultKeyPath,
  loadConfig,
  readKeyFile,
  unlockKeyFile,
  writeNewFile,
} from './lib/keys.js';
import { askNewPassphrase, askPassphrase, confirm, editText, readStdin } from './lib/prompt.js';
import { safeLine } from './lib/sanitize.js';
import { CounsellorSession } from './lib/session.js';
import { addPageCommands } from './page-commands.js';

const DEFAULT_SERVER = 'http://127.0.0.1:8080';
const STATUSES: readonly CaseStatus[] = ['received', 'in-conversation', 'forwarded', 'closed'];

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const note = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

interface GlobalOptions {
  server?: string;
  key?: string;
  proxy?: string;
}

function caseArgument(value: string): string {
  try {
    return parseCaseNumber(value);
  } catch {
    throw new UsageError(
      `${JSON.stringify(value)} is not a case number (8 symbols, e.g. K7P4-9QXM)`,
    );
  }
}

function keyPathOf(command: Command): string {
  const options = command.optsWithGlobals<GlobalOptions>();
  return resolve(options.key ?? defaultKeyPath());
}

async function connection(
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
async function withSession<T>(
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

async function messageText(options: { file?: string }, what: string): Promise<string> {
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

function failOnProblems(problems: readonly string[], message: string): void {
  if (problems.length > 0) throw new IntegrityError(message, problems);
}

const EXIT_HELP = `
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

The passphrase is asked on the terminal and never echoed. For scripts, pass it on a
file descriptor: KLUIS_PASSPHRASE_FD=3 kluis-counsellor inbox 3<passphrase.txt
(first line; for init an optional second line must repeat it).

The key file defaults to $KLUIS_COUNSELLOR_DIR/key.json, else
~/.config/kluis-counsellor/key.json. Beside it, config.json may hold
{"server": "http://….onion", "proxy": "socks5h://127.0.0.1:9050"}, and state/ keeps what this
client has verified per server (to catch a server that rolls a case back).
`;

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

  program
    .command('init')
    .description(
      'create your identity: a passphrase-protected key file and the public bundle for the operator',
    )
    .requiredOption(
      '--name <name>',
      'your name as reporters and colleagues see it, e.g. "Extern steunpunt integriteit — A. de Vries"',
    )
    .addOption(
      new Option('--role <role>', 'counsellor, or escalation for the secretary-general’s office')
        .choices(['counsellor', 'escalation'])
        .default('counsellor'),
    )
    .option(
      '--bundle-out <path>',
      'where to write the public bundle (default: bundle.json beside the key file)',
    )
    .addOption(
      new Option(
        '--kdf-cost <logN>',
        'scrypt cost as log2(N), 17 to 22 (default 17: 128 MiB)',
      ).argParser((v) => Number(v)),
    )
    .action(
      async (
        options: {
          name: string;
          role: 'counsellor' | 'escalation';
          bundleOut?: string;
          kdfCost?: number;
        },
        command: Command,
      ) => {
        const keyPath = keyPathOf(command);
        const globals = command.optsWithGlobals<GlobalOptions>();
        const cost = options.kdfCost ?? Math.log2(DEFAULT_SCRYPT_PARAMS.N);
        if (!Number.isInteger(cost) || cost < 17 || cost > 22)
          throw new UsageError('--kdf-cost must be a whole number from 17 to 22');
        let identity: ReturnType<typeof generateIdentity>;
        try {
          identity = generateIdentity(options.role, options.name.normalize('NFC'));
        } catch (error) {
          if (error instanceof KluisError)
            throw new UsageError(
              `--name: ${error.message} (1 to 128 bytes, no control characters)`,
            );
          throw error;
        }
        if (existsSync(keyPath)) {
          throw new CounsellorError(
            EXIT.localFile,
            `${keyPath} exists already; refusing to overwrite a key file (move it away, or choose another --key)`,
          );
        }
        const passphrase = await askNewPassphrase();
        const { keyFile, bundlePath } = await createKeyFile(keyPath, identity, passphrase, {
          params: { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** cost },
          ...(options.bundleOut ? { bundlePath: resolve(options.bundleOut) } : {}),
        });
        if (globals.server || globals.proxy) {
          const config = {
            ...(globals.server ? { server: globals.server } : {}),
            ...(globals.proxy ? { proxy: globals.proxy } : {}),
          };
          await writeNewFile(
            resolve(dirname(keyPath), 'config.json'),
            `${JSON.stringify(config, null, 2)}\n`,
          ).catch(() => {
            note('config.json exists already beside the key file; it was left as it is.');
          });
        }
        const fingerprint = displayFingerprint(fingerprintOf(identity.sign.publicKey));
        out(`Key file:      ${keyPath}  (keep it and its passphrase safe; there is no recovery)`);
        out(`Public bundle: ${bundlePath}  (give this to the operator)`);
        out(`Role:          ${keyFile.bundle.role}`);
        out(`Fingerprint:   ${fingerprint}`);
        out(
          'Publish the fingerprint through your organisation, so reporters can compare it with the one on the page.',
        );
      },
    );

  program
    .command('fingerprint')
    .description('print the fingerprint of your key (no passphrase needed)')
    .action(async (_options: unknown, command: Command) => {
      const keyFile = await readKeyFile(keyPathOf(command));
      out(
        `${displayFingerprint(fingerprintOf(fromBase64(keyFile.bundle.sign)))}  ${keyFile.bundle.role}  ${safeLine(keyFile.bundle.name)}`,
      );
    });

  program
    .command('export-bundle')
    .description('print your public bundle (for the operator) as JSON, or write it with --out')
    .option('--out <path>', 'write to this new file instead of stdout')
    .action(async (options: { out?: string }, command: Command) => {
      const keyFile = await readKeyFile(keyPathOf(command));
      const text = `${JSON.stringify(keyFile.bundle, null, 2)}\n`;
      if (options.out) {
        await writeNewFile(resolve(options.out), text, 0o644);
        note(`Wrote ${resolve(options.out)}`);
      } else out(text);
    });

  program
    .command('trust')
    .description(
      'accept the counsellor and escalation keys the server publishes now (after comparing fingerprints)',
    )
    .option('--yes', 'do not ask for confirmation')
    .action(async (options: { yes?: boolean }, command: Command) => {
      await withSession(
        command,
        async (session) => {
          const raw = await session.api.info();
          out(`Keys published by ${session.api.base.origin}:`);
          for (const value of [...raw.counsellors, ...raw.escalation]) {
            try {
              const b = verifyBundle(value, session.verifier);
              out(
                `  ${b.role.padEnd(10)} ${displayFingerprint(b.fingerprint)}  ${safeLine(b.name)}`,
              );
            } catch {
              out('  (a bundle that does not verify)');
            }
          }
          if (
            !options.yes &&
            !(await confirm(
              'Do these match the fingerprints your organisation publishes? Type yes: ',
              'yes',
            ))
          ) {
            throw new UsageError('not confirmed; nothing changed');
          }
          const { added, removed } = await session.trustServerKeys();
          out(`Trusted. ${added.length} key(s) added, ${removed.length} removed.`);
        },
        { checkKeys: false },
      );
    });

  program
    .command('inbox')
    .description(
      'list cases: received, status, messages, unread, deadlines; every case decrypted and verified',
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withSession(command, async (session) => {
        const inbox = await session.inbox();
        if (options.json) {
          out(
            JSON.stringify(
              {
                cases: inbox.entries.map((e) => ({
                  case: e.caseNumber,
                  received: e.receivedDay,
                  status: e.status,
                  messages: e.messages,
                  unread: e.unread,
                  consent: e.consent ?? null,
                  acknowledgeDue: e.deadlines.acknowledge.due.toISOString(),
                  acknowledged: e.deadlines.acknowledge.done,
                  acknowledgeOverdue: e.deadlines.acknowledge.overdue,
                  feedbackDue: e.deadlines.feedback.due.toISOString(),
                  feedbackDone: e.deadlines.feedback.done,
                  feedbackOverdue: e.deadlines.feedback.overdue,
                  intact: e.intact,
                  problems: e.problems,
                })),
                vanished: inbox.vanished,
              },
              null,
              2,
            ),
          );
        } else out(formatInbox(inbox, { role: session.role }));
        const broken = inbox.entries.filter((e) => !e.intact);
        failOnProblems(
          broken.flatMap((e) => e.problems.map((p) => `${displayCase(e.caseNumber)}: ${p}`)),
          `${broken.length} case(s) do not verify`,
        );
      });
    });

  program
    .command('show')
    .description(
      'show a case: the decrypted conversation, every signature and link checked, and private notes',
    )
    .argument('<case>', 'case number, e.g. K7P4-9QXM', caseArgument)
    .option('--json', 'print JSON')
    .option('--no-notes', 'leave out the private notes')
    .action(
      async (caseNumber: string, options: { json?: boolean; notes: boolean }, command: Command) => {
        await withSession(command, async (session) => {
          const view = await session.openCase(caseNumber);
          out(
            options.json
              ? JSON.stringify(caseJson(view, { notes: options.notes }), null, 2)
              : formatCase(view, { notes: options.notes }),
          );
          await session.markRead(view);
          failOnProblems(view.problems, `case ${displayCase(caseNumber)} does not verify`);
        });
      },
    );

  program
    .command('save')
    .description(
      'save the decrypted attachments of a case into a directory (safe names, never overwriting)',
    )
    .argument('<case>', 'case number', caseArgument)
    .argument('<dir>', 'directory to save into (created if needed)')
    .option('--message <index>', 'only the attachments of this message', (v) => Number(v))
    .action(
      async (caseNumber: string, dir: string, options: { message?: number }, command: Command) => {
        await withSession(command, async (session) => {
          const view = await session.openCase(caseNumber);
          failOnProblems(
            view.problems,
            `case ${displayCase(caseNumber)} does not verify; not saving its attachments`,
          );
          const saved = await session.saveAttachments(
            view,
            dir,
            options.message === undefined ? {} : { index: options.message },
          );
          if (saved.length === 0) out('No attachments.');
          for (const file of saved)
            out(`${file.path}  (${file.size} bytes, sent as ${JSON.stringify(file.originalName)})`);
        });
      },
    );

  program
    .command('reply')
    .description(
      'reply to the reporter: text from --file, stdin, or $EDITOR; attachments with --attach',
    )
    .argument('<case>', 'case number', caseArgument)
    .option('--file <path>', 'read the text from this file (- for stdin)')
    .option(
      '--attach <file>',
      'attach a file (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(
      async (
        caseNumber: string,
        options: { file?: string; attach?: string[] },
        command: Command,
      ) => {
        const text = await messageText(options, 'reply');
        await withSession(command, async (session) => {
          const result = await session.reply(
            caseNumber,
            text.replace(/\s+$/, ''),
            options.attach ?? [],
          );
          out(
            `Sent as message ${result.seq} of case ${displayCase(caseNumber)}${result.attachments.length ? ` with ${result.attachments.length} attachment(s)` : ''}.`,
          );
        });
      },
    );

  program
    .command('status')
    .description('set the case status the reporter sees (recorded, signed, in the conversation)')
    .argument('<case>', 'case number', caseArgument)
    .argument('<status>', `one of ${STATUSES.join(', ')}`, (value: string) => {
      if (!STATUSES.includes(value as CaseStatus))
        throw new UsageError(`status must be one of ${STATUSES.join(', ')}`);
      return value as CaseStatus;
    })
    .option('--message <text>', 'a short explanation the reporter sees with the status')
    .action(
      async (
        caseNumber: string,
        status: CaseStatus,
        options: { message?: string },
        command: Command,
      ) => {
        await withSession(command, async (session) => {
          const result = await session.setStatus(caseNumber, status, options.message ?? '');
          out(`Case ${displayCase(caseNumber)} is now ${status} (message ${result.seq}).`);
        });
      },
    );

  program
    .command('ack')
    .description('send the signed acknowledgement of receipt (due within 7 days of the report)')
    .argument('<case>', 'case number', caseArgument)
    .option(
      '--message <text>',
      'your own text instead of the standard one (in the report’s language)',
    )
    .action(async (caseNumber: string, options: { message?: string }, command: Command) => {
      await withSession(command, async (session) => {
        const result = await session.acknowledge(caseNumber, options.message);
        out(
          `Acknowledged case ${displayCase(caseNumber)}: report received ${result.receivedDate} (message ${result.seq}).`,
        );
      });
    });

  program
    .command('note')
    .description(
      'add a private note, readable by counsellors only: text from --file, stdin, or $EDITOR',
    )
    .argument('<case>', 'case number', caseArgument)
    .option('--file <path>', 'read the text from this file (- for stdin)')
    .action(async (caseNumber: string, options: { file?: string }, command: Command) => {
      const text = await messageText(options, 'note');
      await withSession(command, async (session) => {
        const result = await session.addNote(caseNumber, text.replace(/\s+$/, ''));
        out(`Note ${result.seq} added to case ${displayCase(caseNumber)}.`);
      });
    });

  program
    .command('forward')
    .description(
      'forward a case to an escalation recipient; only if the reporter consented (recorded in the conversation)',
    )
    .argument('<case>', 'case number', caseArgument)
    .requiredOption('--to <bundle>', 'the escalation recipient’s public bundle file')
    .option('--message <text>', 'a covering note (the reporter and the recipient see it)')
    .action(
      async (caseNumber: string, options: { to: string; message?: string }, command: Command) => {
        let bundle: unknown;
        try {
          bundle = JSON.parse(await readFile(options.to, 'utf8'));
        } catch (error) {
          throw new UsageError(`cannot read the bundle ${options.to}: ${(error as Error).message}`);
        }
        await withSession(command, async (session) => {
          const result = await session.forward(caseNumber, bundle, options.message ?? '');
          out(
            `Forwarded case ${displayCase(caseNumber)} to ${safeLine(result.to.name)} (${displayFingerprint(result.to.fingerprint)}); recorded as message ${result.seq}.`,
          );
        });
      },
    );

  program
    .command('export')
    .description(
      'export a whole case, decrypted (conversation as text and JSON, notes, attachments), into a new directory',
    )
    .argument('<case>', 'case number', caseArgument)
    .argument('<dir>', 'a new (or empty) directory')
    .action(async (caseNumber: string, dir: string, _options: unknown, command: Command) => {
      await withSession(command, async (session) => {
        const result = await exportCase(session, caseNumber, resolve(dir));
        out(
          `Exported case ${displayCase(caseNumber)} to ${result.dir}: ${result.files.length} files, ${result.attachments.length} attachment(s).`,
        );
      });
    });

  program
    .command('delete')
    .description('delete a case on the server: messages, notes and attachments (asks to confirm)')
    .argument('<case>', 'case number', caseArgument)
    .option('--yes', 'do not ask for confirmation')
    .action(async (caseNumber: string, options: { yes?: boolean }, command: Command) => {
      await withSession(command, async (session) => {
        if (!options.yes) {
          const ok = await confirm(
            `Delete case ${displayCase(caseNumber)} for good? Type its case number to confirm: `,
            caseNumber,
          );
          if (!ok) throw new UsageError('not confirmed; nothing was deleted');
        }
        await session.deleteCase(caseNumber);
        out(`Deleted case ${displayCase(caseNumber)}.`);
      });
    });

  addPageCommands(program, { out, proxyOf: async (command) => (await connection(command)).proxy });

  for (const command of program.commands) command.addHelpText('after', EXIT_HELP);
  return program;
}

const HINTS: Record<string, string> = {
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
if (invokedDirectly()) {
  process.exitCode = await main(process.argv);
}
