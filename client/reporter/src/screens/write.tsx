/**
 * Writing the report: what happened, consent to pass it on, how to be
 * addressed, and files (after a warning about their hidden metadata).
 * @module
 */

import { useEffect, useId, useState } from 'preact/hooks';
import { MAX_TEXT_LENGTH } from '../../../../crypto/index.js';
import type { Problem } from '../problems.js';
import type { ReportDraft } from '../send.js';
import type { FileLimits } from '../ui.js';
import { ConsentChoice, FilePicker, Heading, ProblemBox, useT } from '../ui.js';
import { warmWorkers } from '../workers.js';

export function Write({
  draft,
  onChange,
  limits,
  problem,
  onSend,
  onBack,
}: {
  draft: ReportDraft;
  onChange: (draft: ReportDraft) => void;
  limits: FileLimits;
  problem: Problem | null;
  onSend: () => void;
  onBack: () => void;
}) {
  const { t } = useT();
  const id = useId();
  const [missingText, setMissingText] = useState(false);
  useEffect(warmWorkers, []);

  const submit = (event: Event) => {
    event.preventDefault();
    if (draft.text.trim() === '') {
      setMissingText(true);
      document.getElementById(`${id}-text`)?.focus();
      return;
    }
    setMissingText(false);
    onSend();
  };

  return (
    <>
      <Heading>{t.writeTitle}</Heading>
      <p class="lead">{t.writeIntro}</p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for={`${id}-text`}>{t.textLabel}</label>
          <p class="hint" id={`${id}-text-hint`}>
            {t.textHint}
          </p>
          {missingText ? (
            <p class="problem" id={`${id}-text-error`} role="alert">
              {t.textRequired}
            </p>
          ) : null}
          <textarea
            id={`${id}-text`}
            rows={12}
            maxLength={MAX_TEXT_LENGTH}
            autoComplete="off"
            spellcheck={false}
            aria-describedby={missingText ? `${id}-text-hint ${id}-text-error` : `${id}-text-hint`}
            aria-invalid={missingText ? 'true' : undefined}
            value={draft.text}
            onInput={(event) => onChange({ ...draft, text: event.currentTarget.value })}
          />
        </div>

        <ConsentChoice
          legend={t.consentLegend}
          hint={t.consentHint}
          value={draft.consent}
          onChange={(consent) => onChange({ ...draft, consent })}
        />

        <div class="field">
          <label for={`${id}-address`}>{t.addressLabel}</label>
          <p class="hint" id={`${id}-address-hint`}>
            {t.addressHint}
          </p>
          <input
            id={`${id}-address`}
            type="text"
            maxLength={200}
            autoComplete="off"
            spellcheck={false}
            aria-describedby={`${id}-address-hint`}
            value={draft.addressAs}
            onInput={(event) => onChange({ ...draft, addressAs: event.currentTarget.value })}
          />
        </div>

        <FilePicker
          title={t.filesTitle}
          files={draft.files}
          limits={limits}
          onChange={(files) => onChange({ ...draft, files })}
        />

        {problem ? <ProblemBox problem={problem} /> : null}

        <div class="actions">
          <button type="submit" class="primary">
            {t.send}
          </button>
          <button type="button" class="secondary" onClick={onBack}>
            {t.back}
          </button>
        </div>
      </form>
    </>
  );
}
