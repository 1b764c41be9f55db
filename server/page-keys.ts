/**
 * The keys the served reporter page was built with (its `keys.json`)
 * beside the keys this server is configured with. The page seals only for
 * built keys it also finds in `GET /api/v1/info`, so a difference is not a
 * leak, but it is a page that cannot reach a counsellor: the operator is
 * told at start, in plain words.
 */

import {
  displayFingerprint,
  KluisError,
  type VerifiedBundle,
  verifyBundle,
} from '../crypto/index.js';
import type { StaticFile } from './static.js';

function builtFingerprints(
  file: StaticFile,
): { counsellors: string[]; escalation: string[] } | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(file.body)) as {
      counsellors?: unknown[];
      escalationRecipients?: unknown[];
    };
    const prints = (list: unknown[] | undefined) =>
      (list ?? []).map((bundle) => verifyBundle(bundle).fingerprint);
    return {
      counsellors: prints(value.counsellors),
      escalation: prints(value.escalationRecipients),
    };
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof KluisError) return undefined;
    throw error;
  }
}

/** Warning lines (empty when the page and the configuration agree, or no page is served). */
export function pageKeyWarnings(
  page: ReadonlyMap<string, StaticFile>,
  counsellors: readonly VerifiedBundle[],
  escalation: readonly VerifiedBundle[],
): string[] {
  if (page.size === 0) return [];
  const file = page.get('/keys.json');
  const built = file ? builtFingerprints(file) : undefined;
  if (!built)
    return [
      'the reporter page has no readable keys.json: it cannot seal for anyone. Build it for this site (npm run build; from a release: kluis-server build-page; docs/DEPLOY.md)',
    ];
  const lines: string[] = [];
  if (!counsellors.some((c) => built.counsellors.includes(c.fingerprint))) {
    lines.push(
      'the reporter page was built with none of the configured counsellor keys, so it sends nothing. Put the counsellors’ bundles in the site config and rebuild it (docs/DEPLOY.md, "Keys and the page")',
    );
  }
  for (const c of counsellors) {
    if (!built.counsellors.includes(c.fingerprint))
      lines.push(
        `counsellor ${displayFingerprint(c.fingerprint)} (${c.name}) is not in the reporter page: reports are not sealed for them until the page is rebuilt`,
      );
  }
  for (const e of escalation) {
    if (!built.escalation.includes(e.fingerprint))
      lines.push(
        `escalation recipient ${displayFingerprint(e.fingerprint)} (${e.name}) is not in the reporter page: a forward to them shows as unexpected there until the page is rebuilt`,
      );
  }
  const configured = new Set([...counsellors, ...escalation].map((b) => b.fingerprint));
  for (const fingerprint of [...built.counsellors, ...built.escalation]) {
    if (!configured.has(fingerprint))
      lines.push(
        `the reporter page holds key ${displayFingerprint(fingerprint)}, which this server does not list: the page does not seal for it`,
      );
  }
  return lines;
}

/** Who the no-JavaScript pages seal for and trust: the page's rule, applied by the server. */
export interface PageParties {
  /** Counsellors the page was built with that this server lists too (client/reporter/src/keys.ts, compareWithServer). */
  readonly counsellors: readonly VerifiedBundle[];
  /** Escalation recipients the page was built with. */
  readonly escalation: readonly VerifiedBundle[];
}

/**
 * The keys the served page seals for, so that a report sent without JavaScript goes to exactly
 * the recipients the page would have chosen: the built keys (keys.json), narrowed by the
 * server's list. Nothing when the page holds no readable keys.json: then nothing is sent.
 */
export function pageParties(
  page: ReadonlyMap<string, StaticFile>,
  counsellors: readonly VerifiedBundle[],
): PageParties {
  const file = page.get('/keys.json');
  if (!file) return { counsellors: [], escalation: [] };
  let value: { counsellors?: unknown[]; escalationRecipients?: unknown[] };
  try {
    value = JSON.parse(new TextDecoder().decode(file.body)) as typeof value;
  } catch {
    return { counsellors: [], escalation: [] };
  }
  const verified = (list: unknown, role: VerifiedBundle['role']): VerifiedBundle[] => {
    const out: VerifiedBundle[] = [];
    for (const item of Array.isArray(list) ? list : []) {
      try {
        const bundle = verifyBundle(item);
        if (bundle.role === role && !out.some((b) => b.fingerprint === bundle.fingerprint))
          out.push(bundle);
      } catch (error) {
        if (!(error instanceof KluisError)) throw error;
      }
    }
    return out;
  };
  const listed = new Set(counsellors.map((c) => c.fingerprint));
  return {
    counsellors: verified(value.counsellors, 'counsellor').filter((b) => listed.has(b.fingerprint)),
    escalation: verified(value.escalationRecipients, 'escalation'),
  };
}
