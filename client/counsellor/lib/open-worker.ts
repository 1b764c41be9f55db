/**
 * Worker thread of open-pool.ts: opens cases (open-case.ts) with the box key
 * it was started with. Receives `{ id, detail, counsellors, names, memory }`,
 * answers `{ id, view }` (the view without its `detail`, which the caller
 * has) or `{ id, error }`.
 * @module
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { CaseDetail } from './api.js';
import { createNativeVerifier } from '../../../crypto-node/verify.js';
import { createNativeUnwrapper } from './native.js';
import { openCaseDetail } from './open-case.js';
import type { CaseMemory } from './state.js';

export interface WorkerInit {
  readonly role: 'counsellor' | 'escalation';
  readonly fingerprint: string;
  readonly boxPublicKey: Uint8Array;
  readonly boxSecretKey: Uint8Array;
}

export interface OpenJob {
  readonly id: number;
  readonly detail: CaseDetail;
  readonly counsellors: readonly {
    readonly fingerprint: string;
    readonly signPublicKey: Uint8Array;
  }[];
  readonly escalation: readonly string[];
  readonly names: readonly (readonly [string, string])[];
  readonly memory: CaseMemory | undefined;
}

const init = workerData as WorkerInit;
const unwrap = createNativeUnwrapper({
  fingerprint: init.fingerprint,
  boxPublicKey: init.boxPublicKey,
  boxSecretKey: init.boxSecretKey,
});
const verifier = createNativeVerifier();

parentPort!.on('message', (job: OpenJob) => {
  try {
    const { detail: _, ...view } = openCaseDetail(job.detail, {
      role: init.role,
      fingerprint: init.fingerprint,
      unwrap,
      verifier,
      counsellors: job.counsellors,
      escalation: job.escalation,
      names: job.names,
      memory: job.memory,
    });
    parentPort!.postMessage({ id: job.id, view });
  } catch (error) {
    parentPort!.postMessage({
      id: job.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
});
