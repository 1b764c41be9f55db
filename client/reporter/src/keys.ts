/**
 * The keys this page seals for: the counsellors and escalation recipients
 * it was built with (the site configuration), never the server's word.
 * The server's list (`GET /api/v1/info`) only narrows them: a built
 * counsellor the server no longer lists is not sealed for, and a key the
 * server lists that the build does not hold is never used, and the page
 * says so (SECURITY.md, "key substitution").
 * @module
 */

import type { VerifiedBundle } from '../../../crypto/index.js';
import { verifyBundle } from '../../../crypto/index.js';
import { site } from './site.js';

/** The bundles of the build, verified. */
export interface BuiltKeys {
  readonly counsellors: readonly VerifiedBundle[];
  readonly escalation: readonly VerifiedBundle[];
}

/** What the page seals for, after comparing the build with the server's list. */
export interface KeyCheck {
  /** Built counsellors the server lists too: the recipients of everything this page seals. */
  readonly usable: readonly VerifiedBundle[];
  /** How many keys the server lists that this page was not built with (never used). */
  readonly foreign: number;
}

function verifyAll(list: readonly unknown[], role: VerifiedBundle['role']): VerifiedBundle[] {
  // The build checked them; a page whose bundle fails here was altered, and such a key is not used.
  const out: VerifiedBundle[] = [];
  for (const value of list) {
    try {
      const bundle = verifyBundle(value);
      if (bundle.role === role && !out.some((b) => b.fingerprint === bundle.fingerprint))
        out.push(bundle);
    } catch {
      // skipped: see above
    }
  }
  return out;
}

/** Verifies the bundles this page was built with (`site` is the build's configuration). */
export function loadBuiltKeys(
  config: {
    readonly counsellors: readonly unknown[];
    readonly escalationRecipients: readonly unknown[];
  } = site,
): BuiltKeys {
  return {
    counsellors: verifyAll(config.counsellors, 'counsellor'),
    escalation: verifyAll(config.escalationRecipients, 'escalation'),
  };
}

function fingerprintOfListed(value: unknown): string | undefined {
  try {
    return verifyBundle(value).fingerprint;
  } catch {
    return undefined;
  }
}

/** Compares the build's keys with the server's list (both roles). */
export function compareWithServer(
  built: BuiltKeys,
  listed: { readonly counsellors: readonly unknown[]; readonly escalation: readonly unknown[] },
): KeyCheck {
  const known = new Set([...built.counsellors, ...built.escalation].map((b) => b.fingerprint));
  const listedCounsellors = new Set(listed.counsellors.map(fingerprintOfListed));
  const foreign = [...listed.counsellors, ...listed.escalation].filter((value) => {
    const fingerprint = fingerprintOfListed(value);
    return fingerprint === undefined || !known.has(fingerprint);
  }).length;
  return { usable: built.counsellors.filter((b) => listedCounsellors.has(b.fingerprint)), foreign };
}
