/**
 * `kluis-server`: the command of the released server package (built by
 * `npm run release`, scripts/release.ts; plain JavaScript, production
 * dependencies only). In a checkout the same commands are `npm start`,
 * `npm run build`, `npm run backup`, `npm run restore`, `npm run check-store`.
 *
 *   kluis-server [start]                            serve (configuration from the environment, README.md)
 *   kluis-server build-page --site <file> [--out <dir>]   the reporter page for this site (docs/DEPLOY.md)
 *   kluis-server backup | restore | check-store | to-postgres …   the operator commands (docs/DEPLOY.md, section 12)
 * @module
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSitePage } from '../client/reporter/build/site-step.js';
import { parseArgs } from './ops/cli.js';

const USAGE = `usage: kluis-server [command]
  start (the default)                 serve the API and the reporter page; configuration from the environment (KLUIS_*)
  build-page --site <file> [--out <dir>] [--generic <dir>]
                                      write the reporter page for the site configuration <file> into <dir>
                                      (default dist/reporter, what the server serves unless KLUIS_STATIC_DIR says otherwise)
  backup [--data-dir <dir>] [--include-demo] <file|->
  restore [--check] [--allow-damaged] <file> [<data dir>]
  check-store [<data dir>] [--quick] [--json] [--fix-times]
  to-postgres [<data dir>]            move a data directory into the empty database of KLUIS_DATABASE_URL, and check it
  --version, --help
each command has --help; see docs/DEPLOY.md`;

const SCRIPTS: Record<string, string> = {
  backup: 'backup',
  restore: 'restore',
  'check-store': 'ops-check-store',
  'to-postgres': 'to-postgres',
};

/** The generic reporter page the package ships (`page/`, built by `npm run release`). */
const GENERIC_PAGE = fileURLToPath(new URL('../page', import.meta.url));

function version(): string {
  return (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
}

function buildPage(argv: readonly string[]): number {
  const { flags, positionals } = parseArgs(argv, {
    '--site': 'value',
    '--out': 'value',
    '--generic': 'value',
    '--help': 'flag',
  });
  const site = flags.get('--site');
  if (flags.has('--help') || typeof site !== 'string' || positionals.length > 0) {
    console.error(USAGE);
    return flags.has('--help') ? 0 : 2;
  }
  const out = resolve(String(flags.get('--out') ?? 'dist/reporter'));
  try {
    const built = buildSitePage(
      resolve(String(flags.get('--generic') ?? GENERIC_PAGE)),
      resolve(site),
      out,
    );
    console.log(
      `kluis-server: reporter page for ${built.site.supportPoint.en} written to ${out} (${built.files} files)`,
    );
    console.log(
      `  it seals for ${built.site.counsellors.length} counsellor key(s); ${built.site.escalationRecipients.length} escalation recipient(s)`,
    );
    return 0;
  } catch (error) {
    console.error(`kluis-server: ${(error as Error).message}`);
    return 1;
  }
}

/** Runs `kluis-server` with `argv` (the arguments after the command). */
export async function run(argv: readonly string[]): Promise<void> {
  const [command = 'start', ...rest] = argv;
  if (command === '--version') return void console.log(version());
  if (command === '--help' || command === 'help') return void console.log(USAGE);
  if (command === 'start') {
    if (rest.length > 0) {
      console.error(USAGE);
      process.exit(2);
    }
    const { main } = await import('./main.js');
    return main();
  }
  if (command === 'build-page') process.exit(buildPage(rest));
  const script = SCRIPTS[command];
  if (!script) {
    console.error(`kluis-server: unknown command ${command}\n${USAGE}`);
    process.exit(2);
  }
  // The operator scripts read process.argv themselves, and run (and exit) when imported.
  process.argv = [process.argv[0]!, command, ...rest];
  await import(new URL(`../scripts/${script}.js`, import.meta.url).href);
}
