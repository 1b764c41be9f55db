/**
 * Progress of a send: each step with its state, progress bars for the
 * proof of work and each file, and on failure a clear message with retry.
 * @module
 */

import type { Problem } from '../problems.js';
import type { SendProgress } from '../send.js';
import { formatBytes } from '../i18n.js';
import { Bar, Heading, ProblemBox, useT } from '../ui.js';

type StepState = 'done' | 'busy' | 'waiting';

const ORDER = ['prepare', 'work', 'case', 'files', 'seal', 'done'] as const;

function stateOf(progress: SendProgress | null, step: (typeof ORDER)[number]): StepState {
  const current = ORDER.indexOf(progress?.step ?? 'prepare');
  const index = ORDER.indexOf(step);
  return index < current ? 'done' : index === current ? 'busy' : 'waiting';
}

/** The list of steps; used for a report (with `case`) and for a reply (without). */
export function Steps({
  progress,
  withCase,
  sealLabel,
}: {
  progress: SendProgress | null;
  withCase: boolean;
  sealLabel: string;
}) {
  const { t, lang } = useT();
  const label = (state: StepState) =>
    state === 'done' ? t.stepDone : state === 'busy' ? t.stepBusy : t.stepWaiting;
  const files = progress?.files ?? [];
  const filesState = stateOf(progress, 'files');
  const rows: {
    key: string;
    text: string;
    state: StepState;
    bar?: number;
    hint?: string;
    detail?: string;
  }[] = [
    { key: 'prepare', text: t.stepPrepare, state: stateOf(progress, 'prepare') },
    {
      key: 'work',
      text: t.stepWork,
      state: stateOf(progress, 'work'),
      bar: progress?.work ?? 0,
      hint: t.stepWorkHint,
    },
  ];
  if (withCase) rows.push({ key: 'case', text: t.stepCase, state: stateOf(progress, 'case') });
  const current = files.findIndex((f) => f.length <= 1 || f.sent < f.length);
  files.forEach((file, i) => {
    let state: StepState = filesState;
    if (filesState === 'busy')
      state = i < current || current < 0 ? 'done' : i === current ? 'busy' : 'waiting';
    rows.push({
      key: `file-${i}`,
      text: t.stepFile(i + 1, files.length),
      state,
      bar: file.length > 1 ? file.sent / file.length : 0,
      ...(state === 'busy' && file.length > 1
        ? { detail: `${formatBytes(file.sent, lang)} / ${formatBytes(file.length, lang)}` }
        : {}),
    });
  });
  rows.push({ key: 'seal', text: sealLabel, state: stateOf(progress, 'seal') });
  return (
    <ol class="steps">
      {rows.map((row) => (
        <li key={row.key} class={`step step-${row.state}`}>
          <span class="step-text">{row.text}</span>{' '}
          <span class="step-state">({label(row.state)})</span>
          {row.detail ? <span class="step-detail"> {row.detail}</span> : null}
          {row.hint && row.state === 'busy' ? <p class="hint">{row.hint}</p> : null}
          {row.bar !== undefined && row.state !== 'waiting' ? (
            <Bar value={row.state === 'done' ? 1 : row.bar} label={t.progressOf(row.text)} />
          ) : null}
        </li>
      ))}
    </ol>
  );
}

export function Sending({
  progress,
  problem,
  onRetry,
  onBack,
}: {
  progress: SendProgress | null;
  problem: Problem | null;
  onRetry: () => void;
  onBack: () => void;
}) {
  const { t } = useT();
  return (
    <>
      <Heading>{t.sendingTitle}</Heading>
      <p class="lead">{t.sendingIntro}</p>
      <Steps progress={progress} withCase sealLabel={t.stepSeal} />
      <p role="status" class="status-line">
        {progress?.resuming && !problem ? t.resuming : ''}
      </p>
      {problem ? (
        <ProblemBox problem={problem}>
          <p>{t.nothingLost}</p>
          <div class="actions">
            <button type="button" class="primary" onClick={onRetry}>
              {t.tryAgain}
            </button>
            <button type="button" class="secondary" onClick={onBack}>
              {t.backToEdit}
            </button>
          </div>
        </ProblemBox>
      ) : null}
    </>
  );
}
