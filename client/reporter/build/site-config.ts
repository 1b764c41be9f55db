/**
 * The site configuration of a reporter page build: the organisation's own
 * texts and the public keys the page seals for. Checked here at build time,
 * so a wrong file stops the build with a message naming the file and field.
 *
 * The keys are part of the build on purpose (SECURITY.md, "key
 * substitution"): the page seals only for the counsellors and escalation
 * recipients it was built with, so the reproducible build and
 * `kluis-counsellor verify-page` cover them, and a server cannot hand the
 * page a key of its own.
 * @module
 */

import { readFileSync } from 'node:fs';
import { KluisError, verifyBundle } from '../../../crypto/index.js';
import type { PublicBundle, Role } from '../../../crypto/index.js';

/** A text in each language of the build. */
export type Localised = { nl: string; en: string };
/** A list of texts in each language of the build. */
export type LocalisedList = { nl: string[]; en: string[] };

/** The build-time site configuration (see client/reporter/README.md). */
export interface SiteConfig {
  supportPoint: Localised;
  organisation: Localised;
  escalation: Localised;
  fingerprintsPublishedAt: Localised;
  otherWays: LocalisedList;
  /** The counsellors' public bundles: the only keys the page seals for. Empty: the page sends nothing and says why. */
  counsellors: PublicBundle[];
  /** The escalation recipients' public bundles: a case may be forwarded to these (with the reporter's consent). */
  escalationRecipients: PublicBundle[];
}

function checkBundles(path: string, value: unknown, field: string, role: Role): PublicBundle[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 15)
    fail(path, `${field} must be a list of at most 15 public bundles`);
  const seen = new Set<string>();
  return value.map((item, i) => {
    try {
      const bundle = verifyBundle(item);
      if (bundle.role !== role)
        fail(path, `${field}[${i}] is a ${bundle.role} bundle, expected ${role}`);
      if (seen.has(bundle.fingerprint)) fail(path, `${field}[${i}] lists the same key twice`);
      seen.add(bundle.fingerprint);
      return item as PublicBundle;
    } catch (error) {
      if (error instanceof KluisError)
        fail(path, `${field}[${i}] is not a valid public bundle (${error.code}: ${error.message})`);
      throw error;
    }
  });
}

function fail(path: string, what: string): never {
  throw new Error(`site config ${path}: ${what}`);
}

function checkText(path: string, value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '')
    fail(path, `${field} must be a non-empty string`);
  if (value.length > max) fail(path, `${field} is longer than ${max} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) fail(path, `${field} contains a control character`);
  return value;
}

function checkLocalised(path: string, value: unknown, field: string, max: number): Localised {
  if (typeof value !== 'object' || value === null)
    fail(path, `${field} must be an object { "nl": …, "en": … }`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => key !== 'nl' && key !== 'en');
  if (extra.length > 0) fail(path, `${field} has unknown keys: ${extra.join(', ')}`);
  return {
    nl: checkText(path, record.nl, `${field}.nl`, max),
    en: checkText(path, record.en, `${field}.en`, max),
  };
}

function checkList(path: string, value: unknown, field: string): LocalisedList {
  if (typeof value !== 'object' || value === null)
    fail(path, `${field} must be an object { "nl": [...], "en": [...] }`);
  const record = value as Record<string, unknown>;
  const list = (language: 'nl' | 'en'): string[] => {
    const items = record[language];
    if (!Array.isArray(items) || items.length === 0 || items.length > 10) {
      fail(path, `${field}.${language} must be a list of 1 to 10 strings`);
    }
    return items.map((item, i) => checkText(path, item, `${field}.${language}[${i}]`, 500));
  };
  const extra = Object.keys(record).filter((key) => key !== 'nl' && key !== 'en');
  if (extra.length > 0) fail(path, `${field} has unknown keys: ${extra.join(', ')}`);
  return { nl: list('nl'), en: list('en') };
}

/** Reads and checks the site configuration file. Throws with a message naming the file and field. */
export function loadSiteConfig(path: string): SiteConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(path, `cannot be read as JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(path, 'must be a JSON object');
  const record = value as Record<string, unknown>;
  const known = [
    'supportPoint',
    'organisation',
    'escalation',
    'fingerprintsPublishedAt',
    'otherWays',
    'counsellors',
    'escalationRecipients',
  ];
  const extra = Object.keys(record).filter((key) => !known.includes(key));
  if (extra.length > 0) fail(path, `unknown fields: ${extra.join(', ')}`);
  return {
    supportPoint: checkLocalised(path, record.supportPoint, 'supportPoint', 100),
    organisation: checkLocalised(path, record.organisation, 'organisation', 100),
    escalation: checkLocalised(path, record.escalation, 'escalation', 100),
    fingerprintsPublishedAt: checkLocalised(
      path,
      record.fingerprintsPublishedAt,
      'fingerprintsPublishedAt',
      300,
    ),
    otherWays: checkList(path, record.otherWays, 'otherWays'),
    counsellors: checkBundles(path, record.counsellors, 'counsellors', 'counsellor'),
    escalationRecipients: checkBundles(
      path,
      record.escalationRecipients,
      'escalationRecipients',
      'escalation',
    ),
  };
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** The <noscript> block, Dutch first: why JavaScript is needed, how to go from Safest to Safer, other ways in. */
export function noscriptHtml(site: SiteConfig): string {
  const text = {
    nl: {
      why: 'Deze pagina heeft JavaScript nodig',
      because:
        'Uw melding wordt in uw eigen browser versleuteld, voordat er iets wordt verstuurd. Alleen de vertrouwenspersoon kan haar lezen. Dat versleutelen doet JavaScript. Zonder JavaScript kan deze pagina niets voor u doen.',
      tor: 'Gebruikt u Tor Browser met het beveiligingsniveau ‘Veiligst’ (Safest)? Zet het dan op ‘Veiliger’ (Safer):',
      steps: [
        'Klik op het schildje naast de adresbalk.',
        'Kies ‘Wijzigen…’ of ‘Instellingen…’ (Change… / Settings…).',
        'Kies ‘Veiliger’ (Safer). Vraagt Tor Browser om opnieuw te starten? Doe dat.',
        'Open deze pagina opnieuw.',
      ],
      safer:
        'Deze pagina werkt op ‘Veiliger’. Zij gebruikt geen WebAssembly, geen lettertypen of plaatjes van andere websites, en maakt geen contact met andere websites. Bent u klaar? Dan kunt u het niveau weer op ‘Veiligst’ zetten.',
      basic:
        'Kunt of wilt u het niveau niet veranderen? Dan kunt u ook zonder JavaScript melden. Dat is minder veilig; de pagina legt uit waarom.',
      basicLink: 'Melden zonder JavaScript',
      other: 'Liever niet? U kunt ons ook zo bereiken:',
    },
    en: {
      why: 'This page needs JavaScript',
      because:
        'Your report is encrypted in your own browser before anything is sent. Only the counsellor can read it. JavaScript does that encryption. Without JavaScript, this page cannot do anything for you.',
      tor: 'Are you using Tor Browser at the security level ‘Safest’? Then set it to ‘Safer’:',
      steps: [
        'Click the shield icon next to the address bar.',
        'Choose ‘Change…’ or ‘Settings…’.',
        'Choose ‘Safer’. If Tor Browser asks to restart, do so.',
        'Open this page again.',
      ],
      safer:
        'This page works at ‘Safer’. It uses no WebAssembly, no fonts or images from other websites, and contacts no other website. When you are done, you can set the level back to ‘Safest’.',
      basic:
        'If you cannot or would rather not change the level, you can also report without JavaScript. That is less safe; the page explains why.',
      basicLink: 'Report without JavaScript',
      other: 'Would you rather not? You can also reach us like this:',
    },
  } as const;
  const block = (language: 'nl' | 'en'): string => {
    const t = text[language];
    return [
      `<section class="noscript" lang="${language}">`,
      `<h1>${escapeHtml(site.supportPoint[language])}</h1>`,
      `<h2>${escapeHtml(t.why)}</h2>`,
      `<p>${escapeHtml(t.because)}</p>`,
      `<p>${escapeHtml(t.tor)}</p>`,
      `<ol>${t.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>`,
      `<p>${escapeHtml(t.safer)}</p>`,
      // The no-JavaScript pages (server/routes/basic.tsx), in this block's language.
      `<p>${escapeHtml(t.basic)} <a href="/basic/?lang=${language}">${escapeHtml(t.basicLink)}</a></p>`,
      `<h2>${escapeHtml(t.other)}</h2>`,
      `<ul>${site.otherWays[language].map((way) => `<li>${escapeHtml(way)}</li>`).join('')}</ul>`,
      '</section>',
    ].join('\n');
  };
  return `<noscript><main class="noscript-main">\n${block('nl')}\n${block('en')}\n</main></noscript>`;
}
