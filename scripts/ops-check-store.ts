/**
 * `npm run check-store -- [<data dir>]`: checks every case and attachment
 * in the data directory (KLUIS_DATA_DIR, else ./data) and reports damage.
 * Read-only: safe while the server runs (docs/DEPLOY.md, "Checking the store").
 */

import { resolve } from 'node:path';
import { checkStore, count, damageLines, hasDamage, summaryLine } from '../server/ops/check-store.js';
import { defaultDataDir, EXIT, parseArgs, runScript, UsageError } from '../server/ops/cli.js';

const USAGE = `usage: npm run check-store -- [<data dir>] [--quick] [--json]
  <data dir>  default: KLUIS_DATA_DIR, else ./data
  --quick     do not read attachments to compare them with their recorded SHA-256 (lengths only)
  --json      print the whole report as JSON
exit: 0 no damage; 1 damage (listed); 2 usage`;

const MAX_NOTES = 20;

await runScript('check-store', USAGE, async () => {
  const { flags, positionals } = parseArgs(process.argv.slice(2), { '--quick': 'flag', '--json': 'flag', '--help': 'flag' });
  if (flags.has('--help')) {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError('name at most one data directory');
  const dir = positionals[0] ? resolve(positionals[0]) : defaultDataDir(process.env);
  const report = await checkStore(dir, { hashes: !flags.has('--quick') });
  if (flags.has('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`${dir}: ${summaryLine(report)}`);
    for (const line of damageLines(report)) console.log(`  ${line}`);
    if (report.unhashed > 0) console.log(`  ${report.unhashed} complete attachments have no recorded SHA-256 (uploaded before Kluis kept one): only their length was checked`);
    if (report.orphans.length > 0) console.log(`  ${count(report.orphans.length, 'attachment file')} that no case names (retention deletes them unless the store has damage): ${report.orphans.slice(0, 5).join(', ')}${report.orphans.length > 5 ? ', …' : ''}`);
    for (const note of report.notes.slice(0, MAX_NOTES)) console.log(`  note: ${note}`);
    if (report.notes.length > MAX_NOTES) console.log(`  … and ${report.notes.length - MAX_NOTES} more notes (--json shows all)`);
  }
  return hasDamage(report) ? EXIT.failed : EXIT.ok;
});
