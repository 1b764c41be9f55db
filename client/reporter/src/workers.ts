/**
 * A small pool of Web Workers (worker.ts) for the page's heavy, pure work:
 * sealing attachment chunks and searching proof-of-work nonces on every
 * core. Without a JIT (Tor Browser at Safer level) these are the slowest
 * parts of sending. The results are exactly those of crypto's
 * `encryptChunk` and `solvePow`; only the speed differs. When workers
 * cannot start or fail, the page does the same work on its own thread.
 * @module
 */

import { encryptChunk } from '../../../crypto/index.js';
import { WorkError } from './problems.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';
import { solveWork, yieldToBrowser } from './work.js';

type Job = WorkerRequest extends infer R
  ? R extends WorkerRequest
    ? Omit<R, 'id'>
    : never
  : never;

interface Pending {
  readonly resolve: (response: WorkerResponse) => void;
  readonly reject: (error: Error) => void;
}

class Pool {
  readonly workers: Worker[];
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #id = 0;

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
      worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
        const pending = this.#pending.get(event.data.id);
        if (!pending) return;
        this.#pending.delete(event.data.id);
        if ('error' in event.data) pending.reject(new Error(event.data.error));
        else pending.resolve(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        this.fail();
      };
      return worker;
    });
  }

  /** Stops the workers and rejects what is in flight; from now on the page works alone. */
  fail(): void {
    for (const worker of this.workers) worker.terminate();
    for (const pending of this.#pending.values()) pending.reject(new Error('worker failed'));
    this.#pending.clear();
    broken = true;
    pool = undefined;
  }

  /** Runs a job on worker `which` (or the next in turn). */
  call(job: Job, transfer: Transferable[] = [], which?: number): Promise<WorkerResponse> {
    const id = this.#id++;
    const worker = this.workers[(which ?? this.#next++) % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id }, transfer);
    });
  }
}

let pool: Pool | undefined;
let broken = false;

function workerPool(): Pool | undefined {
  if (pool || broken) return pool;
  if (typeof Worker === 'undefined') {
    broken = true;
    return undefined;
  }
  try {
    const cores =
      typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0
        ? navigator.hardwareConcurrency
        : 2;
    pool = new Pool(Math.min(4, Math.max(2, cores)));
  } catch {
    broken = true;
  }
  return pool;
}

/** Starts the workers ahead of time (while the reporter writes), so sending does not wait for them. */
export function warmWorkers(): void {
  workerPool();
}

/** Seals chunk `index` of a stream. */
export type ChunkSealer = (
  key: Uint8Array,
  prefix: Uint8Array,
  index: number,
  plaintext: Uint8Array,
  last: boolean,
) => Promise<Uint8Array>;

/** On the page's own thread, yielding after each chunk. */
export const sealOnPage: ChunkSealer = async (key, prefix, index, plaintext, last) => {
  const sealed = encryptChunk(key, prefix, index, plaintext, last);
  await yieldToBrowser();
  return sealed;
};

/** Seals a chunk on a worker if there are any, else on the page. */
export const sealChunk: ChunkSealer = async (key, prefix, index, plaintext, last) => {
  const workers = workerPool();
  if (workers) {
    const copy = plaintext.slice(); // its buffer is handed over to the worker
    try {
      const response = await workers.call(
        { kind: 'seal', key, prefix, index, plaintext: copy, last },
        [copy.buffer],
      );
      if ('sealed' in response) return response.sealed;
    } catch {
      // fall through to the page
    }
    workers.fail();
  }
  return sealOnPage(key, prefix, index, plaintext, last);
};

/** Tries per worker request: about 50 to 200 ms of work without a JIT, more with one. */
const FIRST_SLICE = 256;
const SLICE_MS = 100;

/**
 * Finds a proof-of-work nonce, searching disjoint ranges on every worker
 * at once (any valid nonce will do, not only the smallest). Falls back to
 * the page's own thread. `onProgress` as in `solveWork`.
 */
export async function solveWorkFast(
  challenge: Uint8Array,
  bits: number,
  onProgress: (fraction: number) => void,
  from = 0,
): Promise<number> {
  const workers = workerPool();
  if (!workers) return solveWork(challenge, bits, onProgress, from);
  const expected = 2 ** bits;
  onProgress(0);
  try {
    return await new Promise<number>((resolve, reject) => {
      let next = from;
      let tried = 0;
      let done = false;
      const run = (which: number, slice: number) => {
        if (done) return;
        const start = next;
        next += slice;
        const began = performance.now();
        workers.call({ kind: 'pow', challenge, bits, start, count: slice }, [], which).then(
          (response) => {
            if (done) return;
            if ('nonce' in response && response.nonce !== null) {
              done = true;
              onProgress(1);
              resolve(response.nonce);
              return;
            }
            tried += slice;
            onProgress(1 - Math.exp(-tried / expected));
            const took = performance.now() - began;
            // Capped, because a coarse clock (Tor Browser rounds it) can read 0 ms.
            const size =
              took < SLICE_MS / 2
                ? Math.min(slice * 2, 1 << 14)
                : took > SLICE_MS * 2 && slice > 64
                  ? slice / 2
                  : slice;
            run(which, size);
          },
          (error: unknown) => {
            done = true;
            reject(error);
          },
        );
      };
      for (let which = 0; which < workers.workers.length; which++) run(which, FIRST_SLICE);
    });
  } catch (error) {
    if (error instanceof WorkError) throw error;
    workers.fail();
    return solveWork(challenge, bits, onProgress, from);
  }
}

/**
 * Finds `count` distinct nonces in rising order (the price of an upload:
 * one solution per so many MiB), each searched from just after the last.
 * `onProgress` runs from 0 to 1 over all of them.
 */
export async function solveWorkMany(
  challenge: Uint8Array,
  bits: number,
  count: number,
  onProgress: (fraction: number) => void,
): Promise<number[]> {
  const nonces: number[] = [];
  while (nonces.length < count) {
    const done = nonces.length;
    nonces.push(
      await solveWorkFast(
        challenge,
        bits,
        (fraction) => onProgress((done + fraction) / count),
        (nonces.at(-1) ?? -1) + 1,
      ),
    );
  }
  return nonces;
}
