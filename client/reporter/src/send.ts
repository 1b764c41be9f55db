/**
 * Sending a report and sending a reply (docs/API.md, PROTOCOL §2, §5, §8,
 * §9). A sender object lives as long as its draft: if a step fails, the
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
  ReceiptCode,
  Recipient,
  ReporterKeys,
  VerifiedBundle,
} from '../../../crypto/index.js';
import {
  deriveReporterKeys,
  encodeContent,
  envelopeHash,
  formatReceiptCode,
  fromBase64,
  GENESIS_HASH,
  generateReceiptSecret,
  MAX_CONTENT_BYTES,
  MAX_RECIPIENTS,
  MAX_TEXT_LENGTH,
  parseEnvelope,
  sealEnvelope,
  toBase64,
} from '../../../crypto/index.js';
import type { Ticket } from './api.js';
import { ApiError, createCase, getCase, getTicket, postMessage } from './api.js';
import type { Session } from './conversation.js';
import type { Lang } from './i18n.js';
import { isTransient, SealError } from './problems.js';
import type { UploadJob } from './upload.js';
import { newUploadJob, uploadJob } from './upload.js';
import { solveWorkFast } from './workers.js';
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
export function recipientsFor(keys: ReporterKeys, counsellors: readonly VerifiedBundle[]): Recipient[] {
  const recipients: Recipient[] = [{ fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey }];
  for (const c of counsellors) {
    if (!recipients.some((r) => r.fingerprint === c.fingerprint)) {
      recipients.push({ fingerprint: c.fingerprint, boxPublicKey: c.boxPublicKey });
    }
  }
  return recipients;
}

const PLACEHOLDER_ID = '0'.repeat(32);
const PLACEHOLDER_KEY = toBase64(new Uint8Array(32));

function attachmentRef(job: UploadJob, blob = job.id ?? PLACEHOLDER_ID): AttachmentRef {
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
function encode(content: Content): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encodeContent(content);
  } catch (error) {
    throw new SealError(false, error);
  }
  if (bytes.length > MAX_CONTENT_BYTES) throw new SealError(true);
  return bytes;
}

function checkText(text: string): void {
  if (text.length > MAX_TEXT_LENGTH) throw new SealError(true);
}

function seal(input: Parameters<typeof sealEnvelope>[0]): ReturnType<typeof sealEnvelope> {
  try {
    return sealEnvelope(input);
  } catch (error) {
    throw new SealError(false, error);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `step` after a lost connection or a passing server fault, a few times, then throws. */
async function retrying<T>(step: () => Promise<T>, onRetry: () => void, attempts = 3): Promise<T> {
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

function fresh(ticket: Ticket | undefined): ticket is Ticket {
  return ticket !== undefined && ticket.expires - TICKET_MARGIN_S > Date.now() / 1000;
}


function isTicketProblem(error: unknown): boolean {
  return error instanceof ApiError && isTicketErrorCode(error.code);
}

type Listener = (progress: SendProgress) => void;

/** Shared progress bookkeeping. */
class Progress {
  state: SendProgress;
  readonly #listener: Listener;
  constructor(listener: Listener, files: number) {
    this.#listener = listener;
    this.state = { step: 'prepare', work: 0, files: Array.from({ length: files }, () => ({ sent: 0, length: 1 })), resuming: false };
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
async function uploadAll(
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
function alreadyStored(stored: readonly unknown[], sealed: readonly Uint8Array[]): boolean {
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

/** The result of a report that reached the server. */
export interface SentReport {
  readonly code: string;
  readonly session: Session;
}

/** Sends one report; call `send` again after a failure to carry on. */
export class ReportSender {
  readonly #counsellors: readonly VerifiedBundle[];
  #ticket: Ticket | undefined;
  #nonce: number | undefined;
  #code: ReceiptCode | undefined;
  #keys: ReporterKeys | undefined;
  #caseCreated = false;
  #reportStored = false;
  readonly #jobs = new Map<number, UploadJob>();
  readonly #sealed: Uint8Array[] = [];

  constructor(counsellors: readonly VerifiedBundle[]) {
    this.#counsellors = counsellors;
  }

  /** Whether the case exists on the server already (so a retry will not make a new one). */
  get started(): boolean {
    return this.#caseCreated;
  }

  #content(draft: ReportDraft, language: Lang, keys: ReporterKeys | undefined, jobs: readonly UploadJob[]): Content {
    return {
      v: 1,
      type: 'report',
      time: protocolTime(),
      text: draft.text,
      consent: draft.consent,
      addressAs: draft.addressAs,
      language,
      reporterBox: keys ? toBase64(keys.box.publicKey) : PLACEHOLDER_KEY,
      attachments: jobs.map((job) => attachmentRef(job)),
    };
  }

  /** Checks, before anything is sent, that the report can be sealed. Throws SealError. */
  preflight(draft: ReportDraft, language: Lang): void {
    checkText(draft.text);
    if (this.#counsellors.length === 0 || this.#counsellors.length + 1 > MAX_RECIPIENTS) throw new SealError(false);
    const jobs = draft.files.map((f) => this.#jobs.get(f.id) ?? newUploadJob(f.file));
    encode(this.#content(draft, language, undefined, jobs));
  }

  #seal(draft: ReportDraft, language: Lang, code: ReceiptCode, keys: ReporterKeys, jobs: readonly UploadJob[]) {
    const content = encode(this.#content(draft, language, keys, jobs));
    const sealed = seal({
      caseNumber: code.caseNumber,
      seq: 0,
      prev: GENESIS_HASH,
      author: keys.sign,
      content,
      recipients: recipientsFor(keys, this.#counsellors),
    });
    this.#sealed.push(sealed.hash);
    return sealed.envelope;
  }

  /**
   * Runs (or resumes) the whole send. A report without files travels with
   * the new case in one request (one round trip less over Tor); one with
   * files needs the case first, then the uploads, then message 0.
   */
  async send(draft: ReportDraft, language: Lang, listener: Listener): Promise<SentReport> {
    try {
      return await this.#send(draft, language, listener);
    } catch (error) {
      // A case without its report is removed by the server after a day: if it is gone, start a new one.
      if (!(error instanceof ApiError && error.status === 401 && this.#caseCreated && !this.#reportStored)) throw error;
      this.#ticket = undefined;
      this.#caseCreated = false;
      this.#jobs.clear();
      return this.#send(draft, language, listener);
    }
  }

  async #send(draft: ReportDraft, language: Lang, listener: Listener): Promise<SentReport> {
    const progress = new Progress(listener, draft.files.length);
    this.preflight(draft, language);
    const onRetry = () => progress.set({ resuming: true });

    while (!this.#caseCreated) {
      if (!fresh(this.#ticket)) {
        progress.set({ step: 'prepare' });
        this.#ticket = await retrying(() => getTicket({ kind: 'case' }), onRetry);
        this.#nonce = undefined;
        this.#code = { caseNumber: this.#ticket.case, secret: generateReceiptSecret() };
        this.#keys = deriveReporterKeys(this.#code);
      }
      const ticket = this.#ticket;
      const code = this.#code!;
      const keys = this.#keys!;
      if (this.#nonce === undefined) {
        progress.set({ step: 'work', work: 0 });
        this.#nonce = await solveWorkFast(fromBase64(ticket.ticket), ticket.bits, (work) => progress.set({ work }));
      }
      const nonce = this.#nonce;
      let report: unknown;
      if (draft.files.length === 0) {
        progress.set({ step: 'seal', work: 1 });
        report = this.#seal(draft, language, code, keys, []);
      } else {
        progress.set({ step: 'case', work: 1 });
      }
      try {
        await retrying(
          () =>
            createCase(
              { verifier: toBase64(keys.verifier), ...(report === undefined ? {} : { report }) },
              { ticket: ticket.ticket, nonces: [nonce] },
            ),
          onRetry,
        );
        this.#caseCreated = true;
        this.#reportStored = report !== undefined;
      } catch (error) {
        if (error instanceof ApiError && (error.code === 'case-exists' || error.code === 'ticket-spent')) {
          // An earlier attempt may have made it and lost the answer (its ticket is spent with it):
          // it is ours if our key opens it.
          try {
            const view = await getCase(ticket.case, keys.authKey);
            this.#caseCreated = true;
            this.#reportStored = alreadyStored(view.messages.slice(0, 1).map((m) => m.envelope), this.#sealed);
            continue;
          } catch (check) {
            if (!(check instanceof ApiError && check.status === 401)) throw check;
          }
          this.#ticket = undefined;
          continue;
        }
        if (isTicketProblem(error)) this.#ticket = undefined;
        throw error;
      }
    }

    const code = this.#code!;
    const keys = this.#keys!;
    if (!this.#reportStored) {
      const jobs = await uploadAll(code.caseNumber, keys.authKey, draft.files, this.#jobs, progress);
      progress.set({ step: 'seal' });
      const envelope = this.#seal(draft, language, code, keys, jobs);
      try {
        await retrying(() => postMessage(code.caseNumber, keys.authKey, { seq: 0, envelope }), onRetry);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'seq-conflict')) throw error;
        // Stored by an attempt whose answer was lost?
        const view = await retrying(() => getCase(code.caseNumber, keys.authKey), onRetry);
        if (!alreadyStored(view.messages.slice(0, 1).map((m) => m.envelope), this.#sealed)) throw error;
      }
      this.#reportStored = true;
    }
    progress.set({ step: 'done' });
    return { code: formatReceiptCode(code), session: { caseNumber: code.caseNumber, keys } };
  }
}

/** Sends one reply in an open case; call `send` again after a failure to carry on. */
export class ReplySender {
  readonly #session: Session;
  readonly #counsellors: readonly VerifiedBundle[];
  #ticket: Ticket | undefined;
  #nonce: number | undefined;
  readonly #jobs = new Map<number, UploadJob>();
  readonly #sealed: Uint8Array[] = [];

  constructor(session: Session, counsellors: readonly VerifiedBundle[]) {
    this.#session = session;
    this.#counsellors = counsellors;
  }

  #content(draft: ReplyDraft, jobs: readonly UploadJob[]): Content {
    return {
      v: 1,
      type: 'message',
      time: protocolTime(),
      text: draft.text,
      attachments: jobs.map((job) => attachmentRef(job)),
      ...(draft.consent ? { consent: draft.consent } : {}),
    };
  }

  /** Checks, before anything is sent, that the reply can be sealed. Throws SealError. */
  preflight(draft: ReplyDraft): void {
    checkText(draft.text);
    if (this.#counsellors.length === 0 || this.#counsellors.length + 1 > MAX_RECIPIENTS) throw new SealError(false);
    encode(this.#content(draft, draft.files.map((f) => this.#jobs.get(f.id) ?? newUploadJob(f.file))));
  }

  /** Runs (or resumes) the whole send. */
  async send(draft: ReplyDraft, listener: Listener): Promise<void> {
    const { caseNumber, keys } = this.#session;
    const progress = new Progress(listener, draft.files.length);
    this.preflight(draft);
    const onRetry = () => progress.set({ resuming: true });

    for (let renewals = 0; ; renewals++) {
      if (!fresh(this.#ticket)) {
        progress.set({ step: 'prepare' });
        this.#ticket = await retrying(() => getTicket({ kind: 'message', case: caseNumber }), onRetry);
        this.#nonce = undefined;
      }
      const ticket = this.#ticket;
      if (this.#nonce === undefined) {
        progress.set({ step: 'work', work: 0 });
        this.#nonce = await solveWorkFast(fromBase64(ticket.ticket), ticket.bits, (work) => progress.set({ work }));
      }
      const jobs = await uploadAll(caseNumber, keys.authKey, draft.files, this.#jobs, progress);
      progress.set({ step: 'seal' });
      const content = encode(this.#content(draft, jobs));
      try {
        await this.#post(content, ticket, this.#nonce, onRetry);
        progress.set({ step: 'done' });
        return;
      } catch (error) {
        if (isTicketProblem(error)) {
          this.#ticket = undefined;
          if (renewals < 1) continue;
        }
        throw error;
      }
    }
  }

  /** Seals at the current end of the chain and posts; on a seq conflict re-reads and re-seals. */
  async #post(content: Uint8Array, ticket: Ticket, nonce: number, onRetry: () => void): Promise<void> {
    const { caseNumber, keys } = this.#session;
    for (let attempt = 1; ; attempt++) {
      const view = await retrying(() => getCase(caseNumber, keys.authKey), onRetry);
      const stored = view.messages.map((m) => m.envelope);
      if (alreadyStored(stored, this.#sealed)) return;
      const last = stored[stored.length - 1];
      let prev: Uint8Array = GENESIS_HASH;
      if (last !== undefined) {
        try {
          prev = envelopeHash(parseEnvelope(last));
        } catch {
          prev = new Uint8Array(32).fill(0xff); // an unhashable predecessor: the readers will see a fork
        }
      }
      const sealed = seal({
        caseNumber,
        seq: stored.length,
        prev,
        author: keys.sign,
        content,
        recipients: recipientsFor(keys, this.#counsellors),
      });
      this.#sealed.push(sealed.hash);
      try {
        await postMessage(caseNumber, keys.authKey, { seq: stored.length, envelope: sealed.envelope }, { ticket: ticket.ticket, nonces: [nonce] });
        return;
      } catch (error) {
        const conflict = error instanceof ApiError && error.code === 'seq-conflict';
        if (!(conflict || isTransient(error)) || attempt >= 5) throw error;
        if (!conflict) {
          onRetry();
          await delay(500 * 2 ** (attempt - 1));
        }
      }
    }
  }
}
