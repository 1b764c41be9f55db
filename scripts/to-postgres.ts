/**
 * `npm run to-postgres -- [<data dir>]`: copies an embedded data directory (KLUIS_DATA_DIR, else
 * ./data) into the empty PostgreSQL database of KLUIS_DATABASE_URL, then checks that the database
 * holds exactly its cases and attachments. Stop the server first. The data directory is not
 * changed (docs/DEPLOY.md, "Moving a data directory into PostgreSQL").
 */

import { resolve } from 'node:path';
import { defaultDataDir, EXIT, parseArgs, runScript, UsageError } from '../server/ops/cli.js';
import { MoveRefusedError, moveToPostgres } from '../server/ops/to-postgres.js';
import { StoreError } from '../server/store/index.js';

const USAGE = `usage: KLUIS_DATABASE_URL=postgresql://… npm run to-postgres -- [<data dir>]
  <data dir>   default: KLUIS_DATA_DIR, else ./data
exit: 0 moved and checked; 1 refused, failed, or the check found a difference (listed); 2 usage`;

await runScript(
  'to-postgres',
  USAGE,
  async () => {
    const { flags, positionals } = parseArgs(process.argv.slice(2), { '--help': 'flag' });
    if (flags.has('--help')) {
      console.log(USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError('name at most one data directory');
    const url = process.env.KLUIS_DATABASE_URL?.trim();
    if (!url) throw new UsageError('set KLUIS_DATABASE_URL to the database to move into');
    const dir = positionals[0] ? resolve(positionals[0]) : defaultDataDir(process.env);
    const report = await moveToPostgres(dir, url, (line) => console.log(line));
    if (report.problems.length > 0) {
      console.log(`the check found ${report.problems.length} differences:`);
      for (const problem of report.problems.slice(0, 50)) console.log(`  ${problem}`);
      return EXIT.failed;
    }
    console.log(
      `checked: the database holds the ${report.cases} cases and ${report.attachments} attachments of ${dir}, byte for byte. Start the servers with KLUIS_DATABASE_URL.`,
    );
    return EXIT.ok;
  },
  [MoveRefusedError, StoreError],
);
