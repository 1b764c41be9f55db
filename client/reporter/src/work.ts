/**
 * Proof of work in slices (PROTOCOL §9): the page solves a few hundred
 * nonces at a time with `solvePow`, reports progress and yields to the
 * browser between slices, so it stays responsive without a JIT.
 * @module
 */

import { solvePow } from '../../../crypto/index.js';
import { WorkError } from './problems.js';

/** Lets the browser paint and handle input. */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Aim for slices of about this many milliseconds (Tor Browser rounds its clock to 100 ms: the aim adapts either way). */
const SLICE_MS = 50;

/**
 * Finds a nonce for `challenge` at `bits`. `onProgress` gets a number from
 * 0 towards 1: the chance that a solver would have finished by now
 * (1 - e^(-tries / 2^bits)), which moves smoothly and never overshoots.
 */
export async function solveWork(
  challenge: Uint8Array,
  bits: number,
  onProgress: (fraction: number) => void,
  from = 0,
): Promise<number> {
  const expected = 2 ** bits;
  let start = from;
  let slice = 128;
  onProgress(0);
  for (;;) {
    const began = performance.now();
    let found: number | undefined;
    try {
      found = solvePow(challenge, bits, start, slice);
    } catch (error) {
      throw new WorkError(error);
    }
    if (found !== undefined) {
      onProgress(1);
      return found;
    }
    start += slice;
    if (start >= Number.MAX_SAFE_INTEGER) throw new WorkError();
    const took = performance.now() - began;
    // Capped, because a coarse clock (Tor Browser rounds it) can read 0 ms for a long slice.
    if (took < SLICE_MS / 2) slice = Math.min(slice * 2, 1 << 14);
    else if (took > SLICE_MS * 2 && slice > 32) slice = Math.floor(slice / 2);
    onProgress(1 - Math.exp(-(start - from) / expected));
    await yieldToBrowser();
  }
}
