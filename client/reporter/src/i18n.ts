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
  return {
    htmlLang: lang,
    dir: language.dir,
    languagePicker: m('languagePicker'),
    skip: m('skip'),
    quickExit: m('quickExit'),
    quickExitHint: m('quickExitHint'),
    demoTitle: m('demoTitle'),
    demoText: m('demoText'),
    footer: m('footer'),
    loading: m('loading'),
    infoFailed: m('infoFailed'),
    tryAgain: m('tryAgain'),
    noBuiltKeys: m('noBuiltKeys'),
    noCounsellors: m('noCounsellors'),
    foreignKeys: (count: number) => m('foreignKeys', { count }),
    otherWaysTitle: m('otherWaysTitle'),
    welcomeTitle: m('welcomeTitle'),
    welcomeIntro: m('welcomeIntro'),
    doTitle: m('doTitle'),
    doText: m('doText'),
    dontTitle: m('dontTitle'),
    dontText: m('dontText'),
    escalationTitle: m('escalationTitle'),
    escalationText: m('escalationText'),
    safeTitle: m('safeTitle'),
    safeText: m('safeText'),
    anonTitle: m('anonTitle'),
    anonItems: [m('anonItem1'), m('anonItem2'), m('anonItem3'), m('anonItem4'), m('anonItem5')],
    keysTitle: m('keysTitle'),
    keysIntro: m('keysIntro'),
    fingerprint: m('fingerprint'),
    startReport: m('startReport'),
    haveCode: m('haveCode'),
    writeTitle: m('writeTitle'),
    writeIntro: m('writeIntro'),
    textLabel: m('textLabel'),
    textHint: m('textHint'),
    textRequired: m('textRequired'),
    consentLegend: m('consentLegend'),
    consent: { no: m('consentNo'), ask: m('consentAsk'), yes: m('consentYes') },
    consentHint: m('consentHint'),
    addressLabel: m('addressLabel'),
    addressHint: m('addressHint'),
    filesTitle: m('filesTitle'),
    metadataWarning: m('metadataWarning'),
    chooseFiles: m('chooseFiles'),
    chosenFiles: m('chosenFiles'),
    removeFile: (name: string) => m('removeFile', { name }),
    remove: m('remove'),
    fileTooLarge: (name: string, max: string) => m('fileTooLarge', { name, max }),
    filesTooLarge: (max: string) => m('filesTooLarge', { max }),
    tooManyFiles: (max: number) => m('tooManyFiles', { max }),
    send: m('send'),
    back: m('back'),
    sendingTitle: m('sendingTitle'),
    sendingIntro: m('sendingIntro'),
    stepPrepare: m('stepPrepare'),
    stepWork: m('stepWork'),
    stepWorkHint: m('stepWorkHint'),
    stepCase: m('stepCase'),
    stepFile: (number: number, total: number) => m('stepFile', { number, total }),
    stepSeal: m('stepSeal'),
    stepDone: m('stepDone'),
    stepBusy: m('stepBusy'),
    stepWaiting: m('stepWaiting'),
    progressOf: (what: string) => m('progressOf', { what }),
    resuming: m('resuming'),
    nothingLost: m('nothingLost'),
    backToEdit: m('backToEdit'),
    receiptTitle: m('receiptTitle'),
    receiptIntro: m('receiptIntro'),
    codeLabel: m('codeLabel'),
    caseNumberLabel: m('caseNumberLabel'),
    secretLabel: m('secretLabel'),
    explainCase: (caseNumber: string) => m('explainCase', { caseNumber }),
    explainSecret: m('explainSecret'),
    explainLost: m('explainLost'),
    copy: m('copy'),
    copied: m('copied'),
    copyFailed: m('copyFailed'),
    save: m('save'),
    saveName: m('saveName'),
    saveText: (code: string, caseNumber: string) => m('saveText', { code, caseNumber }),
    confirmStored: m('confirmStored'),
    confirmFirst: m('confirmFirst'),
    toCase: m('toCase'),
    loginTitle: m('loginTitle'),
    loginIntro: m('loginIntro'),
    loginLabel: m('loginLabel'),
    loginHint: m('loginHint'),
    open: m('open'),
    opening: m('opening'),
    codeLength: (count: number) => m('codeLength', { count }),
    codeCharacter: m('codeCharacter'),
    codeChecksum: m('codeChecksum'),
    codeUnknown: m('codeUnknown'),
    codeTooManyAttempts: m('codeTooManyAttempts'),
    caseTitle: (caseNumber: string) => m('caseTitle', { caseNumber }),
    statusLabel: m('statusLabel'),
    status: {
      received: m('statusReceived'),
      'in-conversation': m('statusInConversation'),
      forwarded: m('statusForwarded'),
      closed: m('statusClosed'),
    },
    statusFromServer: m('statusFromServer'),
    intact: m('intact'),
    problemTitle: m('problemTitle'),
    problemIntro: m('problemIntro'),
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
    verified: m('verified'),
    notVerified: m('notVerified'),
    fromYou: m('fromYou'),
    fromCounsellor: (name: string) => m('fromCounsellor', { name }),
    kindReport: m('kindReport'),
    kindStatus: (status: string) => m('kindStatus', { status }),
    kindAck: (date: string) => m('kindAck', { date }),
    ackMismatch: m('ackMismatch'),
    kindForwarded: (name: string) => m('kindForwarded', { name }),
    forwardedWithoutConsent: m('forwardedWithoutConsent'),
    consentIs: (answer: string) => m('consentIs', { answer }),
    addressAsIs: (name: string) => m('addressAsIs', { name }),
    attachments: m('attachments'),
    download: (name: string, size: string) => m('download', { name, size }),
    downloading: (name: string) => m('downloading', { name }),
    downloadFailed: (name: string) => m('downloadFailed', { name }),
    reload: m('reload'),
    noReplyYet: m('noReplyYet'),
    replyTitle: m('replyTitle'),
    replyLabel: m('replyLabel'),
    replyRequired: m('replyRequired'),
    replyConsentLegend: m('replyConsentLegend'),
    replyConsentHint: m('replyConsentHint'),
    replySending: m('replySending'),
    replySent: m('replySent'),
    closeCase: m('closeCase'),
    time: (date: string) => m('time', { date }),
    errNetwork: m('errNetwork'),
    errServer: m('errServer'),
    errWork: m('errWork'),
    errTooLarge: m('errTooLarge'),
    errStoreFull: m('errStoreFull'),
    errBusy: m('errBusy'),
    errUnauthorized: m('errUnauthorized'),
    errRefused: m('errRefused'),
    errResponse: m('errResponse'),
    errSeal: m('errSeal'),
    errSealTooLong: m('errSealTooLong'),
    errFile: (name: string) => m('errFile', { name }),
    errBug: m('errBug'),
    errCode: (code: string) => m('errCode', { code }),
    nothingSent: m('nothingSent'),
    procedureTitle: m('procedureTitle'),
    procedureIntro: m('procedureIntro'),
    procedureReceived: m('procedureReceived'),
    procedureReceivedText: m('procedureReceivedText'),
    procedureAcknowledged: m('procedureAcknowledged'),
    procedureAcknowledgedText: m('procedureAcknowledgedText'),
    procedureConversation: m('procedureConversation'),
    procedureConversationText: m('procedureConversationText'),
    procedureForwarded: m('procedureForwarded'),
    procedureForwardedText: m('procedureForwardedText'),
    procedureClosed: m('procedureClosed'),
    procedureClosedText: m('procedureClosedText'),
    procedureWhere: m('procedureWhere'),
    procedureStateDone: m('procedureStateDone'),
    procedureStateCurrent: m('procedureStateCurrent'),
    procedureStateTodo: m('procedureStateTodo'),
    procedureStateSkipped: m('procedureStateSkipped'),
    deletionOn: (day: string) => m('deletionOn', { day }),
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
