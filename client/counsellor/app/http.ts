/**
 * The local app's HTTP pieces: typed errors and their JSON, request bodies
 * and fields, case numbers, the app token's comparison, and the page check
 * made safe to show.
 * @module
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { parseCaseNumber } from '../../../crypto/index.js';
import { CounsellorError, IntegrityError, UsageError } from '../lib/errors.js';
import { safeLine } from '../lib/sanitize.js';
import type { PageCheckReport } from '../lib/verify-page.js';

/** The page check with every server-supplied or local text made safe to show. */
export function safePageCheck(report: PageCheckReport): PageCheckReport {
  switch (report.state) {
    case 'different':
      return {
        ...report,
        url: safeLine(report.url),
        differences: report.differences.map(safeLine),
      };
    case 'failed':
      return { ...report, url: safeLine(report.url), reason: safeLine(report.reason) };
    default:
      return report;
  }
}

/** A refusal of the local app itself, with its status and stable code. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 415 | 421,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time comparison of a presented token with the expected one (hashes of equal length). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(sha256(presented), sha256(expected));
}

/** The case number of a route parameter; 400 invalid-case-number if it is not one. */
export function caseParam(value: string): string {
  try {
    return parseCaseNumber(value);
  } catch {
    throw new HttpError(400, 'invalid-case-number', 'not a case number');
  }
}

/** The JSON object body of a write; 415 or 400 otherwise. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(415, 'unsupported-media-type', 'send application/json');
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new HttpError(400, 'malformed-json', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'invalid-body', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** A string field of a body; 400 invalid-body otherwise. */
export function stringField(
  body: Record<string, unknown>,
  field: string,
  optional = false,
): string {
  const value = body[field];
  if (value === undefined && optional) return '';
  if (typeof value !== 'string')
    throw new HttpError(400, 'invalid-body', `${field} must be a string`);
  return value;
}

/**
 * The JSON error for a library error: its stable code (the UI shows the catalogue's words for
 * it: texts-nl/en `failures`), its class, exit code and problems, and the library's English
 * message as the technical detail.
 */
export function errorJson(error: unknown): { status: number; body: unknown } {
  if (error instanceof HttpError)
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof CounsellorError) {
    const problems = error instanceof IntegrityError ? error.problems.map(safeLine) : [];
    return {
      status: error instanceof UsageError ? 400 : 409,
      body: {
        error: {
          code: error.code,
          kind: error.name,
          exitCode: error.exitCode,
          message: safeLine(error.message),
          problems,
        },
      },
    };
  }
  console.error('counsellor app: unexpected error:', error);
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'unexpected error (see the terminal)' } },
  };
}
