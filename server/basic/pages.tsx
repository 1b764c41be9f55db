/** @jsxImportSource hono/jsx */
/**
 * The no-JavaScript pages, rendered on the server with hono/jsx (which escapes every text and
 * attribute). Plain HTML forms only: no script, no external resource, no cookie. Every word comes
 * from the catalogue (texts.ts). The receipt code is never put in a URL: forms that need it carry
 * it in a POST body, in a hidden field of a page that is never cached (no-store).
 */

import type { Child } from 'hono/jsx';
import { BASIC_LANGUAGES, LANGUAGE_NAMES, type Texts } from './texts.js';

/** The path prefix of the pages. */
export const BASIC = '/basic';

/** A path of the pages with the language in its query (never anything secret). */
export function href(path: string, texts: Texts): string {
  return `${BASIC}${path}?lang=${texts.lang}`;
}

/** A whole page as an HTML response. */
export function htmlResponse(status: number, page: Child): Response {
  return new Response(`<!doctype html>${String(page)}`, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  });
}

/** The frame of every page: language and direction, the picker, the support point's name. */
export function Layout(props: {
  texts: Texts;
  title: string;
  /** The GET page the picker links to in each language (default: the start page). */
  here?: string;
  children?: Child;
}) {
  const { texts } = props;
  return (
    <html lang={texts.lang} dir={texts.dir}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · ${texts.site.supportPoint}`}</title>
        <link rel="stylesheet" href={`${BASIC}/basic.css`} />
      </head>
      <body>
        <header>
          <p class="site">{texts.site.supportPoint}</p>
          <nav aria-label={texts.t('basicLanguage')}>
            <ul class="languages">
              {BASIC_LANGUAGES.map((lang) => (
                <li>
                  <a
                    href={`${BASIC}${props.here ?? '/'}?lang=${lang}`}
                    lang={lang}
                    hreflang={lang}
                    aria-current={lang === texts.lang ? 'true' : undefined}
                  >
                    {LANGUAGE_NAMES[lang]}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The honest word before sending: what is weaker here, and what Safer gives. */
export function Weaker(props: { texts: Texts }) {
  const { t } = props.texts;
  return (
    <section class="weaker" aria-labelledby="weaker">
      <h2 id="weaker">{t('basicWeakerTitle')}</h2>
      <p>{t('basicWeakerServer')}</p>
      <p>{t('basicWeakerTakenOver')}</p>
      <p>{t('basicWeakerSafer')}</p>
      <p>{t('basicWeakerStillOk')}</p>
    </section>
  );
}

/** The start page: the warning, the report form, the way back, the other ways in. */
export function WritePage(props: { texts: Texts; maxFiles: number; maxMb: number }) {
  const { texts } = props;
  const { t } = texts;
  return (
    <Layout texts={texts} title={t('basicWriteTitle')}>
      <p>{t('basicIntro')}</p>
      <Weaker texts={texts} />
      <form method="post" action={href('/report', texts)} enctype="multipart/form-data">
        <label for="text">{t('basicTextLabel')}</label>
        <p class="hint" id="text-hint">
          {t('basicTextHint')}
        </p>
        <textarea id="text" name="text" rows={12} required aria-describedby="text-hint" />
        <label for="addressAs">{t('basicAddressAsLabel')}</label>
        <input id="addressAs" name="addressAs" type="text" maxlength={200} autocomplete="off" />
        <fieldset>
          <legend>{t('basicConsentLegend', { escalation: texts.site.escalation })}</legend>
          {(['no', 'ask', 'yes'] as const).map((value) => (
            <label class="choice">
              <input type="radio" name="consent" value={value} checked={value === 'ask'} />{' '}
              {t(`basicConsent${value[0]!.toUpperCase()}${value.slice(1)}`)}
            </label>
          ))}
        </fieldset>
        <label for="files">
          {t('basicFilesLabel', { max: props.maxFiles, size: props.maxMb })}
        </label>
        <input id="files" name="files" type="file" multiple />
        <button type="submit">{t('basicSend')}</button>
      </form>
      <Steps texts={texts} />
      <h2>{t('basicComeBackTitle')}</h2>
      <p>
        <a href={href('/return', texts)}>{t('basicComeBackLink')}</a>
      </p>
      <OtherWays texts={texts} />
    </Layout>
  );
}

/** The site's other ways in. */
export function OtherWays(props: { texts: Texts }) {
  const { texts } = props;
  if (texts.site.otherWays.length === 0) return null;
  return (
    <section aria-labelledby="other">
      <h2 id="other">{texts.t('basicOtherWays')}</h2>
      <ul>
        {texts.site.otherWays.map((way) => (
          <li>{way}</li>
        ))}
      </ul>
    </section>
  );
}

/** After a report: the receipt code, once. */
export function ReceiptPage(props: { texts: Texts; code: string }) {
  const { texts } = props;
  const { t } = texts;
  return (
    <Layout texts={texts} title={t('basicReceiptTitle')}>
      <p>{t('basicReceiptCodeLabel')}</p>
      <p class="code" id="receipt-code">
        {props.code}
      </p>
      <p>{t('basicReceiptKeep')}</p>
      <p>{t('basicReceiptLost')}</p>
      <p>{t('basicReceiptNext')}</p>
      <p>
        <a href={href('/return', texts)}>{t('basicComeBackLink')}</a>
      </p>
    </Layout>
  );
}

/** The form to come back with a receipt code. */
export function ReturnPage(props: { texts: Texts }) {
  const { texts } = props;
  const { t } = texts;
  return (
    <Layout texts={texts} title={t('basicReturnTitle')} here="/return">
      <form method="post" action={href('/case', texts)}>
        <label for="code">{t('basicCodeLabel')}</label>
        <input
          id="code"
          name="code"
          type="text"
          required
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
        />
        <button type="submit">{t('basicOpen')}</button>
      </form>
      <p>
        <a href={href('/', texts)}>{t('basicBack')}</a>
      </p>
    </Layout>
  );
}

/** A refusal: what went wrong, in words, and the stable error code. */
export function ErrorPage(props: { texts: Texts; title: string; message: string; code: string }) {
  const { texts } = props;
  return (
    <Layout texts={texts} title={props.title}>
      <p role="alert">{props.message}</p>
      <p class="hint">
        <code>{props.code}</code>
      </p>
      <OtherWays texts={texts} />
      <p>
        <a href={href('/', texts)}>{texts.t('basicBack')}</a>
      </p>
    </Layout>
  );
}

/** The steps of the procedure, in order (the support point's promise: the reporter is told them). */
const STEPS = ['received', 'acknowledged', 'conversation', 'forwarded', 'closed'] as const;
/** A step of the procedure. */
export type Step = (typeof STEPS)[number];

const STEP_KEYS: Readonly<Record<Step, string>> = {
  received: 'basicStepReceived',
  acknowledged: 'basicStepAcknowledged',
  conversation: 'basicStepConversation',
  forwarded: 'basicStepForwarded',
  closed: 'basicStepClosed',
};

/**
 * The procedure's steps; with `current`, where this case stands (marked for screen readers with
 * aria-current="step"). Forwarding happens only with the reporter's consent, so a case may skip it.
 */
export function Steps(props: { texts: Texts; current?: Step }) {
  const { texts, current } = props;
  const at = current === undefined ? -1 : STEPS.indexOf(current);
  return (
    <section aria-labelledby="steps">
      <h2 id="steps">{texts.t('basicStepsTitle')}</h2>
      <ol class="steps">
        {STEPS.map((step, index) => (
          <li
            class={index < at ? 'done' : index === at ? 'current' : undefined}
            aria-current={index === at ? 'step' : undefined}
          >
            {texts.t(STEP_KEYS[step], { escalation: texts.site.escalation })}
            {index === at ? ` ${texts.t('basicStepHere')}` : ''}
          </li>
        ))}
      </ol>
    </section>
  );
}
