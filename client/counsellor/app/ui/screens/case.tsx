/** One case: the conversation, the notes, and the actions. @module */

import { useEffect, useState } from 'preact/hooks';
import type { CaseJson, MessageJson } from '../../views.js';
import { api } from '../api.js';
import type { Texts } from '../i18n.js';
import { ActionForm, ErrorBox } from '../ui.js';

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

export function CaseScreen(props: {
  t: Texts;
  caseNumber: string;
  role: string;
  onBack: () => void;
}) {
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
