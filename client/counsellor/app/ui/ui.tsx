/**
 * Small pieces every screen uses: the error box, an action form with its
 * own result, a two-step confirmation, deadlines as "due in N days", and
 * dates in the counsellor's language and time zone.
 * @module
 */

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeadlineJson } from '../views.js';
import { ApiError, api } from './api.js';
import type { Lang, Texts } from './i18n.js';

const LOCALES: Record<Lang, string> = { nl: 'nl-NL', en: 'en-GB' };

/** A moment (ISO 8601) in the counsellor's language and time zone. */
export function dateTime(lang: Lang, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'short' }).format(
    date,
  );
}

/** A day (YYYY-MM-DD, or an ISO moment) in the counsellor's language. */
export function dayText(lang: Lang, day: string): string {
  const date = new Date(day.length === 10 ? `${day}T12:00:00Z` : day);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium' }).format(date);
}

/** A moment from the server's coarse hour. */
export const hourIso = (hour: number) => new Date(hour * 3_600_000).toISOString();

/** Shows an error of the local app, with the integrity problems it names. */
export function ErrorBox({ t, error }: { t: Texts; error: ApiError | Error | null }) {
  if (!error) return null;
  const problems = error instanceof ApiError ? error.problems : [];
  // The catalogue's words for the code; the library's English message only as the detail.
  const failures: Readonly<Record<string, string>> = t.failures;
  const code = error instanceof ApiError ? error.code : 'app-unreachable';
  const text = Object.hasOwn(failures, code) ? failures[code]! : t.failures.failure;
  return (
    <div class="alert" role="alert">
      <p class="failure" data-code={code}>
        <strong>{t.error}:</strong> {text}
      </p>
      <details>
        <summary>{t.technicalDetail}</summary>
        <code>{error.message}</code>
      </details>
      {problems.length > 0 && (
        <ul>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A deadline: done, "due in N days" (with the day), or "OVERDUE by N days". */
export function Deadline({ t, lang, d }: { t: Texts; lang: Lang; d: DeadlineJson }) {
  if (d.done) return <span>{t.done}</span>;
  const day = dayText(lang, d.due);
  return d.overdue ? (
    <span class="overdue-mark">
      {t.overdueBy(-d.daysLeft)} <span class="meta">({day})</span>
    </span>
  ) : (
    <span>
      {t.dueIn(d.daysLeft)} <span class="meta">({day})</span>
    </span>
  );
}

/** Follows a one-time download link of the local app: the browser's own download. */
export async function download(caseNumber: string, body: unknown): Promise<void> {
  const { url } = await api<{ url: string }>('POST', `/api/cases/${caseNumber}/download`, body);
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  document.body.append(a);
  a.click();
  a.remove();
}

/** One action form: labelled fields, submit, and its own result or error. */
export function ActionForm(props: {
  t: Texts;
  id: string;
  title: string;
  submit: string;
  danger?: boolean;
  disabled?: boolean;
  run: (data: FormData) => Promise<string>;
  children: ComponentChildren;
}) {
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await props.run(new FormData(form)));
      form.reset();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={onSubmit} aria-labelledby={`${props.id}-h`} class="action">
      <h3 id={`${props.id}-h`}>{props.title}</h3>
      {props.children}
      <p>
        <button
          class={props.danger ? 'danger' : 'primary'}
          type="submit"
          disabled={busy || props.disabled}
        >
          {props.submit}
        </button>
      </p>
      {result && (
        <p class="ok" role="status">
          {result}
        </p>
      )}
      <ErrorBox t={props.t} error={error} />
    </form>
  );
}

/** A button that first shows what will happen, then asks again (export, delete). */
export function Confirm(props: {
  t: Texts;
  label: string;
  text: string;
  children: (close: () => void) => ComponentChildren;
}) {
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        {props.label}
      </button>
    );
  return (
    <fieldset class="confirm">
      <legend>{props.label}</legend>
      <p>{props.text}</p>
      {props.children(() => setOpen(false))}
      <button type="button" onClick={() => setOpen(false)}>
        {props.t.cancel}
      </button>
    </fieldset>
  );
}

/**
 * A screen's heading that takes the focus when the screen opens, so that
 * keyboard and screen-reader users land on the new screen, not on nothing.
 */
export function ScreenHeading({ id, children }: { id: string; children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h2 id={id} ref={ref} tabIndex={-1}>
      {children}
    </h2>
  );
}
