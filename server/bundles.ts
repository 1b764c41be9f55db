/** Loading the counsellors' and escalation recipients' public bundles from their files. */

import { readFileSync } from 'node:fs';
import { KluisError, verifyBundle, type Role, type VerifiedBundle } from '../crypto/index.js';
import { ConfigError } from './config.js';

/**
 * Reads a JSON file holding one bundle or an array of bundles, checks each
 * signature and role, and refuses duplicates. Throws ConfigError naming the
 * file and the problem.
 */
export function loadBundles(path: string, role: Role, variable: string): VerifiedBundle[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); point it at the bundle file the ${role === 'counsellor' ? 'counsellors' : 'escalation recipients'} exported`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(
      `${variable}: ${path} is not JSON; it should hold the public bundle(s) from 'kluis-counsellor export-bundle'`,
    );
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new ConfigError(`${variable}: ${path} holds no bundle`);
  const bundles = list.map((item, index) => {
    try {
      const bundle = verifyBundle(item);
      if (bundle.role !== role)
        throw new ConfigError(
          `${variable}: bundle ${index + 1} in ${path} is for role ${bundle.role}, expected ${role}`,
        );
      return bundle;
    } catch (error) {
      if (error instanceof KluisError) {
        throw new ConfigError(
          `${variable}: bundle ${index + 1} in ${path} is ${error.code === 'bad-signature' ? 'not correctly signed (altered or damaged)' : `malformed (${error.message})`}`,
        );
      }
      throw error;
    }
  });
  if (new Set(bundles.map((b) => b.fingerprint)).size !== bundles.length)
    throw new ConfigError(`${variable}: ${path} lists the same key twice`);
  return bundles;
}
