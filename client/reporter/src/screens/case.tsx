/**
 * The reporter's case: status, every message with whether its signature
 * checked out, every chain problem as a visible warning, attachments to
 * download (decrypted here), and a reply form (text, files, consent).
 * @module
 */

import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type {
  AttachmentRef,
  ChainProblem,
  Consent,
  VerifiedBundle,
} from '../../../../crypto/index.js';
import { displayFingerprint } from '../../../../crypto/index.js';
import type { CaseData, Item, Session } from '../conversation.js';
import { loadCase } from '../conversation.js';
import { fetchAttachment, saveBlob } from '../files.js';
import type { BuiltKeys } from '../keys.js';
import type { Dict } from '../i18n.js';
import { formatBytes, formatDay, formatTime } from '../i18n.js';
import { CaseProcedure } from './procedure.js';
import type { Problem } from '../problems.js';
import { toProblem } from '../problems.js';
import type { DraftFile, SendProgress } from '../send.js';
import { ReplySender } from '../send-reply.js';
import type { FileLimits } from '../ui.js';
import { ConsentChoice, FilePicker, Heading, ProblemBox, useT } from '../ui.js';
import { warmWorkers } from '../workers.js';
import { Steps } from './sending.js';

function chainText(t: Dict, problem: ChainProblem): string {
  const n = problem.index + 1;
  return problem.kind === 'gap'
    ? t.chainGap(n)
    : problem.kind === 'reorder'
      ? t.chainReorder(n)
      : t.chainFork(n);
}

/** The day (YYYY-MM-DD, UTC) the server deletes a case closed in `closedHour`: docs/API.md, `retentionDays`. */
function deletionDay(closedHour: number, retentionDays: number): string {
  return new Date((closedHour + retentionDays * 24) * 3_600_000).toISOString().slice(0, 10);
}

function statusText(t: Dict, status: string): string {
  return (t.status as Record<string, string>)[status] ?? status;
}

function Attachments({ session, refs }: { session: Session; refs: readonly AttachmentRef[] }) {
  const { t, lang } = useT();
  const [state, setState] = useState<Record<string, 'busy' | 'failed' | Problem>>({});
  if (refs.length === 0) return null;
  const download = async (ref: AttachmentRef) => {
    setState((s) => ({ ...s, [ref.blob]: 'busy' }));
    try {
      saveBlob(await fetchAttachment(session, ref), ref.name);
      setState((s) => {
        const { [ref.blob]: _, ...rest } = s;
        return rest;
      });
    } catch (error) {
      const problem = toProblem(error);
      setState((s) => ({ ...s, [ref.blob]: problem.kind === 'bug' ? 'failed' : problem }));
    }
  };
  return (
    <div class="attachments">
      <p class="attachments-title">{t.attachments}</p>
      <ul>
        {refs.map((ref) => {
          const current = state[ref.blob];
          return (
            <li key={ref.blob}>
              <button
                type="button"
                class="link"
                disabled={current === 'busy'}
                onClick={() => download(ref)}
              >
                {t.download(ref.name, formatBytes(ref.size, lang))}
              </button>
              {current === 'busy' ? (
                <span role="status" class="status-line">
                  {' '}
                  {t.downloading(ref.name)}
                </span>
              ) : null}
              {current === 'failed' ? (
                <p class="problem" role="alert">
                  {t.downloadFailed(ref.name)}
                </p>
              ) : null}
              {typeof current === 'object' ? <ProblemBox problem={current} /> : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function MessageItem({ item, session }: { item: Item; session: Session }) {
  const { t, lang } = useT();
  const warnings = item.problems.map((p) => (
    <p key={p.kind} class="problem chain-problem">
      {chainText(t, p)}
    </p>
  ));
  if (!item.ok) {
    const error = (t.entryError as Record<string, string>)[item.error] ?? t.entryError.other;
    return (
      <li class="message message-bad" data-testid="message">
        <p class="meta">
          <strong>{t.messageNumber(item.index + 1)}</strong>{' '}
          <span class="badge badge-bad">{t.notVerified}</span>
        </p>
        {warnings}
        <p class="problem">{error}</p>
      </li>
    );
  }
  const { content, author } = item;
  const who = author.kind === 'reporter' ? t.fromYou : t.fromCounsellor(author.name);
  // As loud as a forged message: someone the reporter did not choose may read this one.
  const recipientWarnings = [
    ...item.unexpectedRecipients.map((fingerprint) => (
      <p key={`u-${fingerprint}`} class="problem" role="alert">
        {t.unexpectedRecipient(displayFingerprint(fingerprint))}
      </p>
    )),
    ...item.removedRecipients.map((fingerprint) => (
      <p key={`r-${fingerprint}`} class="problem">
        {t.removedRecipient(displayFingerprint(fingerprint))}
      </p>
    )),
  ];
  const trusted = item.problems.length === 0 && recipientWarnings.length === 0;
  let body = null;
  switch (content.type) {
    case 'report':
      body = (
        <>
          <p class="kind">{t.kindReport}</p>
          <p class="text">{content.text}</p>
          <p class="detail">{t.consentIs(t.consent[content.consent])}</p>
          {content.addressAs ? <p class="detail">{t.addressAsIs(content.addressAs)}</p> : null}
          <Attachments session={session} refs={content.attachments} />
        </>
      );
      break;
    case 'message':
      body = (
        <>
          {content.text ? <p class="text">{content.text}</p> : null}
          {author.kind === 'reporter' && content.consent ? (
            <p class="detail">{t.consentIs(t.consent[content.consent])}</p>
          ) : null}
          <Attachments session={session} refs={content.attachments} />
        </>
      );
      break;
    case 'status':
      body = (
        <>
          <p class="kind">{t.kindStatus(statusText(t, content.status))}</p>
          {content.text ? <p class="text">{content.text}</p> : null}
        </>
      );
      break;
    case 'ack':
      body = (
        <>
          <p class="kind">{t.kindAck(formatDay(content.receivedDate, lang))}</p>
          {item.ackMatches ? null : <p class="problem">{t.ackMismatch}</p>}
          {content.text ? <p class="text">{content.text}</p> : null}
        </>
      );
      break;
    case 'forwarded':
      body = (
        <>
          <p class="kind">{t.kindForwarded(content.name)}</p>
          {item.withoutConsent ? <p class="problem">{t.forwardedWithoutConsent}</p> : null}
          {content.text ? <p class="text">{content.text}</p> : null}
        </>
      );
      break;
    case 'handover':
      body = (
        <>
          <p class="kind" data-testid="handover">
            {item.handedTo?.trusted
              ? t.kindHandover(item.handedTo.name)
              : t.kindHandoverUnknown(displayFingerprint(content.to))}
          </p>
          {content.text ? <p class="text">{content.text}</p> : null}
        </>
      );
      break;
  }
  return (
    <li
      class={`message message-${author.kind}${trusted ? '' : ' message-warn'}`}
      data-testid="message"
    >
      <p class="meta">
        <strong>{who}</strong> · <span>{t.time(formatTime(content.time, lang))}</span> ·{' '}
        {trusted ? (
          <span class="badge badge-ok">{t.verified}</span>
        ) : (
          <span class="badge badge-bad">{t.notVerified}</span>
        )}
      </p>
      {warnings}
      {recipientWarnings}
      {body}
    </li>
  );
}

function Reply({
  session,
  sealFor,
  known,
  limits,
  consent,
  onSent,
}: {
  session: Session;
  sealFor: () => Promise<readonly VerifiedBundle[]>;
  /** The conversation as shown: the reply is sealed after its last message. */
  known: readonly unknown[];
  limits: FileLimits;
  consent: Consent;
  onSent: () => void;
}) {
  const { t } = useT();
  const id = useId();
  const [text, setText] = useState('');
  const [files, setFiles] = useState<DraftFile[]>([]);
  const [choice, setChoice] = useState<Consent>(consent);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<SendProgress | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [missing, setMissing] = useState(false);
  const [sent, setSent] = useState(false);
  const sender = useRef<ReplySender | null>(null);
  const sending = useRef(false); // not state: a double click must not send twice

  useEffect(() => setChoice(consent), [consent]);
  useEffect(warmWorkers, []);
  // The ticket and proof of work (and the files' upload tickets) while the reporter writes.
  useEffect(() => {
    sender.current ??= new ReplySender(session, sealFor);
    const current = sender.current;
    current.prepare(files);
    return () => current.pause();
  }, [files]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (sending.current) return;
    const changed = choice !== consent;
    if (text.trim() === '' && files.length === 0 && !changed) {
      setMissing(true);
      document.getElementById(`${id}-text`)?.focus();
      return;
    }
    setMissing(false);
    setSent(false);
    setProblem(null);
    sender.current ??= new ReplySender(session, sealFor);
    const current = sender.current;
    const draft = { text, files, ...(changed ? { consent: choice } : {}) };
    setBusy(true);
    sending.current = true;
    try {
      await current.send(draft, await sealFor(), known, setProgress);
      sender.current = null;
      setText('');
      setFiles([]);
      setProgress(null);
      setSent(true);
      onSent();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={`${id}-title`} class="reply">
      <h2 id={`${id}-title`}>{t.replyTitle}</h2>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for={`${id}-text`}>{t.replyLabel}</label>
          {missing ? (
            <p class="problem" role="alert" id={`${id}-missing`}>
              {t.replyRequired}
            </p>
          ) : null}
          <textarea
            id={`${id}-text`}
            rows={6}
            autoComplete="off"
            spellcheck={false}
            value={text}
            aria-describedby={missing ? `${id}-missing` : undefined}
            aria-invalid={missing ? 'true' : undefined}
            onInput={(event) => setText(event.currentTarget.value)}
          />
        </div>
        <FilePicker title={t.filesTitle} files={files} limits={limits} onChange={setFiles} />
        <ConsentChoice
          legend={t.replyConsentLegend}
          hint={t.replyConsentHint}
          value={choice}
          onChange={setChoice}
        />
        {busy || problem ? (
          <Steps progress={progress} withCase={false} sealLabel={t.replySending} />
        ) : null}
        <p role="status" class="status-line">
          {sent ? t.replySent : progress?.resuming && busy ? t.resuming : ''}
        </p>
        {problem ? (
          <ProblemBox problem={problem}>
            <p>{t.nothingLost}</p>
          </ProblemBox>
        ) : null}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {problem ? t.tryAgain : t.send}
          </button>
        </div>
      </form>
    </section>
  );
}

export function CaseScreen({
  session,
  initial,
  built,
  sealFor,
  limits,
  retentionDays,
  onClose,
}: {
  session: Session;
  initial: CaseData | null;
  /** The keys this page was built with: who may write and read. */
  built: BuiltKeys;
  /** The built counsellors the server lists too (once checked): whom a reply is sealed for. */
  sealFor: () => Promise<readonly VerifiedBundle[]>;
  limits: FileLimits;
  /** The server's KLUIS_RETENTION_DAYS (GET /info), if known. */
  retentionDays: number | undefined;
  onClose: () => void;
}) {
  const { t, lang } = useT();
  const [data, setData] = useState<CaseData | null>(initial);
  const [loading, setLoading] = useState(initial === null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const reload = async () => {
    setLoading(true);
    setProblem(null);
    try {
      setData(await loadCase(session, built));
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    if (initial === null) void reload();
  }, []);

  const display = `${session.caseNumber.slice(0, 4)}-${session.caseNumber.slice(4)}`;
  const counsellorWrote =
    data?.items.some((item) => item.ok && item.author.kind === 'counsellor') ?? false;

  return (
    <>
      <Heading>{t.caseTitle(display)}</Heading>
      {data ? (
        <p class="status" data-testid="case-status">
          <strong>{t.statusLabel}:</strong> {statusText(t, data.status.value)}{' '}
          {data.status.signed ? null : <span class="hint">{t.statusFromServer}</span>}
        </p>
      ) : null}
      {data?.closedHour !== undefined && retentionDays !== undefined ? (
        <p class="notice" data-testid="deletion">
          {t.deletionOn(formatDay(deletionDay(data.closedHour, retentionDays), lang))}
        </p>
      ) : null}
      {data ? <CaseProcedure data={data} /> : null}
      {data ? (
        data.intact ? (
          <p class="ok" data-testid="integrity">
            {t.intact}
          </p>
        ) : (
          <div class="problem big" role="alert" data-testid="integrity">
            <p>
              <strong>{t.problemTitle}</strong>
            </p>
            <p>{t.problemIntro}</p>
            {data.problems.length > 0 ? (
              <ul>
                {data.problems.map((p) => (
                  <li key={`${p.index}-${p.kind}`}>{chainText(t, p)}</li>
                ))}
              </ul>
            ) : null}
          </div>
        )
      ) : null}
      <p role="status" class="status-line">
        {loading ? t.opening : ''}
      </p>
      {problem ? <ProblemBox problem={problem} /> : null}
      {data ? (
        <ol class="messages">
          {data.items.map((item) => (
            <MessageItem key={item.index} item={item} session={session} />
          ))}
        </ol>
      ) : null}
      {data && !counsellorWrote ? <p class="hint">{t.noReplyYet}</p> : null}
      <div class="actions">
        <button type="button" class="secondary" disabled={loading} onClick={() => void reload()}>
          {t.reload}
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          {t.closeCase}
        </button>
      </div>
      {data ? (
        <Reply
          session={session}
          sealFor={sealFor}
          known={data.envelopes}
          limits={limits}
          consent={data.consent}
          onSent={() => void reload()}
        />
      ) : null}
    </>
  );
}
