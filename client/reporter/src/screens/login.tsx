/**
 * Coming back with the receipt code. Typos are caught by the code's own
 * check group before any request is made, each with its own message.
 * @module
 */

import { useId, useState } from 'preact/hooks';
import type { ReceiptCodeProblem } from '../../../../crypto/index.js';
import {
  InvalidReceiptCodeError,
  normaliseCrockford,
  parseReceiptCode,
} from '../../../../crypto/index.js';
import type { ReceiptCode } from '../../../../crypto/index.js';
import type { Problem } from '../problems.js';
import { Heading, ProblemBox, useT } from '../ui.js';

/** Why a code was refused: before any request (`problem`), or by the server. */
export type LoginFailure =
  | { readonly kind: 'typo'; readonly problem: ReceiptCodeProblem; readonly length: number }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'attempts' }
  | { readonly kind: 'other'; readonly problem: Problem };

export function Login({
  busy,
  failure,
  onOpen,
  onTypo,
  onBack,
}: {
  busy: boolean;
  failure: LoginFailure | null;
  onOpen: (code: ReceiptCode) => void;
  onTypo: (failure: LoginFailure) => void;
  onBack: () => void;
}) {
  const { t } = useT();
  const id = useId();
  const [typed, setTyped] = useState('');

  const submit = (event: Event) => {
    event.preventDefault();
    if (busy) return;
    try {
      onOpen(parseReceiptCode(typed));
    } catch (error) {
      const problem = error instanceof InvalidReceiptCodeError ? error.problem : 'character';
      onTypo({ kind: 'typo', problem, length: normaliseCrockford(typed).length });
      document.getElementById(`${id}-code`)?.focus();
    }
  };

  let message: string | null = null;
  if (failure?.kind === 'typo') {
    message =
      failure.problem === 'length'
        ? t.codeLength(failure.length)
        : failure.problem === 'character'
          ? t.codeCharacter
          : t.codeChecksum;
  } else if (failure?.kind === 'unknown') message = t.codeUnknown;
  else if (failure?.kind === 'attempts') message = t.codeTooManyAttempts;

  return (
    <>
      <Heading>{t.loginTitle}</Heading>
      <p class="lead">{t.loginIntro}</p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for={`${id}-code`}>{t.loginLabel}</label>
          <p class="hint" id={`${id}-hint`}>
            {t.loginHint}
          </p>
          {message ? (
            <p class="problem" role="alert" id={`${id}-error`} data-testid="code-error">
              {message}
            </p>
          ) : null}
          <input
            id={`${id}-code`}
            class="code-input"
            type="text"
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            aria-describedby={message ? `${id}-hint ${id}-error` : `${id}-hint`}
            aria-invalid={message ? 'true' : undefined}
            value={typed}
            onInput={(event) => setTyped(event.currentTarget.value)}
          />
        </div>
        {failure?.kind === 'other' ? <ProblemBox problem={failure.problem} /> : null}
        <p role="status" class="status-line">
          {busy ? t.opening : ''}
        </p>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {t.open}
          </button>
          <button type="button" class="secondary" onClick={onBack}>
            {t.back}
          </button>
        </div>
      </form>
    </>
  );
}
