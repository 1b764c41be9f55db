/**
 * Sending a reply: a message ticket and its proof of work, the uploads,
 * the sealed message at the end of the chain (re-sealed after a race).
 * Resumable: see send.ts.
 * @module
 */

import type { Content, VerifiedBundle } from '../../../crypto/index.js';
import {
  envelopeHash,
  fromBase64,
  GENESIS_HASH,
  MAX_RECIPIENTS,
  parseEnvelope,
} from '../../../crypto/index.js';
import type { Ticket } from './api.js';
import { ApiError, getCase, getTicket, postMessage } from './api.js';
import type { Session } from './conversation.js';

import { isTransient, SealError } from './problems.js';
import type { UploadJob } from './upload.js';
import { newUploadJob } from './upload.js';
import { solveWorkFast } from './workers.js';
import {
  alreadyStored,
  attachmentRef,
  checkText,
  delay,
  encode,
  fresh,
  isTicketProblem,
  type Listener,
  Progress,
  type ReplyDraft,
  protocolTime,
  recipientsFor,
  retrying,
  seal,
  uploadAll,
} from './send.js';

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
    if (this.#counsellors.length === 0 || this.#counsellors.length + 1 > MAX_RECIPIENTS)
      throw new SealError(false);
    encode(
      this.#content(
        draft,
        draft.files.map((f) => this.#jobs.get(f.id) ?? newUploadJob(f.file)),
      ),
    );
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
        this.#ticket = await retrying(
          () => getTicket({ kind: 'message', case: caseNumber }),
          onRetry,
        );
        this.#nonce = undefined;
      }
      const ticket = this.#ticket;
      if (this.#nonce === undefined) {
        progress.set({ step: 'work', work: 0 });
        this.#nonce = await solveWorkFast(fromBase64(ticket.ticket), ticket.bits, (work) =>
          progress.set({ work }),
        );
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
  async #post(
    content: Uint8Array,
    ticket: Ticket,
    nonce: number,
    onRetry: () => void,
  ): Promise<void> {
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
        await postMessage(
          caseNumber,
          keys.authKey,
          { seq: stored.length, envelope: sealed.envelope },
          { ticket: ticket.ticket, nonces: [nonce] },
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
