/**
 * The counsellor's local app (Preact). Talks only to the local process that
 * served it (app/server.ts), with the token from the URL fragment. Every
 * text from a reporter is rendered as a text node, never as HTML.
 */

import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { CaseJson, InboxJson, MessageJson } from '../views.js';
import { type Lang, TEXTS, type Texts } from './i18n.js';

const TOKEN = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
// The token stays in memory only: off the address bar and out of the browser's history.
if (TOKEN) history.replaceState(null, '', location.pathname + location.search);

class ApiError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      'kluis-app-token': TOKEN,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const value = (await response.json().catch(() => ({}))) as {
    error?: { message?: string; problems?: string[] };
  };
  if (!response.ok)
    throw new ApiError(
      value.error?.message ?? `HTTP ${response.status}`,
      value.error?.problems ?? [],
    );
  return value as T;
}

interface AppState {
  unlocked: boolean;
  keyPath: string;
  server: string;
  role: string;
  name: string;
  fingerprint: string | null;
}

function ErrorBox({ t, error }: { t: Texts; error: ApiError | Error | null }) {
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

function Unlock({ t, onUnlocked }: { t: Texts; onUnlocked: (info: UnlockInfo) => void }) {
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

interface UnlockInfo {
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

/** The result of the page check run on unlock: an alarm when the live page is not the counsellor's build. */
function PageCheck({ t, check }: { t: Texts; check: UnlockInfo['pageCheck'] }) {
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

function Deadline({ t, d }: { t: Texts; d: InboxJson['entries'][number]['acknowledge'] }) {
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

function InboxView({ t, onOpen }: { t: Texts; onOpen: (c: string) => void }) {
  const [inbox, setInbox] = useState<InboxJson | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      setInbox(await api<InboxJson>('GET', '/api/inbox'));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const broken = inbox?.entries.filter((e) => !e.intact) ?? [];
  return (
    <section aria-labelledby="inbox-heading">
      <h2 id="inbox-heading">{t.inbox}</h2>
      <button type="button" onClick={load} disabled={busy}>
        {t.refresh}
      </button>
      {busy && <p role="status">{t.loading}</p>}
      <ErrorBox t={t} error={error} />
      {broken.length > 0 && (
        <div class="alert" role="alert">
          <strong>
            {broken.length} {t.notVerifiedCases}
          </strong>
          <ul>
            {broken.map((e) => (
              <li key={e.case}>
                {e.display}: {e.problems.join('; ')}
              </li>
            ))}
          </ul>
        </div>
      )}
      {inbox && inbox.vanished.length > 0 && (
        <div class="notice" role="status">
          {t.vanished}: {inbox.vanished.join(', ')}
        </div>
      )}
      {inbox && inbox.entries.length === 0 && <p>{t.noCases}</p>}
      {inbox && inbox.entries.length > 0 && (
        <table>
          <caption>{t.inbox}</caption>
          <thead>
            <tr>
              <th scope="col">{t.caseCol}</th>
              <th scope="col">{t.received}</th>
              <th scope="col">{t.status}</th>
              <th scope="col">{t.messages}</th>
              <th scope="col">{t.unread}</th>
              <th scope="col">{t.ackDue}</th>
              <th scope="col">{t.feedbackDue}</th>
              <th scope="col">{t.verified}</th>
            </tr>
          </thead>
          <tbody>
            {inbox.entries.map((e) => (
              <tr
                key={e.case}
                class={e.acknowledge.overdue || e.feedback.overdue || !e.intact ? 'overdue' : ''}
              >
                <th scope="row">
                  <button type="button" class="link" onClick={() => onOpen(e.case)}>
                    {e.display}
                  </button>
                  {e.addressAs ? <div class="meta">{e.addressAs}</div> : null}
                </th>
                <td>{e.received}</td>
                <td>{t.statuses[e.status] ?? e.status}</td>
                <td>{e.messages}</td>
                <td>{e.unread}</td>
                <td>
                  <Deadline t={t} d={e.acknowledge} />
                </td>
                <td>
                  <Deadline t={t} d={e.feedback} />
                </td>
                <td>{e.intact ? t.yes : <strong class="overdue-mark">{t.no}</strong>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Message({ t, m }: { t: Texts; m: MessageJson }) {
  const who =
    m.author === null
      ? '?'
      : m.author.kind === 'reporter'
        ? t.reporter
        : `${m.author.name ?? ''}${m.author.me ? ` (${t.you})` : ''}`;
  return (
    <article class={m.ok || !m.shared ? 'message' : 'message bad'} aria-labelledby={`m-${m.index}`}>
      <h3 id={`m-${m.index}`}>
        {t.message} {m.index} — {m.type ? (t.types[m.type] ?? m.type) : '?'} — {who}
      </h3>
      <div class="meta">{m.time ?? ''}</div>
      {!m.shared && <p class="meta">{t.notShared}</p>}
      {m.shared && !m.ok && (
        <p class="alert" role="alert">
          {t.problem}: {m.problem}
        </p>
      )}
      {m.status && (
        <p>
          {t.status}: {t.statuses[m.status] ?? m.status}
        </p>
      )}
      {m.consent && (
        <p>
          {t.consent}: {m.consent}
        </p>
      )}
      {m.to && (
        <p>
          {t.forwardedTo}: {m.to}
        </p>
      )}
      {m.text !== null && m.text !== '' && <p class="text">{m.text}</p>}
      {m.attachments.length > 0 && (
        <div>
          {t.attachments}:
          <ul>
            {m.attachments.map((a) => (
              <li key={a.name}>
                {a.name} ({a.type}, {a.size} bytes)
              </li>
            ))}
          </ul>
        </div>
      )}
    </article>
  );
}

/** One action form: labelled fields, submit, and its own result or error. */
function ActionForm(props: {
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

function CaseScreen(props: { t: Texts; caseNumber: string; role: string; onBack: () => void }) {
  const { t, caseNumber } = props;
  const [view, setView] = useState<CaseJson | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [recipients, setRecipients] = useState<
    { fingerprint: string; display: string; name: string }[]
  >([]);
  const load = async () => {
    setError(null);
    try {
      setView(await api<CaseJson>('GET', `/api/cases/${caseNumber}`));
    } catch (e) {
      setError(e as Error);
    }
  };
  useEffect(() => {
    void load();
    if (props.role === 'counsellor')
      api<{ recipients: typeof recipients }>('GET', '/api/escalation')
        .then((r) => setRecipients(r.recipients))
        .catch(() => setRecipients([]));
  }, [caseNumber]);
  const field = (data: FormData, name: string) => String(data.get(name) ?? '');
  const post = async <T,>(action: string, body: unknown): Promise<T> => {
    const result = await api<T>('POST', `/api/cases/${caseNumber}/${action}`, body);
    if (action !== 'delete') await load();
    return result;
  };
  const writer = props.role === 'counsellor';
  return (
    <section aria-labelledby="case-heading">
      <button type="button" onClick={props.onBack}>
        ← {t.back}
      </button>
      <h2 id="case-heading">
        {t.caseHeading} {view?.display ?? caseNumber}
      </h2>
      <ErrorBox t={t} error={error} />
      {view && !view.intact && (
        <div class="alert" role="alert">
          <h3>{t.brokenHeading}</h3>
          <p>{t.brokenText}</p>
          <ul>
            {view.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {view && (
        <>
          <p>
            {t.status}: {t.statuses[view.status] ?? view.status} · {t.consent}:{' '}
            {view.consent ?? '?'}
            {view.addressAs ? ` · ${t.addressAs}: ${view.addressAs}` : ''}
          </p>
          {view.forwardedTo.length > 0 && (
            <p>
              {t.forwardedTo}: {view.forwardedTo.join(', ')}
            </p>
          )}
          {view.messages.map((m) => (
            <Message key={m.index} t={t} m={m} />
          ))}
          {view.intact ? (
            <p class="ok" role="status">
              {t.intact}
              {view.hiddenMessages > 0 ? ` (${view.hiddenMessages} ${t.hidden})` : ''}
            </p>
          ) : (
            <div class="alert" role="alert">
              <h3>{t.brokenHeading}</h3>
              <ul>
                {view.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          )}
          {view.notes.length > 0 && (
            <section aria-labelledby="notes-h">
              <h3 id="notes-h">{t.notes}</h3>
              {view.notes.map((n) => (
                <article class={n.problem ? 'message bad' : 'message'} key={n.index}>
                  <div class="meta">
                    {n.index} · {n.time ?? ''} · {n.author?.name ?? ''}
                  </div>
                  {n.problem && <p role="alert">{n.problem}</p>}
                  {n.text && <p class="text">{n.text}</p>}
                </article>
              ))}
            </section>
          )}
          <h2>{t.actions}</h2>
          <section class="actions">
            {writer && (
              <ActionForm
                t={t}
                id="reply"
                title={t.reply}
                submit={t.send}
                run={async (d) => {
                  const attach = field(d, 'attach')
                    .split('\n')
                    .map((s) => s.trim())
                    .filter((s) => s !== '');
                  const r = await post<{ seq: number }>('reply', {
                    text: field(d, 'text'),
                    attach,
                  });
                  return `${t.sent} ${r.seq}.`;
                }}
              >
                <label for="reply-text">{t.replyText}</label>
                <textarea
                  id="reply-text"
                  name="text"
                  required
                  autocomplete="off"
                  spellcheck={false}
                />
                <label for="reply-attach">{t.attachPaths}</label>
                <textarea
                  id="reply-attach"
                  name="attach"
                  rows={2}
                  autocomplete="off"
                  spellcheck={false}
                />
              </ActionForm>
            )}
            {writer && (
              <ActionForm
                t={t}
                id="status"
                title={t.setStatus}
                submit={t.setStatus}
                run={async (d) => {
                  const r = await post<{ seq: number }>('status', {
                    status: field(d, 'status'),
                    text: field(d, 'text'),
                  });
                  return `${t.sent} ${r.seq}.`;
                }}
              >
                <label for="status-select">{t.newStatus}</label>
                <select id="status-select" name="status">
                  {['received', 'in-conversation', 'forwarded', 'closed'].map((s) => (
                    <option key={s} value={s}>
                      {t.statuses[s]}
                    </option>
                  ))}
                </select>
                <label for="status-text">{t.statusText}</label>
                <textarea
                  id="status-text"
                  name="text"
                  rows={2}
                  autocomplete="off"
                  spellcheck={false}
                />
              </ActionForm>
            )}
            {writer && !view.acknowledged && (
              <ActionForm
                t={t}
                id="ack"
                title={t.ack}
                submit={t.ack}
                run={async (d) => {
                  const r = await post<{ seq: number }>('ack', { text: field(d, 'text') });
                  return `${t.sent} ${r.seq}.`;
                }}
              >
                <label for="ack-text">{t.ackText}</label>
                <textarea
                  id="ack-text"
                  name="text"
                  rows={2}
                  autocomplete="off"
                  spellcheck={false}
                />
              </ActionForm>
            )}
            {writer && (
              <ActionForm
                t={t}
                id="note"
                title={t.note}
                submit={t.note}
                run={async (d) => {
                  await post('notes', { text: field(d, 'text') });
                  return t.done2;
                }}
              >
                <label for="note-text">{t.noteText}</label>
                <textarea
                  id="note-text"
                  name="text"
                  rows={3}
                  required
                  autocomplete="off"
                  spellcheck={false}
                />
              </ActionForm>
            )}
            {writer && (
              <ActionForm
                t={t}
                id="forward"
                title={t.forward}
                submit={t.forward}
                run={async (d) => {
                  const r = await post<{ seq: number; to: string }>('forward', {
                    to: field(d, 'to'),
                    text: field(d, 'text'),
                  });
                  return `${t.forwardedTo} ${r.to} (${t.message} ${r.seq}).`;
                }}
              >
                {recipients.length === 0 && <p>{t.noRecipients}</p>}
                <label for="forward-to">{t.forwardTo}</label>
                <select id="forward-to" name="to">
                  {recipients.map((r) => (
                    <option key={r.fingerprint} value={r.fingerprint}>
                      {r.name} ({r.display})
                    </option>
                  ))}
                </select>
                <label for="forward-text">{t.forwardText}</label>
                <textarea
                  id="forward-text"
                  name="text"
                  rows={2}
                  autocomplete="off"
                  spellcheck={false}
                />
              </ActionForm>
            )}
            <ActionForm
              t={t}
              id="save"
              title={t.save}
              submit={t.save}
              run={async (d) => {
                const r = await post<{ saved: { path: string }[] }>('save', {
                  dir: field(d, 'dir'),
                });
                return `${t.savedFiles}: ${r.saved.map((f) => f.path).join(', ') || '—'}`;
              }}
            >
              <label for="save-dir">{t.saveDir}</label>
              <input
                id="save-dir"
                name="dir"
                type="text"
                required
                autocomplete="off"
                spellcheck={false}
              />
            </ActionForm>
            <ActionForm
              t={t}
              id="export"
              title={t.export}
              submit={t.export}
              run={async (d) => {
                const r = await post<{ dir: string }>('export', { dir: field(d, 'dir') });
                return `${t.exported} ${r.dir}`;
              }}
            >
              <label for="export-dir">{t.exportDir}</label>
              <input
                id="export-dir"
                name="dir"
                type="text"
                required
                autocomplete="off"
                spellcheck={false}
              />
            </ActionForm>
            {writer && (
              <ActionForm
                t={t}
                id="delete"
                title={t.del}
                submit={t.del}
                danger
                run={async (d) => {
                  await post('delete', { confirm: field(d, 'confirm') });
                  props.onBack();
                  return t.deleted;
                }}
              >
                <label for="delete-confirm">{t.delConfirm}</label>
                <input
                  id="delete-confirm"
                  name="confirm"
                  type="text"
                  required
                  autocomplete="off"
                  spellcheck={false}
                />
              </ActionForm>
            )}
          </section>
        </>
      )}
    </section>
  );
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
