/**
 * Message catalogues in the i18next JSON v4 format (Weblate's "i18next JSON file v4"): one flat
 * JSON object per language, key → text, placeholders written `{{name}}`, plural forms as
 * `key_zero`, `key_one`, `key_two`, `key_few`, `key_many`, `key_other` chosen by the language's
 * CLDR plural rules (Intl.PluralRules). Translation platforms (Weblate, which SecureDrop and
 * GlobaLeaks use) read and write this format as it is, so a translator never touches code.
 *
 * Pure: no DOM, no I/O. The reporter page and the server's no-JavaScript pages both read the same
 * catalogues through this module; `compareCatalogues` is the check `npm test` runs.
 * @module
 */

/** One language's messages: key → text (i18next JSON v4, flat). */
export type Catalogue = Readonly<Record<string, string>>;

/** Values for a message's placeholders; `count` (a number) also selects the plural form. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** The plural suffixes i18next v4 uses, one per CLDR plural category. */
export const PLURAL_CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
const PLURAL_SUFFIX = new RegExp(`_(${PLURAL_CATEGORIES.join('|')})$`);

/** The key without its plural suffix (`files_one` → `files`). */
export function baseKey(key: string): string {
  return key.replace(PLURAL_SUFFIX, '');
}

/** The placeholder names a text uses, sorted and without repeats. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

/** The plural categories a language distinguishes for cardinal numbers (e.g. ar: all six). */
export function pluralCategories(lang: string): string[] {
  return [...new Intl.PluralRules(lang).resolvedOptions().pluralCategories];
}

/**
 * The text for `key` in `lang`, placeholders filled from `params`. When `params.count` is a
 * number and the catalogue has plural forms of `key`, the form for that count is chosen
 * (`key_<category>`, else `key_other`). A key missing from `catalogue` is looked up in `fallback`
 * (the source language); a key missing from both yields the key itself, so a gap shows up on the
 * page instead of breaking it. A placeholder without a value is left as written.
 */
export function message(
  catalogue: Catalogue,
  lang: string,
  key: string,
  params: MessageParams = {},
  fallback?: Catalogue,
): string {
  const text =
    lookup(catalogue, lang, key, params) ?? (fallback && lookup(fallback, 'en', key, params));
  if (text === undefined) return key;
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

function lookup(
  catalogue: Catalogue,
  lang: string,
  key: string,
  params: MessageParams,
): string | undefined {
  if (typeof params.count === 'number') {
    const category = new Intl.PluralRules(lang).select(params.count);
    const plural = own(catalogue, `${key}_${category}`) ?? own(catalogue, `${key}_other`);
    if (plural !== undefined) return plural;
  }
  return own(catalogue, key);
}

function own(catalogue: Catalogue, key: string): string | undefined {
  return Object.hasOwn(catalogue, key) ? catalogue[key] : undefined;
}

/** One difference between a translation and the source catalogue. */
export interface CatalogueProblem {
  /** `missing`: a message (or a plural form the language needs) is absent or empty; `extra`: a key
   * the source does not have; `placeholders`: the placeholder names differ from the source's. */
  readonly kind: 'missing' | 'extra' | 'placeholders';
  readonly key: string;
}

/**
 * Checks a translation against the source catalogue: every message present and non-empty, every
 * plural form the language needs (by its CLDR rules) present when the source has plural forms,
 * no keys the source lacks, and each text using exactly the placeholders of the source message
 * (`count` may be left out of a plural form, as "one file" needs no number).
 */
export function compareCatalogues(
  source: Catalogue,
  translation: Catalogue,
  lang: string,
): CatalogueProblem[] {
  const problems: CatalogueProblem[] = [];
  const sourceBases = new Map<string, string[]>();
  for (const [key, text] of Object.entries(source)) {
    const base = baseKey(key);
    const names = placeholders(text);
    const known = sourceBases.get(base) ?? [];
    sourceBases.set(base, [...new Set([...known, ...names])].sort());
  }
  const categories = pluralCategories(lang);
  for (const [base, names] of sourceBases) {
    const plural = !Object.hasOwn(source, base);
    const keys = plural ? categories.map((c) => `${base}_${c}`) : [base];
    for (const key of keys) {
      const text = own(translation, key);
      if (text === undefined || text.trim() === '') {
        problems.push({ kind: 'missing', key });
        continue;
      }
      const used = placeholders(text);
      const expected = plural ? names.filter((n) => n !== 'count') : names;
      const usedWithoutCount = plural ? used.filter((n) => n !== 'count') : used;
      if (usedWithoutCount.join() !== expected.join() || used.some((n) => !names.includes(n))) {
        problems.push({ kind: 'placeholders', key });
      }
    }
  }
  for (const key of Object.keys(translation)) {
    const base = baseKey(key);
    const plural = key !== base;
    const known = plural
      ? sourceBases.has(base) &&
        !Object.hasOwn(source, base) &&
        categories.includes(key.slice(base.length + 1))
      : Object.hasOwn(source, key);
    if (!known) problems.push({ kind: 'extra', key });
  }
  return problems;
}
