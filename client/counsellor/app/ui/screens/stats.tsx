/**
 * Statistics for the annual report: computed by the local app from every
 * case it opened, holding no content; per year or for every case, with a
 * CSV download made in the page.
 * @module
 */

import { useEffect, useState } from 'preact/hooks';
import type { DaySummary, Statistics } from '../../../lib/stats.js';
import { statisticsCsv } from '../../../lib/stats.js';
import { api } from '../api.js';
import type { Texts } from '../i18n.js';
import { ErrorBox, ScreenHeading } from '../ui.js';

/** The statistics screen. */
export function StatsScreen({ t }: { t: Texts }) {
  const [stats, setStats] = useState<Statistics | null>(null);
  const [year, setYear] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setBusy(true);
    setError(null);
    api<Statistics>('GET', `/api/stats${year ? `?year=${year}` : ''}`)
      .then(setStats, (e: Error) => setError(e))
      .finally(() => setBusy(false));
  }, [year]);
  const thisYear = new Date().getFullYear();
  const days = (s: DaySummary) =>
    s.count === 0
      ? '—'
      : `${t.median} ${s.median}, ${t.mean} ${s.mean}, ${t.longest} ${s.max} (${s.count} ${t.cases})`;
  const csv = () => {
    if (!stats) return;
    const url = URL.createObjectURL(new Blob([statisticsCsv(stats)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `kluis-statistics-${stats.year ?? 'all'}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <section aria-labelledby="stats-h">
      <ScreenHeading id="stats-h">{t.statsHeading}</ScreenHeading>
      <p class="meta">{t.statsNote}</p>
      <label for="stats-year">{t.year}</label>
      <select
        id="stats-year"
        value={year}
        onChange={(e) => setYear((e.target as HTMLSelectElement).value)}
      >
        <option value="">{t.allYears}</option>
        {[0, 1, 2, 3, 4].map((n) => (
          <option key={n} value={String(thisYear - n)}>
            {thisYear - n}
          </option>
        ))}
      </select>
      {busy && <p role="status">{t.loading}</p>}
      <ErrorBox t={t} error={error} />
      {stats && (
        <>
          <table data-testid="stats">
            <caption>{t.statistics}</caption>
            <thead>
              <tr>
                <th scope="col">{t.figure}</th>
                <th scope="col">{t.value}</th>
              </tr>
            </thead>
            <tbody>
              <Row label={t.total} value={stats.total} />
              {Object.entries(stats.perStatus).map(([s, n]) => (
                <Row key={s} label={`${t.status}: ${t.statuses[s] ?? s}`} value={n} />
              ))}
              {Object.entries(stats.perLanguage).map(([l, n]) => (
                <Row key={l} label={`${t.perLanguage}: ${t.languages[l] ?? l}`} value={n} />
              ))}
              <Row label={t.daysToAck} value={days(stats.daysToAcknowledge)} />
              <Row label={t.daysToReply} value={days(stats.daysToFirstReply)} />
              <Row label={t.ackMissed} value={stats.acknowledgeMissed} />
              <Row label={t.feedbackMissed} value={stats.feedbackMissed} />
              <Row label={t.forwardedCount} value={stats.forwarded} />
              {stats.notVerified > 0 && (
                <Row label={t.notVerifiedCount} value={stats.notVerified} />
              )}
            </tbody>
          </table>
          <table>
            <caption>{t.perMonth}</caption>
            <thead>
              <tr>
                <th scope="col">{t.month}</th>
                <th scope="col">{t.count}</th>
              </tr>
            </thead>
            <tbody>
              {stats.perMonth.map((m) => (
                <Row key={m.month} label={m.month} value={m.reports} />
              ))}
            </tbody>
          </table>
          <p>
            <button type="button" onClick={csv}>
              {t.csv}
            </button>
          </p>
        </>
      )}
    </section>
  );
}

function Row({ label, value }: { label: string; value: string | number }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td>{value}</td>
    </tr>
  );
}
