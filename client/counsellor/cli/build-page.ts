/**
 * `kluis-counsellor build-page --site <file> [--out <dir>]`: makes your own
 * copy of the reporter page from the generic page this release ships and
 * the published site configuration, for `verify-page`, `watch-page` and
 * the app's check on unlock. The same step, byte for byte, as the
 * operator's `kluis-server build-page` and a checkout's `npm run build`
 * (client/reporter/build/site-step.ts).
 * @module
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildSitePage } from '../../reporter/build/site-step.js';
import { CounsellorError, EXIT, LocalFileError } from '../lib/errors.js';
import { out } from './context.js';

/** The generic page the installed client ships (`page/` in the package), or KLUIS_GENERIC_PAGE_DIR. */
export function genericPageDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(
    env.KLUIS_GENERIC_PAGE_DIR ?? fileURLToPath(new URL('../../../page', import.meta.url)),
  );
}

/** Adds `build-page`. */
export function addBuildPageCommand(program: Command): void {
  program
    .command('build-page')
    .description(
      'build your own copy of the reporter page from the published site configuration, to check the live page against',
    )
    .requiredOption(
      '--site <file>',
      'the site configuration the operator published (texts and public keys)',
    )
    .option(
      '--out <dir>',
      'where to write the page (missing, empty, or an earlier page build; verify-page looks in dist/reporter by default)',
      'dist/reporter',
    )
    .action((options: { site: string; out: string }) => {
      const generic = genericPageDir();
      if (!existsSync(join(generic, 'index.html'))) {
        throw new LocalFileError(
          `no generic page at ${generic} (in a checkout: KLUIS_SITE_CONFIG=<file> npm run build)`,
        );
      }
      let built: ReturnType<typeof buildSitePage>;
      try {
        built = buildSitePage(generic, resolve(options.site), resolve(options.out));
      } catch (error) {
        throw new CounsellorError(EXIT.usage, (error as Error).message);
      }
      out(
        `Built the reporter page into ${resolve(options.out)} (${built.files} files) for ${built.site.supportPoint.en}`,
      );
      out(
        `  keys: ${built.site.counsellors.length} counsellor, ${built.site.escalationRecipients.length} escalation`,
      );
      out(
        `Check the live page against it: kluis-counsellor verify-page <url> --build ${options.out}`,
      );
    });
}
