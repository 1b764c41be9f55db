/**
 * Reading the no-JavaScript forms: the size is checked before a byte is read (Content-Length,
 * then while streaming, against the server's body budget as for the API), and the multipart body
 * is parsed in memory, never spilled to a temporary file. What a form may hold is declared here
 * (docs/API.md, "No-JavaScript pages").
 */

import { readBody } from '../body.js';
import { InvalidBodyError, NotFoundError, UnsupportedMediaTypeError } from '../errors.js';
import type { PlainFile } from './seal.js';

/** Largest report or reply form, files included (multipart). */
export const BASIC_FORM_LIMIT = 8 * 1024 * 1024;
/** Largest form without files (the receipt code, a download). */
export const BASIC_SMALL_FORM_LIMIT = 4 * 1024;
/** Most files in one report or reply. */
export const BASIC_MAX_FILES = 5;

/** A form field was missing or wrong: a 400 page that says which, in the reporter's language. */
export class BasicInputError extends InvalidBodyError {
  /** The catalogue key of the explanation shown. */
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

/** The page has no counsellor keys: nothing can be sealed, so nothing is taken (a 404 page that says so). */
export class BasicClosedError extends NotFoundError {
  readonly key = 'basicErrorNoCounsellor';
}

/** A parsed form: text fields and files. */
export interface BasicForm {
  text(name: string): string | undefined;
  readonly files: PlainFile[];
  /** Zeroes every file's bytes that are still held (after a refusal, or once sealed). */
  drop(): void;
}

function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads a form. `multipart` allows multipart/form-data (with files) up to BASIC_FORM_LIMIT;
 * otherwise only application/x-www-form-urlencoded up to BASIC_SMALL_FORM_LIMIT.
 */
export async function readForm(request: Request, multipart: boolean): Promise<BasicForm> {
  const type = mediaType(request);
  const allowed = multipart
    ? ['multipart/form-data', 'application/x-www-form-urlencoded']
    : ['application/x-www-form-urlencoded'];
  if (!allowed.includes(type))
    throw new UnsupportedMediaTypeError(`expected ${allowed.join(' or ')}`);
  const raw = await readBody(request, multipart ? BASIC_FORM_LIMIT : BASIC_SMALL_FORM_LIMIT);
  let data: FormData;
  try {
    // Parsed in memory by the runtime (undici); the raw bytes are zeroed once parsed.
    data = await new Response(raw as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': request.headers.get('content-type') ?? '' },
    }).formData();
  } catch {
    throw new BasicInputError('basicErrorForm', 'the form could not be read');
  } finally {
    raw.fill(0);
  }
  const files: PlainFile[] = [];
  const entries = [...data.entries()];
  const chosen = entries.filter(
    ([name, value]) => name === 'files' && typeof value !== 'string' && value.size > 0,
  );
  if (chosen.length > BASIC_MAX_FILES)
    throw new BasicInputError('basicErrorTooManyFiles', `at most ${BASIC_MAX_FILES} files`);
  for (const [, value] of chosen) {
    const file = value as File;
    files.push({
      name: file.name,
      type: file.type,
      bytes: new Uint8Array(await file.arrayBuffer()),
    });
  }
  return {
    text(name) {
      const value = data.get(name);
      return typeof value === 'string' ? value : undefined;
    },
    files,
    drop() {
      for (const file of files) file.bytes.fill(0);
    },
  };
}
