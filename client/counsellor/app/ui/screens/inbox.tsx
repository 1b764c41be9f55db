/**
 * The inbox: every case, opened and checked by the local app; filters
 * (status, overdue, unread, forwarded, language, the counsellor's labels),
 * a search over the decrypted text (run in the local app's process, never
 * sent anywhere), orders (overdue and nearest deadline first by default),
 * a count per status, unread markers, and a reminder of closed cases the
 * server will soon delete.
 * @module
 */

import { useEffect, useState } from 'preact/hooks';
import type { InboxEntryJson, InboxJson } from '../../views.js';
import { api } from '../api.js';
import type { Lang, Texts } from '../i18n.js';
import {
  filterInbox,
  type InboxFilter,
  type InboxSort,
  isOverdue,
  NO_FILTER,
  sinceVisitCounts,
  statusCounts,
} from '../inbox-filter.js';
import { CASE_STATUSES } from '../../../../../crypto/content.js';
import { Deadline, dayText, ErrorBox, ScreenHeading } from '../ui.js';

const DAY_MS = 86_400_000;

/** The inbox screen. */
export function InboxView({
  t,
  lang,
  onOpen,
}: {
  t: Texts;
  lang: Lang;
  onOpen: (c: string) => void;
}) {
  const [inbox, setInbox] = useState<InboxJson | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [filter, setFilter] = useState<InboxFilter>(NO_FILTER);
  const [sort, setSort] = useState<InboxSort>('urgent');
  const [query, setQuery] = useState('');
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
  const search = async (event: Event) => {
    event.preventDefault();
    if (query.trim() === '') return setFilter({ ...filter, matches: null });
    try {
      const r = await api<{ cases: string[] }>('GET', `/api/search?q=${encodeURIComponent(query)}`);
      setFilter({ ...filter, matches: new Set(r.cases) });
    } catch (e) {
      setError(e as Error);
    }
  };
  const set = (change: Partial<InboxFilter>) => setFilter({ ...filter, ...change });
  const entries = inbox?.entries ?? [];
  const shown = filterInbox(entries, filter, sort);
  const counts = statusCounts(entries);
  const fresh = sinceVisitCounts(entries);
  const broken = entries.filter((e) => !e.intact);
  const soon = entries.filter(
    (e) => e.deletion !== null && Date.parse(`${e.deletion}T00:00:00Z`) - Date.now() <= 7 * DAY_MS,
  );
  const languages = [...new Set(entries.map((e) => e.language).filter((l) => l !== null))];
  return (
    <section aria-labelledby="inbox-heading">
      <ScreenHeading id="inbox-heading">{t.inbox}</ScreenHeading>
      <button type="button" onClick={load} disabled={busy}>
        {t.refresh}
      </button>
      {busy && <p role="status">{t.loading}</p>}
      <ErrorBox t={t} error={error} />
      {inbox && (
        <p class={fresh.cases > 0 ? 'notice' : ''} role="status" data-testid="since-visit">
          {fresh.cases > 0 ? (
            <>
              <strong>{t.sinceVisit(fresh.cases, fresh.reports)}</strong>{' '}
              {!filter.sinceVisit && (
                <button type="button" class="link" onClick={() => set({ sinceVisit: true })}>
                  {t.showSinceVisit}
                </button>
              )}
            </>
          ) : (
            t.nothingSinceVisit
          )}
        </p>
      )}
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
      {soon.length > 0 && (
        <div class="notice" role="status" data-testid="deletion-soon">
          {t.deletionSoon}
          <ul>
            {soon.map((e) => (
              <li key={e.case}>
                {e.display}: {t.deletionOn(dayText(lang, e.deletion!))}
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
      {inbox && (
        <>
          <nav aria-label={t.perStatus} class="counts">
            {CASE_STATUSES.map((s) => (
              <button
                type="button"
                key={s}
                aria-pressed={filter.status === s}
                onClick={() => set({ status: filter.status === s ? '' : s })}
              >
                {t.statuses[s]}: {counts[s]}
              </button>
            ))}
          </nav>
          <form class="search" onSubmit={search}>
            <label for="search">{t.search}</label>
            <input
              id="search"
              type="search"
              value={query}
              autocomplete="off"
              spellcheck={false}
              onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
            />
            <button type="submit">{t.searchButton}</button>
            {filter.matches && (
              <button
                type="button"
                onClick={() => {
                  setQuery('');
                  set({ matches: null });
                }}
              >
                {t.clearSearch}
              </button>
            )}
          </form>
          <fieldset class="filters">
            <legend>{t.filters}</legend>
            <Select
              id="f-status"
              label={t.statusFilter}
              value={filter.status}
              onChange={(status) => set({ status })}
              options={[
                ['', t.allStatuses],
                ...CASE_STATUSES.map((s) => [s, t.statuses[s]!] as [string, string]),
              ]}
            />
            <Select
              id="f-language"
              label={t.languageFilter}
              value={filter.language}
              onChange={(language) => set({ language })}
              options={[
                ['', t.allLanguages],
                ...languages.map((l) => [l, t.languages[l] ?? l] as [string, string]),
              ]}
            />
            <Select
              id="f-label"
              label={t.labelFilter}
              value={filter.label}
              onChange={(label) => set({ label })}
              options={[['', t.allLabels], ...inbox.labels.map((l) => [l, l] as [string, string])]}
            />
            <Select
              id="f-assignee"
              label={t.assignedTo}
              value={filter.assignee}
              onChange={(assignee) => set({ assignee })}
              options={[
                ['', t.allAssignees],
                ['me', t.assignedToMe],
                ['none', t.unassigned],
                ...inbox.counsellors.map((c) => [c.fingerprint, c.name] as [string, string]),
              ]}
            />
            <Select
              id="f-sort"
              label={t.sortBy}
              value={sort}
              onChange={(s) => setSort(s as InboxSort)}
              options={(['urgent', 'newest', 'oldest', 'unread'] as const).map((s) => [
                s,
                t.sorts[s]!,
              ])}
            />
            <Check
              id="f-overdue"
              label={t.onlyOverdue}
              checked={filter.overdue}
              onChange={(overdue) => set({ overdue })}
            />
            <Check
              id="f-unread"
              label={t.onlyUnread}
              checked={filter.unread}
              onChange={(unread) => set({ unread })}
            />
            <Check
              id="f-since-visit"
              label={t.onlySinceVisit}
              checked={filter.sinceVisit}
              onChange={(sinceVisit) => set({ sinceVisit })}
            />
            <Check
              id="f-forwarded"
              label={t.onlyForwarded}
              checked={filter.forwarded}
              onChange={(forwarded) => set({ forwarded })}
            />
          </fieldset>
          <p role="status">{t.shown(shown.length, entries.length)}</p>
        </>
      )}
      {inbox && entries.length === 0 && <p>{t.noCases}</p>}
      {shown.length > 0 && <InboxTable t={t} lang={lang} entries={shown} onOpen={onOpen} />}
    </section>
  );
}

function InboxTable(props: {
  t: Texts;
  lang: Lang;
  entries: readonly InboxEntryJson[];
  onOpen: (c: string) => void;
}) {
  const { t, lang } = props;
  return (
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
          <th scope="col">{t.labels}</th>
          <th scope="col">{t.assignedTo}</th>
          <th scope="col">{t.verified}</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr key={e.case} class={isOverdue(e) || !e.intact ? 'overdue' : ''}>
            <th scope="row">
              <button type="button" class="link" onClick={() => props.onOpen(e.case)}>
                {e.display}
              </button>
              {e.unread > 0 && <span class="badge">{t.newMark}</span>}
              {e.sinceVisit > 0 && (
                <span class="badge visit" data-testid="since-visit-mark">
                  {e.newSinceVisit ? t.newReportMark : t.sinceVisitMark(e.sinceVisit)}
                </span>
              )}
              {e.addressAs ? <div class="meta">{e.addressAs}</div> : null}
            </th>
            <td>{dayText(lang, e.received)}</td>
            <td>
              {t.statuses[e.status] ?? e.status}
              {e.deletion && <div class="meta">{t.deletionOn(dayText(lang, e.deletion))}</div>}
            </td>
            <td>{e.messages}</td>
            <td>{e.unread > 0 ? <strong>{e.unread}</strong> : 0}</td>
            <td>
              {e.status === 'closed' ? '—' : <Deadline t={t} lang={lang} d={e.acknowledge} />}
            </td>
            <td>{e.status === 'closed' ? '—' : <Deadline t={t} lang={lang} d={e.feedback} />}</td>
            <td>{e.labels.join(', ')}</td>
            <td>{e.assignee ? `${e.assignee.name}${e.assignee.me ? ` (${t.you})` : ''}` : ''}</td>
            <td>{e.intact ? t.yes : <strong class="overdue-mark">{t.no}</strong>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Select(props: {
  id: string;
  label: string;
  value: string;
  options: readonly (readonly [string, string])[];
  onChange: (value: string) => void;
}) {
  return (
    <span class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </span>
  );
}

function Check(props: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
}) {
  return (
    <span class="check">
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />
      <label for={props.id}>{props.label}</label>
    </span>
  );
}
