/**
 * Content: the application JSON inside an envelope, shared by the reporter
 * page and the counsellor client. Every field is checked exactly (no extra
 * keys, bounded sizes), because a hostile reporter or a hostile counsellor
 * key could send anything inside a valid signature.
 * @module
 */

import { isBase64Of } from './base64.js';
import { fromUtf8, utf8 } from './bytes.js';
import { MalformedError } from './errors.js';
import { isFingerprint } from './fingerprint.js';
import { STREAM_PREFIX_BYTES } from './stream.js';

/** Whether the counsellor may bring the case to the escalation recipient. */
export type Consent = 'no' | 'ask' | 'yes';
/** Case states, in the order a case goes through them: what a status update may say, and the server's coarse status. */
export const CASE_STATUSES = ['received', 'in-conversation', 'forwarded', 'closed'] as const;
/** Case states the reporter sees. */
export type CaseStatus = (typeof CASE_STATUSES)[number];
/**
 * A report's language: a BCP 47 tag of the simple kind pages use (`nl`, `fr`, `pt-BR`), at most
 * 35 characters. Open on purpose: a page that gains a language needs no protocol change, and a
 * reader shows a tag it does not know as it is.
 */
export type Language = string;

const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** True iff `value` is a language tag a report may carry (see {@link Language}). */
export function isLanguageTag(value: unknown): value is Language {
  return typeof value === 'string' && value.length <= 35 && LANGUAGE_TAG.test(value);
}

const BLOB_ID = /^[0-9a-f]{32}$/;

/** True iff `value` is a blob id: the server's id of an attachment's ciphertext, 32 lower-case hex digits. */
export function isBlobId(value: unknown): value is string {
  return typeof value === 'string' && BLOB_ID.test(value);
}

/** An attachment as its message names it; the key opens the blob. */
export interface AttachmentRef {
  readonly name: string;
  readonly type: string;
  readonly size: number;
  /** Server id of the uploaded ciphertext: 32 lower-case hex digits. */
  readonly blob: string;
  readonly key: string;
  readonly prefix: string;
}

/**
 * Who sealed a reporter's report or message, when it was not the reporter's own browser: `server`
 * means it was sent from the no-JavaScript pages (Tor Browser at Safest), so the server saw the
 * text, and its files, for a moment before sealing them (PROTOCOL §7.1, SECURITY.md). Absent on
 * everything a browser sealed itself. A claim inside the signed content, made by whoever sealed:
 * it tells the counsellor how far the server was trusted, and proves nothing else.
 */
export type SealedBy = 'server';

/** True iff a report or message says it was sealed by the server (sent without JavaScript). */
export function sealedByServer(content: Content): boolean {
  return (content.type === 'report' || content.type === 'message') && content.sealedBy === 'server';
}

/** Message 0 of a case, written by the reporter. */
export interface ReportContent {
  readonly v: 1;
  readonly type: 'report';
  /** When it was written, ISO 8601 UTC to the second (precise time travels only inside ciphertext). */
  readonly time: string;
  readonly text: string;
  readonly consent: Consent;
  /** How the reporter wants to be addressed (may be empty). */
  readonly addressAs: string;
  readonly language: Language;
  /** The reporter's X25519 box key, base64: replies are sealed to it. */
  readonly reporterBox: string;
  readonly attachments: readonly AttachmentRef[];
  /** Set only when the server sealed it: sent without JavaScript ({@link SealedBy}). */
  readonly sealedBy?: SealedBy;
}

/** A message in the conversation from either side; a reporter may change consent with it. */
export interface MessageContent {
  readonly v: 1;
  readonly type: 'message';
  readonly time: string;
  readonly text: string;
  readonly attachments: readonly AttachmentRef[];
  /** Set only by the reporter, to change their consent. */
  readonly consent?: Consent;
  /** Set only when the server sealed a reporter's message: sent without JavaScript ({@link SealedBy}). */
  readonly sealedBy?: SealedBy;
}

/** A counsellor's status update, which the reporter sees. */
export interface StatusContent {
  readonly v: 1;
  readonly type: 'status';
  readonly time: string;
  readonly status: CaseStatus;
  readonly text: string;
}

/** The acknowledgement of receipt: proof of reporting the reporter can keep. */
export interface AckContent {
  readonly v: 1;
  readonly type: 'ack';
  readonly time: string;
  /** Hash of the report envelope (message 0), base64 (32 bytes). */
  readonly reportHash: string;
  /** The day the report was received, YYYY-MM-DD. */
  readonly receivedDate: string;
  readonly text: string;
}

/** Record, in the conversation, that the case was forwarded to an escalation recipient. */
export interface ForwardedContent {
  readonly v: 1;
  readonly type: 'forwarded';
  readonly time: string;
  /** Fingerprint of the escalation recipient. */
  readonly to: string;
  readonly name: string;
  readonly text: string;
}

/**
 * Record, in the conversation, that the case was handed over to another
 * counsellor (one who joined, or a colleague taking over from one who
 * leaves): from then on that counsellor reads the case, earlier messages
 * included (their content keys are wrapped for it, as for a forward).
 */
export interface HandoverContent {
  readonly v: 1;
  readonly type: 'handover';
  readonly time: string;
  /** Fingerprint of the counsellor the case is handed to. */
  readonly to: string;
  readonly name: string;
  readonly text: string;
}

/** A counsellor's private note: sealed to counsellors only, kept apart from the conversation. */
export interface NoteContent {
  readonly v: 1;
  readonly type: 'note';
  readonly time: string;
  readonly text: string;
}

/** Everything an envelope can carry. */
export type Content =
  | ReportContent
  | MessageContent
  | StatusContent
  | AckContent
  | ForwardedContent
  | HandoverContent
  | NoteContent;

/** Longest text field, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 200_000;
/** Most attachments one message may carry. */
export const MAX_ATTACHMENTS = 100;

/** Serialises content as UTF-8 JSON (after checking it). */
export function encodeContent(content: Content): Uint8Array {
  return utf8(JSON.stringify(parseContent(content)));
}

/** Parses and checks content bytes from an opened envelope. Throws MalformedError. */
export function decodeContent(bytes: Uint8Array): Content {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (error) {
    if (error instanceof MalformedError) throw error;
    throw new MalformedError('content is not JSON');
  }
  return parseContent(value);
}

type Check = (value: unknown) => boolean;

const text: Check = (value) => typeof value === 'string' && value.length <= MAX_TEXT_LENGTH;
const shortText =
  (max: number): Check =>
  (value) =>
    typeof value === 'string' && value.length <= max;
const oneOf =
  (...options: readonly string[]): Check =>
  (value) =>
    typeof value === 'string' && options.includes(value);
/** True iff year-month-day names a real day of the proleptic Gregorian calendar. */
function isCalendarDay(year: number, month: number, day: number): boolean {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days;
}
const date: Check = (value) => {
  const match = typeof value === 'string' ? /^(\d{4})-(\d\d)-(\d\d)$/.exec(value) : null;
  return match !== null && isCalendarDay(Number(match[1]), Number(match[2]), Number(match[3]));
};
const time: Check = (value) => {
  const match =
    typeof value === 'string'
      ? /^(\d{4}-\d\d-\d\d)T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/.exec(value)
      : null;
  return match !== null && date(match[1]);
};
const base64Of =
  (length: number): Check =>
  (value) =>
    isBase64Of(value, length);
const attachments: Check = (value) =>
  Array.isArray(value) &&
  value.length <= MAX_ATTACHMENTS &&
  value.every((item) => matches(item, ATTACHMENT));

const ATTACHMENT: Record<string, Check> = {
  name: (value) => typeof value === 'string' && value.length > 0 && utf8(value).length <= 255,
  type: shortText(255),
  size: (value) => Number.isSafeInteger(value) && (value as number) >= 0,
  blob: isBlobId,
  key: base64Of(32),
  prefix: base64Of(STREAM_PREFIX_BYTES),
};

const consent = oneOf('no', 'ask', 'yes');
const sealedBy = oneOf('server');

const SHAPES: Record<
  Content['type'],
  { required: Record<string, Check>; optional?: Record<string, Check> }
> = {
  report: {
    required: {
      text,
      consent,
      addressAs: shortText(200),
      language: isLanguageTag,
      reporterBox: base64Of(32),
      attachments,
    },
    optional: { sealedBy },
  },
  message: { required: { text, attachments }, optional: { consent, sealedBy } },
  status: { required: { status: oneOf(...CASE_STATUSES), text } },
  ack: { required: { reportHash: base64Of(32), receivedDate: date, text } },
  forwarded: { required: { to: isFingerprint, name: shortText(128), text } },
  handover: { required: { to: isFingerprint, name: shortText(128), text } },
  note: { required: { text } },
};

function matches(
  value: unknown,
  shape: Record<string, Check>,
  optional: Record<string, Check> = {},
): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  // Own properties only: `in` also sees Object.prototype, so "constructor", "toString" or a
  // JSON "__proto__" key would pass as if the shape named them.
  for (const key of Object.keys(record))
    if (!Object.hasOwn(shape, key) && !Object.hasOwn(optional, key)) return false;
  for (const [key, check] of Object.entries(shape))
    if (!Object.hasOwn(record, key) || !check(record[key])) return false;
  for (const [key, check] of Object.entries(optional))
    if (Object.hasOwn(record, key) && !check(record[key])) return false;
  return true;
}

/** Checks an untrusted value against the content shapes. Throws MalformedError. */
export function parseContent(value: unknown): Content {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedError('content must be an object');
  const record = value as Record<string, unknown>;
  if (record.v !== 1) throw new MalformedError('unsupported content version');
  const type = record.type;
  if (typeof type !== 'string' || !Object.hasOwn(SHAPES, type))
    throw new MalformedError('unknown content type');
  const shape = SHAPES[type as Content['type']];
  if (
    !matches(
      value,
      { v: (v) => v === 1, type: (t) => t === type, time, ...shape.required },
      shape.optional,
    )
  ) {
    throw new MalformedError(`content of type ${type} has missing, extra or invalid fields`);
  }
  return value as Content;
}
