/** Unlocking the key file, and what the unlock found: the page check, keys first trusted. @module */

import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Texts } from '../i18n.js';
import { ErrorBox } from '../ui.js';

export interface UnlockInfo {
  fingerprint: string;
  role: string;
  demo: boolean;
  newlyTrusted: { role: string; fingerprint: string; name: string }[];
  untrusted: string[];
  pageCheck:
    | { state: 'not-configured' }
    | { state: 'same'; url: string; files: number }
    | { state: 'different'; url: string; differences: string[] }
    | { state: 'failed'; url: string; reason: string };
}

export function Unlock({ t, onUnlocked }: { t: Texts; onUnlocked: (info: UnlockInfo) => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const info = await api<UnlockInfo>('POST', '/api/unlock', { passphrase });
      setPassphrase('');
      onUnlocked(info);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="unlock-heading">
      <h2 id="unlock-heading">{t.unlockHeading}</h2>
      <label for="passphrase">{t.passphrase}</label>
      <input
        id="passphrase"
        type="password"
        autocomplete="current-password"
        value={passphrase}
        onInput={(e) => setPassphrase((e.target as HTMLInputElement).value)}
        required
      />
      <p class="meta">{t.passphraseNote}</p>
      <button class="primary" type="submit" disabled={busy}>
        {busy ? t.unlocking : t.unlock}
      </button>
      <ErrorBox t={t} error={error} />
    </form>
  );
}

/** The result of the page check run on unlock: an alarm when the live page is not the counsellor's build. */
export function PageCheck({ t, check }: { t: Texts; check: UnlockInfo['pageCheck'] }) {
  switch (check.state) {
    case 'same':
      return (
        <p class="notice" role="status" data-testid="page-check">
          {t.pageSame(check.files)}
        </p>
      );
    case 'different':
      return (
        <div class="alert" role="alert" data-testid="page-check">
          <p>
            <strong>{t.pageDifferent}</strong>
          </p>
          <p>{check.url}</p>
          <ul>
            {check.differences.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      );
    case 'failed':
      return (
        <p class="alert" role="alert" data-testid="page-check">
          {t.pageFailed(check.reason)}
        </p>
      );
    default:
      return (
        <p class="notice" data-testid="page-check">
          {t.pageNotChecked}
        </p>
      );
  }
}
