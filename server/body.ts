/**
 * Reading and checking request bodies: the size limit is enforced before
 * and while reading, JSON is parsed only after its nesting depth is known
 * to be small, and every object must have exactly the expected fields.
 */

import { fromBase64, isBase64Of } from '../crypto/index.js';
import { leaseOf } from './budget.js';
import {
  InvalidBodyError,
  MalformedJsonError,
  TooLargeError,
  UnsupportedMediaTypeError,
} from './errors.js';

/** Deepest JSON nesting any Kluis body needs (an envelope inside a message body is 4). */
const MAX_JSON_DEPTH = 8;

/** Checks the media type (parameters such as charset=utf-8 allowed). */
export function expectContentType(
  request: Request,
  type: 'application/json' | 'application/octet-stream',
): void {
  const header = request.headers.get('content-type') ?? '';
  if (header.split(';')[0]!.trim().toLowerCase() !== type) {
    throw new UnsupportedMediaTypeError(`expected ${type}`);
  }
}

/**
 * Reads the whole body, refusing more than `limit` bytes (by Content-Length
 * first, then as it streams). When the app gave the request a lease, the
 * bytes count against the server's memory budget: a body the budget has no
 * room for is refused (503 busy) before it is read, or as soon as it
 * outgrows the room.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > limit)) {
    throw new TooLargeError(`body larger than ${limit} bytes`);
  }
  const lease = leaseOf(request);
  // Without a Content-Length (chunked), the body may be as large as the limit.
  lease?.admit(declared === null ? limit : Number(declared));
  if (!request.body) {
    if (lease) lease.complete = true;
    return new Uint8Array(0);
  }
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    try {
      if (total > limit) throw new TooLargeError(`body larger than ${limit} bytes`);
      lease?.take(value.length);
    } catch (error) {
      await reader.cancel().catch(() => {});
      throw error;
    }
    parts.push(value);
  }
  if (lease) lease.complete = true;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Fails unless JSON text nests at most MAX_JSON_DEPTH deep (so JSON.parse cannot exhaust the stack). */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw new InvalidBodyError('JSON nests too deeply');
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** Decodes strict UTF-8 JSON. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedJsonError('body is not UTF-8');
  }
  checkDepth(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedJsonError('body is not JSON');
  }
}

/** A check of one field: true if the value is acceptable. */
export type FieldCheck = (value: unknown) => boolean;

/**
 * Returns `value` as a record if it is a plain object whose keys are exactly
 * the required ones plus any of the optional ones, each passing its check.
 */
export function exactObject(
  value: unknown,
  required: Readonly<Record<string, FieldCheck>>,
  optional: Readonly<Record<string, FieldCheck>> = {},
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidBodyError('body must be a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(required, key) && !Object.hasOwn(optional, key))
      throw new InvalidBodyError(`unexpected field ${JSON.stringify(key.slice(0, 40))}`);
  }
  for (const [key, check] of Object.entries(required)) {
    if (!Object.hasOwn(record, key) || !check(record[key]))
      throw new InvalidBodyError(`field ${key} is missing or invalid`);
  }
  for (const [key, check] of Object.entries(optional)) {
    if (Object.hasOwn(record, key) && !check(record[key]))
      throw new InvalidBodyError(`field ${key} is invalid`);
  }
  return record;
}

/** An integer within [min, max]. */
export const int =
  (min: number, max: number): FieldCheck =>
  (value) =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/** Canonical base64 of exactly `length` bytes. */
export const base64Of =
  (length: number): FieldCheck =>
  (value) =>
    isBase64Of(value, length);

/** Canonical base64 of 1 to `max` bytes. */
export const base64Up =
  (max: number): FieldCheck =>
  (value) => {
    try {
      return fromBase64(value as string, { maxLength: max }).length > 0;
    } catch {
      return false;
    }
  };

/** Exactly one of the given strings. */
export const oneOf =
  (...options: readonly string[]): FieldCheck =>
  (value) =>
    typeof value === 'string' && options.includes(value);

/** Accepts anything: the caller validates the value itself (e.g. with parseEnvelope). */
export const present: FieldCheck = () => true;
