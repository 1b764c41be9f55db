/**
 * The procedure a report follows (the support point's promise that a
 * reporter "is informed thoroughly about the steps"): received,
 * acknowledged within 7 days, in conversation, passed on to the escalation
 * recipient only with the reporter's consent, closed; and where one case
 * stands on them, from what the page itself checked. Pure: no DOM.
 * @module
 */

import type { CaseData } from './conversation.js';

/** The steps, in order. */
export const STEPS = ['received', 'acknowledged', 'conversation', 'forwarded', 'closed'] as const;

/** One step of the procedure. */
export type Step = (typeof STEPS)[number];

/**
 * How a case stands on a step: `done`; `current` (the furthest step the
 * case has reached); `todo` (not yet); `skipped` (passed on: the case went
 * further without it, which for forwarding means the reporter's report was
 * not passed on).
 */
export type StepState = 'done' | 'current' | 'todo' | 'skipped';

/** What the page knows of a case, for the procedure. */
export interface CaseFacts {
  /** A signed acknowledgement of this report is in the conversation. */
  readonly acknowledged: boolean;
  /** The counsellor wrote a message, or set the status to in conversation (or further). */
  readonly conversation: boolean;
  /** The case was passed on (a signed `forwarded` message, or the status says so). */
  readonly forwarded: boolean;
  readonly closed: boolean;
}

/** The facts of a checked case: only messages that opened and whose signature holds count. */
export function caseFacts(data: Pick<CaseData, 'items' | 'status'>): CaseFacts {
  const fromCounsellor = data.items.filter((item) => item.ok && item.author.kind === 'counsellor');
  const has = (type: string) =>
    fromCounsellor.some((item) => item.ok && item.content.type === type);
  const status = data.status.value;
  return {
    acknowledged: fromCounsellor.some(
      (item) => item.ok && item.content.type === 'ack' && item.ackMatches === true,
    ),
    conversation: has('message') || ['in-conversation', 'forwarded', 'closed'].includes(status),
    forwarded: has('forwarded') || status === 'forwarded',
    closed: status === 'closed',
  };
}

/** Each step's state for a case: the furthest step reached is current; steps behind it not reached are `todo`, or `skipped` for forwarding. */
export function stepStates(facts: CaseFacts): Record<Step, StepState> {
  const reached: Record<Step, boolean> = { received: true, ...facts };
  let current = 0;
  STEPS.forEach((step, i) => {
    if (reached[step]) current = i;
  });
  const states = {} as Record<Step, StepState>;
  STEPS.forEach((step, i) => {
    states[step] =
      i === current
        ? 'current'
        : reached[step]
          ? 'done'
          : i < current && step === 'forwarded'
            ? 'skipped'
            : 'todo';
  });
  return states;
}
