/**
 * The receipt code: large, with copy and save, explained, and a
 * confirmation that it is stored before the reporter can go on. Leaving
 * the page before that asks the browser to confirm (except "leave quickly").
 * @module
 */

import { useEffect, useId, useState } from 'preact/hooks';
import { saveBlob } from '../files.js';
import { Heading, leaving, useT } from '../ui.js';

/** Copies text: the Clipboard API where the page may use it, else a selected textarea. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

function warnBeforeLeaving(event: BeforeUnloadEvent): void {
  if (leaving.now) return; // "leave quickly" must never be held up
  event.preventDefault();
  event.returnValue = '';
}

export function Receipt({
  code,
  onCopied,
  onContinue,
}: {
  code: string;
  onCopied: () => void;
  onContinue: () => void;
}) {
  const { t } = useT();
  const id = useId();
  const [stored, setStored] = useState(false);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [nudge, setNudge] = useState(false);
  const casePart = code.slice(0, 9);
  const secretPart = code.slice(10);

  useEffect(() => {
    if (stored) return undefined;
    window.addEventListener('beforeunload', warnBeforeLeaving);
    return () => window.removeEventListener('beforeunload', warnBeforeLeaving);
  }, [stored]);

  const go = () => {
    if (!stored) {
      setNudge(true);
      document.getElementById(`${id}-stored`)?.focus();
      return;
    }
    onContinue();
  };

  return (
    <>
      <Heading>{t.receiptTitle}</Heading>
      <p class="lead">{t.receiptIntro}</p>
      <div class="receipt">
        <p class="receipt-label" id={`${id}-label`}>
          {t.codeLabel}
        </p>
        <p class="code" data-testid="receipt-code">
          <span class="code-case">{casePart}</span>-<span class="code-secret">{secretPart}</span>
        </p>
        <p class="code-legend" aria-hidden="true">
          <span class="legend-case">{t.caseNumberLabel}</span>
          <span class="legend-secret">{t.secretLabel}</span>
        </p>
        <div class="actions">
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              const ok = await copyText(code);
              setCopy(ok ? 'copied' : 'failed');
              if (ok) onCopied();
            }}
          >
            {t.copy}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() =>
              saveBlob(
                new Blob([t.saveText(code, casePart)], { type: 'text/plain;charset=utf-8' }),
                t.saveName,
              )
            }
          >
            {t.save}
          </button>
        </div>
        <p role="status" class="status-line">
          {copy === 'copied' ? t.copied : copy === 'failed' ? t.copyFailed : ''}
        </p>
      </div>
      <ul class="explain">
        <li>{t.explainCase(casePart)}</li>
        <li>{t.explainSecret}</li>
        <li>
          <strong>{t.explainLost}</strong>
        </li>
      </ul>
      <div class="field confirm">
        {nudge && !stored ? (
          <p class="problem" role="alert" id={`${id}-nudge`}>
            {t.confirmFirst}
          </p>
        ) : null}
        <label class="checkbox">
          <input
            id={`${id}-stored`}
            type="checkbox"
            checked={stored}
            aria-describedby={nudge && !stored ? `${id}-nudge` : undefined}
            onChange={(event) => setStored(event.currentTarget.checked)}
          />{' '}
          {t.confirmStored}
        </label>
      </div>
      <div class="actions">
        <button
          type="button"
          class="primary"
          aria-disabled={stored ? undefined : 'true'}
          onClick={go}
        >
          {t.toCase}
        </button>
      </div>
    </>
  );
}
