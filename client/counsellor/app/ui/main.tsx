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
import { StatsScreen } from './screens/stats.js';
import { PageCheck, Unlock, type UnlockInfo } from './screens/unlock.js';
import { ErrorBox } from './ui.js';

interface AppState {
  unlocked: boolean;
  keyPath: string;
  server: string;
  role: string;
  name: string;
  fingerprint: string | null;
  idleMinutes: number;
  lockedBecause: 'idle' | null;
}

type Screen = { name: 'inbox' } | { name: 'stats' } | { name: 'case'; case: string };

/**
 * Keeps the page in step with the local app's idle lock: looks at the state
 * often (that does not count as activity), and tells the app of the
 * counsellor's typing and clicking at most every few seconds.
 */
function useIdleLock(state: AppState | null, refresh: () => Promise<void>) {
  useEffect(() => {
    if (!state?.unlocked) return;
    const idleMs = state.idleMinutes * 60_000;
    const poll = setInterval(() => void refresh(), Math.max(500, Math.min(idleMs / 3, 5_000)));
    let last = 0;
    const active = () => {
      const now = Date.now();
      if (now - last < Math.max(1_000, Math.min(idleMs / 4, 20_000))) return;
      last = now;
      void api('POST', '/api/activity', {}).catch(() => {});
    };
    const events = ['keydown', 'pointerdown', 'input', 'wheel'] as const;
    for (const e of events) document.addEventListener(e, active, { passive: true });
    return () => {
      clearInterval(poll);
      for (const e of events) document.removeEventListener(e, active);
    };
  }, [state?.unlocked, state?.idleMinutes]);
}

function App() {
  const [lang, setLang] = useState<Lang>('nl');
  const t = TEXTS[lang];
  const [state, setState] = useState<AppState | null>(null);
  const [unlockInfo, setUnlockInfo] = useState<UnlockInfo | null>(null);
  const [screen, setScreen] = useState<Screen>({ name: 'inbox' });
  const [error, setError] = useState<Error | null>(null);
  const refresh = () =>
    api<AppState>('GET', '/api/state')
      .then((next) => {
        if (!next.unlocked) {
          setUnlockInfo(null);
          setScreen({ name: 'inbox' });
        }
        setState(next);
      })
      .catch((e: Error) => setError(e));
  useEffect(() => {
    void refresh();
  }, []);
  useIdleLock(state, refresh);
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
      {state?.unlocked && (
        <nav aria-label={t.navigation} class="sections">
          <button
            type="button"
            aria-current={screen.name !== 'stats' ? 'page' : undefined}
            onClick={() => setScreen({ name: 'inbox' })}
          >
            {t.inbox}
          </button>
          <button
            type="button"
            aria-current={screen.name === 'stats' ? 'page' : undefined}
            onClick={() => setScreen({ name: 'stats' })}
          >
            {t.statistics}
          </button>
        </nav>
      )}
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
        {state && !state.unlocked && state.lockedBecause === 'idle' && (
          <p class="notice" role="status" data-testid="idle-locked">
            {t.lockedIdle(state.idleMinutes)}
          </p>
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
        {state?.unlocked && screen.name === 'case' && (
          <CaseScreen
            t={t}
            lang={lang}
            caseNumber={screen.case}
            role={state.role}
            onBack={() => setScreen({ name: 'inbox' })}
          />
        )}
        {state?.unlocked && screen.name === 'inbox' && (
          <InboxView t={t} lang={lang} onOpen={(c) => setScreen({ name: 'case', case: c })} />
        )}
        {state?.unlocked && screen.name === 'stats' && <StatsScreen t={t} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
