/**
 * The procedure on the page: the steps explained (welcome screen), and on
 * the case screen where this case stands on them.
 * @module
 */

import type { CaseData } from '../conversation.js';
import type { Dict } from '../i18n.js';
import type { Step, StepState } from '../procedure.js';
import { caseFacts, STEPS, stepStates } from '../procedure.js';
import { useT } from '../ui.js';

function stepTitle(t: Dict, step: Step): string {
  switch (step) {
    case 'received':
      return t.procedureReceived;
    case 'acknowledged':
      return t.procedureAcknowledged;
    case 'conversation':
      return t.procedureConversation;
    case 'forwarded':
      return t.procedureForwarded;
    case 'closed':
      return t.procedureClosed;
  }
}

function stepText(t: Dict, step: Step): string {
  switch (step) {
    case 'received':
      return t.procedureReceivedText;
    case 'acknowledged':
      return t.procedureAcknowledgedText;
    case 'conversation':
      return t.procedureConversationText;
    case 'forwarded':
      return t.procedureForwardedText;
    case 'closed':
      return t.procedureClosedText;
  }
}

function stateText(t: Dict, state: StepState): string {
  switch (state) {
    case 'done':
      return t.procedureStateDone;
    case 'current':
      return t.procedureStateCurrent;
    case 'todo':
      return t.procedureStateTodo;
    case 'skipped':
      return t.procedureStateSkipped;
  }
}

/** The steps a report follows, each explained (welcome screen). */
export function Procedure() {
  const { t } = useT();
  return (
    <section aria-labelledby="procedure">
      <h2 id="procedure">{t.procedureTitle}</h2>
      <p>{t.procedureIntro}</p>
      <ol class="procedure" data-testid="procedure">
        {STEPS.map((step) => (
          <li key={step}>
            <strong>{stepTitle(t, step)}</strong>
            <br />
            {stepText(t, step)}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Where this case stands on the steps (case screen); the current step is marked for screen readers too. */
export function CaseProcedure({ data }: { data: Pick<CaseData, 'items' | 'status'> }) {
  const { t } = useT();
  const states = stepStates(caseFacts(data));
  return (
    <section aria-labelledby="where">
      <h2 id="where">{t.procedureWhere}</h2>
      <ol class="procedure" data-testid="case-procedure">
        {STEPS.map((step) => (
          <li
            key={step}
            data-step={step}
            data-state={states[step]}
            aria-current={states[step] === 'current' ? 'step' : undefined}
          >
            {stepTitle(t, step)}
            <span class="state">{stateText(t, states[step])}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
