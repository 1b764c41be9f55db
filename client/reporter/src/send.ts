/**
 * What sending a report (send-report.ts) and a reply (send-reply.ts) share
 * (docs/API.md, PROTOCOL §2, §5, §8, §9): drafts, progress, sealing with
 * the size checked first, retries, tickets, uploads. A sender object lives
 * as long as its draft: if a step fails, the
 * reporter retries and the sender carries on where it stopped (same case,
 * same uploads, same proof of work), so nothing is lost and nothing is
 * sent twice. Everything stays in memory; nothing is written to storage.
 *
 * Before anything is sent, the content is encoded and its size checked
 * (with placeholder attachment references of the same length): when
 * sealing would fail, nothing is sent.
 * @module
 */

import type {
  AttachmentRef,
  Consent,
  Content,
  Recipient,
  ReporterKeys,
  VerifiedBundle,
  WrappedAhead,
  WrappedKey,
} from '../../../crypto/index.js';
import {
  encodeContent,
  envelopeHash,
  MAX_CONTENT_BYTES,
  MAX_TEXT_LENGTH,
  parseEnvelope,
  sealEnvelope,
  secureRandom,
  toBase64,
  wrapContentKey,
} from '../../../crypto/index.js';
import type { Ticket } from './api.js';
import { ApiError } from './api.js';

import { isTransient, SealError } from './problems.js';
import type { UploadJob } from './upload.js';
import { newUploadJob, uploadJob } from './upload.js';
import { yieldToBrowser } from './work.js';

import { isTicketErrorCode } from '../../../api/contract.js';

/** A file the reporter chose, with a stable id for the list. */
export interface DraftFile {
  readonly id: number;
  readonly file: File;
}

/** What the reporter wrote. */
export interface ReportDraft {
  readonly text: string;
  readonly consent: Consent;
  readonly addressAs: string;
  readonly files: readonly DraftFile[];
}

/** A reply being written. */
export interface ReplyDraft {
  readonly text: string;
  readonly files: readonly DraftFile[];
  /** Set only when the reporter changes their consent with this message. */
  readonly consent?: Consent;
}

/** Where a send stands, for the progress display. */
export interface SendProgress {
  readonly step: 'prepare' | 'work' | 'case' | 'files' | 'seal' | 'done';
  /** Proof of work, 0 to 1. */
  readonly work: number;
  /** Per file: bytes the server holds and bytes to send. */
  readonly files: readonly { readonly sent: number; readonly length: number }[];
  /** True after a lost connection, while the page resumes by itself. */
  readonly resuming: boolean;
}

/** Time as the protocol wants it: ISO 8601 UTC, to the second. */
export function protocolTime(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Recipients of every message in the chain: the reporter and every counsellor (PROTOCOL §6). */
export function recipientsFor(
  keys: ReporterKeys,
  counsellors: readonly VerifiedBundle[],
): Recipient[] {
  const recipients: Recipient[] = [
    { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
  ];
  for (const c of counsellors) {
    if (!recipients.some((r) => r.fingerprint === c.fingerprint)) {
      recipients.push({ fingerprint: c.fingerprint, boxPublicKey: c.boxPublicKey });
    }
  }
  return recipients;
}

const PLACEHOLDER_ID = '0'.repeat(32);
/** The key of a placeholder attachment reference (same length as a real one), for the size check before sending. */
export const PLACEHOLDER_KEY = toBase64(new Uint8Array(32));

export function attachmentRef(job: UploadJob, blob = job.id ?? PLACEHOLDER_ID): AttachmentRef {
  return {
    name: job.name,
    type: job.type,
    size: job.attachment.size,
    blob,
    key: job.attachment.key,
    prefix: job.attachment.prefix,
  };
}

/** Encodes content, turning any failure into SealError; checks the size the envelope allows. */
export function encode(content: Content): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encodeContent(content);
  } catch (error) {
    throw new SealError(false, error);
  }
  if (bytes.length > MAX_CONTENT_BYTES) throw new SealError(true);
  return bytes;
}

export function checkText(text: string): void {
  if (text.length > MAX_TEXT_LENGTH) throw new SealError(true);
}

export function seal(input: Parameters<typeof sealEnvelope>[0]): ReturnType<typeof sealEnvelope> {
  try {
    return sealEnvelope(input);
  } catch (error) {
    throw new SealError(false, error);
  }
}

/**
 * The content key of the next envelope wrapped ahead, while the reporter
 * writes, for the reporter and the counsellors (after the key check:
 * `sealFor`); undefined if that fails (sealing then wraps it itself).
 */
export async function wrapForLater(
  keys: ReporterKeys,
  sealFor: () => Promise<readonly VerifiedBundle[]>,
): Promise<WrappedAhead | undefined> {
  try {
    const recipients = recipientsFor(keys, await sealFor());
    // One recipient at a time (two X25519 operations, about 0.3 s without a JIT), letting the
    // browser handle typing in between.
    const contentKey = secureRandom(32);
    const wrapped: WrappedKey[] = [];
    for (const recipient of recipients) {
      await yieldToBrowser();
      wrapped.push(wrapContentKey(contentKey, recipient));
    }
    return { contentKey, keys: wrapped };
  } catch {
    return undefined;
  }
}

/** `ahead` if it was wrapped for exactly `recipients`, else undefined. */
export function wrappedFor(
  ahead: WrappedAhead | undefined,
  recipients: readonly Recipient[],
): WrappedAhead | undefined {
  if (!ahead || ahead.keys.length !== recipients.length) return undefined;
  return ahead.keys.every((key, i) => key.to === recipients[i]!.fingerprint) ? ahead : undefined;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `step` after a lost connection or a passing server fault, a few times, then throws. */
export async function retrying<T>(
  step: () => Promise<T>,
  onRetry: () => void,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isTransient(error) || attempt >= attempts) throw error;
      onRetry();
      await delay(500 * 2 ** (attempt - 1));
    }
  }
}

const TICKET_MARGIN_S = 120;

export function fresh(ticket: Ticket | undefined): ticket is Ticket {
  return ticket !== undefined && ticket.expires - TICKET_MARGIN_S > Date.now() / 1000;
}

export function isTicketProblem(error: unknown): boolean {
  return error instanceof ApiError && isTicketErrorCode(error.code);
}

export type Listener = (progress: SendProgress) => void;

/** Shared progress bookkeeping. */
export class Progress {
  state: SendProgress;
  readonly #listener: Listener;
  constructor(listener: Listener, files: number) {
    this.#listener = listener;
    this.state = {
      step: 'prepare',
      work: 0,
      files: Array.from({ length: files }, () => ({ sent: 0, length: 1 })),
      resuming: false,
    };
    listener(this.state);
  }
  set(change: Partial<SendProgress>): void {
    this.state = { ...this.state, ...change };
    this.#listener(this.state);
  }
  file(index: number, sent: number, length: number): void {
    const files = this.state.files.slice();
    files[index] = { sent, length };
    this.set({ files, resuming: false });
  }
}

/** Uploads every file of a draft, reusing the jobs of earlier attempts. */
export async function uploadAll(
  caseNumber: string,
  authKey: Uint8Array,
  files: readonly DraftFile[],
  jobs: Map<number, UploadJob>,
  progress: Progress,
): Promise<UploadJob[]> {
  const done: UploadJob[] = [];
  for (const [index, draft] of files.entries()) {
    let job = jobs.get(draft.id);
    if (!job) {
      job = newUploadJob(draft.file);
      jobs.set(draft.id, job);
    }
    progress.set({ step: 'files' });
    await uploadJob(caseNumber, authKey, job, {
      onProgress: (sent, length) => progress.file(index, sent, length),
      onResume: () => progress.set({ resuming: true }),
      // Each file's announcement is paid for in proof of work (one solution per 16 MiB): shown as the work step.
      onWork: (work) => progress.set({ step: work < 1 ? 'work' : 'files', work }),
    });
    done.push(job);
  }
  return done;
}

/** True iff one of the stored messages is one this sender sealed. */
export function alreadyStored(stored: readonly unknown[], sealed: readonly Uint8Array[]): boolean {
  return stored.some((envelope) => {
    let hash: Uint8Array;
    try {
      hash = envelopeHash(parseEnvelope(envelope));
    } catch {
      return false;
    }
    return sealed.some((h) => h.length === hash.length && h.every((byte, i) => byte === hash[i]));
  });
}
