/**
 * The CLI's `handover`: hand cases to a colleague's key (lib/handover.ts),
 * one case, several, or every open case at once (when a counsellor leaves).
 * @module
 */

import type { Command } from 'commander';
import { displayFingerprint } from '../../../crypto/index.js';
import { colleague } from '../lib/handover.js';
import { IntegrityError, PolicyError, UsageError } from '../lib/errors.js';
import { displayCase } from '../lib/format.js';
import { confirm } from '../lib/prompt.js';
import { safeLine } from '../lib/sanitize.js';
import { caseArgument, note, out, withSession } from './context.js';

/** Adds `handover` to the program. */
export function addHandoverCommand(program: Command): void {
  program
    .command('handover')
    .description(
      'hand cases to a colleague’s key (a counsellor who joined, or who takes over from one who leaves): recorded in the conversation, the reporter sees who now reads the case; asks to confirm',
    )
    .argument('[cases...]', 'case numbers (or --open for every case not closed)')
    .requiredOption(
      '--to <fingerprint>',
      'the colleague’s fingerprint: a counsellor the server lists and you trusted',
    )
    .option('--open', 'every case that is not closed')
    .option('--message <text>', 'a short word for the reporter (shown with the handover)')
    .option('--yes', 'do not ask for confirmation')
    .action(
      async (
        cases: string[],
        options: { to: string; open?: boolean; message?: string; yes?: boolean },
        command: Command,
      ) => {
        const named = cases.map(caseArgument);
        if (named.length === 0 && !options.open)
          throw new UsageError('name the cases to hand over, or --open for every open case');
        await withSession(command, async (session) => {
          const target = await colleague(session, options.to);
          const numbers = options.open
            ? [
                ...new Set([
                  ...named,
                  ...(await session.api.listCases())
                    .filter((c) => c.status !== 'closed')
                    .map((c) => c.case),
                ]),
              ]
            : named;
          if (numbers.length === 0) {
            out('No open cases: nothing to hand over.');
            return;
          }
          const who = `${safeLine(target.name)} (${displayFingerprint(target.fingerprint)})`;
          if (!options.yes) {
            const ok = await confirm(
              `Hand ${numbers.length} case(s) to ${who}? They will read every message and note, and the reporter sees it. Type "yes" to confirm: `,
              'yes',
            );
            if (!ok) throw new UsageError('not confirmed; nothing was handed over');
          }
          let failed = 0;
          for (const caseNumber of numbers) {
            try {
              const result = await session.handover(
                caseNumber,
                target.fingerprint,
                options.message,
              );
              if (result.seq === undefined && result.keys + result.noteKeys === 0)
                out(
                  `Case ${displayCase(caseNumber)} was handed to ${who} already; nothing to add.`,
                );
              else
                out(
                  `Case ${displayCase(caseNumber)} handed to ${who}${result.seq === undefined ? '' : `, recorded as message ${result.seq}`}; ${result.keys} message key(s) and ${result.noteKeys} note key(s) added.`,
                );
            } catch (error) {
              // One case that does not verify or was handed over already must not stop the others.
              if (
                !(error instanceof IntegrityError || error instanceof PolicyError) ||
                numbers.length === 1
              )
                throw error;
              failed++;
              note(`Case ${displayCase(caseNumber)}: ${error.message}`);
            }
          }
          if (failed > 0)
            throw new PolicyError(
              `${failed} of ${numbers.length} case(s) were not handed over (see above)`,
            );
        });
      },
    );
}
