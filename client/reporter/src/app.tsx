/**
 * The reporter page: a header with "leave quickly" and the language switch
 * on every screen, and the screens of the issue (welcome, write, sending,
 * receipt, come back, case). All state is in memory; nothing is stored in
 * the browser, and no screen adds a history entry.
 * @module
 */

import { useEffect, useRef, useState } from 'preact/hooks';
import type { ReceiptCode, VerifiedBundle } from '../../../crypto/index.js';
import { deriveReporterAuthKey, deriveReporterKeys } from '../../../crypto/index.js';
import type { Info } from './api.js';
import { ApiError, getCase, getInfo } from './api.js';
import type { CaseData, Session } from './conversation.js';
import { loadCase } from './conversation.js';
import type { KeyCheck } from './keys.js';
import { compareWithServer, loadBuiltKeys } from './keys.js';
import type { Lang } from './i18n.js';
import { DEFAULT_LANG, dict, LANGUAGES, loadLanguage, preferredOrder, siteText } from './i18n.js';
import type { Problem } from './problems.js';
import { toProblem } from './problems.js';
import type { ReportDraft, SendProgress } from './send.js';
import { ReportSender } from './send-report.js';
import { CaseScreen } from './screens/case.js';
import type { LoginFailure } from './screens/login.js';
import { Login } from './screens/login.js';
import { Receipt } from './screens/receipt.js';
import { Sending } from './screens/sending.js';
import type { Keys } from './screens/welcome.js';
import { Welcome } from './screens/welcome.js';
import { Write } from './screens/write.js';
import { LangContext, leaving } from './ui.js';
import { yieldToBrowser } from './work.js';

type Screen =
  | { readonly name: 'welcome' }
  | { readonly name: 'write' }
  | { readonly name: 'sending' }
  | { readonly name: 'receipt'; readonly code: string; readonly session: Session }
  | { readonly name: 'login' }
  | { readonly name: 'case'; readonly session: Session; readonly data: CaseData | null };

const EMPTY_DRAFT: ReportDraft = { text: '', consent: 'ask', addressAs: '', files: [] };

/**
 * Where "leave quickly" goes: about:blank, a page that makes no request to
 * anyone (a search engine or news site would be a request to a third party,
 * and would tell it when someone left this page). `location.replace` puts
 * it in place of this page in the tab's history, so Back does not return here.
 */
export const QUICK_EXIT_URL = 'about:blank';

/** The keys this page was built with: the only ones it seals for and trusts as authors. */
const BUILT = loadBuiltKeys();

/** The page's languages, the browser's preferred ones first (read once: nothing about it is sent). */
const ORDER = preferredOrder(typeof navigator === 'undefined' ? [] : navigator.languages);

/**
 * The language picker, on every screen: one button per language, each in
 * its own language and script, the current one pressed. A language's
 * catalogue is fetched (same origin) when it is first chosen.
 */
function LanguagePicker({
  lang,
  label,
  onChoose,
}: {
  lang: Lang;
  label: string;
  onChoose: (lang: Lang) => void;
}) {
  const choose = async (code: Lang) => {
    try {
      await loadLanguage(code);
      onChoose(code);
    } catch {
      // The catalogue could not be fetched (network): the page stays in its language.
    }
  };
  return (
    <nav class="langs" aria-label={label}>
      {ORDER.map((code) => {
        const language = LANGUAGES.find((l) => l.code === code)!;
        return (
          <button
            key={code}
            type="button"
            class="lang"
            lang={code}
            dir={language.dir}
            aria-pressed={code === lang}
            onClick={() => void choose(code)}
          >
            {language.name}
          </button>
        );
      })}
    </nav>
  );
}

export function App() {
  const [lang, setLang] = useState<Lang>(DEFAULT_LANG);
  const t = dict(lang);
  const [info, setInfo] = useState<Info | null>(null);
  const [keys, setKeys] = useState<Keys>({ status: 'loading' });
  const [screen, setScreen] = useState<Screen>({ name: 'welcome' });
  const [draft, setDraft] = useState<ReportDraft>(EMPTY_DRAFT);
  const [writeProblem, setWriteProblem] = useState<Problem | null>(null);
  const [progress, setProgress] = useState<SendProgress | null>(null);
  const [sendProblem, setSendProblem] = useState<Problem | null>(null);
  const [loginBusy, setLoginBusy] = useState(false);
  const [loginFailure, setLoginFailure] = useState<LoginFailure | null>(null);
  const sender = useRef<ReportSender | null>(null);
  const copied = useRef(false);
  // Refs, not state: a double click must not start a second send or login before the screen re-renders.
  const busy = useRef(false);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.documentElement.dir = t.dir;
    document.title = siteText(lang).supportPoint;
  }, [lang]);

  // The first screen does not wait for /info (one round trip less to a ready page); sealing does
  // (sealFor): the key check against the server's list comes before anything is sealed (keys.ts).
  // Checked once per answer: verifying the listed bundles takes a while without a JIT.
  const keyCheck = useRef<Promise<KeyCheck> | null>(null);
  const fetchInfo = (): Promise<KeyCheck> => {
    setKeys({ status: 'loading' });
    const request = getInfo().then((fetched) => {
      const check = compareWithServer(BUILT, fetched);
      setInfo(fetched);
      setKeys({ status: 'ready', counsellors: check.usable, foreign: check.foreign });
      return check;
    });
    request.catch((error: unknown) => setKeys({ status: 'error', problem: toProblem(error) }));
    keyCheck.current = request;
    return request;
  };
  const sealFor = async (): Promise<readonly VerifiedBundle[]> => {
    let check: KeyCheck;
    try {
      check = await (keyCheck.current ?? fetchInfo());
    } catch {
      check = await fetchInfo();
    }
    return check.usable;
  };

  useEffect(() => {
    fetchInfo().catch(() => {});
  }, []);

  // While the write screen is open: the case ticket and its proof of work (send-report.ts).
  useEffect(() => {
    if (screen.name !== 'write') return;
    sender.current ??= new ReportSender(sealFor);
    const current = sender.current;
    current.prepare(draft);
    return () => current.pause();
  }, [screen.name, draft.files]);

  const limits = { maxFileBytes: info?.maxFileBytes ?? 0, maxCaseBytes: info?.maxCaseBytes ?? 0 };

  const quickExit = () => {
    // Wipe what is in memory, empty the page, and replace it in the tab's history.
    leaving.now = true;
    sender.current?.pause();
    sender.current = null;
    setDraft(EMPTY_DRAFT);
    setScreen({ name: 'welcome' });
    if (copied.current) navigator.clipboard?.writeText(' ').catch(() => {});
    window.onbeforeunload = null;
    document.title = '';
    document.body.replaceChildren();
    window.location.replace(QUICK_EXIT_URL);
  };

  const send = async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      await sendReport();
    } finally {
      busy.current = false;
    }
  };

  const sendReport = async () => {
    setWriteProblem(null);
    sender.current ??= new ReportSender(sealFor);
    const current = sender.current;
    let counsellors: readonly VerifiedBundle[];
    try {
      counsellors = await sealFor();
      current.preflight(draft, lang, counsellors);
    } catch (error) {
      setWriteProblem(toProblem(error));
      return;
    }
    setSendProblem(null);
    setProgress(null);
    setScreen({ name: 'sending' });
    try {
      const sent = await current.send(draft, lang, counsellors, setProgress);
      sender.current = null;
      setDraft(EMPTY_DRAFT);
      setScreen({ name: 'receipt', code: sent.code, session: sent.session });
    } catch (error) {
      setSendProblem(toProblem(error));
    }
  };

  const open = async (code: ReceiptCode) => {
    if (busy.current) return;
    busy.current = true;
    setLoginBusy(true);
    setLoginFailure(null);
    try {
      // One round trip: the case is asked for with the authentication key (hashes only) while the
      // key pairs, slow without a JIT, are derived.
      const asked = getCase(code.caseNumber, deriveReporterAuthKey(code));
      asked.catch(() => {}); // met below
      await yieldToBrowser();
      const session: Session = { caseNumber: code.caseNumber, keys: deriveReporterKeys(code) };
      const data = await loadCase(session, BUILT, asked);
      setScreen({ name: 'case', session, data });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setLoginFailure({ kind: 'unknown' });
      else if (error instanceof ApiError && error.status === 429)
        setLoginFailure({ kind: 'attempts' });
      else setLoginFailure({ kind: 'other', problem: toProblem(error) });
    } finally {
      busy.current = false;
      setLoginBusy(false);
    }
  };

  let body = null;
  switch (screen.name) {
    case 'welcome':
      body = (
        <Welcome
          keys={keys}
          built={BUILT.counsellors}
          onWrite={() => setScreen({ name: 'write' })}
          onLogin={() => {
            setLoginFailure(null);
            setScreen({ name: 'login' });
          }}
          onRetry={() => void fetchInfo().catch(() => {})}
        />
      );
      break;
    case 'write':
      body = (
        <Write
          draft={draft}
          onChange={setDraft}
          limits={limits}
          problem={writeProblem}
          onSend={() => void send()}
          onBack={() => setScreen({ name: 'welcome' })}
        />
      );
      break;
    case 'sending':
      body = (
        <Sending
          progress={progress}
          problem={sendProblem}
          onRetry={() => void send()}
          onBack={() => setScreen({ name: 'write' })}
        />
      );
      break;
    case 'receipt':
      body = (
        <Receipt
          code={screen.code}
          onCopied={() => {
            copied.current = true;
          }}
          onContinue={() => setScreen({ name: 'case', session: screen.session, data: null })}
        />
      );
      break;
    case 'login':
      body = (
        <Login
          busy={loginBusy}
          failure={loginFailure}
          onOpen={(code) => void open(code)}
          onTypo={setLoginFailure}
          onBack={() => setScreen({ name: 'welcome' })}
        />
      );
      break;
    case 'case':
      body = (
        <CaseScreen
          session={screen.session}
          initial={screen.data}
          built={BUILT}
          sealFor={sealFor}
          limits={limits}
          retentionDays={info?.retentionDays}
          onClose={() => setScreen({ name: 'welcome' })}
        />
      );
      break;
  }

  // A button, not a #fragment link: no fragment in the address bar or in the tab's history.
  const skip = () => document.getElementById('main')?.focus();

  return (
    <LangContext.Provider value={{ lang, t }}>
      <header class="top">
        <div class="top-inner">
          <button
            type="button"
            class="exit"
            aria-describedby="exit-hint"
            onClick={quickExit}
            data-testid="quick-exit"
          >
            {t.quickExit}
          </button>
          <span id="exit-hint" class="visually-hidden">
            {t.quickExitHint}
          </span>
          <button type="button" class="skip" onClick={skip}>
            {t.skip}
          </button>
          <span class="brand">{siteText(lang).supportPoint}</span>
          <LanguagePicker lang={lang} label={t.languagePicker} onChoose={setLang} />
        </div>
      </header>
      {info?.demo ? (
        <div class="demo" role="note" data-testid="demo-banner">
          <strong>{t.demoTitle}:</strong> {t.demoText}
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>
        {body}
      </main>
      <footer class="bottom">
        <p>{t.footer}</p>
      </footer>
    </LangContext.Provider>
  );
}
