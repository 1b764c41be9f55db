/**
 * Handing a case over to another counsellor (PROTOCOL §7, `handover`): a
 * counsellor who can read the case sends the content keys of every
 * message and every private note wrapped for the colleague's key, which
 * must be one of the configured counsellors. The server cannot read the
 * `handover` record the client writes first in the conversation; it only
 * appends the keys, as for a forward.
 */

import { Hono } from 'hono';
import { MAX_MESSAGES } from './cases.js';
import { addWrappedKeys, MAX_NOTES, mutateCase, wrappedKeysBySeq } from './counsellor.js';
import { exactObject, expectContentType, parseJson, readBody } from '../body.js';
import { callerBeforeBody, caseParam, refuseEscalation, type Deps } from '../deps.js';
import type { HandoverAnswer } from '../../api/contract.js';

/** One wrapped key (about 150 bytes of JSON) per message and per note. */
const HANDOVER_BODY_LIMIT = (MAX_MESSAGES + MAX_NOTES) * 256 + 1024;

export function handoverRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.post('/counsellor/cases/:case/handover', async (c) => {
    const caseNumber = caseParam(c);
    expectContentType(c.req.raw, 'application/json');
    const authenticate = await callerBeforeBody(c, deps);
    const raw = await readBody(c.req.raw, HANDOVER_BODY_LIMIT);
    refuseEscalation(await authenticate(raw));
    const body = exactObject(parseJson(raw), {
      // Only a configured counsellor: the reporter's page trusts the same bundles (DEPLOY.md).
      to: (v) => typeof v === 'string' && deps.counsellors.some((b) => b.fingerprint === v),
      keys: Array.isArray,
      noteKeys: Array.isArray,
    });
    const to = body.to as string;
    const keys = wrappedKeysBySeq(body.keys as unknown[], to, 'the counsellor handed to');
    const noteKeys = wrappedKeysBySeq(body.noteKeys as unknown[], to, 'the counsellor handed to');
    await mutateCase(deps, caseNumber, (record) => ({
      ...record,
      messages: addWrappedKeys(record.messages, keys, to, 'message'),
      notes: addWrappedKeys(record.notes, noteKeys, to, 'note'),
    }));
    return c.json({ keys: keys.size, noteKeys: noteKeys.size } satisfies HandoverAnswer);
  });

  return app;
}
