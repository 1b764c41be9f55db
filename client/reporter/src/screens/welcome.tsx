/**
 * The welcome screen: what this support point is and is not, consent and
 * consequences, how anonymity works, and the counsellors' fingerprints to
 * compare with the ones the organisation publishes.
 * @module
 */

import type { VerifiedBundle } from '../../../../crypto/index.js';
import { displayFingerprint } from '../../../../crypto/index.js';
import { siteText } from '../i18n.js';
import type { Problem } from '../problems.js';
import { Heading, ProblemBox, useT } from '../ui.js';
import { Procedure } from './procedure.js';

/** What the welcome screen knows about the server. */
export type Keys =
  | { readonly status: 'loading' }
  | { readonly status: 'error'; readonly problem: Problem }
  | {
      readonly status: 'ready';
      /** The built counsellors the server lists too: whom the page seals for. */
      readonly counsellors: readonly VerifiedBundle[];
      /** Keys the server lists that this page was not built with (never used). */
      readonly foreign: number;
    };

export function OtherWays() {
  const { t, lang } = useT();
  return (
    <section aria-labelledby="other-ways">
      <h2 id="other-ways">{t.otherWaysTitle}</h2>
      <ul>
        {siteText(lang).otherWays.map((way) => (
          <li key={way}>{way}</li>
        ))}
      </ul>
    </section>
  );
}

export function Welcome({
  keys,
  built,
  onWrite,
  onLogin,
  onRetry,
}: {
  keys: Keys;
  /** The counsellors this page was built with: shown at once, whatever the server says. */
  built: readonly VerifiedBundle[];
  onWrite: () => void;
  onLogin: () => void;
  onRetry: () => void;
}) {
  const { t } = useT();
  // Usable before the server's list arrives (sending waits for the check, keys.ts), not once it
  // leaves no counsellor to seal for.
  const ready =
    built.length > 0 &&
    (keys.status === 'loading' || (keys.status === 'ready' && keys.counsellors.length > 0));
  return (
    <>
      <Heading>{t.welcomeTitle}</Heading>
      <p class="lead">{t.welcomeIntro}</p>

      <div class="actions">
        <button type="button" class="primary" disabled={!ready} onClick={onWrite}>
          {t.startReport}
        </button>
        <button type="button" class="secondary" disabled={!ready} onClick={onLogin}>
          {t.haveCode}
        </button>
      </div>

      <section aria-labelledby="do">
        <h2 id="do">{t.doTitle}</h2>
        <p>{t.doText}</p>
      </section>
      <section aria-labelledby="dont">
        <h2 id="dont">{t.dontTitle}</h2>
        <p>{t.dontText}</p>
      </section>
      <section aria-labelledby="escalation">
        <h2 id="escalation">{t.escalationTitle}</h2>
        <p>{t.escalationText}</p>
      </section>
      <Procedure />
      <section aria-labelledby="safe">
        <h2 id="safe">{t.safeTitle}</h2>
        <p>{t.safeText}</p>
      </section>
      <section aria-labelledby="anon">
        <h2 id="anon">{t.anonTitle}</h2>
        <ul>
          {t.anonItems.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="keys">
        <h2 id="keys">{t.keysTitle}</h2>
        <p>{t.keysIntro}</p>
        {keys.status === 'loading' ? <p role="status">{t.loading}</p> : null}
        {keys.status === 'error' ? (
          <ProblemBox problem={keys.problem}>
            <p>{t.infoFailed}</p>
            <button type="button" class="secondary" onClick={onRetry}>
              {t.tryAgain}
            </button>
          </ProblemBox>
        ) : null}
        {keys.status === 'ready' && keys.foreign > 0 ? (
          <p class="problem" role="alert">
            {t.foreignKeys(keys.foreign)}
          </p>
        ) : null}
        {built.length === 0 ? (
          <p class="problem" role="alert">
            {t.noBuiltKeys}
          </p>
        ) : (
          <ul class="keys">
            {built.map((c) => (
              <li key={c.fingerprint}>
                <span class="key-name">{c.name}</span>
                <br />
                {t.fingerprint}:{' '}
                <code class="fingerprint">{displayFingerprint(c.fingerprint)}</code>
              </li>
            ))}
          </ul>
        )}
        {built.length > 0 && keys.status === 'ready' && keys.counsellors.length === 0 ? (
          <p class="problem" role="alert">
            {t.noCounsellors}
          </p>
        ) : null}
      </section>

      <OtherWays />
    </>
  );
}
