/**
 * Entry of the reporter page (built by Vite into dist/reporter/).
 * @module
 */

import { render } from 'preact';
import { App } from './app.js';
import { readFirstCatalogue } from './first-catalogue.js';
import { DEFAULT_LANG, isLang, loadLanguage, useCatalogue } from './i18n.js';

const root = document.getElementById('app');

/**
 * The first language's catalogue is in the page (first-catalogue.ts); without it (a development
 * server) it is a file of its own, fetched before the first render. A failed fetch (a Tor circuit dropping) is tried again, a little later each time: without its
 * words the page cannot say anything, not even what went wrong.
 */
async function start(element: HTMLElement): Promise<void> {
  // Normally the build wrote it into the page: no request at all.
  const first = readFirstCatalogue();
  if (first && isLang(first.lang)) useCatalogue(first.lang, first.catalogue);
  for (let attempt = 0; ; attempt++) {
    try {
      await loadLanguage(DEFAULT_LANG);
      break;
    } catch {
      await new Promise((done) => setTimeout(done, Math.min(30_000, 1000 * 2 ** attempt)));
    }
  }
  render(<App />, element);
}

if (root) void start(root);
