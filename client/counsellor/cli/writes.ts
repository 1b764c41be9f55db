/**
 * The CLI's commands that write in a case: reply, status, ack, note,
 * assign, forward (each re-reads and checks the case first: lib/writing.ts).
 * @module
 */

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CASE_STATUSES, type CaseStatus, displayFingerprint } from '../../../crypto/index.js';
import { assignCase } from '../lib/assign.js';
import { UsageError } from '../lib/errors.js';
import { displayCase } from '../lib/format.js';
import { safeLine } from '../lib/sanitize.js';
import { caseArgument, messageText, out, withSession } from './context.js';

/** Adds `reply`, `status`, `ack`, `note`, `assign`, `forward` to the program. */
export function addWriteCommands(program: Command): void {
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
    .argument('<status>', `one of ${CASE_STATUSES.join(', ')}`, (value: string) => {
      if (!CASE_STATUSES.includes(value as CaseStatus))
        throw new UsageError(`status must be one of ${CASE_STATUSES.join(', ')}`);
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
    .command('assign')
    .description(
      'assign a case to a counsellor (e.g. your deputy), as a signed private note all counsellors see',
    )
    .argument('<case>', 'case number', caseArgument)
    .argument('<to>', 'the counsellor’s fingerprint (as `fingerprint` prints it), `me`, or `none`')
    .action(async (caseNumber: string, to: string, _options: unknown, command: Command) => {
      await withSession(command, async (session) => {
        const target =
          to === 'none'
            ? null
            : to === 'me'
              ? session.fingerprint
              : to.toUpperCase().replace(/[\s-]/g, '');
        const result = await assignCase(session, caseNumber, target);
        out(
          `Case ${displayCase(caseNumber)} ${target === null ? 'is no longer assigned' : `is assigned to ${displayFingerprint(target)}`} (note ${result.seq}).`,
        );
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
}
