/**
 * Opening cases on more cores. The inbox opens every message of every
 * case (an X25519 unwrap and an Ed25519 verification each, about 0.25 ms);
 * for a thousand cases that is a second of one core, so the inbox hands
 * cases to worker threads while the main thread keeps fetching. Without
 * workers (one core, or KLUIS_COUNSELLOR_WORKERS=0) it opens in place:
 * same function, same answers.
 * @module
 */

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CaseDetail } from './api.js';
import type { CaseView, OpenContext } from './open-case.js';
import type { OpenJob, WorkerInit } from './open-worker.js';

/**
 * Workers to use by default: none below 4 cores (measured on 2 cores with
 * the server on the same machine: a worker only competes with it and the
 * fetching thread), else cores - 2, at most 4. KLUIS_COUNSELLOR_WORKERS
 * overrides.
 */
export function defaultWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.KLUIS_COUNSELLOR_WORKERS;
  if (configured !== undefined && /^\d+$/.test(configured)) return Math.min(Number(configured), 16);
  const cores = availableParallelism();
  return cores < 4 ? 0 : Math.min(cores - 2, 4);
}

/**
 * The worker's entry: the compiled worker as it is, or, when running from
 * TypeScript sources (tsx, vitest), a bootstrap that registers tsx in the
 * worker first (Node 20 does not pass `--import tsx` on to worker threads).
 */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./open-worker-boot.mjs', import.meta.url)
    : new URL('./open-worker.js', import.meta.url);
}

type Pending = {
  resolve: (view: Omit<CaseView, 'detail'>) => void;
  reject: (error: Error) => void;
};

/** A few worker threads that open cases. */
export class OpenPool {
  readonly #workers: { worker: Worker; busy: number }[] = [];
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #broken: Error | undefined;

  private constructor(init: WorkerInit, size: number) {
    const entry = workerEntry();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry, { workerData: init });
      const slot = { worker, busy: 0 };
      worker.on(
        'message',
        (message: { id: number; view?: Omit<CaseView, 'detail'>; error?: string }) => {
          slot.busy--;
          const pending = this.#pending.get(message.id);
          this.#pending.delete(message.id);
          if (message.view) pending?.resolve(message.view);
          else pending?.reject(new Error(`opening a case failed in a worker: ${message.error}`));
        },
      );
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.#fail(new Error(`a worker exited with ${code}`));
      });
      this.#workers.push(slot);
    }
  }

  /** A pool of `size` workers, or undefined for size 0. */
  static create(init: WorkerInit, size: number): OpenPool | undefined {
    return size > 0 ? new OpenPool(init, size) : undefined;
  }

  #fail(error: Error): void {
    this.#broken ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  /** Opens a case in the least busy worker. */
  open(detail: CaseDetail, context: OpenContext): Promise<CaseView> {
    if (this.#broken) return Promise.reject(this.#broken);
    const entry = this.#workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.#next++;
    const job: OpenJob = {
      id,
      detail,
      counsellors: context.counsellors,
      escalation: context.escalation,
      names: context.names,
      memory: context.memory,
    };
    return new Promise<Omit<CaseView, 'detail'>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      entry.busy++;
      entry.worker.postMessage(job);
    }).then((view) => ({ ...view, detail }));
  }

  get broken(): boolean {
    return this.#broken !== undefined;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((entry) => entry.worker.terminate()));
  }
}
