/**
 * The CLI's commands that read and manage cases: inbox, show, save,
 * export, delete.
 * @module
 */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { exportCase } from '../lib/export.js';
import { caseJson, displayCase, formatCase, formatInbox } from '../lib/format.js';
import { confirm } from '../lib/prompt.js';
import { caseArgument, failOnProblems, out, withSession } from './context.js';

/** Adds `inbox`, `show`, `save`, `export`, `delete` to the program. */
export function addCaseCommands(program: Command): void {
  program
    .command('inbox')
    .description(
      'list cases: received, status, messages, unread, deadlines; every case decrypted and verified (cases unchanged since the last inbox come from the encrypted inbox cache)',
    )
    .option('--json', 'print JSON instead of a table')
    .option('--full', 'fetch, decrypt and verify every case again, not only the ones that changed')
    .action(async (options: { json?: boolean; full?: boolean }, command: Command) => {
      await withSession(command, async (session) => {
        const inbox = await session.inbox({ full: options.full === true });
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
                  assignee: e.facts.assignee,
                })),
                vanished: inbox.vanished,
              },
              null,
              2,
            ),
          );
        } else {
          const { retentionDays } = (await session.serverInfo()).raw;
          out(formatInbox(inbox, { role: session.role, retentionDays }));
        }
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
}
