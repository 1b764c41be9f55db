/**
 * Sending a report: a case ticket and its proof of work, the case, the
 * uploads, the sealed report (with the case in one request when it has no
 * attachments). Resumable: see send.ts.
 * @module
 */

import type { Content, ReceiptCode, ReporterKeys, VerifiedBundle } from '../../../crypto/index.js';
import {
  deriveReporterKeys,
  formatReceiptCode,
  fromBase64,
  GENESIS_HASH,
  generateReceiptSecret,
  MAX_RECIPIENTS,
  toBase64,
} from '../../../crypto/index.js';
import type { Ticket } from './api.js';
import { ApiError, createCase, getCase, getTicket, postMessage } from './api.js';
import type { Session } from './conversation.js';
import type { Lang } from './i18n.js';
import { SealError } from './problems.js';
import type { UploadJob } from './upload.js';
import { newUploadJob } from './upload.js';
import { solveWorkFast } from './workers.js';
import {
  alreadyStored,
  attachmentRef,
  checkText,
  encode,
  fresh,
  isTicketProblem,
  PLACEHOLDER_KEY,
  type Listener,
  Progress,
  type ReportDraft,
  protocolTime,
  recipientsFor,
  retrying,
  seal,
  uploadAll,
} from './send.js';

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

  #content(
    draft: ReportDraft,
    language: Lang,
    keys: ReporterKeys | undefined,
    jobs: readonly UploadJob[],
  ): Content {
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
    if (this.#counsellors.length === 0 || this.#counsellors.length + 1 > MAX_RECIPIENTS)
      throw new SealError(false);
    const jobs = draft.files.map((f) => this.#jobs.get(f.id) ?? newUploadJob(f.file));
    encode(this.#content(draft, language, undefined, jobs));
  }

  #seal(
    draft: ReportDraft,
    language: Lang,
    code: ReceiptCode,
    keys: ReporterKeys,
    jobs: readonly UploadJob[],
  ) {
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
      if (
        !(
          error instanceof ApiError &&
          error.status === 401 &&
          this.#caseCreated &&
          !this.#reportStored
        )
      )
        throw error;
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
        this.#nonce = await solveWorkFast(fromBase64(ticket.ticket), ticket.bits, (work) =>
          progress.set({ work }),
        );
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
        if (
          error instanceof ApiError &&
          (error.code === 'case-exists' || error.code === 'ticket-spent')
        ) {
          // An earlier attempt may have made it and lost the answer (its ticket is spent with it):
          // it is ours if our key opens it.
          try {
            const view = await getCase(ticket.case, keys.authKey);
            this.#caseCreated = true;
            this.#reportStored = alreadyStored(
              view.messages.slice(0, 1).map((m) => m.envelope),
              this.#sealed,
            );
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
      const jobs = await uploadAll(
        code.caseNumber,
        keys.authKey,
        draft.files,
        this.#jobs,
        progress,
      );
      progress.set({ step: 'seal' });
      const envelope = this.#seal(draft, language, code, keys, jobs);
      try {
        await retrying(
          () => postMessage(code.caseNumber, keys.authKey, { seq: 0, envelope }),
          onRetry,
        );
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'seq-conflict')) throw error;
        // Stored by an attempt whose answer was lost?
        const view = await retrying(() => getCase(code.caseNumber, keys.authKey), onRetry);
        if (
          !alreadyStored(
            view.messages.slice(0, 1).map((m) => m.envelope),
            this.#sealed,
          )
        )
          throw error;
      }
      this.#reportStored = true;
    }
    progress.set({ step: 'done' });
    return { code: formatReceiptCode(code), session: { caseNumber: code.caseNumber, keys } };
  }
}
