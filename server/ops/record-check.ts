/**
 * Checks that a stored case record has the shape the server writes
 * (server/records.ts), without any key: the store check, the backup, the
 * restore and the server's start all use it, so they agree on what a
 * damaged record is.
 *
 * What it can see: JSON that does not parse, a missing or mistyped field,
 * an envelope that parseEnvelope refuses (wrong field, non-canonical base64,
 * impossible ciphertext length), a case number that does not match the
 * file name, sequence numbers out of order, impossible upload lengths.
 * What it cannot see: a flipped bit that leaves valid base64 of the same
 * length inside a ciphertext. Only the counsellor's client can find that
 * (the envelope does not open, or its signature fails).
 */

import {
  CASE_STATUSES,
  fromBase64,
  isCaseNumber,
  isFingerprint,
  isValidAttachmentLength,
  KluisError,
  parseEnvelope,
} from '../../crypto/index.js';
import type { CaseRecord } from '../records.js';
import { BLOB_ID } from '../store/index.js';

/** Fields every record has (CaseRecord). */
const RECORD_FIELDS = [
  'v',
  'case',
  'createdHour',
  'verifier',
  'status',
  'statusHour',
  'ackHour',
  'messages',
  'notes',
  'uploads',
  'forwardedTo',
] as const;
const MESSAGE_FIELDS = ['seq', 'hour', 'author', 'envelope'] as const;
const NOTE_FIELDS = ['seq', 'hour', 'envelope'] as const;
const UPLOAD_FIELDS = ['id', 'length', 'hour', 'complete'] as const;
/** Fields an upload may have besides UPLOAD_FIELDS. */
const UPLOAD_OPTIONAL = ['sha256'] as const;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Upload ids anywhere in a text: what a damaged record may still name. */
const BLOB_ID_ANYWHERE = /(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g;

/** What a check found in one record. */
export interface RecordFindings {
  /** Damage: the record is not what the server writes. Empty when healthy. */
  readonly problems: string[];
  /** Not damage, but worth saying (e.g. a field this version does not know). */
  readonly notes: string[];
}

/** A record that is not what the server writes; the message lists why. */
export class DamagedRecordError extends Error {
  constructor(
    readonly id: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join('; '));
    this.name = 'DamagedRecordError';
  }
}

const isHour = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldsOf(
  value: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[],
  where: string,
  found: RecordFindings,
): void {
  for (const key of required)
    if (!Object.hasOwn(value, key)) found.problems.push(`${where}: field ${key} is missing`);
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key))
      found.notes.push(`${where}: unknown field ${JSON.stringify(key.slice(0, 40))}`);
  }
}

function checkEnvelope(value: unknown, where: string, found: RecordFindings): void {
  try {
    parseEnvelope(value);
  } catch (error) {
    if (!(error instanceof KluisError)) throw error;
    found.problems.push(`${where}: envelope ${error.message}`);
  }
}

/**
 * Checks a parsed record against the shape the server writes, and that it
 * is the record of case `id` (its file name). Unknown extra fields are
 * notes, not damage: a later Kluis may add one.
 */
export function checkCaseRecord(doc: unknown, id: string): RecordFindings {
  const found: RecordFindings = { problems: [], notes: [] };
  if (!isObject(doc)) {
    found.problems.push('not a JSON object');
    return found;
  }
  fieldsOf(doc, RECORD_FIELDS, [], 'record', found);
  if (Object.hasOwn(doc, 'v') && doc.v !== 1)
    found.problems.push(`record version ${JSON.stringify(doc.v)} is not 1`);
  if (Object.hasOwn(doc, 'case')) {
    if (typeof doc.case !== 'string' || !isCaseNumber(doc.case))
      found.problems.push('case is not a case number');
    else if (doc.case !== id)
      found.problems.push(`names case ${doc.case}, but its file is that of case ${id}`);
  }
  for (const key of ['createdHour', 'statusHour'] as const) {
    if (Object.hasOwn(doc, key) && !isHour(doc[key])) found.problems.push(`${key} is not an hour`);
  }
  if (Object.hasOwn(doc, 'ackHour') && doc.ackHour !== null && !isHour(doc.ackHour))
    found.problems.push('ackHour is neither null nor an hour');
  if (Object.hasOwn(doc, 'verifier')) {
    try {
      fromBase64(doc.verifier as string, { expectedLength: 32 });
    } catch {
      found.problems.push('verifier is not base64 of 32 bytes');
    }
  }
  if (Object.hasOwn(doc, 'status') && !(CASE_STATUSES as readonly unknown[]).includes(doc.status))
    found.problems.push('status is not a known status');

  if (Object.hasOwn(doc, 'messages')) {
    if (!Array.isArray(doc.messages)) found.problems.push('messages is not a list');
    else
      for (const [index, message] of (doc.messages as unknown[]).entries()) {
        const where = `message ${index}`;
        if (!isObject(message)) {
          found.problems.push(`${where}: not an object`);
          continue;
        }
        fieldsOf(message, MESSAGE_FIELDS, [], where, found);
        if (message.seq !== index)
          found.problems.push(`${where}: seq is ${JSON.stringify(message.seq)}`);
        if (!isHour(message.hour)) found.problems.push(`${where}: hour is not an hour`);
        if (message.author !== 'reporter' && message.author !== 'counsellor')
          found.problems.push(`${where}: author is neither reporter nor counsellor`);
        if (Object.hasOwn(message, 'envelope')) checkEnvelope(message.envelope, where, found);
      }
  }
  if (Object.hasOwn(doc, 'notes')) {
    if (!Array.isArray(doc.notes)) found.problems.push('notes is not a list');
    else
      for (const [index, note] of (doc.notes as unknown[]).entries()) {
        const where = `note ${index}`;
        if (!isObject(note)) {
          found.problems.push(`${where}: not an object`);
          continue;
        }
        fieldsOf(note, NOTE_FIELDS, [], where, found);
        if (note.seq !== index) found.problems.push(`${where}: seq is ${JSON.stringify(note.seq)}`);
        if (!isHour(note.hour)) found.problems.push(`${where}: hour is not an hour`);
        if (Object.hasOwn(note, 'envelope')) checkEnvelope(note.envelope, where, found);
      }
  }
  if (Object.hasOwn(doc, 'uploads')) {
    if (!Array.isArray(doc.uploads)) found.problems.push('uploads is not a list');
    else {
      const seen = new Set<string>();
      for (const [index, upload] of (doc.uploads as unknown[]).entries()) {
        const where = `upload ${index}`;
        if (!isObject(upload)) {
          found.problems.push(`${where}: not an object`);
          continue;
        }
        fieldsOf(upload, UPLOAD_FIELDS, UPLOAD_OPTIONAL, where, found);
        if (typeof upload.id !== 'string' || !BLOB_ID.test(upload.id))
          found.problems.push(`${where}: id is not an upload id`);
        else if (seen.has(upload.id))
          found.problems.push(`${where}: id ${upload.id} appears twice`);
        else seen.add(upload.id);
        if (
          !Number.isSafeInteger(upload.length) ||
          !isValidAttachmentLength(upload.length as number)
        )
          found.problems.push(`${where}: length is not one an attachment can have`);
        if (!isHour(upload.hour)) found.problems.push(`${where}: hour is not an hour`);
        if (typeof upload.complete !== 'boolean')
          found.problems.push(`${where}: complete is not true or false`);
        if (
          Object.hasOwn(upload, 'sha256') &&
          (typeof upload.sha256 !== 'string' || !SHA256_HEX.test(upload.sha256))
        )
          found.problems.push(`${where}: sha256 is not 64 hex digits`);
      }
    }
  }
  if (Object.hasOwn(doc, 'forwardedTo')) {
    if (!Array.isArray(doc.forwardedTo) || !doc.forwardedTo.every(isFingerprint))
      found.problems.push('forwardedTo is not a list of fingerprints');
    else if (new Set(doc.forwardedTo).size !== doc.forwardedTo.length)
      found.problems.push('forwardedTo names a recipient twice');
  }
  return found;
}

/** checkCaseRecord, throwing DamagedRecordError on damage (the store's `validate` hook at start). */
export function assertCaseRecord(doc: unknown, id: string): asserts doc is CaseRecord {
  const { problems } = checkCaseRecord(doc, id);
  if (problems.length > 0) throw new DamagedRecordError(id, problems);
}

/** Parses a record file's text and checks it; a parse failure is one problem. */
export function checkRecordText(
  text: string,
  id: string,
): RecordFindings & { readonly record: CaseRecord | undefined } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { problems: ['not valid JSON (damaged or cut short)'], notes: [], record: undefined };
  }
  const found = checkCaseRecord(doc, id);
  return { ...found, record: found.problems.length === 0 ? (doc as CaseRecord) : undefined };
}

/** Every upload id that appears anywhere in a (possibly damaged) record's text. */
export function blobIdsIn(text: string): string[] {
  return [...new Set(text.match(BLOB_ID_ANYWHERE) ?? [])].filter((id) => BLOB_ID.test(id));
}

/** The first few problems, as one line. */
export function describeProblems(problems: readonly string[], max = 3): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; and ${problems.length - max} more` : shown;
}
