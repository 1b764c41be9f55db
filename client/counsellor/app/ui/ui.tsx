/** Small pieces every screen uses. @module */

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { InboxJson } from '../views.js';
import { ApiError } from './api.js';
import type { Texts } from './i18n.js';

export function ErrorBox({ t, error }: { t: Texts; error: ApiError | Error | null }) {
  if (!error) return null;
  const problems = error instanceof ApiError ? error.problems : [];
  return (
    <div class="alert" role="alert">
      <strong>{t.error}:</strong> {error.message}
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

export function Deadline({ t, d }: { t: Texts; d: InboxJson['entries'][number]['acknowledge'] }) {
  const day = d.due.slice(0, 10);
  if (d.done) return <span>{t.done}</span>;
  return d.overdue ? (
    <span class="overdue-mark">
      {day} — {t.overdue}
    </span>
  ) : (
    <span>{day}</span>
  );
}

/** One action form: labelled fields, submit, and its own result or error. */
export function ActionForm(props: {
  t: Texts;
  id: string;
  title: string;
  submit: string;
  danger?: boolean;
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
    <form onSubmit={onSubmit} aria-labelledby={`${props.id}-h`}>
      <h3 id={`${props.id}-h`}>{props.title}</h3>
      {props.children}
      <p>
        <button class={props.danger ? 'danger' : 'primary'} type="submit" disabled={busy}>
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
