/**
 * Case routes shared by the reporter and the counsellors: create a case
 * (ticket and proof of work), read it, and append to its conversation.
 */

import { Hono } from 'hono';
import {
  CASE_STATUSES,
  type Envelope,
  isValidAttachmentLength,
  KluisError,
  parseEnvelope,
  toHex,
} from '../../crypto/index.js';
import {
  base64Of,
  exactObject,
  expectContentType,
  int,
  oneOf,
  parseJson,
  present,
  readBody,
} from '../body.js';
import {
  anyCaller,
  callerBeforeBody,
  caseParam,
  checkForwarded,
  currentHour,
  refuseEscalation,
  type Deps,
} from '../deps.js';
import {
  CaseExistsError,
  InvalidBodyError,
  InvalidLengthError,
  InvalidTicketError,
  NotFoundError,
  SeqConflictError,
  TooLargeError,
} from '../errors.js';
import { proofFromHeaders, solutionsFor } from '../proof.js';
import { RECORD_OVERHEAD_BYTES } from '../quota.js';
import type { CaseRecord, StoredMessage, StoredUpload } from '../records.js';
import { RecordExistsError, RecordNotFoundError } from '../store/index.js';
import {
  type CaseAnswer,
  type CaseCreatedAnswer,
  MAX_CASE_UPLOADS,
  type WrittenAnswer,
} from '../../api/contract.js';

/** Largest message body: one envelope of the largest content, in base64, with room for the rest. */
export const MESSAGE_BODY_LIMIT = 2 * 1024 * 1024;
/** Most messages in one conversation. */
export const MAX_MESSAGES = 1000;
/** Most ciphertext bytes in one conversation's messages (attachments are counted apart). */
export const MAX_CONVERSATION_BYTES = 16 * 1024 * 1024;

/**
 * The lengths a new case announces as uploads (`uploads` in `POST /cases`),
 * checked as `POST …/uploads` checks one: a length a padded stream can have,
 * at most `maxFileBytes` each and `maxCaseBytes` together.
 */
function announcedLengths(deps: Deps, value: unknown): number[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > MAX_CASE_UPLOADS ||
    !value.every((v) => Number.isSafeInteger(v) && (v as number) > 0)
  )
    throw new InvalidBodyError(
      `uploads: 1 to ${MAX_CASE_UPLOADS} ciphertext lengths (whole numbers)`,
    );
  const lengths = value as number[];
  for (const length of lengths) {
    if (!isValidAttachmentLength(length))
      throw new InvalidLengthError('no attachment has this ciphertext length');
    if (length > deps.settings.maxFileBytes)
      throw new TooLargeError(
        `a file may be at most ${deps.settings.maxFileBytes} bytes encrypted`,
      );
  }
  if (lengths.reduce((sum, n) => sum + n, 0) > deps.settings.maxCaseBytes)
    throw new TooLargeError(
      `a case may hold at most ${deps.settings.maxCaseBytes} bytes of attachments`,
    );
  return lengths;
}

/** The envelope of a body field, or 400 with the reason. */
export function envelopeField(value: unknown): Envelope {
  try {
    return parseEnvelope(value);
  } catch (error) {
    if (error instanceof KluisError) throw new InvalidBodyError(`envelope: ${error.message}`);
    throw error;
  }
}

function ciphertextBytes(messages: readonly StoredMessage[]): number {
  let total = 0;
  for (const message of messages) total += message.envelope.ct.length;
  return total;
}

/** The case as a reader sees it (without notes). */
export async function caseView(deps: Deps, record: CaseRecord): Promise<CaseAnswer> {
  return {
    case: record.case,
    createdHour: record.createdHour,
    status: record.status,
    statusHour: record.statusHour,
    messages: record.messages,
    uploads: await Promise.all(
      record.uploads.map(async (upload) => ({
        ...upload,
        offset: upload.complete ? upload.length : ((await deps.store.blobs.size(upload.id)) ?? 0),
      })),
    ),
  };
}

/** Reads a case that the caller has proven access to; 404 if it vanished meanwhile. */
export async function loadCase(deps: Deps, caseNumber: string): Promise<CaseRecord> {
  const record = await deps.store.records.get(caseNumber);
  if (!record) throw new NotFoundError('no such case');
  return record;
}

export function caseRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.post('/cases', async (c) => {
    expectContentType(c.req.raw, 'application/json');
    // The price, and the room in the store, before a byte of the body is read.
    // Spent (durably) before the case exists: a case deleted within the ticket's hour cannot be made again with it.
    const proof = await proofFromHeaders(deps, c.req.raw.headers, 'case');
    if (!proof)
      throw new InvalidTicketError(
        'send the case ticket in Kluis-Ticket and its proof of work in Kluis-Work',
      );
    try {
      const caseNumber = proof.ticket.caseNumber;
      await deps.quota.check(RECORD_OVERHEAD_BYTES, RECORD_OVERHEAD_BYTES);
      const raw = await readBody(c.req.raw, MESSAGE_BODY_LIMIT);
      const body = exactObject(
        parseJson(raw),
        { verifier: base64Of(32) },
        { report: present, uploads: present },
      );
      // A report without attachments comes with the case: one request, one durable write.
      const report = body.report === undefined ? undefined : envelopeField(body.report);
      // A report with attachments announces them with the case instead (it cannot name them yet):
      // the case ticket then carries one more solution per upload's 16 MiB, as POST …/uploads would.
      const lengths = announcedLengths(deps, body.uploads);
      if (report && lengths.length > 0)
        throw new InvalidBodyError('send either the report or its uploads with a new case');
      proof.require(1 + lengths.reduce((sum, n) => sum + solutionsFor(n), 0));
      const announced = lengths.reduce((sum, n) => sum + n, 0);
      const bytes = RECORD_OVERHEAD_BYTES + (report?.ct.length ?? 0);
      await deps.quota.check(bytes + announced, raw.length + announced);
      const hour = currentHour(deps);
      const uploads: StoredUpload[] = lengths.map((length) => ({
        id: toHex(deps.random(16)),
        length,
        hour,
        complete: false,
      }));
      const record: CaseRecord = {
        v: 1,
        case: caseNumber,
        createdHour: hour,
        verifier: body.verifier as string,
        status: 'received',
        statusHour: hour,
        ackHour: null,
        messages: report ? [{ seq: 0, hour, author: 'reporter', envelope: report }] : [],
        notes: [],
        uploads,
        forwardedTo: [],
      };
      try {
        await deps.store.records.create(caseNumber, record);
      } catch (error) {
        // A taken number stays taken, so its ticket stays spent.
        if (error instanceof RecordExistsError)
          throw new CaseExistsError('this case number is taken: ask for a new ticket');
        throw error;
      }
      deps.quota.wrote(bytes + announced, raw.length);
      // The record names the uploads first (as POST …/uploads does); a PATCH makes a missing blob.
      for (const upload of uploads) await deps.store.blobs.create(upload.id);
      if (uploads.length > 0)
        return c.json(
          {
            case: caseNumber,
            hour,
            uploads: uploads.map(({ id }) => ({ id, offset: 0 })),
          } satisfies CaseCreatedAnswer,
          201,
        );
      return c.json({ case: caseNumber, hour } satisfies CaseCreatedAnswer, 201);
    } catch (error) {
      // Any other failure (bad body, full store, a disk error) gives the ticket back, in memory.
      if (!(error instanceof CaseExistsError)) await proof.refund();
      throw error;
    }
  });

  app.get('/cases/:case', async (c) => {
    const caseNumber = caseParam(c);
    const caller = await anyCaller(c, deps, caseNumber, new Uint8Array(0));
    const record = await loadCase(deps, caseNumber);
    checkForwarded(caller, record.forwardedTo);
    return c.json(await caseView(deps, record));
  });

  app.post('/cases/:case/messages', async (c) => {
    const caseNumber = caseParam(c);
    expectContentType(c.req.raw, 'application/json');
    const authenticate = await callerBeforeBody(c, deps, caseNumber);
    // A reporter's later message needs a message ticket; checked, and the store's room, before the body is read.
    const proof =
      c.req.header('kluis-auth') === undefined
        ? undefined
        : await proofFromHeaders(deps, c.req.raw.headers, 'message', caseNumber);
    try {
      if (c.req.header('kluis-auth') !== undefined) await deps.quota.check(0, 0);
      const raw = await readBody(c.req.raw, MESSAGE_BODY_LIMIT);
      const caller = await authenticate(raw);
      refuseEscalation(caller);
      const body =
        caller.kind === 'reporter'
          ? exactObject(parseJson(raw), { seq: int(0, MAX_MESSAGES - 1), envelope: present })
          : exactObject(
              parseJson(raw),
              { seq: int(1, MAX_MESSAGES - 1), envelope: present },
              { status: oneOf(...CASE_STATUSES), ack: (v) => v === true },
            );
      const envelope = envelopeField(body.envelope);
      const seq = body.seq as number;
      if (caller.kind === 'reporter') {
        if (seq > 0 && !proof)
          throw new InvalidTicketError(
            'a reporter message after the report needs a message ticket (Kluis-Ticket, Kluis-Work)',
          );
        if (seq === 0 && proof)
          throw new InvalidBodyError('the report is covered by the case ticket; send no other');
        await deps.quota.check(envelope.ct.length, raw.length);
      }
      const hour = currentHour(deps);
      try {
        await deps.store.records.update(caseNumber, (record) => {
          if (seq !== record.messages.length) {
            throw new SeqConflictError(
              `the conversation has ${record.messages.length} messages: re-read it`,
              { expected: record.messages.length },
            );
          }
          if (ciphertextBytes(record.messages) + envelope.ct.length > MAX_CONVERSATION_BYTES) {
            throw new TooLargeError('this conversation is full');
          }
          const message: StoredMessage = { seq, hour, author: caller.kind, envelope };
          const status = body.status as CaseRecord['status'] | undefined;
          return {
            ...record,
            messages: [...record.messages, message],
            ...(status ? { status, statusHour: hour } : {}),
            ...(body.ack === true && record.ackHour === null ? { ackHour: hour } : {}),
          };
        });
      } catch (error) {
        if (error instanceof RecordNotFoundError) throw new NotFoundError('no such case');
        throw error;
      }
      deps.quota.wrote(envelope.ct.length, raw.length);
      return c.json({ seq, hour } satisfies WrittenAnswer, 201);
    } catch (error) {
      await proof?.refund();
      throw error;
    }
  });

  return app;
}
