/**
 * Sending a report: a case ticket and its proof of work (prepaid while the
 * reporter writes, prepaid.ts), then after Send the case with the sealed
 * report in one request when it has no attachments; with attachments, the
 * case announcing its uploads in one request, the uploads (pipelined), and
 * the sealed report. Resumable: see send.ts.
 * @module
 */

import type {
  Content,
  ReceiptCode,
  ReporterKeys,
  VerifiedBundle,
  WrappedAhead,
} from '../../../crypto/index.js';
import {
  deriveReporterKeys,
  formatReceiptCode,
  GENESIS_HASH,
  generateReceiptSecret,
  MAX_RECIPIENTS,
  toBase64,
} from '../../../crypto/index.js';
import type { Ticket } from './api.js';
import { ApiError, createCase, getCase, getTicket, postMessage } from './api.js';
import { Prepaid } from './prepaid.js';
import { MAX_CASE_UPLOADS } from '../../../api/contract.js';
import type { Session } from './conversation.js';
import type { Lang } from './i18n.js';
import { SealError } from './problems.js';
import type { UploadJob } from './upload.js';
import { dropAhead, newUploadJob, sealAhead, solutionsFor } from './upload.js';
import {
  alreadyStored,
  attachmentRef,
  checkText,
  encode,
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
  wrapForLater,
  wrappedFor,
} from './send.js';

/** The result of a report that reached the server. */
export interface SentReport {
  readonly code: string;
  readonly session: Session;
}

/** Sends one report; call `send` again after a failure to carry on. */
export class ReportSender {
  #counsellors: readonly VerifiedBundle[] = [];
  readonly #prepaid: Prepaid;
  /** The receipt code and keys of each case ticket's case, made when the ticket came. */
  readonly #codes = new WeakMap<Ticket, { code: ReceiptCode; keys: ReporterKeys }>();
  /** The report's content key, wrapped ahead for each case's keys (used once). */
  readonly #ahead = new WeakMap<ReporterKeys, Promise<WrappedAhead | undefined>>();
  #code: ReceiptCode | undefined;
  #keys: ReporterKeys | undefined;
  #caseCreated = false;
  #reportStored = false;
  readonly #jobs = new Map<number, UploadJob>();
  readonly #sealed: Uint8Array[] = [];

  /**
   * `sealFor` gives the counsellors to seal for once the build's keys are
   * checked against the server's list (keys.ts).
   */
  constructor(sealFor: () => Promise<readonly VerifiedBundle[]>) {
    this.#prepaid = new Prepaid(
      () => getTicket({ kind: 'case' }),
      (ticket) => {
        const code = { caseNumber: ticket.case, secret: generateReceiptSecret() };
        const keys = deriveReporterKeys(code);
        this.#codes.set(ticket, { code, keys });
        // The slow part of sealing, done before the text is known (send.ts wrapForLater).
        this.#ahead.set(keys, wrapForLater(keys, sealFor));
      },
    );
  }

  /** Whether the case exists on the server already (so a retry will not make a new one). */
  get started(): boolean {
    return this.#caseCreated;
  }

  /**
   * While the reporter writes: the case ticket and its proof of work for
   * the files chosen so far (one solution, and one per 16 MiB of each
   * file), renewed before it expires. Sends nothing of the report.
   */
  prepare(draft: ReportDraft): void {
    if (this.#caseCreated) return;
    const jobs = this.#jobsFor(draft);
    this.#prepaid.warm(this.#price(jobs));
    // The files' first requests, sealed in memory (upload.ts); a removed file's are dropped.
    for (const [id, job] of this.#jobs)
      if (!draft.files.some((f) => f.id === id)) {
        dropAhead(job);
        this.#jobs.delete(id);
      }
    for (const job of jobs) sealAhead(job);
  }

  /** Stops renewing the prepaid ticket (the write screen closed). */
  pause(): void {
    this.#prepaid.stop();
  }

  #jobsFor(draft: ReportDraft): UploadJob[] {
    return draft.files.map((f) => {
      let job = this.#jobs.get(f.id);
      if (!job) {
        job = newUploadJob(f.file);
        this.#jobs.set(f.id, job);
      }
      return job;
    });
  }

  /** Solutions a new case costs: one, and its announced uploads' (docs/API.md, "The price"). */
  #price(jobs: readonly UploadJob[]): number {
    if (jobs.length > MAX_CASE_UPLOADS) return 1; // announced one by one, each with its own ticket
    return 1 + jobs.reduce((sum, job) => sum + solutionsFor(job.length), 0);
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

  /**
   * Checks, before anything is sent, that the report can be sealed for
   * `counsellors` (the build's keys the server lists too). Throws SealError.
   */
  preflight(draft: ReportDraft, language: Lang, counsellors: readonly VerifiedBundle[]): void {
    checkText(draft.text);
    if (counsellors.length === 0 || counsellors.length + 1 > MAX_RECIPIENTS)
      throw new SealError(false);
    encode(this.#content(draft, language, undefined, this.#jobsFor(draft)));
  }

  async #seal(
    draft: ReportDraft,
    language: Lang,
    code: ReceiptCode,
    keys: ReporterKeys,
    jobs: readonly UploadJob[],
  ) {
    const content = encode(this.#content(draft, language, keys, jobs));
    const recipients = recipientsFor(keys, this.#counsellors);
    const ahead = wrappedFor(await this.#ahead.get(keys), recipients);
    this.#ahead.delete(keys); // a content key seals one envelope
    const sealed = seal({
      caseNumber: code.caseNumber,
      seq: 0,
      prev: GENESIS_HASH,
      author: keys.sign,
      content,
      recipients,
      ...(ahead ? { wrapped: ahead } : {}),
    });
    this.#sealed.push(sealed.hash);
    return sealed.envelope;
  }

  /**
   * Runs (or resumes) the whole send, sealing for `counsellors` (checked
   * against the server's list before: keys.ts). A report without files
   * travels with the new case in one request; one with files announces
   * them with the case, uploads them, then posts message 0.
   */
  async send(
    draft: ReportDraft,
    language: Lang,
    counsellors: readonly VerifiedBundle[],
    listener: Listener,
  ): Promise<SentReport> {
    this.#counsellors = counsellors;
    this.#prepaid.stop();
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
      this.#prepaid.drop();
      this.#caseCreated = false;
      for (const job of this.#jobs.values()) dropAhead(job);
      this.#jobs.clear();
      return this.#send(draft, language, listener);
    }
  }

  async #send(draft: ReportDraft, language: Lang, listener: Listener): Promise<SentReport> {
    const progress = new Progress(listener, draft.files.length);
    this.preflight(draft, language, this.#counsellors);
    const onRetry = () => progress.set({ resuming: true });

    while (!this.#caseCreated) {
      const jobs = this.#jobsFor(draft);
      // Usually solved while the reporter wrote; if not, the screen shows the work.
      this.#prepaid.onWork = (work) => progress.set({ step: 'work', work });
      const work = await this.#prepaid.work(this.#price(jobs)).finally(() => {
        this.#prepaid.onWork = undefined;
      });
      const ticket = work.ticketAnswer;
      const { code, keys } = this.#codes.get(ticket)!;
      let report: unknown;
      if (jobs.length === 0) {
        progress.set({ step: 'seal', work: 1 });
        report = await this.#seal(draft, language, code, keys, []);
      } else {
        progress.set({ step: 'case', work: 1 });
      }
      const body = {
        verifier: toBase64(keys.verifier),
        ...(report !== undefined
          ? { report }
          : jobs.length <= MAX_CASE_UPLOADS
            ? { uploads: jobs.map((job) => job.length) }
            : {}),
      };
      try {
        const created = await retrying(() => createCase(body, work), onRetry);
        this.#started(code, keys, report !== undefined);
        for (const [i, upload] of (created.uploads ?? []).entries()) {
          const job = jobs[i];
          if (job) Object.assign(job, { id: upload.id, offset: upload.offset, stale: false });
        }
      } catch (error) {
        if (
          error instanceof ApiError &&
          (error.code === 'case-exists' || error.code === 'ticket-spent')
        ) {
          // An earlier attempt may have made it and lost the answer (its ticket is spent with it):
          // it is ours if our key opens it.
          try {
            const view = await getCase(ticket.case, keys.authKey);
            this.#started(
              code,
              keys,
              alreadyStored(
                view.messages.slice(0, 1).map((m) => m.envelope),
                this.#sealed,
              ),
            );
            // Its uploads are ours too, announced in the same order as the files.
            for (const [i, upload] of view.uploads.entries()) {
              const job = jobs[i];
              if (job && upload.length === job.length)
                Object.assign(job, { id: upload.id, offset: upload.offset, stale: true });
            }
            continue;
          } catch (check) {
            if (!(check instanceof ApiError && check.status === 401)) throw check;
          }
          this.#prepaid.drop();
          continue;
        }
        if (isTicketProblem(error)) this.#prepaid.drop();
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
      const envelope = await this.#seal(draft, language, code, keys, jobs);
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

  /** The case exists: its ticket is spent, and no renewal will name another case. */
  #started(code: ReceiptCode, keys: ReporterKeys, reportStored: boolean): void {
    this.#prepaid.stop();
    this.#prepaid.drop();
    this.#code = code;
    this.#keys = keys;
    this.#caseCreated = true;
    this.#reportStored = reportStored;
  }
}
