/**
 * `npm run check-store -- [<data dir>]`: checks every case and attachment
 * in the data directory (KLUIS_DATA_DIR, else ./data) and reports damage.
 * Read-only: safe while the server runs (docs/DEPLOY.md, "Checking the store").
 */

import { resolve } from 'node:path';
import {
  checkStore,
  count,
  damageLines,
  hasDamage,
  summaryLine,
} from '../server/ops/check-store.js';
import { defaultDataDir, EXIT, parseArgs, runScript, UsageError } from '../server/ops/cli.js';
import { fixPreciseTimes, type PreciseTime } from '../server/ops/store-times.js';

const USAGE = `usage: npm run check-store -- [<data dir>] [--quick] [--json] [--fix-times]
  <data dir>   default: KLUIS_DATA_DIR, else ./data
  --quick      do not read attachments to compare them with their recorded SHA-256 (lengths only)
  --json       print the whole report as JSON
  --fix-times  stamp every file and directory that has a precise time with the store's fixed time
exit: 0 no damage; 1 damage or precise modification times (listed); 2 usage`;

/** "records/AB/ABCDEFGH.json (mtime, atime)", for at most `max` entries. */
function listTimes(entries: readonly PreciseTime[], max = 5): string {
  const shown = entries
    .slice(0, max)
    .map(
      (e) =>
        `${e.path}${e.directory ? '/' : ''} (${[e.mtime ? 'mtime' : '', e.atime ? 'atime' : ''].filter(Boolean).join(', ')})`,
    );
  return `${shown.join(', ')}${entries.length > max ? ', …' : ''}`;
}

const MAX_NOTES = 20;

await runScript('check-store', USAGE, async () => {
  const { flags, positionals } = parseArgs(process.argv.slice(2), {
    '--quick': 'flag',
    '--json': 'flag',
    '--fix-times': 'flag',
    '--help': 'flag',
  });
  if (flags.has('--help')) {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError('name at most one data directory');
  const dir = positionals[0] ? resolve(positionals[0]) : defaultDataDir(process.env);
  let report = await checkStore(dir, { hashes: !flags.has('--quick'), times: true });
  let fixed = 0;
  if (flags.has('--fix-times') && report.preciseTimes.length > 0) {
    fixed = await fixPreciseTimes(dir, report.preciseTimes);
    report = {
      ...report,
      preciseTimes: (await checkStore(dir, { hashes: false, times: true })).preciseTimes,
    };
  }
  const preciseMtimes = report.preciseTimes.filter((e) => e.mtime);
  const preciseAtimes = report.preciseTimes.filter((e) => !e.mtime);
  if (flags.has('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`${dir}: ${summaryLine(report)}`);
    for (const line of damageLines(report)) console.log(`  ${line}`);
    if (report.unhashed > 0)
      console.log(
        `  ${report.unhashed} complete attachments have no recorded SHA-256 (uploaded before Kluis kept one): only their length was checked`,
      );
    if (report.orphans.length > 0)
      console.log(
        `  ${count(report.orphans.length, 'attachment file')} that no case names (retention deletes them unless the store has damage): ${report.orphans.slice(0, 5).join(', ')}${report.orphans.length > 5 ? ', …' : ''}`,
      );
    if (fixed > 0)
      console.log(
        `  stamped ${fixed} ${fixed === 1 ? 'file or directory' : 'files and directories'} with the store's fixed time`,
      );
    if (preciseMtimes.length > 0) {
      console.log(
        `  WARNING: ${preciseMtimes.length} ${preciseMtimes.length === 1 ? 'file or directory carries' : 'files and directories carry'} a precise modification time, which tells when they were written: ${listTimes(preciseMtimes)}. Stamp them with --fix-times (SECURITY.md, "Times on disk")`,
      );
    }
    if (preciseAtimes.length > 0) {
      console.log(
        `  note: ${preciseAtimes.length} ${preciseAtimes.length === 1 ? 'file carries' : 'files carry'} a precise access time (read by another program, on a mount without noatime): ${listTimes(preciseAtimes)}. Mount the data directory with noatime; --fix-times stamps them`,
      );
    }
    for (const note of report.notes.slice(0, MAX_NOTES)) console.log(`  note: ${note}`);
    if (report.notes.length > MAX_NOTES)
      console.log(`  … and ${report.notes.length - MAX_NOTES} more notes (--json shows all)`);
  }
  return hasDamage(report) || preciseMtimes.length > 0 ? EXIT.failed : EXIT.ok;
});
