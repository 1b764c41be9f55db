/** Where a case stands on the procedure's steps (client/reporter/src/procedure.ts). */

import { describe, expect, it } from 'vitest';
import { type CaseFacts, stepStates } from '../client/reporter/src/procedure.js';

const none: CaseFacts = {
  acknowledged: false,
  conversation: false,
  forwarded: false,
  closed: false,
};

describe('the procedure', () => {
  it('marks the furthest step reached as current, and what came before as done or not', () => {
    expect(stepStates(none)).toEqual({
      received: 'current',
      acknowledged: 'todo',
      conversation: 'todo',
      forwarded: 'todo',
      closed: 'todo',
    });
    expect(stepStates({ ...none, acknowledged: true })).toMatchObject({
      received: 'done',
      acknowledged: 'current',
      forwarded: 'todo',
    });
    // A conversation without an acknowledgement: the acknowledgement is still owed, not done.
    expect(stepStates({ ...none, conversation: true })).toMatchObject({
      acknowledged: 'todo',
      conversation: 'current',
    });
    // Closed without being passed on: forwarding did not happen.
    expect(
      stepStates({ acknowledged: true, conversation: true, forwarded: false, closed: true }),
    ).toEqual({
      received: 'done',
      acknowledged: 'done',
      conversation: 'done',
      forwarded: 'skipped',
      closed: 'current',
    });
    expect(stepStates({ ...none, acknowledged: true, forwarded: true })).toMatchObject({
      conversation: 'todo',
      forwarded: 'current',
      closed: 'todo',
    });
  });
});
