/**
 * `npm run restore -- <file> <data dir>`: checks a backup completely, then
 * restores it into an empty or missing data directory (durably; FORMAT is
 * written last). `--check <file>` only checks. Stop the server first if it
 * uses that directory (docs/DEPLOY.md, "Restoring").
 */

import { resolve } from 'node:path';
import { ArchiveError } from '../server/ops/archive.js';
import { count } from '../server/ops/check-store.js';
import { EXIT, parseArgs, runScript, size, UsageError } from '../server/ops/cli.js';
import { describeProblems } from '../server/ops/record-check.js';
import {
  type ArchiveCheck,
  checkArchive,
  RestoreError,
  restoreArchive,
} from '../server/ops/restore.js';

const USAGE = `usage: npm run restore -- <file> <data dir> [--allow-damaged]
       npm run restore -- --check <file>
  <data dir>       must be missing or empty; restoring never writes over a store
  --check          verify the backup (every checksum, every case), write nothing
  --allow-damaged  restore a backup that holds damaged cases (as the store had them)
exit: 0 done (or the backup is sound); 1 refused: damaged, cut short, or the directory is not empty; 2 usage`;

function describe(check: ArchiveCheck): string {
  return `${count(check.cases, 'case')} and ${count(check.blobs, 'attachment file')} (${size(check.bytes)}, ${count(check.files, 'file')}) of store format ${check.meta.storeFormat}, written by Kluis ${check.meta.kluis}${check.meta.demo ? ', with the demo key' : ''}`;
}

await runScript(
  'restore',
  USAGE,
  async () => {
    const { flags, positionals } = parseArgs(process.argv.slice(2), {
      '--check': 'flag',
      '--allow-damaged': 'flag',
      '--help': 'flag',
    });
    if (flags.has('--help')) {
      console.log(USAGE);
      return EXIT.ok;
    }
    if (flags.has('--check')) {
      if (positionals.length !== 1) throw new UsageError('--check takes one backup file');
      const check = await checkArchive(resolve(positionals[0]!));
      for (const note of check.notes) console.log(`restore: note: ${note}`);
      for (const damaged of check.damaged)
        console.log(`restore: damaged case ${damaged.case}: ${describeProblems(damaged.problems)}`);
      console.log(
        `restore: the backup is intact: ${describe(check)}${check.damaged.length > 0 ? `; it holds ${count(check.damaged.length, 'damaged case')}` : ''}`,
      );
      return check.damaged.length > 0 ? EXIT.failed : EXIT.ok;
    }
    if (positionals.length !== 2)
      throw new UsageError('name the backup file and the data directory to restore into');
    const target = resolve(positionals[1]!);
    const check = await restoreArchive(resolve(positionals[0]!), target, {
      allowDamaged: flags.has('--allow-damaged'),
    });
    for (const note of check.notes) console.log(`restore: note: ${note}`);
    for (const damaged of check.damaged)
      console.log(
        `restore: restored damaged case ${damaged.case}: ${describeProblems(damaged.problems)}`,
      );
    console.log(`restore: restored ${describe(check)} into ${target}`);
    if (process.getuid?.() === 0)
      console.log(
        `restore: the files belong to root now: chown -R kluis:kluis ${target} (the user the service runs as) before starting Kluis`,
      );
    return EXIT.ok;
  },
  [ArchiveError, RestoreError],
);
