/**
 * The counsellor's local app (Preact). Talks only to the local process that
 * served it (app/server.ts), with the token from the URL fragment. Every
 * text from a reporter is rendered as a text node, never as HTML.
 */

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { type Lang, TEXTS } from './i18n.js';
import { CaseScreen } from './screens/case.js';
import { InboxView } from './screens/inbox.js';
import { PageCheck, Unlock, type UnlockInfo } from './screens/unlock.js';
import { ErrorBox } from './ui.js';

interface AppState {
  unlocked: boolean;
  keyPath: string;
  server: string;
  role: string;
  name: string;
  fingerprint: string | null;
}

function App() {
  const [lang, setLang] = useState<Lang>(navigator.language.startsWith('nl') ? 'nl' : 'en');
  const t = TEXTS[lang];
  const [state, setState] = useState<AppState | null>(null);
  const [unlockInfo, setUnlockInfo] = useState<UnlockInfo | null>(null);
  const [openCase, setOpenCase] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const refresh = () =>
    api<AppState>('GET', '/api/state')
      .then(setState)
      .catch((e: Error) => setError(e));
  useEffect(() => {
    void refresh();
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.title;
  }, [lang]);
  const trust = async () => {
    try {
      await api('POST', '/api/trust', {});
      setUnlockInfo(unlockInfo && { ...unlockInfo, untrusted: [] });
    } catch (e) {
      setError(e as Error);
    }
  };
  const lock = async () => {
    await api('POST', '/api/lock', {});
    setUnlockInfo(null);
    setOpenCase(null);
    await refresh();
  };
  return (
    <>
      <header>
        <h1>{t.title}</h1>
        <div class="tools">
          <label for="lang" class="visually-hidden">
            {t.language}
          </label>
          <select
            id="lang"
            value={lang}
            onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}
          >
            <option value="nl">Nederlands</option>
            <option value="en">English</option>
          </select>
          {state?.unlocked && (
            <button type="button" onClick={lock}>
              {t.lock}
            </button>
          )}
        </div>
      </header>
      <main>
        <ErrorBox t={t} error={error} />
        {state && (
          <p class="meta">
            {t.keyFile}: {state.keyPath} · {state.name} ({state.role}) · {t.server}: {state.server}
            {state.fingerprint ? ` · ${state.fingerprint}` : ''}
          </p>
        )}
        {unlockInfo?.demo && <p class="notice">{t.demo}</p>}
        {unlockInfo && <PageCheck t={t} check={unlockInfo.pageCheck} />}
        {unlockInfo && unlockInfo.newlyTrusted.length > 0 && (
          <div class="notice" role="status">
            <p>{t.firstContact}</p>
            <ul>
              {unlockInfo.newlyTrusted.map((k) => (
                <li key={k.fingerprint}>
                  {k.role} {k.fingerprint} {k.name}
                </li>
              ))}
            </ul>
          </div>
        )}
        {unlockInfo && unlockInfo.untrusted.length > 0 && (
          <div class="alert" role="alert">
            <p>{t.untrusted}</p>
            <ul>
              {unlockInfo.untrusted.map((k) => (
                <li key={k}>{k}</li>
              ))}
            </ul>
            <button type="button" onClick={trust}>
              {t.trust}
            </button>
          </div>
        )}
        {state && !state.unlocked && (
          <Unlock
            t={t}
            onUnlocked={(info) => {
              setUnlockInfo(info);
              void refresh();
            }}
          />
        )}
        {state?.unlocked &&
          (openCase ? (
            <CaseScreen
              t={t}
              caseNumber={openCase}
              role={state.role}
              onBack={() => setOpenCase(null)}
            />
          ) : (
            <InboxView t={t} onOpen={setOpenCase} />
          ))}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
