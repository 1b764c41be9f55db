/**
 * How the browser suites get their browsers (tests/helpers/browsers.ts):
 * found where Debian puts them or where KLUIS_CHROMIUM / KLUIS_FIREFOX
 * say, installed with apt-get by root (each command printed first), and
 * otherwise one line saying what to run. The machine's own browsers are
 * never touched: what exists and what runs are stand-ins here.
 */

import { describe, expect, it } from 'vitest';
import {
  type EnsureOptions,
  ensureBrowsers,
  INSTALL_HINT,
  MissingBrowser,
} from './helpers/browsers.js';

/** A machine with the given executables, apt-get on PATH or not, whose installs add `installs`. */
function machine(
  present: string[],
  options: { apt?: boolean; root?: boolean; installs?: string[]; aptFails?: boolean } = {},
) {
  const files = new Set(present);
  const ran: string[] = [];
  const lines: string[] = [];
  const env = { PATH: options.apt === false ? '/nowhere' : '/usr/bin:/bin' };
  const opts: EnsureOptions = {
    env,
    root: options.root ?? true,
    exists: (path) => files.has(path) || (path.endsWith('/apt-get') && options.apt !== false),
    log: (line) => lines.push(line),
    run: (command, args) => {
      ran.push(`${command} ${args.join(' ')}`);
      if (options.aptFails) return { status: 100, output: 'E: Unable to locate package chromium' };
      if (args[0] === 'install') for (const path of options.installs ?? []) files.add(path);
      return { status: 0, output: '' };
    },
  };
  return { opts, ran, lines, env };
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MissingBrowser);
    return (error as Error).message;
  }
  throw new Error('did not fail');
}

describe('the browsers of the browser suites', () => {
  it('are used where Debian puts them, and nothing runs', () => {
    const m = machine(['/usr/bin/chromium', '/usr/bin/firefox-esr']);
    expect(ensureBrowsers(['chromium', 'firefox'], m.opts)).toEqual({
      chromium: '/usr/bin/chromium',
      firefox: '/usr/bin/firefox-esr',
    });
    expect(m.ran).toEqual([]);
  });

  it('are installed with apt-get by root when missing, both in one run, each command printed', () => {
    const m = machine([], { installs: ['/usr/bin/chromium', '/usr/bin/firefox-esr'] });
    expect(ensureBrowsers(['chromium'], m.opts).chromium).toBe('/usr/bin/chromium');
    const install = 'apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium firefox-esr';
    expect(m.ran).toEqual(['apt-get update -qq', install]);
    expect(m.lines).toEqual([
      "kluis tests: Chromium (/usr/bin/chromium) and Firefox ESR (/usr/bin/firefox-esr) missing; installing Debian's chromium and firefox-esr as root, a minute or two:",
      '  apt-get update -qq',
      `  ${install}`,
    ]);
  });

  it('installs only what is missing, and nothing when the needed one is there', () => {
    const m = machine(['/usr/bin/chromium'], { installs: ['/usr/bin/firefox-esr'] });
    ensureBrowsers(['chromium'], m.opts);
    expect(m.ran).toEqual([]);
    ensureBrowsers(['firefox'], m.opts);
    expect(m.ran[1]).toMatch(/ firefox-esr$/);
  });

  it('says in one line what to run when it may not install', () => {
    for (const m of [machine([], { root: false }), machine([], { apt: false })]) {
      expect(failure(() => ensureBrowsers(['chromium'], m.opts))).toBe(INSTALL_HINT);
      expect(m.ran).toEqual([]);
    }
    expect(INSTALL_HINT).toBe(
      'browser tests need Chromium and Firefox ESR: run `sudo apt-get install chromium firefox-esr`',
    );
  });

  it('says what failed when apt-get fails', () => {
    const m = machine([], { aptFails: true });
    expect(failure(() => ensureBrowsers(['firefox'], m.opts))).toBe(
      `\`apt-get update -qq\` failed (exit 100):\nE: Unable to locate package chromium\n${INSTALL_HINT}`,
    );
  });

  it('never installs in place of a browser a variable names', () => {
    const m = machine(['/usr/bin/chromium'], { installs: ['/usr/bin/chromium'] });
    const opts = { ...m.opts, env: { ...m.env, KLUIS_CHROMIUM: '/opt/nowhere/chrome' } };
    expect(failure(() => ensureBrowsers(['chromium'], opts))).toMatch(
      /^KLUIS_CHROMIUM=\/opt\/nowhere\/chrome is not an executable file/,
    );
    expect(m.ran).toEqual([]);
    const given = machine(['/opt/ff/firefox']);
    expect(
      ensureBrowsers(['firefox'], {
        ...given.opts,
        env: { ...given.env, KLUIS_FIREFOX: '/opt/ff/firefox' },
      }).firefox,
    ).toBe('/opt/ff/firefox');
  });
});
