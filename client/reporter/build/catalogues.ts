/**
 * Every message catalogue of the reporter page, for code that runs in Node
 * (the site step's `<noscript>` block, tests): imported statically, so a
 * compiled release (`kluis-server build-page`) carries them. The page
 * itself loads one catalogue at a time (src/i18n.ts).
 * @module
 */

import languages from '../languages.json' with { type: 'json' };
import ar from '../locales/ar.json' with { type: 'json' };
import en from '../locales/en.json' with { type: 'json' };
import es from '../locales/es.json' with { type: 'json' };
import fr from '../locales/fr.json' with { type: 'json' };
import nl from '../locales/nl.json' with { type: 'json' };
import pt from '../locales/pt.json' with { type: 'json' };
import type { Catalogue } from '../src/catalogue.js';

/** A language of the page as client/reporter/languages.json lists it. */
export interface LanguageEntry {
  readonly code: string;
  /** The language's own name, shown in the picker. */
  readonly name: string;
  readonly dir: 'ltr' | 'rtl';
  /** `awaiting`: machine- or non-native-written, not yet checked by a native speaker (docs/TRANSLATING.md). */
  readonly review: 'reviewed' | 'awaiting';
}

/** The languages, in the page's order (the site's default first). */
export const LANGUAGE_LIST: readonly LanguageEntry[] = languages.languages as LanguageEntry[];

/** The source language (the one Weblate translates from). */
export const SOURCE_LANGUAGE: string = languages.source;

/** Each language's catalogue, by code. */
export const CATALOGUES: Readonly<Record<string, Catalogue>> = { nl, en, fr, es, pt, ar };

/**
 * Whether the page's JavaScript needs a key at run time. Not: the no-JavaScript pages' keys
 * (`basic…`, served by the server), the `<noscript>` block's (`noscript…`, written into
 * index.html at build time) and the counsellor's standard acknowledgement (`ackDefaultText`).
 */
export function isPageKey(key: string): boolean {
  return !/^(basic|noscript)[A-Z0-9_]/.test(key) && key !== 'ackDefaultText';
}

/** The part of a catalogue the page fetches: only the keys it shows (a smaller download). */
export function pageCatalogue(catalogue: Catalogue): Catalogue {
  return Object.fromEntries(Object.entries(catalogue).filter(([key]) => isPageKey(key)));
}
