/**
 * The CLI's `stats`: statistics for the annual report, computed on this
 * machine from every case (opened and verified), holding no content:
 * a table, `--json`, or `--csv`.
 * @module
 */

import type { Command } from 'commander';
import { UsageError } from '../lib/errors.js';
import { computeStatistics, formatStatistics, statisticsCsv } from '../lib/stats.js';
import { out, withSession } from './context.js';

/** Adds `stats` to the program. */
export function addStatsCommand(program: Command): void {
  program
    .command('stats')
    .description(
      'statistics for the annual report (no content): reports per month and status, days to acknowledgement and first reply, deadlines missed, forwarded',
    )
    .option('--year <year>', 'only the reports received in this year')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (section,key,value), for a spreadsheet')
    .action(async (options: { year?: string; json?: boolean; csv?: boolean }, command: Command) => {
      if (options.json && options.csv) throw new UsageError('choose --json or --csv');
      const year = options.year === undefined ? undefined : Number(options.year);
      if (year !== undefined && !(Number.isInteger(year) && year >= 2000 && year <= 9999))
        throw new UsageError('--year must be a year, e.g. 2026');
      await withSession(command, async (session) => {
        const stats = computeStatistics((await session.inbox()).entries, { year });
        if (options.json) out(JSON.stringify(stats, null, 2));
        else if (options.csv) out(statisticsCsv(stats).trimEnd());
        else out(formatStatistics(stats));
      });
    });
}
