/**
 * The words of the no-JavaScript pages: the reporter page's message catalogues (the `basic…`
 * keys, client/reporter/locales/<lang>.json, i18next JSON v4, read with catalogue.ts), the
 * language a request asks for, and the site's own texts from the built page. One language per
 * response: `?lang=` (every link and form carries it), else the browser's Accept-Language, else
 * the site's default.
 */

import { readFileSync } from 'node:fs';
import {
  type Catalogue,
  type MessageParams,
  message,
} from '../../client/reporter/src/catalogue.js';
import type { StaticFile } from '../static.js';

/** The languages of the pages, in the order the picker shows them. */
export const BASIC_LANGUAGES = ['nl', 'en', 'fr', 'es', 'pt', 'ar'] as const;
/** A language of the pages. */
export type BasicLang = (typeof BASIC_LANGUAGES)[number];
/** The site's default language (the support point is Dutch): when nothing else chooses one. */
export const DEFAULT_LANGUAGE: BasicLang = 'nl';
/**
 * The catalogues, read once at start from the checkout's layout (the release copies
 * client/reporter/locales/ beside the compiled server: scripts/release.ts). Read as files rather
 * than imported, so the compiled server needs no JSON modules.
 */
const CATALOGUES = Object.fromEntries(
  BASIC_LANGUAGES.map((lang) => [
    lang,
    JSON.parse(
      readFileSync(new URL(`../../client/reporter/locales/${lang}.json`, import.meta.url), 'utf8'),
    ) as Catalogue,
  ]),
) as Readonly<Record<BasicLang, Catalogue>>;
/** The source catalogue: a key a translation lacks is shown from here. */
const SOURCE: Catalogue = CATALOGUES.en;
const RIGHT_TO_LEFT: ReadonlySet<BasicLang> = new Set(['ar']);
/** Each language's own name, for the picker (never translated: a reader finds their own). */
export const LANGUAGE_NAMES: Readonly<Record<BasicLang, string>> = {
  nl: 'Nederlands',
  en: 'English',
  fr: 'Français',
  es: 'Español',
  pt: 'Português',
  ar: 'العربية',
};

/** True iff `value` names a language of the pages. */
export function isBasicLang(value: unknown): value is BasicLang {
  return typeof value === 'string' && (BASIC_LANGUAGES as readonly string[]).includes(value);
}

/**
 * The language for a request: `query` (the `lang` parameter) when it names one, else the first
 * language of Accept-Language (by q-value, then order; `fr-CA` counts as `fr`) that the pages
 * have, else the default.
 */
export function chooseLanguage(
  query: string | undefined,
  acceptLanguage: string | undefined,
): BasicLang {
  if (isBasicLang(query)) return query;
  const ranked = (acceptLanguage ?? '')
    .slice(0, 500)
    .split(',')
    .map((part, order) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](\.\d{0,3})?)\s*$/.exec(p)).find(Boolean);
      return {
        primary: tag.trim().toLowerCase().split('-')[0] ?? '',
        q: q ? Number(q[1]) : 1,
        order,
      };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const entry of ranked) if (isBasicLang(entry.primary)) return entry.primary;
  return DEFAULT_LANGUAGE;
}

/** A page's words in one language. */
export interface Texts {
  readonly lang: BasicLang;
  readonly dir: 'ltr' | 'rtl';
  /** The message for `key` (a `basic…` key), placeholders filled. */
  t(key: string, params?: MessageParams): string;
  /** The site's own texts in this language (English when the site gives none in it). */
  readonly site: SiteTexts;
}

/** Texts of the site configuration the pages show. */
export interface SiteTexts {
  readonly supportPoint: string;
  readonly escalation: string;
  readonly otherWays: readonly string[];
}

/** The words for `lang`, with the site's texts from `site`. */
export function textsFor(lang: BasicLang, site: SiteConfigTexts): Texts {
  const catalogue = CATALOGUES[lang];
  return {
    lang,
    dir: RIGHT_TO_LEFT.has(lang) ? 'rtl' : 'ltr',
    t: (key, params) => message(catalogue, lang, key, params, SOURCE),
    site: siteTexts(site, lang),
  };
}

/** The localised fields of the site configuration the pages use, as the build wrote them. */
export interface SiteConfigTexts {
  readonly supportPoint?: Readonly<Record<string, string>>;
  readonly escalation?: Readonly<Record<string, string>>;
  readonly otherWays?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The site's texts in `lang`, or in English for a field the site does not give in it (the one
 * place that knows how the site configuration holds its languages).
 */
export function siteTexts(site: SiteConfigTexts, lang: string): SiteTexts {
  const pick = <T>(field: Readonly<Record<string, T>> | undefined, empty: T): T =>
    field?.[lang] ?? field?.en ?? empty;
  return {
    supportPoint: pick(site.supportPoint, 'Kluis'),
    escalation: pick(site.escalation, ''),
    otherWays: pick(site.otherWays, []),
  };
}

/**
 * The site configuration the built page holds (its `kluis-site` data block in index.html; see
 * client/reporter/build/site-step.ts), or nothing when the page is not built for a site.
 */
export function readSiteConfig(page: ReadonlyMap<string, StaticFile>): SiteConfigTexts {
  const index = page.get('/index.html');
  if (!index) return {};
  const html = new TextDecoder().decode(index.body);
  const match = /<script type="application\/json" id="kluis-site">([^<]*)<\/script>/.exec(html);
  if (!match) return {};
  try {
    const value = JSON.parse(match[1]!) as unknown;
    return typeof value === 'object' && value !== null ? (value as SiteConfigTexts) : {};
  } catch {
    return {};
  }
}
