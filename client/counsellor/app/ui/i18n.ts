/** The local app's texts, Dutch (default) and English: every word the app shows. @module */

import { en } from './texts-en.js';
import { nl } from './texts-nl.js';

export type Lang = 'nl' | 'en';
export type Texts = typeof nl;
export const TEXTS: Record<Lang, Texts> = { nl, en };
