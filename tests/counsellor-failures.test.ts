/**
 * Failures reach the counsellor in the app's own words: every stable code the library, the
 * server's API and the local app can answer with has a text in both catalogues
 * (app/ui/texts-nl.ts, texts-en.ts `failures`), and the library's errors carry those codes
 * through the local app's JSON. (The page showing them in Dutch: counsellor-app-screens.)
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../api/contract.js';
import { errorJson } from '../client/counsellor/app/http.js';
import { en } from '../client/counsellor/app/ui/texts-en.js';
import { nl } from '../client/counsellor/app/ui/texts-nl.js';
import { FAILURE_CODES, KeyFileError, PolicyError } from '../client/counsellor/lib/errors.js';
import { createKeyFile, unlockKeyFile } from '../client/counsellor/lib/keys.js';
import { generateIdentity } from '../crypto/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kluis-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The codes of the local app's own refusals, read from its source (`new HttpError(status, 'code'`). */
function appCodes(): string[] {
  const codes = new Set<string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name))
        for (const m of readFileSync(path, 'utf8').matchAll(
          /new HttpError\(\s*\d+,\s*'([a-z-]+)'/g,
        ))
          codes.add(m[1]!);
    }
  };
  walk('client/counsellor/app');
  return [...codes];
}

describe('failure texts', () => {
  it('every code has words in Dutch and in English, and they differ', () => {
    const codes = [
      ...FAILURE_CODES,
      ...Object.keys(ERROR_STATUS),
      'key-not-configured',
      'app-unreachable',
      ...appCodes(),
    ];
    expect(appCodes()).toContain('locked');
    for (const code of codes) {
      const dutch = (nl.failures as Record<string, string>)[code];
      const english = (en.failures as Record<string, string>)[code];
      expect(dutch, `nl: ${code}`).toBeTruthy();
      expect(english, `en: ${code}`).toBeTruthy();
      expect(dutch, code).not.toBe(english);
    }
  });

  it('a wrong passphrase is a KeyFileError with its code, and the local app answers with that code', async () => {
    const keyPath = join(dir, 'key.json');
    await createKeyFile(keyPath, generateIdentity('counsellor', 'T'), 'the right passphrase');
    const error = await unlockKeyFile(keyPath, 'a wrong one').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyFileError);
    expect((error as KeyFileError).code).toBe('wrong-passphrase');
    const json = errorJson(error);
    expect(json.body).toMatchObject({
      error: { code: 'wrong-passphrase', kind: 'KeyFileError', exitCode: 3 },
    });
    // A failure without a specific code has its class's.
    expect(errorJson(new PolicyError('no')).body).toMatchObject({
      error: { code: 'policy', kind: 'PolicyError', exitCode: 7 },
    });
  });
});
