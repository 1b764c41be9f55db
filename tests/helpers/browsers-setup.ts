/**
 * vitest global setup of the "chromium" and "firefox" projects
 * (vitest.config.ts): before any of their files runs, the project's browser
 * is found, or installed from Debian's packages, or the run stops with one
 * line that says what to run (tests/helpers/browsers.ts). Runs only when a
 * file of that project is in the run, so `vitest run tests/store.test.ts`
 * never installs a browser.
 */

import type { TestProject } from 'vitest/node';
import { type BrowserName, BROWSERS, ensureBrowsers, MissingBrowser } from './browsers.js';

export default function setup(project: TestProject): void {
  const name = project.name;
  if (!(name in BROWSERS))
    throw new Error(
      `browsers-setup: project "${name}" is not one of ${Object.keys(BROWSERS).join(', ')}`,
    );
  try {
    ensureBrowsers([name as BrowserName]);
  } catch (error) {
    if (!(error instanceof MissingBrowser)) throw error;
    // Thrown, it would be buried under vitest's "No test files found" and
    // every project's include list. No test has started yet: stop here.
    console.error(`kluis tests: ${error.message}`);
    process.exit(1);
  }
}
