/**
 * A Web Worker (same origin, allowed by `worker-src 'self'`) that does the
 * page's heavy, pure work on another core: sealing attachment chunks with
 * crypto's `encryptChunk`, and searching a range of proof-of-work nonces
 * with `solvePow`. It keeps no state between messages and never touches
 * the network.
 * @module
 */

import { solvePow } from '../../../crypto/pow.js';
import { encryptChunk } from '../../../crypto/stream.js';

/** Work for a worker. */
export type WorkerRequest =
  | {
      readonly id: number;
      readonly kind: 'seal';
      readonly key: Uint8Array;
      readonly prefix: Uint8Array;
      readonly index: number;
      readonly plaintext: Uint8Array;
      readonly last: boolean;
    }
  | {
      readonly id: number;
      readonly kind: 'pow';
      readonly challenge: Uint8Array;
      readonly bits: number;
      readonly start: number;
      readonly count: number;
    };

/** A worker's answer. */
export type WorkerResponse =
  | { readonly id: number; readonly sealed: Uint8Array }
  | { readonly id: number; readonly nonce: number | null }
  | { readonly id: number; readonly error: string };

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage: (message: WorkerResponse, transfer: Transferable[]) => void;
};

scope.onmessage = (event) => {
  const job = event.data;
  try {
    if (job.kind === 'seal') {
      const sealed = encryptChunk(job.key, job.prefix, job.index, job.plaintext, job.last);
      scope.postMessage({ id: job.id, sealed }, [sealed.buffer]);
    } else {
      const nonce = solvePow(job.challenge, job.bits, job.start, job.count);
      scope.postMessage({ id: job.id, nonce: nonce ?? null }, []);
    }
  } catch (error) {
    scope.postMessage({ id: job.id, error: error instanceof Error ? error.message : 'error' }, []);
  }
};
