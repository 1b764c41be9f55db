/**
 * What the no-JavaScript routes write and open: files checked against the limits, sealed uploads
 * stored in the order the page stores them, the reporter's case opened with a receipt code for
 * one response, and the derived keys forgotten afterwards.
 */

import {
  attachmentCiphertextLength,
  deriveReporterKeys,
  formatReceiptCode,
  KluisError,
  parseReceiptCode,
  type ReadConversation,
  readConversation,
  type ReporterKeys,
  toBase64,
} from '../../crypto/index.js';
import { authenticateReporter } from '../auth.js';
import type { Deps } from '../deps.js';
import { UnauthorizedError } from '../errors.js';
import type { PageParties } from '../page-keys.js';
import type { CaseRecord, StoredUpload } from '../records.js';
import { RecordNotFoundError } from '../store/index.js';
import { type BasicForm, BasicInputError } from './form.js';
import type { SealedFile } from './seal.js';

/** A case opened with its receipt code: the keys live until the response is made (then `forget`). */
export interface OpenedCase {
  readonly record: CaseRecord;
  readonly keys: ReporterKeys;
  readonly read: ReadConversation;
  /** The code, canonically spelt, for the page's hidden fields. */
  readonly code: string;
}

/** The reporter's case opened with the code of a form, for this one response (401 if it does not open). */
export async function openCase(
  deps: Deps,
  parties: PageParties,
  form: BasicForm,
): Promise<OpenedCase> {
  let code: ReturnType<typeof parseReceiptCode>;
  try {
    code = parseReceiptCode(form.text('code') ?? '');
  } catch (error) {
    if (error instanceof KluisError)
      throw new BasicInputError('basicErrorCode', 'not a receipt code');
    throw error;
  }
  const keys = deriveReporterKeys(code);
  // The canonical spelling goes back into the page's hidden fields, never what was typed.
  const canonical = formatReceiptCode(code);
  code.secret.fill(0);
  const record = await deps.store.records.get(code.caseNumber);
  try {
    authenticateReporter(
      toBase64(keys.authKey),
      code.caseNumber,
      record?.verifier,
      deps.throttle,
      deps.now(),
    );
  } catch (error) {
    forget(undefined, keys);
    throw error;
  }
  const read = readConversation(
    record!.messages.map((m) => m.envelope),
    {
      fingerprint: keys.fingerprint,
      boxPublicKey: keys.box.publicKey,
      boxSecretKey: keys.box.secretKey,
    },
    {
      caseNumber: code.caseNumber,
      counsellors: parties.counsellors,
      escalation: parties.escalation.map((b) => b.fingerprint),
      reporterSignKey: keys.sign.publicKey,
      ...(deps.verifier ? { verifier: deps.verifier } : {}),
    },
  );
  return { record: record!, keys, read, code: canonical };
}

/** A file name as an RFC 5987 value (percent-encoded UTF-8, with the characters it reserves too). */
export function rfc5987(name: string): string {
  return encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Refuses files the server's limits do not allow, before any is sealed. */
export function checkFiles(
  deps: Deps,
  form: BasicForm,
  existing: readonly StoredUpload[] = [],
): void {
  let total = existing.reduce((sum, u) => sum + u.length, 0);
  for (const file of form.files) {
    const length = attachmentCiphertextLength(file.bytes.length);
    total += length;
    if (length > deps.settings.maxFileBytes || total > deps.settings.maxCaseBytes)
      throw new BasicInputError('basicErrorTooLong', 'files too large');
  }
}

export function pending(file: SealedFile, hour: number): StoredUpload {
  return { id: file.id, length: file.length, hour, complete: false };
}

export function completed(
  uploads: readonly StoredUpload[],
  sealed: readonly SealedFile[],
): StoredUpload[] {
  return uploads.map((u) => {
    const file = sealed.find((s) => s.id === u.id);
    return file ? { ...u, complete: true, sha256: file.sha256 } : u;
  });
}

export async function storeBlobs(deps: Deps, sealed: readonly SealedFile[]): Promise<void> {
  for (const file of sealed) {
    await deps.store.blobs.create(file.id);
    let offset = 0;
    for (const chunk of file.chunks) offset = await deps.store.blobs.append(file.id, offset, chunk);
  }
}

export async function update(
  deps: Deps,
  caseNumber: string,
  change: (record: CaseRecord) => CaseRecord,
): Promise<void> {
  try {
    await deps.store.records.update(caseNumber, change);
  } catch (error) {
    if (error instanceof RecordNotFoundError) throw new UnauthorizedError('no such case');
    throw error;
  }
}

/** Zeroes what was derived from a receipt code, once the response is made. */
export function forget(secret: Uint8Array | undefined, keys: ReporterKeys): void {
  secret?.fill(0);
  keys.sign.secretKey.fill(0);
  keys.box.secretKey.fill(0);
  keys.authKey.fill(0);
}
