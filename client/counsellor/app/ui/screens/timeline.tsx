/**
 * One case as one thread in time order: the reporter's messages, replies,
 * status changes, the acknowledgement, forwards, and the private notes
 * (marked private: the reporter never sees them). A signature, chain or
 * recipient problem is shown on the message it concerns. Every text from
 * a reporter is a text node, never HTML.
 * @module
 */

import { useState } from 'preact/hooks';
import type { AuthorJson, CaseJson, MessageJson, NoteJson } from '../../views.js';
import type { Lang, Texts } from '../i18n.js';
import { dateTime, dayText, download, ErrorBox, hourIso } from '../ui.js';

type Item = { kind: 'message'; m: MessageJson } | { kind: 'note'; n: NoteJson };

const when = (time: string | null, hour: number) => {
  const ms = time === null ? Number.NaN : Date.parse(time);
  return Number.isNaN(ms) ? hour * 3_600_000 : ms;
};

/**
 * Messages and notes merged in time order (their signed times, to the second; the server's hour
 * if a message did not open). Within one second the conversation comes first, each list in its
 * chain's order.
 */
export function threadItems(view: CaseJson): Item[] {
  const items: Item[] = [
    ...view.messages.map((m) => ({ kind: 'message' as const, m })),
    ...view.notes.map((n) => ({ kind: 'note' as const, n })),
  ];
  const time = (i: Item) =>
    i.kind === 'message' ? when(i.m.time, i.m.hour) : when(i.n.time, i.n.hour);
  return items
    .map((item, order) => ({ item, order }))
    .sort((a, b) => time(a.item) - time(b.item) || a.order - b.order)
    .map((x) => x.item);
}

function who(t: Texts, a: AuthorJson | null): string {
  if (a === null) return '?';
  if (a.kind === 'reporter') return t.reporter;
  return `${a.name ?? ''}${a.me ? ` (${t.you})` : ''}`;
}

/** The thread of a case. */
export function Thread({ t, lang, view }: { t: Texts; lang: Lang; view: CaseJson }) {
  return (
    <section aria-labelledby="thread-h" class="thread">
      <h3 id="thread-h">{t.thread}</h3>
      {threadItems(view).map((item) =>
        item.kind === 'message' ? (
          <Message key={`m${item.m.index}`} t={t} lang={lang} caseNumber={view.case} m={item.m} />
        ) : (
          <Note key={`n${item.n.index}`} t={t} lang={lang} n={item.n} />
        ),
      )}
    </section>
  );
}

function Message(props: { t: Texts; lang: Lang; caseNumber: string; m: MessageJson }) {
  const { t, lang, m } = props;
  const [error, setError] = useState<Error | null>(null);
  const mine = m.author?.kind === 'counsellor';
  const title =
    m.type === 'status'
      ? `${t.statusChanged} ${t.statuses[m.status ?? ''] ?? m.status}`
      : m.type === 'forwarded'
        ? `${t.forwardedTo} ${m.to ?? ''}`
        : m.type === 'handover'
          ? `${t.handedOverTo} ${m.to ?? ''}`
          : m.type === 'ack'
            ? t.ackedHeading
            : `${m.type ? (t.types[m.type] ?? m.type) : '?'}`;
  const bad = m.shared && (!m.ok || m.problem !== null);
  const cls = ['message', mine ? 'mine' : 'theirs', bad ? 'bad' : ''].join(' ');
  return (
    <article class={cls} aria-labelledby={`m-${m.index}`} data-testid={`message-${m.index}`}>
      <h4 id={`m-${m.index}`}>
        {who(t, m.author)} — {title}
      </h4>
      <div class="meta">
        {dateTime(lang, m.time ?? hourIso(m.hour))} · {t.message} {m.index}
      </div>
      {!m.shared && <p class="meta">{t.notShared}</p>}
      {m.shared && m.problem !== null && (
        <p class="alert" role="alert">
          {t.problem}: {m.problem}
        </p>
      )}
      {m.sentWithoutJavaScript && (
        <p class="notice" data-testid="sent-without-js">
          {t.sentWithoutJavaScript}
        </p>
      )}
      {m.consent && (
        <p>
          {m.type === 'report' ? t.consent : t.consentNow}: {t.consents[m.consent] ?? m.consent}
        </p>
      )}
      {m.receivedDate && <p>{t.ackDone(dayText(lang, m.receivedDate))}</p>}
      {m.text !== null && m.text !== '' && <p class="text">{m.text}</p>}
      {m.attachments.length > 0 && (
        <ul class="files" aria-label={t.attachments}>
          {m.attachments.map((a) => (
            <li key={a.n}>
              <button
                type="button"
                onClick={() =>
                  download(props.caseNumber, { message: m.index, n: a.n }).catch((e: Error) =>
                    setError(e),
                  )
                }
              >
                {t.download} {a.name}
              </button>{' '}
              <span class="meta">
                {a.type || '?'}, {t.sizeBytes(a.size)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <ErrorBox t={t} error={error} />
    </article>
  );
}

function Note({ t, lang, n }: { t: Texts; lang: Lang; n: NoteJson }) {
  return (
    <article
      class={n.problem ? 'message note bad' : 'message note'}
      aria-labelledby={`n-${n.index}`}
    >
      <h4 id={`n-${n.index}`}>
        {t.privateNote} — {who(t, n.author)}
      </h4>
      <div class="meta">{dateTime(lang, n.time ?? hourIso(n.hour))}</div>
      {n.problem && (
        <p class="alert" role="alert">
          {t.problem}: {n.problem}
        </p>
      )}
      {n.assignment ? (
        <p class="text">{n.assignment.to ? t.assignNote(n.assignment.to.name) : t.assignNone}</p>
      ) : (
        n.text && <p class="text">{n.text}</p>
      )}
    </article>
  );
}
