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
import { message } from '../src/catalogue.js';
import { CATALOGUES, LANGUAGE_LIST } from './catalogues.js';

/**
 * A text per page language. English is required: it stands in for any page
 * language the site does not give (a site written in Dutch and English shows
 * its English names on the French page). The other languages are optional.
 */
export type Localised = { en: string } & { [lang: string]: string };
/** A list of texts per page language, English required (the same rule). */
export type LocalisedList = { en: string[] } & { [lang: string]: string[] };

/** The page languages a site text may be given in (client/reporter/languages.json). */
const SITE_LANGUAGES = LANGUAGE_LIST.map((l) => l.code);

/** A site text in `lang`, or English where the site does not give it. */
export function siteTextIn(texts: Localised, lang: string): string {
  return texts[lang] ?? texts.en;
}

/** A site list in `lang`, or English where the site does not give it. */
export function siteListIn(lists: LocalisedList, lang: string): string[] {
  return lists[lang] ?? lists.en;
}

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

/** The language keys of a per-language field: `en` present, every key a page language. */
function checkLanguages(path: string, value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(path, `${field} must be an object { "en": …, "nl": …, … } (one entry per language)`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => !SITE_LANGUAGES.includes(key));
  if (extra.length > 0)
    fail(
      path,
      `${field} has unknown keys: ${extra.join(', ')} (languages are ${SITE_LANGUAGES.join(', ')})`,
    );
  if (!Object.hasOwn(record, 'en'))
    fail(path, `${field}.en is required (English stands in for a language the site does not give)`);
  return record;
}

function checkLocalised(path: string, value: unknown, field: string, max: number): Localised {
  const record = checkLanguages(path, value, field);
  const out: Record<string, string> = {};
  for (const lang of SITE_LANGUAGES)
    if (Object.hasOwn(record, lang))
      out[lang] = checkText(path, record[lang], `${field}.${lang}`, max);
  return out as Localised;
}

function checkList(path: string, value: unknown, field: string): LocalisedList {
  const record = checkLanguages(path, value, field);
  const out: Record<string, string[]> = {};
  for (const lang of SITE_LANGUAGES) {
    if (!Object.hasOwn(record, lang)) continue;
    const items = record[lang];
    if (!Array.isArray(items) || items.length === 0 || items.length > 10)
      fail(path, `${field}.${lang} must be a list of 1 to 10 strings`);
    out[lang] = items.map((item, i) => checkText(path, item, `${field}.${lang}[${i}]`, 500));
  }
  return out as LocalisedList;
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

/**
 * The `<noscript>` block, one section per page language (the site's default
 * first, each with its own `lang` and `dir`): why the page needs JavaScript,
 * the plain-HTML path at /basic/ and what is weaker there, how to go from
 * Safest to Safer, and the site's other ways in. Every word comes from the
 * catalogues (`noscript*` keys) and the site configuration.
 */
export function noscriptHtml(site: SiteConfig): string {
  const block = (lang: string, dir: string): string => {
    const c = CATALOGUES[lang]!;
    const t = (key: string) => escapeHtml(message(c, lang, key, {}, CATALOGUES.en));
    return [
      `<section class="noscript" lang="${lang}" dir="${dir}">`,
      `<h1>${escapeHtml(siteTextIn(site.supportPoint, lang))}</h1>`,
      `<h2>${t('noscriptWhy')}</h2>`,
      `<p>${t('noscriptBecause')}</p>`,
      `<p>${t('noscriptBasic')}</p>`,
      `<p><a class="basic-link" href="/basic/?lang=${lang}">${t('noscriptBasicLink')}</a></p>`,
      `<p>${t('noscriptTor')}</p>`,
      `<ol>${[1, 2, 3, 4].map((i) => `<li>${t(`noscriptStep${i}`)}</li>`).join('')}</ol>`,
      `<p>${t('noscriptSafer')}</p>`,
      `<h2>${t('noscriptOther')}</h2>`,
      `<ul>${siteListIn(site.otherWays, lang)
        .map((way) => `<li>${escapeHtml(way)}</li>`)
        .join('')}</ul>`,
      '</section>',
    ].join('\n');
  };
  const blocks = LANGUAGE_LIST.map((l) => block(l.code, l.dir));
  return `<noscript><main class="noscript-main">\n${blocks.join('\n')}\n</main></noscript>`;
}
