/**
 * Reading the server's answers: one shape checker for every answer of the
 * contract (contract.ts). Each reader returns only the fields the contract
 * knows, typed, or throws ContractError naming the field; envelopes and
 * bundles stay unknown (crypto/ checks them). Pure, for the browser too.
 * @module
 */

import {
  CASE_STATUSES,
  type CaseStatus,
  isBlobId,
  isCaseNumber,
  isFingerprint,
} from '../crypto/index.js';
import type {
  ApiErrorCode,
  CaseAnswer,
  CaseCreatedAnswer,
  CaseDetailAnswer,
  CaseDetailsAnswer,
  CaseListingAnswer,
  DeletedAnswer,
  ForwardAnswer,
  HandoverAnswer,
  HealthAnswer,
  InfoAnswer,
  StoredAuthor,
  TicketAnswer,
  UploadAnswer,
  UploadAppendedAnswer,
  UploadCreatedAnswer,
  WrittenAnswer,
} from './contract.js';
import { isApiErrorCode } from './contract.js';

/** An answer that is not what the contract says; `field` names where. */
export class ContractError extends Error {
  readonly what: string;
  readonly field: string;
  constructor(what: string, field: string) {
    super(`the server's answer to ${what} is not what the Kluis API says (field ${field})`);
    this.name = 'ContractError';
    this.what = what;
    this.field = field;
  }
}

/** The one shape checker: each method returns the value typed, or throws ContractError naming the field. */
class Shape {
  constructor(readonly what: string) {}
  fail(field: string): never {
    throw new ContractError(this.what, field);
  }
  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field);
    return value as Record<string, unknown>;
  }
  count(value: unknown, field: string): number {
    if (!Number.isSafeInteger(value) || (value as number) < 0) this.fail(field);
    return value as number;
  }
  countOrNull(value: unknown, field: string): number | null {
    return value === null ? null : this.count(value, field);
  }
  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field);
    return value;
  }
  string(value: unknown, field: string, check?: (value: string) => boolean): string {
    if (typeof value !== 'string' || (check && !check(value))) this.fail(field);
    return value;
  }
  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field);
    return value;
  }
  status(value: unknown, field: string): CaseStatus {
    if (!(CASE_STATUSES as readonly unknown[]).includes(value)) this.fail(field);
    return value as CaseStatus;
  }
  author(value: unknown, field: string): StoredAuthor {
    if (value !== 'reporter' && value !== 'counsellor') this.fail(field);
    return value;
  }
  fingerprints(value: unknown, field: string): string[] {
    return this.array(value, field).map((fp, i) =>
      this.string(fp, `${field}[${i}]`, isFingerprint),
    );
  }
}

const sha256Hex = (value: string) => /^[0-9a-f]{64}$/.test(value);

/** Reads `GET /health`. */
export function parseHealth(value: unknown): HealthAnswer {
  const s = new Shape('GET /health');
  const o = s.object(value, 'body');
  if (o.status !== 'ok') s.fail('status');
  return { status: 'ok', version: s.string(o.version, 'version') };
}

/** Reads `GET /info`. */
export function parseInfo(value: unknown): InfoAnswer {
  const s = new Shape('GET /info');
  const o = s.object(value, 'body');
  return {
    demo: s.boolean(o.demo, 'demo'),
    powBits: s.count(o.powBits, 'powBits'),
    maxFileBytes: s.count(o.maxFileBytes, 'maxFileBytes'),
    maxCaseBytes: s.count(o.maxCaseBytes, 'maxCaseBytes'),
    uploadBytesPerSolution: s.count(o.uploadBytesPerSolution, 'uploadBytesPerSolution'),
    retentionDays: s.count(o.retentionDays, 'retentionDays'),
    counsellors: s.array(o.counsellors, 'counsellors'),
    escalation: s.array(o.escalation, 'escalation'),
  };
}

/** Reads `POST /tickets`. */
export function parseTicket(value: unknown): TicketAnswer {
  const s = new Shape('POST /tickets');
  const o = s.object(value, 'body');
  return {
    ticket: s.string(o.ticket, 'ticket'),
    bits: s.count(o.bits, 'bits'),
    case: s.string(o.case, 'case', isCaseNumber),
    expires: s.count(o.expires, 'expires'),
  };
}

/** Reads `POST /cases`. */
export function parseCaseCreated(value: unknown): CaseCreatedAnswer {
  const s = new Shape('POST /cases');
  const o = s.object(value, 'body');
  const created = { case: s.string(o.case, 'case', isCaseNumber), hour: s.count(o.hour, 'hour') };
  if (o.uploads === undefined) return created;
  const uploads = s.array(o.uploads, 'uploads').map((item, i) => {
    const u = s.object(item, `uploads[${i}]`);
    return {
      id: s.string(u.id, `uploads[${i}].id`, isBlobId),
      offset: s.count(u.offset, `uploads[${i}].offset`),
    };
  });
  return { ...created, uploads };
}

function upload(s: Shape, value: unknown, field: string): UploadAnswer {
  const o = s.object(value, field);
  const complete = s.boolean(o.complete, `${field}.complete`);
  return {
    id: s.string(o.id, `${field}.id`, isBlobId),
    length: s.count(o.length, `${field}.length`),
    offset: s.count(o.offset, `${field}.offset`),
    complete,
    hour: s.count(o.hour, `${field}.hour`),
    ...(o.sha256 === undefined ? {} : { sha256: s.string(o.sha256, `${field}.sha256`, sha256Hex) }),
  };
}

function caseAnswer(
  s: Shape,
  o: Record<string, unknown>,
  caseNumber: string | undefined,
): CaseAnswer {
  const number = s.string(o.case, 'case', isCaseNumber);
  if (caseNumber !== undefined && number !== caseNumber) s.fail('case');
  return {
    case: number,
    createdHour: s.count(o.createdHour, 'createdHour'),
    status: s.status(o.status, 'status'),
    statusHour: s.count(o.statusHour, 'statusHour'),
    messages: s.array(o.messages, 'messages').map((item, i) => {
      const m = s.object(item, `messages[${i}]`);
      return {
        seq: s.count(m.seq, `messages[${i}].seq`),
        hour: s.count(m.hour, `messages[${i}].hour`),
        author: s.author(m.author, `messages[${i}].author`),
        envelope: m.envelope,
      };
    }),
    uploads: s.array(o.uploads, 'uploads').map((item, i) => upload(s, item, `uploads[${i}]`)),
  };
}

/** Reads `GET /cases/:case` (the reporter's view); `caseNumber` is the case asked for. */
export function parseCase(value: unknown, caseNumber: string): CaseAnswer {
  const s = new Shape(`GET /cases/${caseNumber}`);
  return caseAnswer(s, s.object(value, 'body'), caseNumber);
}

function caseDetail(s: Shape, value: unknown, caseNumber: string | undefined): CaseDetailAnswer {
  const o = s.object(value, 'body');
  return {
    ...caseAnswer(s, o, caseNumber),
    notes: s.array(o.notes, 'notes').map((item, i) => {
      const n = s.object(item, `notes[${i}]`);
      return {
        seq: s.count(n.seq, `notes[${i}].seq`),
        hour: s.count(n.hour, `notes[${i}].hour`),
        envelope: n.envelope,
      };
    }),
    forwardedTo: s.fingerprints(o.forwardedTo, 'forwardedTo'),
    ackHour: s.countOrNull(o.ackHour, 'ackHour'),
  };
}

/** Reads `GET /counsellor/cases/:case`. */
export function parseCaseDetail(value: unknown, caseNumber: string): CaseDetailAnswer {
  return caseDetail(new Shape(`GET /counsellor/cases/${caseNumber}`), value, caseNumber);
}

/**
 * Reads a case-details page: every case shaped as `GET /counsellor/cases/:case`,
 * case numbers strictly ascending and after `after`, at most `limit`, and
 * `next` (if any) the last of them, so that paging always moves forward and ends.
 */
export function parseCaseDetails(
  value: unknown,
  after: string | undefined,
  limit: number,
): CaseDetailsAnswer {
  const s = new Shape('GET /counsellor/case-details');
  const o = s.object(value, 'body');
  const items = s.array(o.cases, 'cases');
  if (items.length > limit) s.fail('cases (more than the limit)');
  let last = after;
  const cases = items.map((item, i) => {
    const detail = caseDetail(s, item, undefined);
    if (last !== undefined && detail.case <= last) s.fail(`cases[${i}].case (out of order)`);
    last = detail.case;
    return detail;
  });
  if (o.next === null) return { cases, next: null };
  const next = s.string(o.next, 'next', isCaseNumber);
  if (cases.length === 0 || next !== last) s.fail('next');
  return { cases, next };
}

/** Reads `GET /counsellor/cases`. */
export function parseListing(value: unknown): CaseListingAnswer[] {
  const s = new Shape('GET /counsellor/cases');
  return s.array(s.object(value, 'body').cases, 'cases').map((item, i) => {
    const o = s.object(item, `cases[${i}]`);
    return {
      case: s.string(o.case, `cases[${i}].case`, isCaseNumber),
      createdHour: s.count(o.createdHour, 'createdHour'),
      reportHour: s.count(o.reportHour, 'reportHour'),
      status: s.status(o.status, 'status'),
      statusHour: s.count(o.statusHour, 'statusHour'),
      ackHour: s.countOrNull(o.ackHour, 'ackHour'),
      messages: s.count(o.messages, 'messages'),
      notes: s.count(o.notes, 'notes'),
      keys: s.count(o.keys, 'keys'),
      lastHour: s.countOrNull(o.lastHour, 'lastHour'),
      lastAuthor: o.lastAuthor === null ? null : s.author(o.lastAuthor, `cases[${i}].lastAuthor`),
      uploads: s.count(o.uploads, 'uploads'),
      bytes: s.count(o.bytes, 'bytes'),
      forwardedTo: s.fingerprints(o.forwardedTo, `cases[${i}].forwardedTo`),
    };
  });
}

/** Reads the answer to a message or note written (`what` names the request). */
export function parseWritten(value: unknown, what: string): WrittenAnswer {
  const s = new Shape(what);
  const o = s.object(value, 'body');
  return { seq: s.count(o.seq, 'seq'), hour: s.count(o.hour, 'hour') };
}

/** Reads `POST …/uploads`. */
export function parseUploadCreated(value: unknown): UploadCreatedAnswer {
  const s = new Shape('POST /cases/:case/uploads');
  const o = s.object(value, 'body');
  return { id: s.string(o.id, 'id', isBlobId), offset: s.count(o.offset, 'offset') };
}

/** Reads `PATCH …/uploads/:id`. */
export function parseUploadAppended(value: unknown): UploadAppendedAnswer {
  const s = new Shape('PATCH /cases/:case/uploads/:id');
  const o = s.object(value, 'body');
  return { offset: s.count(o.offset, 'offset'), complete: s.boolean(o.complete, 'complete') };
}

/** Reads `GET …/uploads/:id`. */
export function parseUpload(value: unknown): UploadAnswer {
  return upload(new Shape('GET /cases/:case/uploads/:id'), value, 'body');
}

/** Reads `POST /counsellor/cases/:case/forward`. */
export function parseForward(value: unknown): ForwardAnswer {
  const s = new Shape('POST /counsellor/cases/:case/forward');
  return { forwardedTo: s.fingerprints(s.object(value, 'body').forwardedTo, 'forwardedTo') };
}

/** Reads `POST /counsellor/cases/:case/handover`. */
export function parseHandover(value: unknown): HandoverAnswer {
  const s = new Shape('POST /counsellor/cases/:case/handover');
  const o = s.object(value, 'body');
  return { keys: s.count(o.keys, 'keys'), noteKeys: s.count(o.noteKeys, 'noteKeys') };
}

/** Reads `DELETE /counsellor/cases/:case`. */
export function parseDeleted(value: unknown): DeletedAnswer {
  const s = new Shape('DELETE /counsellor/cases/:case');
  if (s.object(value, 'body').deleted !== true) s.fail('deleted');
  return { deleted: true };
}

/**
 * The code of an error answer, if it is one the contract knows (else
 * undefined: a proxy's page, a newer server's code). Clients decide by this
 * code, never by the message.
 */
export function errorCodeOf(value: unknown): ApiErrorCode | undefined {
  const error =
    typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : undefined;
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return isApiErrorCode(code) ? code : undefined;
}
