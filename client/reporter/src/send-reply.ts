/**
 * Sending a reply: a message ticket and its proof of work (prepaid while
 * the reporter writes, prepaid.ts, and so are the files' upload tickets),
 * the uploads, the sealed message at the end of the chain as the page last
 * read it (re-read and re-sealed after a race). A reply without files is
 * one request after Send. Resumable: see send.ts.
 * @module
 */

import type { Content, VerifiedBundle, WrappedAhead } from '../../../crypto/index.js';
import {
  envelopeHash,
  GENESIS_HASH,
  MAX_RECIPIENTS,
  parseEnvelope,
} from '../../../crypto/index.js';
import type { Work } from './api.js';
import { ApiError, getCase, getTicket, postMessage } from './api.js';
import { Prepaid } from './prepaid.js';
import type { Session } from './conversation.js';

import { isTransient, SealError } from './problems.js';
import type { UploadJob } from './upload.js';
import { dropAhead, newUploadJob, prepay, sealAhead } from './upload.js';
import {
  alreadyStored,
  attachmentRef,
  checkText,
  delay,
  encode,
  isTicketProblem,
  type Listener,
  Progress,
  type ReplyDraft,
  protocolTime,
  recipientsFor,
  retrying,
  seal,
  uploadAll,
  wrapForLater,
  wrappedFor,
} from './send.js';

/** Sends one reply in an open case; call `send` again after a failure to carry on. */
export class ReplySender {
  readonly #session: Session;
  #counsellors: readonly VerifiedBundle[] = [];
  readonly #prepaid: Prepaid;
  readonly #jobs = new Map<number, UploadJob>();
  readonly #sealed: Uint8Array[] = [];
  readonly #sealFor: () => Promise<readonly VerifiedBundle[]>;
  /** The reply's content key, wrapped ahead (used once). */
  #ahead: Promise<WrappedAhead | undefined> | undefined;

  /** `sealFor`: the counsellors to seal for, once checked against the server's list (keys.ts). */
  constructor(session: Session, sealFor: () => Promise<readonly VerifiedBundle[]>) {
    this.#session = session;
    this.#sealFor = sealFor;
    this.#prepaid = new Prepaid(() => getTicket({ kind: 'message', case: session.caseNumber }));
  }

  /**
   * While the reporter writes: the message ticket and its proof of work,
   * and each chosen file's upload ticket and work, renewed before they
   * expire. Sends nothing of the reply.
   */
  prepare(files: ReplyDraft['files']): void {
    this.#prepaid.warm(1);
    // The slow part of sealing, done before the text is known (send.ts wrapForLater).
    this.#ahead ??= wrapForLater(this.#session.keys, this.#sealFor);
    for (const [id, job] of this.#jobs)
      if (!files.some((f) => f.id === id)) {
        dropAhead(job);
        this.#jobs.delete(id);
      }
    for (const job of this.#jobsFor(files)) {
      prepay(this.#session.caseNumber, job);
      sealAhead(job); // its first requests, in memory (upload.ts)
    }
  }

  /** Stops renewing the prepaid ticket (the screen closed). */
  pause(): void {
    this.#prepaid.stop();
  }

  #jobsFor(files: ReplyDraft['files']): UploadJob[] {
    return files.map((f) => {
      let job = this.#jobs.get(f.id);
      if (!job) {
        job = newUploadJob(f.file);
        this.#jobs.set(f.id, job);
      }
      return job;
    });
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

  /** Checks, before anything is sent, that the reply can be sealed for `counsellors`. Throws SealError. */
  preflight(draft: ReplyDraft, counsellors: readonly VerifiedBundle[]): void {
    checkText(draft.text);
    if (counsellors.length === 0 || counsellors.length + 1 > MAX_RECIPIENTS)
      throw new SealError(false);
    encode(this.#content(draft, this.#jobsFor(draft.files)));
  }

  /**
   * Runs (or resumes) the whole send, sealing for `counsellors` (checked
   * against the server's list: keys.ts). `known` is the conversation as the
   * page last read it: the reply is sealed after its last message without
   * reading it again (a `seq-conflict` means someone wrote meanwhile).
   */
  async send(
    draft: ReplyDraft,
    counsellors: readonly VerifiedBundle[],
    known: readonly unknown[] | undefined,
    listener: Listener,
  ): Promise<void> {
    this.#counsellors = counsellors;
    this.#prepaid.stop();
    const { caseNumber, keys } = this.#session;
    const progress = new Progress(listener, draft.files.length);
    this.preflight(draft, counsellors);
    const onRetry = () => progress.set({ resuming: true });

    for (let renewals = 0; ; renewals++) {
      this.#prepaid.onWork = (work) => progress.set({ step: 'work', work });
      const work = await this.#prepaid.work(1).finally(() => {
        this.#prepaid.onWork = undefined;
      });
      const jobs = await uploadAll(caseNumber, keys.authKey, draft.files, this.#jobs, progress);
      progress.set({ step: 'seal' });
      const content = encode(this.#content(draft, jobs));
      try {
        await this.#post(content, work, known, onRetry);
        this.#prepaid.drop(); // spent
        progress.set({ step: 'done' });
        return;
      } catch (error) {
        if (isTicketProblem(error)) {
          this.#prepaid.drop();
          if (renewals < 1) continue;
        }
        throw error;
      }
    }
  }

  /** Seals at the current end of the chain and posts; on a seq conflict re-reads and re-seals. */
  async #post(
    content: Uint8Array,
    work: Work,
    known: readonly unknown[] | undefined,
    onRetry: () => void,
  ): Promise<void> {
    const { caseNumber, keys } = this.#session;
    for (let attempt = 1; ; attempt++) {
      let stored: readonly unknown[];
      // The first try seals after the conversation as shown; after any failure, the server's word
      // (an earlier attempt may have been stored and its answer lost).
      if (attempt === 1 && known !== undefined && this.#sealed.length === 0) stored = known;
      else {
        const view = await retrying(() => getCase(caseNumber, keys.authKey), onRetry);
        stored = view.messages.map((m) => m.envelope);
        if (alreadyStored(stored, this.#sealed)) return;
      }
      const last = stored[stored.length - 1];
      let prev: Uint8Array = GENESIS_HASH;
      if (last !== undefined) {
        try {
          prev = envelopeHash(parseEnvelope(last));
        } catch {
          prev = new Uint8Array(32).fill(0xff); // an unhashable predecessor: the readers will see a fork
        }
      }
      const recipients = recipientsFor(keys, this.#counsellors);
      const ahead = wrappedFor(await this.#ahead, recipients);
      this.#ahead = undefined; // a content key seals one envelope
      const sealed = seal({
        caseNumber,
        seq: stored.length,
        prev,
        author: keys.sign,
        content,
        recipients,
        ...(ahead ? { wrapped: ahead } : {}),
      });
      this.#sealed.push(sealed.hash);
      try {
        await postMessage(
          caseNumber,
          keys.authKey,
          { seq: stored.length, envelope: sealed.envelope },
          { ticket: work.ticket, nonces: work.nonces },
        );
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
