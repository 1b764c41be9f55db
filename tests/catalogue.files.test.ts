/**
 * The reporter page's real message catalogues (client/reporter/locales/*.json): every language
 * listed in languages.json has one, every one has every message of the source (English) with
 * the same placeholders and the plural forms its language needs, and the page's dictionary
 * built from each leaves no placeholder unfilled and no key in place of a text.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultAckText } from '../client/counsellor/lib/writing.js';
import {
  CATALOGUES,
  LANGUAGE_LIST,
  pageCatalogue,
  SOURCE_LANGUAGE,
} from '../client/reporter/build/catalogues.js';
import { type Catalogue, compareCatalogues } from '../client/reporter/src/catalogue.js';
import { dict, type Lang, LANGUAGES, useCatalogue } from '../client/reporter/src/i18n.js';

const DIR = 'client/reporter/locales';

/** Every string a dictionary holds, however deep (functions called with sample values). */
function texts(value: unknown, path: string): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (typeof value === 'function') {
    const sample = (value as (...args: unknown[]) => unknown)(3, 'X', 'Y');
    return texts(sample, `${path}()`);
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => texts(v, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => texts(v, `${path}.${k}`));
  return [];
}

describe('the reporter page’s message catalogues', () => {
  it('are one file per language listed in languages.json, English the source', () => {
    const files = readdirSync(DIR)
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.replace(/\.json$/, ''))
      .sort();
    expect(files).toEqual(LANGUAGE_LIST.map((l) => l.code).sort());
    expect(SOURCE_LANGUAGE).toBe('en');
    expect(LANGUAGES.map((l) => l.code)).toEqual(LANGUAGE_LIST.map((l) => l.code));
    expect(LANGUAGE_LIST.find((l) => l.code === 'ar')?.dir).toBe('rtl');
    for (const { review } of LANGUAGE_LIST) expect(['reviewed', 'awaiting']).toContain(review);
  });

  it('are flat i18next JSON v4 objects of strings', () => {
    for (const { code } of LANGUAGE_LIST) {
      const parsed = JSON.parse(readFileSync(`${DIR}/${code}.json`, 'utf8')) as unknown;
      expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
      for (const [key, text] of Object.entries(parsed as object)) {
        expect(key, code).toMatch(/^[a-z][A-Za-z0-9]*(_(zero|one|two|few|many|other))?$/);
        expect(typeof text, `${code} ${key}`).toBe('string');
      }
    }
  });

  it('have every message of the source, with the same placeholders and every plural form', () => {
    const source = CATALOGUES[SOURCE_LANGUAGE]!;
    for (const { code } of LANGUAGE_LIST) {
      expect(compareCatalogues(source, CATALOGUES[code]!, code), code).toEqual([]);
    }
  });

  it('fill every text of the page from the part it fetches: no placeholder left, no key shown instead of a text', () => {
    for (const { code } of LANGUAGE_LIST) {
      // What the page fetches: the keys it shows, no more (build/plugins.ts pageCatalogues).
      const catalogue: Catalogue = pageCatalogue(CATALOGUES[code]!);
      useCatalogue(code as Lang, catalogue);
      const keys = new Set(Object.keys(catalogue));
      for (const [path, text] of texts(dict(code as Lang), code)) {
        expect(text, path).not.toMatch(/\{\{/);
        expect(keys.has(text), `${path} shows its key`).toBe(false);
      }
    }
  });

  it('give the counsellor’s standard acknowledgement in the report’s language, English otherwise', () => {
    for (const { code } of LANGUAGE_LIST)
      expect(defaultAckText(code)).toBe(CATALOGUES[code]!.ackDefaultText);
    expect(defaultAckText('pt-BR')).toBe(CATALOGUES.pt!.ackDefaultText);
    expect(defaultAckText('fr')).toMatch(/^Nous avons reçu votre signalement/);
    expect(defaultAckText('fil')).toBe(CATALOGUES.en!.ackDefaultText);
    expect(defaultAckText('constructor')).toBe(CATALOGUES.en!.ackDefaultText);
  });
});
