import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three projects, so that a browser is looked for (and installed when
 * missing, tests/helpers/browsers.ts) only when a file that needs it runs.
 * A new browser test file goes in the list of its browser.
 */
const CHROMIUM = [
  'tests/page.test.ts',
  'tests/page.build.test.ts',
  'tests/page.keys.test.ts',
  'tests/page.languages.test.ts',
  'tests/page.tor.test.ts',
  'tests/page.handover.test.ts',
  'tests/counsellor-app.test.ts',
  'tests/counsellor-app-screens.test.ts',
  'tests/release.test.ts',
  'tests/basic.chromium.test.ts',
];
const FIREFOX = ['tests/page.firefox.test.ts', 'tests/basic.firefox.test.ts'];
const SETUP = ['tests/helpers/browsers-setup.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...CHROMIUM, ...FIREFOX],
        },
      },
      { extends: true, test: { name: 'chromium', include: CHROMIUM, globalSetup: SETUP } },
      { extends: true, test: { name: 'firefox', include: FIREFOX, globalSetup: SETUP } },
    ],
  },
});
