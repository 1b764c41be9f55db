/**
 * Entry of the reporter page (built by Vite into dist/reporter/).
 * @module
 */

import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root) render(<App />, root);
