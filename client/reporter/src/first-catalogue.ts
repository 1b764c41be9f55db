/**
 * The first language's catalogue, written into index.html by the build (build/plugins.ts
 * `pageCatalogues`) as an inert data block, so that the first screen needs no request after the
 * script's: over Tor every round trip is a second. Other languages are fetched when chosen.
 * @module
 */

import type { Catalogue } from './catalogue.js';

/** The id of the data block. */
export const FIRST_CATALOGUE_ID = 'kluis-first-catalogue';

/** The catalogue in the page and its language, or undefined (a development server, a test page). */
export function readFirstCatalogue(
  doc: Pick<Document, 'getElementById'> | undefined = globalThis.document,
): { lang: string; catalogue: Catalogue } | undefined {
  const block = doc?.getElementById(FIRST_CATALOGUE_ID);
  const lang = block?.getAttribute('lang');
  if (!block?.textContent || !lang) return undefined;
  try {
    const value: unknown = JSON.parse(block.textContent);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    if (!Object.values(value).every((text) => typeof text === 'string')) return undefined;
    return { lang, catalogue: value as Catalogue };
  } catch {
    return undefined;
  }
}
