/**
 * `npm run backup -- <file>`: writes a consistent snapshot of the data
 * directory (KLUIS_DATA_DIR, else ./data) to a new file, while the server
 * runs. Only ciphertext and coarse metadata (docs/DEPLOY.md, "Backups").
 */

import { dirname, resolve } from 'node:path';
import { BackupError, writeSnapshot } from '../server/ops/backup.js';
import { count } from '../server/ops/check-store.js';
import {
  defaultDataDir,
  EXIT,
  kluisVersion,
  parseArgs,
  runScript,
  size,
  UsageError,
} from '../server/ops/cli.js';
import { isInside } from '../server/ops/startup.js';

const USAGE = `usage: npm run backup -- [--data-dir <dir>] [--include-demo] <file>
  <file>          a new file (never overwritten); - writes to standard output (npm run -s backup -- - | …)
  --data-dir      the data directory (default: KLUIS_DATA_DIR, else ./data)
  --include-demo  also back up demo/: the demo counsellor's key file and passphrase (not ciphertext only!)
exit: 0 written; 3 written, but the store has damage (see the warnings); 1 not written; 2 usage`;

await runScript(
  'backup',
  USAGE,
  async () => {
    const { flags, positionals } = parseArgs(process.argv.slice(2), {
      '--data-dir': 'value',
      '--include-demo': 'flag',
      '--help': 'flag',
    });
    if (flags.has('--help')) {
      console.log(USAGE);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('name one backup file');
    const dataDir = flags.has('--data-dir')
      ? resolve(flags.get('--data-dir') as string)
      : defaultDataDir(process.env);
    const toStdout = positionals[0] === '-';
    const file = resolve(positionals[0]!);
    if (!toStdout && isInside(dirname(file), dataDir))
      throw new UsageError('write the backup outside the data directory');
    const report = await writeSnapshot(dataDir, toStdout ? process.stdout : file, {
      version: kluisVersion(),
      includeDemo: flags.has('--include-demo'),
    });
    for (const warning of report.warnings) console.error(`backup: WARNING: ${warning}`);
    const where = toStdout ? 'standard output' : file;
    console.error(
      `backup: ${count(report.cases, 'case')} and ${count(report.blobs, 'attachment file')} (${size(report.bytes)}) from ${dataDir} written to ${where}` +
        `${report.deletedDuringBackup > 0 ? `; ${count(report.deletedDuringBackup, 'case')} deleted meanwhile left out` : ''}; archive sha256 ${report.sha256}`,
    );
    if (flags.has('--include-demo'))
      console.error(
        'backup: this backup holds the demo counsellor key and its passphrase: treat it as secret',
      );
    return report.warnings.length > 0 ? EXIT.damage : EXIT.ok;
  },
  [BackupError],
);
