/**
 * One case: what it is (status, consent, labels, retention), the thread
 * (timeline.tsx) with the reply box under it, and the other actions as
 * clear, separate steps: status with an explanation, acknowledgement,
 * private note, forward (only with the reporter's consent, shown beside
 * it), export and delete (each confirmed first).
 * @module
 */

import { useEffect, useState } from 'preact/hooks';
import type { CaseJson } from '../../views.js';
import { api, apiError, TOKEN } from '../api.js';
import type { Lang, Texts } from '../i18n.js';
import { ActionForm, Confirm, dayText, download, ErrorBox, ScreenHeading } from '../ui.js';
import { Assign, Forward, Handover, Labels, type Recipient } from './case-parts.js';
import { Thread } from './timeline.js';
import { CASE_STATUSES } from '../../../../../crypto/content.js';

/** Posts a reply: JSON, or multipart when files were picked (encrypted by the local app). */
async function postReply(caseNumber: string, data: FormData): Promise<{ seq: number }> {
  const files = data.getAll('file').filter((f) => f instanceof File && f.name !== '');
  if (files.length === 0)
    return api('POST', `/api/cases/${caseNumber}/reply`, { text: String(data.get('text') ?? '') });
  const body = new FormData();
  body.set('text', String(data.get('text') ?? ''));
  for (const f of files) body.append('file', f);
  const response = await fetch(`/api/cases/${caseNumber}/reply`, {
    method: 'POST',
    headers: { 'kluis-app-token': TOKEN },
    body,
    credentials: 'omit',
    cache: 'no-store',
  });
  const value = (await response.json().catch(() => ({}))) as { seq: number };
  if (!response.ok) throw apiError(value, response.status);
  return value;
}

/** The case screen. */
export function CaseScreen(props: {
  t: Texts;
  lang: Lang;
  caseNumber: string;
  role: string;
  onBack: () => void;
}) {
  const { t, lang, caseNumber } = props;
  const [view, setView] = useState<CaseJson | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [recipients, setRecipients] = useState<Recipient[]>([]);
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
      api<{ recipients: Recipient[] }>('GET', '/api/escalation')
        .then((r) => setRecipients(r.recipients))
        .catch(() => setRecipients([]));
  }, [caseNumber]);
  const field = (data: FormData, name: string) => String(data.get(name) ?? '');
  const post = async <T,>(action: string, body: unknown): Promise<T> => {
    const result = await api<T>('POST', `/api/cases/${caseNumber}/${action}`, body);
    await load();
    return result;
  };
  const writer = props.role === 'counsellor';
  return (
    <section aria-labelledby="case-heading">
      <button type="button" onClick={props.onBack}>
        ← {t.back}
      </button>
      <ScreenHeading id="case-heading">
        {t.caseHeading} {view?.display ?? caseNumber}
      </ScreenHeading>
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
            {t.status}: <strong>{t.statuses[view.status] ?? view.status}</strong> · {t.consent}:{' '}
            {view.consent ? (t.consents[view.consent] ?? view.consent) : '?'}
            {view.addressAs ? ` · ${t.addressAs}: ${view.addressAs}` : ''}
            {view.language ? ` · ${t.languages[view.language] ?? view.language}` : ''}
            {view.assignee ? ` · ${t.assignedTo}: ${view.assignee.name}` : ''}
          </p>
          {view.deletion && (
            <p class="notice" data-testid="deletion">
              {t.deletionOn(dayText(lang, view.deletion))}
            </p>
          )}
          {writer && <Labels t={t} caseNumber={caseNumber} labels={view.labels} onSaved={load} />}
          <Thread t={t} lang={lang} view={view} />
          {view.intact && (
            <p class="ok" role="status">
              {t.intact}
              {view.hiddenMessages > 0 ? ` (${view.hiddenMessages} ${t.hidden})` : ''}
            </p>
          )}
          {writer && (
            <ActionForm
              t={t}
              id="reply"
              title={t.reply}
              submit={t.send}
              run={async (d) => {
                const r = await postReply(caseNumber, d);
                await load();
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
              <label for="reply-files">{t.attachFiles}</label>
              <input id="reply-files" name="file" type="file" multiple />
            </ActionForm>
          )}
          <h2>{t.actions}</h2>
          <section class="actions">
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
                  {CASE_STATUSES.map((s) => (
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
            {writer && <Assign t={t} view={view} post={post} />}
            {writer && <Forward t={t} view={view} recipients={recipients} post={post} />}
            {writer && <Handover t={t} view={view} post={post} />}
            <div class="action">
              <h3>{t.export.replace('…', '')}</h3>
              <Confirm t={t} label={t.export} text={t.exportText}>
                {(close) => (
                  <button
                    type="button"
                    class="primary"
                    onClick={() => {
                      download(caseNumber, { export: true }).then(close, (e: Error) => setError(e));
                    }}
                  >
                    {t.exportConfirm}
                  </button>
                )}
              </Confirm>
            </div>
            {writer && (
              <div class="action">
                <h3>{t.del.replace('…', '')}</h3>
                <Confirm t={t} label={t.del} text={t.delText}>
                  {() => (
                    <ActionForm
                      t={t}
                      id="delete"
                      title={t.delConfirm}
                      submit={t.delButton}
                      danger
                      run={async (d) => {
                        await api('POST', `/api/cases/${caseNumber}/delete`, {
                          confirm: field(d, 'confirm'),
                        });
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
                </Confirm>
              </div>
            )}
          </section>
        </>
      )}
    </section>
  );
}
