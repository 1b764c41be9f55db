/** The inbox. @module */

import { useEffect, useState } from 'preact/hooks';
import type { InboxJson } from '../../views.js';
import { api } from '../api.js';
import type { Texts } from '../i18n.js';
import { Deadline, ErrorBox } from '../ui.js';

export function InboxView({ t, onOpen }: { t: Texts; onOpen: (c: string) => void }) {
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
