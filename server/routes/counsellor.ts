/**
 * Counsellor routes (signed requests): the inbox, a whole case with its
 * notes, notes, forwarding to an escalation recipient, and deletion.
 * Escalation recipients may list and read only what was forwarded to them.
 */

import { Hono } from 'hono';
import {
  type Envelope,
  isCaseNumber,
  KluisError,
  parseWrappedKeys,
  type WrappedKey,
} from '../../crypto/index.js';
import { exactObject, expectContentType, parseJson, present, readBody } from '../body.js';
import {
  type Caller,
  callerBeforeBody,
  caseParam,
  checkForwarded,
  counsellorCaller,
  currentHour,
  refuseEscalation,
  type Deps,
} from '../deps.js';
import { ForwardConflictError, InvalidBodyError, NotFoundError, TooLargeError } from '../errors.js';
import type { CaseRecord, StoredNote } from '../records.js';
import { RecordNotFoundError } from '../store/index.js';
import {
  caseView,
  envelopeField,
  loadCase,
  MAX_CONVERSATION_BYTES,
  MAX_MESSAGES,
  MESSAGE_BODY_LIMIT,
} from './cases.js';
import {
  type CaseDetailAnswer,
  type CaseDetailsAnswer,
  type CaseListingAnswer,
  type DeletedAnswer,
  type ForwardAnswer,
  MAX_CASE_DETAILS,
  type WrittenAnswer,
} from '../../api/contract.js';

/** Most notes on one case. */
export const MAX_NOTES = 1000;
/** A forward body carries one wrapped key (about 150 bytes of JSON) per message. */
const FORWARD_BODY_LIMIT = MAX_MESSAGES * 256 + 1024;

/** Whole cases in one case-details response unless the client asks for fewer or more (at most MAX_CASE_DETAILS). */
const DEFAULT_DETAILS = 100;

/** A case as a counsellor (with notes) or an escalation recipient (without) sees it. */
async function counsellorView(
  deps: Deps,
  record: CaseRecord,
  caller: Caller,
): Promise<CaseDetailAnswer> {
  return {
    ...(await caseView(deps, record)),
    notes: caller.kind === 'counsellor' ? record.notes : [],
    forwardedTo: record.forwardedTo,
    ackHour: record.ackHour,
  };
}

/**
 * Reads `[{ seq, key }]` of a forward or handover body: each a wrapped key
 * addressed to `to`, at most one per seq. Throws InvalidBodyError.
 */
export function wrappedKeysBySeq(
  items: readonly unknown[],
  to: string,
  whom: string,
): Map<number, WrappedKey> {
  const keys = new Map<number, WrappedKey>();
  for (const item of items) {
    const entry = exactObject(item, {
      seq: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
      key: present,
    });
    let key: WrappedKey;
    try {
      [key] = parseWrappedKeys([entry.key]) as [WrappedKey];
    } catch (error) {
      if (error instanceof KluisError)
        throw new InvalidBodyError(`key for ${entry.seq}: ${error.message}`);
      throw error;
    }
    if (key.to !== to) throw new InvalidBodyError(`every key must be addressed to ${whom}`);
    if (keys.has(entry.seq as number)) throw new InvalidBodyError('two keys for one message');
    keys.set(entry.seq as number, key);
  }
  return keys;
}

/**
 * Adds `keys` (by seq) to `items`, refusing unless there is exactly one for
 * each item that has none for `to` yet (ForwardConflictError: something
 * arrived in between), and no item would name more than 16 recipients.
 */
export function addWrappedKeys<T extends { readonly seq: number; readonly envelope: Envelope }>(
  items: readonly T[],
  keys: ReadonlyMap<number, WrappedKey>,
  to: string,
  what: string,
): T[] {
  const missing = items.filter((m) => !m.envelope.keys.some((k) => k.to === to)).map((m) => m.seq);
  if (missing.length !== keys.size || missing.some((seq) => !keys.has(seq))) {
    throw new ForwardConflictError(
      `send exactly one key for each ${what} not yet readable by ${to}: ${missing.join(', ') || 'none'}`,
    );
  }
  return items.map((m) => {
    const key = keys.get(m.seq);
    if (!key) return m;
    if (m.envelope.keys.length >= 16)
      throw new TooLargeError(`${what} ${m.seq} already names 16 recipients`);
    return { ...m, envelope: { ...m.envelope, keys: [...m.envelope.keys, key] } };
  });
}

export async function mutateCase(
  deps: Deps,
  caseNumber: string,
  mutate: (record: CaseRecord) => CaseRecord,
): Promise<CaseRecord> {
  try {
    return await deps.store.records.update(caseNumber, mutate);
  } catch (error) {
    if (error instanceof RecordNotFoundError) throw new NotFoundError('no such case');
    throw error;
  }
}

export function counsellorRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.get('/counsellor/cases', async (c) => {
    const caller = await counsellorCaller(c, deps, new Uint8Array(0));
    const cases: CaseListingAnswer[] = [];
    for await (const [caseNumber, summary] of deps.store.records.summaries()) {
      if (summary.reportHour === null) continue;
      if (caller.kind === 'escalation' && !summary.forwardedTo.includes(caller.bundle.fingerprint))
        continue;
      cases.push({
        case: caseNumber,
        createdHour: summary.createdHour,
        reportHour: summary.reportHour,
        status: summary.status,
        statusHour: summary.statusHour,
        ackHour: summary.ackHour,
        messages: summary.messages,
        // Escalation recipients get no notes, so neither their number nor their keys.
        notes: caller.kind === 'counsellor' ? summary.notes : 0,
        keys: caller.kind === 'counsellor' ? summary.keys : summary.messageKeys,
        lastHour: summary.lastHour,
        lastAuthor: summary.lastAuthor,
        uploads: summary.uploads,
        bytes: summary.bytes,
        forwardedTo: summary.forwardedTo,
      });
    }
    return c.json({ cases } satisfies { cases: CaseListingAnswer[] });
  });

  // Many whole cases in one request, in case-number order: an inbox of 1,000 cases in a few
  // requests instead of 1,000 (each a round trip, over Tor a second or more).
  app.get('/counsellor/case-details', async (c) => {
    const caller = await counsellorCaller(c, deps, new Uint8Array(0));
    const query = c.req.queries();
    for (const key of Object.keys(query))
      if (key !== 'after' && key !== 'limit')
        throw new InvalidBodyError(`unknown query parameter ${JSON.stringify(key.slice(0, 40))}`);
    const after = c.req.query('after');
    if (after !== undefined && !isCaseNumber(after))
      throw new InvalidBodyError('after must be a case number');
    const limitText = c.req.query('limit') ?? String(DEFAULT_DETAILS);
    if (!/^[1-9]\d{0,3}$/.test(limitText) || Number(limitText) > MAX_CASE_DETAILS)
      throw new InvalidBodyError(`limit must be 1 to ${MAX_CASE_DETAILS}`);
    const limit = Number(limitText);
    const numbers: string[] = [];
    for await (const [caseNumber, summary] of deps.store.records.summaries()) {
      if (summary.reportHour === null || (after !== undefined && caseNumber <= after)) continue;
      if (caller.kind === 'escalation' && !summary.forwardedTo.includes(caller.bundle.fingerprint))
        continue;
      numbers.push(caseNumber);
    }
    numbers.sort();
    const page = numbers.slice(0, limit);
    const cases: CaseDetailAnswer[] = [];
    for (const caseNumber of page) {
      const record = await deps.store.records.get(caseNumber);
      if (record) cases.push(await counsellorView(deps, record, caller));
    }
    return c.json({
      cases,
      next: numbers.length > limit ? page.at(-1)! : null,
    } satisfies CaseDetailsAnswer);
  });

  app.get('/counsellor/cases/:case', async (c) => {
    const caseNumber = caseParam(c);
    const caller = await counsellorCaller(c, deps, new Uint8Array(0));
    const record = await loadCase(deps, caseNumber);
    checkForwarded(caller, record.forwardedTo);
    return c.json(await counsellorView(deps, record, caller));
  });

  app.post('/counsellor/cases/:case/notes', async (c) => {
    const caseNumber = caseParam(c);
    expectContentType(c.req.raw, 'application/json');
    const authenticate = await callerBeforeBody(c, deps);
    const raw = await readBody(c.req.raw, MESSAGE_BODY_LIMIT);
    refuseEscalation(await authenticate(raw));
    const envelope = envelopeField(exactObject(parseJson(raw), { envelope: present }).envelope);
    const hour = currentHour(deps);
    let seq = 0;
    await mutateCase(deps, caseNumber, (record) => {
      if (record.notes.length >= MAX_NOTES) throw new TooLargeError('this case has too many notes');
      let bytes = envelope.ct.length;
      for (const note of record.notes) bytes += note.envelope.ct.length;
      if (bytes > MAX_CONVERSATION_BYTES)
        throw new TooLargeError('the notes of this case are full');
      seq = record.notes.length;
      const note: StoredNote = { seq, hour, envelope };
      return { ...record, notes: [...record.notes, note] };
    });
    return c.json({ seq, hour } satisfies WrittenAnswer, 201);
  });

  app.post('/counsellor/cases/:case/forward', async (c) => {
    const caseNumber = caseParam(c);
    expectContentType(c.req.raw, 'application/json');
    const authenticate = await callerBeforeBody(c, deps);
    const raw = await readBody(c.req.raw, FORWARD_BODY_LIMIT);
    refuseEscalation(await authenticate(raw));
    const body = exactObject(parseJson(raw), {
      to: (v) => typeof v === 'string' && deps.escalation.some((b) => b.fingerprint === v),
      keys: Array.isArray,
    });
    const to = body.to as string;
    const keys = wrappedKeysBySeq(body.keys as unknown[], to, 'the escalation recipient');
    const updated = await mutateCase(deps, caseNumber, (record) => {
      return {
        ...record,
        messages: addWrappedKeys(record.messages, keys, to, 'message'),
        forwardedTo: record.forwardedTo.includes(to)
          ? record.forwardedTo
          : [...record.forwardedTo, to],
      };
    });
    return c.json({ forwardedTo: updated.forwardedTo } satisfies ForwardAnswer);
  });

  app.delete('/counsellor/cases/:case', async (c) => {
    const caseNumber = caseParam(c);
    refuseEscalation(await counsellorCaller(c, deps, new Uint8Array(0)));
    const record = await deps.store.records.get(caseNumber);
    if (!record) throw new NotFoundError('no such case');
    await deps.store.records.delete(caseNumber);
    // The record goes first: once it is gone the case is gone; a blob left by a crash here is an orphan retention removes.
    for (const upload of record.uploads) await deps.store.blobs.delete(upload.id);
    // The freed bytes count at once, so reporters can write again.
    deps.quota.forget();
    return c.json({ deleted: true } satisfies DeletedAnswer);
  });

  return app;
}
