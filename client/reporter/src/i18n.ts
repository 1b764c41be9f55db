/// <reference types="vite/client" />
/**
 * Every word the page shows, read from the message catalogues in
 * client/reporter/locales/<lang>.json (i18next JSON v4, translated on
 * Weblate: docs/TRANSLATING.md) through catalogue.ts. This module is the
 * typed adapter the screens use: `dict(lang)` gives an object whose
 * members are texts and small functions filling placeholders, so a screen
 * never handles catalogue keys. The site's own names (support point,
 * organisation, escalation recipient) come from the site config written
 * into the page at build time (site.ts) and fill the `{{supportPoint}}`,
 * `{{organisation}}`, `{{escalation}}` and `{{fingerprintsAt}}`
 * placeholders.
 *
 * Each catalogue is its own same-origin file (a content-named JSON asset in
 * the build, covered by manifest.json), fetched when its language is chosen
 * (`loadLanguage`) and read with JSON.parse: data, never code. A visitor
 * downloads one language's words, not six; the build's budget counts the
 * JavaScript plus the largest catalogue (build/plugins.ts).
 * @module
 */

import languages from '../languages.json' with { type: 'json' };
import type { Catalogue, MessageParams } from './catalogue.js';
import { message } from './catalogue.js';
import type sourceCatalogue from '../locales/en.json';
import { site } from './site.js';

/** The page's languages, in the order of languages.json. A report records which one was used. */
export type Lang = 'nl' | 'en' | 'fr' | 'es' | 'pt' | 'ar';

/** A language of the page: its code, its own name (for the picker) and its writing direction. */
export interface Language {
  readonly code: Lang;
  readonly name: string;
  readonly dir: 'ltr' | 'rtl';
}

/** Every language of the page (client/reporter/languages.json). */
export const LANGUAGES: readonly Language[] = languages.languages as Language[];

/** The language the page opens in, whatever the browser prefers (languages.json `default`). */
export const DEFAULT_LANG = languages.default as Lang;

/** Whether `value` is one of the page's languages. */
export function isLang(value: string): value is Lang {
  return LANGUAGES.some((l) => l.code === value);
}

/**
 * The page's languages, those the browser prefers first (in its order of
 * preference, matched on the primary subtag: `pt-BR` → `pt`), then the rest
 * in the order of languages.json. The picker offers them in this order.
 */
export function preferredOrder(browserLanguages: readonly string[]): Lang[] {
  const preferred: Lang[] = [];
  for (const tag of browserLanguages) {
    const primary = tag.toLowerCase().split('-')[0] ?? '';
    if (isLang(primary) && !preferred.includes(primary)) preferred.push(primary);
  }
  return [...preferred, ...LANGUAGES.map((l) => l.code).filter((c) => !preferred.includes(c))];
}

const urls = import.meta.glob<string>('../locales/*.json', {
  query: '?url',
  import: 'default',
  eager: true,
});
const catalogues = new Map<Lang, Catalogue>();

/** Fetches a language's catalogue (its own same-origin file), once. `dict(lang)` needs it loaded. */
export async function loadLanguage(lang: Lang): Promise<void> {
  if (catalogues.has(lang)) return;
  const url = urls[`../locales/${lang}.json`];
  if (!url) throw new Error(`no catalogue for ${lang}`);
  const response = await fetch(url, { credentials: 'omit', cache: 'no-cache' });
  if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
  catalogues.set(lang, (await response.json()) as Catalogue);
}

/** Whether a language's catalogue is loaded. */
export function isLoaded(lang: Lang): boolean {
  return catalogues.has(lang);
}

/** Installs a catalogue directly (tests outside a Vite build). */
export function useCatalogue(lang: Lang, catalogue: Catalogue): void {
  catalogues.set(lang, catalogue);
  built.delete(lang);
}

/** A site text in `lang`; a language the site config does not give falls back to English. */
function localised(texts: Readonly<Record<string, string | undefined>>, lang: Lang): string {
  return texts[lang] ?? texts.en ?? '';
}

/** The site's own names, in a language (English where the site config does not give it). */
export function siteText(lang: Lang): {
  supportPoint: string;
  escalation: string;
  otherWays: readonly string[];
} {
  const ways = site.otherWays as Readonly<Record<string, readonly string[] | undefined>>;
  return {
    supportPoint: localised(site.supportPoint, lang),
    escalation: localised(site.escalation, lang),
    otherWays: ways[lang] ?? ways.en ?? [],
  };
}

/** The source catalogue's keys (type only: nothing of en.json is bundled by this import). */
type PlainKey = keyof typeof sourceCatalogue;

function build(lang: Lang, c: Catalogue) {
  const siteParams = {
    supportPoint: localised(site.supportPoint, lang),
    organisation: localised(site.organisation, lang),
    escalation: localised(site.escalation, lang),
    fingerprintsAt: localised(site.fingerprintsPublishedAt, lang),
  };
  const m = (key: string, params: MessageParams = {}) =>
    message(c, lang, key, { ...siteParams, ...params });
  const language = LANGUAGES.find((l) => l.code === lang)!;
  // Every text without placeholders of its own, by its key (the site's names filled in): the
  // screens read them as `t.key`. Listing them one by one would cost the page a kilobyte. Texts
  // with a placeholder of their own (and their plural forms) are the functions below.
  const plain = {} as Record<PlainKey, string>;
  for (const key of Object.keys(c)) {
    const text = m(key);
    if (!text.includes('{{')) plain[key as PlainKey] = text;
  }
  return {
    ...plain,
    htmlLang: lang,
    dir: language.dir,
    foreignKeys: (count: number) => m('foreignKeys', { count }),
    anonItems: [m('anonItem1'), m('anonItem2'), m('anonItem3'), m('anonItem4'), m('anonItem5')],
    consent: { no: m('consentNo'), ask: m('consentAsk'), yes: m('consentYes') },
    removeFile: (name: string) => m('removeFile', { name }),
    fileTooLarge: (name: string, max: string) => m('fileTooLarge', { name, max }),
    filesTooLarge: (max: string) => m('filesTooLarge', { max }),
    tooManyFiles: (max: number) => m('tooManyFiles', { max }),
    stepFile: (number: number, total: number) => m('stepFile', { number, total }),
    progressOf: (what: string) => m('progressOf', { what }),
    explainCase: (caseNumber: string) => m('explainCase', { caseNumber }),
    saveText: (code: string, caseNumber: string) => m('saveText', { code, caseNumber }),
    codeLength: (count: number) => m('codeLength', { count }),
    caseTitle: (caseNumber: string) => m('caseTitle', { caseNumber }),
    status: {
      received: m('statusReceived'),
      'in-conversation': m('statusInConversation'),
      forwarded: m('statusForwarded'),
      closed: m('statusClosed'),
    },
    chainGap: (number: number) => m('chainGap', { number }),
    chainReorder: (number: number) => m('chainReorder', { number }),
    chainFork: (number: number) => m('chainFork', { number }),
    entryError: {
      'auth-failure': m('entryErrorAuthFailure'),
      'bad-signature': m('entryErrorBadSignature'),
      'wrong-key': m('entryErrorWrongKey'),
      malformed: m('entryErrorMalformed'),
      misplaced: m('entryErrorMisplaced'),
      other: m('entryErrorOther'),
    },
    messageNumber: (number: number) => m('messageNumber', { number }),
    unexpectedRecipient: (fingerprint: string) => m('unexpectedRecipient', { fingerprint }),
    removedRecipient: (fingerprint: string) => m('removedRecipient', { fingerprint }),
    fromCounsellor: (name: string) => m('fromCounsellor', { name }),
    kindStatus: (status: string) => m('kindStatus', { status }),
    kindAck: (date: string) => m('kindAck', { date }),
    kindForwarded: (name: string) => m('kindForwarded', { name }),
    consentIs: (answer: string) => m('consentIs', { answer }),
    addressAsIs: (name: string) => m('addressAsIs', { name }),
    download: (name: string, size: string) => m('download', { name, size }),
    downloading: (name: string) => m('downloading', { name }),
    downloadFailed: (name: string) => m('downloadFailed', { name }),
    time: (date: string) => m('time', { date }),
    errFile: (name: string) => m('errFile', { name }),
    errCode: (code: string) => m('errCode', { code }),
    deletionOn: (day: string) => m('deletionOn', { day }),
    kindHandover: (name: string) => m('kindHandover', { name }),
    kindHandoverUnknown: (fingerprint: string) => m('kindHandoverUnknown', { fingerprint }),
  };
}

/** The dictionary's shape: what the screens call. */
export type Dict = ReturnType<typeof build>;

const built = new Map<Lang, Dict>();

/** The dictionary of a language; its catalogue must be loaded (`loadLanguage`). */
export function dict(lang: Lang): Dict {
  let d = built.get(lang);
  if (!d) {
    const catalogue = catalogues.get(lang);
    if (!catalogue) throw new Error(`catalogue ${lang} is not loaded`);
    d = build(lang, catalogue);
    built.set(lang, d);
  }
  return d;
}

/** The Intl locale for dates and numbers: Dutch and British conventions for nl and en. */
function locale(lang: Lang): string {
  return lang === 'nl' ? 'nl-NL' : lang === 'en' ? 'en-GB' : lang;
}

/** A byte count for people: "12 KB", "3,4 MB". */
export function formatBytes(bytes: number, lang: Lang): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${new Intl.NumberFormat(locale(lang), { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

/** A protocol time (YYYY-MM-DDTHH:MM:SSZ) for people, in the browser's time zone (Tor Browser's is UTC). */
export function formatTime(iso: string, lang: Lang): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'long', timeStyle: 'short' }).format(
    date,
  );
}

/** A calendar day (YYYY-MM-DD) for people. */
export function formatDay(day: string, lang: Lang): string {
  const date = new Date(`${day}T12:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}
