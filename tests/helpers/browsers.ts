/**
 * Where the browser tests find their browsers, and what they do when one
 * is missing. Both browsers are Debian's packages: `chromium`
 * (/usr/bin/chromium) and `firefox-esr` (/usr/bin/firefox-esr, the
 * Firefox that Tor Browser is built on); KLUIS_CHROMIUM and KLUIS_FIREFOX
 * name others.
 *
 * A missing browser is installed from Debian's packages when the tests
 * run as root with apt-get (as on the project's machines and in CI),
 * printing each command first. Otherwise the run stops with one line that
 * says what to run. Nothing is ever downloaded from anywhere else. Why not
 * a browser from the npm registry (@sparticuz/chromium): README.md, "Tests
 * and their browsers".
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The browsers the tests drive, by the vitest project that needs each. */
export type BrowserName = 'chromium' | 'firefox';

interface BrowserSpec {
  readonly label: string;
  readonly variable: string;
  readonly path: string;
  readonly debian: string;
}

export const BROWSERS: Record<BrowserName, BrowserSpec> = {
  chromium: {
    label: 'Chromium',
    variable: 'KLUIS_CHROMIUM',
    path: '/usr/bin/chromium',
    debian: 'chromium',
  },
  firefox: {
    label: 'Firefox ESR',
    variable: 'KLUIS_FIREFOX',
    path: '/usr/bin/firefox-esr',
    debian: 'firefox-esr',
  },
};

/** The one line a run without a browser ends with. */
export const INSTALL_HINT =
  'browser tests need Chromium and Firefox ESR: run `sudo apt-get install chromium firefox-esr`';

/** The executable the tests launch for `name`: its variable's value, or Debian's path. */
export function browserPath(name: BrowserName, env: NodeJS.ProcessEnv = process.env): string {
  return env[BROWSERS[name].variable] || BROWSERS[name].path;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Whether `command` is an executable on `PATH`. */
export function onPath(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  exists = executable,
): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && exists(join(dir, command)));
}

/**
 * Thrown when the browsers cannot be had. Its stack is its message alone:
 * vitest prints the stack of a global setup's error, and the line is what
 * the reader needs, not where in this file it was thrown.
 */
export class MissingBrowser extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingBrowser';
    this.stack = message;
  }
}

/** What ensureBrowsers may do; the defaults are the real machine. */
export interface EnsureOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Root may install packages. */
  readonly root?: boolean;
  /** Runs a command, returning its exit status and output. */
  readonly run?: (
    command: string,
    args: readonly string[],
  ) => { status: number | null; output: string };
  readonly log?: (line: string) => void;
  /** Whether a path is an executable file. */
  readonly exists?: (path: string) => boolean;
}

function runCommand(
  command: string,
  args: readonly string[],
): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15 * 60_000,
  });
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`,
  };
}

/**
 * Makes sure the browsers in `needed` can be launched, and returns their
 * paths. A browser named by its variable must be there: that was the
 * user's choice, so nothing is installed in its place. A missing Debian
 * browser is installed, together with the other one if that is missing
 * too (one apt-get run serves both suites), when root may use apt-get.
 */
export function ensureBrowsers(
  needed: readonly BrowserName[],
  options: EnsureOptions = {},
): Record<BrowserName, string> {
  const env = options.env ?? process.env;
  const exists = options.exists ?? executable;
  const log = options.log ?? ((line: string) => console.log(line));
  const paths = { chromium: browserPath('chromium', env), firefox: browserPath('firefox', env) };

  for (const name of needed) {
    const { variable } = BROWSERS[name];
    if (env[variable] && !exists(paths[name]))
      throw new MissingBrowser(
        `${variable}=${paths[name]} is not an executable file: point ${variable} at the ${BROWSERS[name].label} executable, or unset it to use Debian's (${BROWSERS[name].path})`,
      );
  }
  if (needed.every((name) => exists(paths[name]))) return paths;

  const missing = (Object.keys(BROWSERS) as BrowserName[]).filter(
    (name) => !env[BROWSERS[name].variable] && !exists(paths[name]),
  );
  const root = options.root ?? process.getuid?.() === 0;
  if (!root || !onPath('apt-get', env, exists)) throw new MissingBrowser(INSTALL_HINT);

  const packages = missing.map((name) => BROWSERS[name].debian);
  const run = options.run ?? runCommand;
  log(
    `kluis tests: ${missing.map((name) => `${BROWSERS[name].label} (${BROWSERS[name].path})`).join(' and ')} missing; installing Debian's ${packages.join(' and ')} as root, a minute or two:`,
  );
  const commands: [string, string[]][] = [
    ['apt-get', ['update', '-qq']],
    // Waits for another apt or dpkg (an unattended upgrade) instead of failing at once.
    ['apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', ...packages]],
  ];
  for (const [command, args] of commands) {
    log(`  ${command} ${args.join(' ')}`);
    const result = run(command, args);
    if (result.status !== 0) {
      const tail = result.output.trim().split('\n').slice(-5).join('\n');
      throw new MissingBrowser(
        `\`${command} ${args.join(' ')}\` failed (exit ${result.status}):\n${tail}\n${INSTALL_HINT}`,
      );
    }
  }
  for (const name of needed)
    if (!exists(paths[name]))
      throw new MissingBrowser(
        `${BROWSERS[name].debian} was installed but ${paths[name]} is still missing\n${INSTALL_HINT}`,
      );
  return paths;
}

/** For a launcher: the path, or one line saying why the browser is not there. */
export function launchablePath(name: BrowserName): string {
  const path = browserPath(name);
  if (!executable(path)) {
    throw new MissingBrowser(
      `${path} is missing: this test file must be in the "${name}" project of vitest.config.ts, whose setup finds or installs the browser (${INSTALL_HINT})`,
    );
  }
  return path;
}
