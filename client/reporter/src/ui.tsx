/**
 * Small shared pieces of the page: the language context, headings that
 * take focus when a screen changes, problem boxes, the consent choice, the
 * file picker (with its metadata warning) and progress bars.
 * @module
 */

import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import type { Consent } from '../../../crypto/index.js';
import { MAX_ATTACHMENTS } from '../../../crypto/index.js';
import type { Dict, Lang } from './i18n.js';
import { formatBytes } from './i18n.js';
import type { Problem } from './problems.js';
import { describeProblem } from './problems.js';
import type { DraftFile } from './send.js';
import { ciphertextBytes } from './upload.js';

/** The language in use and its dictionary (App provides it; catalogues load asynchronously, so there is no default). */
export const LangContext = createContext<{ lang: Lang; t: Dict }>(
  undefined as unknown as { lang: Lang; t: Dict },
);

/** The current language and dictionary. */
export function useT(): { lang: Lang; t: Dict } {
  return useContext(LangContext);
}

/** Set by "leave quickly", so that no "leave this page?" question holds it up. */
export const leaving = { now: false };

let firstHeading = true;

/** A screen's h1. It takes keyboard and screen-reader focus when a new screen appears (not on first load). */
export function Heading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (firstHeading) firstHeading = false;
    else ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A problem, in the current language, announced to screen readers. */
export function ProblemBox({
  problem,
  children,
}: {
  problem: Problem;
  children?: ComponentChildren;
}) {
  const { t } = useT();
  const { text, code } = describeProblem(t, problem);
  return (
    <div class="problem" role="alert">
      <p>{text}</p>
      {code ? <p class="technical">{t.errCode(code)}</p> : null}
      {children}
    </div>
  );
}

/** The three answers to "may the counsellor pass this on?". */
export function ConsentChoice({
  legend,
  hint,
  value,
  onChange,
}: {
  legend: string;
  hint: string;
  value: Consent;
  onChange: (value: Consent) => void;
}) {
  const { t } = useT();
  const id = useId();
  return (
    <fieldset class="choice" aria-describedby={`${id}-hint`}>
      <legend>{legend}</legend>
      <p class="hint" id={`${id}-hint`}>
        {hint}
      </p>
      {(['no', 'ask', 'yes'] as const).map((option) => (
        <label key={option} class="radio">
          <input
            type="radio"
            name={`${id}-consent`}
            value={option}
            checked={value === option}
            onChange={() => onChange(option)}
          />{' '}
          {t.consent[option]}
        </label>
      ))}
    </fieldset>
  );
}

let nextFileId = 1;

type PickerProblem = { kind: 'tooLarge'; name: string } | { kind: 'together' } | { kind: 'count' };

/** Limits the server sets for files (ciphertext bytes). */
export interface FileLimits {
  readonly maxFileBytes: number;
  readonly maxCaseBytes: number;
}

/** Choose files: the metadata warning comes first, then the picker and the list with remove buttons. */
export function FilePicker({
  files,
  onChange,
  limits,
  title,
}: {
  files: readonly DraftFile[];
  onChange: (files: DraftFile[]) => void;
  limits: FileLimits;
  title: string;
}) {
  const { t, lang } = useT();
  const id = useId();
  const [problem, setProblem] = useState<PickerProblem | null>(null);

  const pick = (input: HTMLInputElement) => {
    const chosen = Array.from(input.files ?? []);
    input.value = '';
    const accepted: DraftFile[] = [];
    let issue: PickerProblem | null = null;
    let total = files.reduce((sum, f) => sum + ciphertextBytes(f.file.size), 0);
    for (const file of chosen) {
      const bytes = ciphertextBytes(file.size);
      if (bytes > limits.maxFileBytes) {
        issue = { kind: 'tooLarge', name: file.name };
        continue;
      }
      if (total + bytes > limits.maxCaseBytes) {
        issue = { kind: 'together' };
        continue;
      }
      if (files.length + accepted.length >= MAX_ATTACHMENTS) {
        issue = { kind: 'count' };
        continue;
      }
      total += bytes;
      accepted.push({ id: nextFileId++, file });
    }
    setProblem(issue);
    if (accepted.length > 0) onChange([...files, ...accepted]);
  };

  let problemText: string | null = null;
  if (problem?.kind === 'tooLarge')
    problemText = t.fileTooLarge(problem.name, formatBytes(limits.maxFileBytes, lang));
  else if (problem?.kind === 'together')
    problemText = t.filesTooLarge(formatBytes(limits.maxCaseBytes, lang));
  else if (problem?.kind === 'count') problemText = t.tooManyFiles(MAX_ATTACHMENTS);

  return (
    <fieldset class="files">
      <legend>{title}</legend>
      <p class="warning" id={`${id}-warning`}>
        {t.metadataWarning}
      </p>
      <label for={`${id}-input`} class="file-label">
        {t.chooseFiles}
      </label>
      <input
        id={`${id}-input`}
        type="file"
        multiple
        aria-describedby={`${id}-warning`}
        onChange={(event) => pick(event.currentTarget)}
      />
      {problemText ? (
        <p class="problem" role="alert">
          {problemText}
        </p>
      ) : null}
      {files.length > 0 ? (
        <ul class="file-list" aria-label={t.chosenFiles}>
          {files.map((f) => (
            <li key={f.id}>
              <span class="file-name">{f.file.name}</span>{' '}
              <span class="file-size">({formatBytes(f.file.size, lang)})</span>{' '}
              <button
                type="button"
                class="link"
                onClick={() => onChange(files.filter((other) => other.id !== f.id))}
              >
                {t.remove}
                <span class="visually-hidden"> {f.file.name}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}

/** A labelled progress bar. */
export function Bar({ value, label }: { value: number; label: string }) {
  return (
    <progress
      max={100}
      value={Math.round(Math.min(1, Math.max(0, value)) * 100)}
      aria-label={label}
    />
  );
}
