/**
 * `verify-page` and `watch-page`: is the live reporter page the one the
 * counsellor built from the organisation's published sources? The page
 * holds the keys it seals for (SECURITY.md, "key substitution"), so a
 * server that serves another page could read new reports. `watch-page`
 * repeats the check at random intervals, through the configured proxy, so
 * a counsellor or an outside party can monitor a deployment: the operator
 * cannot tell such a check from a reporter's visit.
 * @module
 */

import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CounsellorApi } from '../lib/api.js';
import { LocalFileError, PageMismatchError, UsageError } from '../lib/errors.js';
import { safeLine } from '../lib/sanitize.js';
import { type PageCheck, pageDifferences, verifyPage } from '../lib/verify-page.js';

/** What the page commands need from the CLI around them. */
export interface PageCommandContext {
  readonly out: (text: string) => void;
  /** The proxy the counsellor configured (`--proxy` or config.json). */
  readonly proxyOf: (command: Command) => Promise<string | undefined>;
  /** Waits `ms` milliseconds (tests make it short). */
  readonly sleep?: (ms: number) => Promise<void>;
}

function pageUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new UsageError(`${JSON.stringify(url)} is not a URL`);
  }
}

async function checkOnce(url: URL, build: string, proxy: string | undefined): Promise<PageCheck> {
  const api = new CounsellorApi({ server: url.origin, proxy });
  try {
    return await verifyPage(api, url, resolve(build));
  } finally {
    api.close();
  }
}

function minutes(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 7 * 24 * 60)
    throw new UsageError(`${name} must be a number of minutes from 0 to 10080`);
  return n;
}

/** Adds `verify-page` and `watch-page` to the program. */
export function addPageCommands(program: Command, ctx: PageCommandContext): void {
  const { out } = ctx;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  program
    .command('verify-page')
    .description(
      'compare the live reporter page and its files with your local build (SHA-256 of dist/reporter/)',
    )
    .argument('<url>', 'the page, e.g. http://xyz….onion/')
    .option('--build <dir>', 'the local build to compare with', 'dist/reporter')
    .action(async (url: string, options: { build: string }, command: Command) => {
      const check = await checkOnce(pageUrl(url), options.build, await ctx.proxyOf(command));
      for (const file of check.files) {
        const mark = file.result === 'same' ? 'ok  ' : '!!  ';
        out(
          `${mark}${file.result.padEnd(18)} ${safeLine(file.path)}${file.liveSha256 && file.result !== 'same' ? `  live ${file.liveSha256}` : ''}`,
        );
      }
      out(`Content-Security-Policy: ${check.csp ? safeLine(check.csp) : '(none)'}`);
      if (!check.ok)
        throw new PageMismatchError(`the page at ${check.url} differs from the local build`);
      out(`The page at ${check.url} matches the local build (${check.files.length} files).`);
    });

  program
    .command('watch-page')
    .description(
      'check the live reporter page against your local build again and again, at random intervals; stops with an ALARM (exit 8) when it differs',
    )
    .argument('<url>', 'the page, e.g. http://xyz….onion/')
    .option('--build <dir>', 'the local build to compare with', 'dist/reporter')
    .option('--min-minutes <n>', 'shortest wait between checks', '20')
    .option('--max-minutes <n>', 'longest wait between checks', '120')
    .option('--checks <n>', 'stop after this many checks (default: never)')
    .action(
      async (
        url: string,
        options: { build: string; minMinutes: string; maxMinutes: string; checks?: string },
        command: Command,
      ) => {
        const page = pageUrl(url);
        const low = minutes(options.minMinutes, '--min-minutes');
        const high = minutes(options.maxMinutes, '--max-minutes');
        if (high < low) throw new UsageError('--max-minutes must not be below --min-minutes');
        const limit =
          options.checks === undefined ? Number.POSITIVE_INFINITY : Number(options.checks);
        if (!(limit >= 1) || (Number.isFinite(limit) && !Number.isInteger(limit)))
          throw new UsageError('--checks must be a whole number from 1');
        const proxy = await ctx.proxyOf(command);
        for (let n = 1; n <= limit; n++) {
          let check: PageCheck | undefined;
          try {
            check = await checkOnce(page, options.build, proxy);
          } catch (error) {
            if (error instanceof LocalFileError) throw error; // no local build: nothing to compare with
            out(
              `check ${n}: could not reach the page (${safeLine(error instanceof Error ? error.message : String(error))}); trying again later`,
            );
          }
          if (check) {
            if (!check.ok) {
              out(`ALARM: check ${n}: the page at ${safeLine(check.url)} differs from your build:`);
              for (const line of pageDifferences(check)) out(`  ${safeLine(line)}`);
              throw new PageMismatchError(`the page at ${check.url} differs from the local build`);
            }
            out(`check ${n}: the page matches your build (${check.files.length} files)`);
          }
          if (n < limit) {
            // A random wait (whole seconds), so the checks cannot be told apart from visits by their rhythm.
            const seconds = randomInt(Math.floor(low * 60), Math.floor(high * 60) + 1);
            await sleep(seconds * 1000);
          }
        }
      },
    );
}
