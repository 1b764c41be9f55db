/**
 * Entry of the reporter page (built by Vite into dist/reporter/).
 * @module
 */

import { render } from 'preact';
import { App } from './app.js';
import { DEFAULT_LANG, loadLanguage } from './i18n.js';

const root = document.getElementById('app');
// The first language's catalogue is its own chunk: fetched before the first render.
if (root) void loadLanguage(DEFAULT_LANG).then(() => render(<App />, root));
