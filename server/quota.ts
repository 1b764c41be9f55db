/**
 * The store's limits for anonymous writes: a byte quota over everything
 * the cases hold (KLUIS_MAX_STORE_MB) and a floor of free disk space
 * (KLUIS_MIN_FREE_MB). Beyond either, case creation, reporter messages and
 * reporter uploads get `503 store-full`; counsellors keep reading, replying
 * and deleting, and deleting frees quota.
 */

import { StoreFullError } from './errors.js';
import type { CaseRecord, CaseSummary } from './records.js';
import type { Store } from './store/index.js';

/** Bytes a case record costs beyond its ciphertext (verifier, hours, JSON). */
export const RECORD_OVERHEAD_BYTES = 1024;
/** How long a sum over all cases is trusted before it is taken again (writes since are added to it). */
const USAGE_TTL_MS = 10_000;
/** How long a free-space reading is trusted (writes since are taken off it). */
const FREE_TTL_MS = 1_000;

/** Free bytes for an unprivileged writer on the data directory's file system, or undefined if unknown. */
export type DiskFree = () => Promise<number | undefined>;

/** What the quota needs. */
export interface QuotaOptions {
  readonly store: Store<CaseRecord, CaseSummary>;
  readonly maxStoreBytes: number;
  readonly minFreeBytes: number;
  readonly diskFree: DiskFree | undefined;
  readonly now: () => number;
  /**
   * The bytes all cases count, summed by the store itself (the PostgreSQL store: one aggregate
   * over a column written with each case, pg-store.ts `weigh`), instead of over summaries().
   */
  readonly totalBytes?: (() => Promise<number>) | undefined;
  /** Told (at most once an hour) when anonymous writes start being refused, so the operator knows. */
  readonly warn?: (message: string) => void;
}

/** Least time between two warnings about a full store. */
const WARN_INTERVAL_MS = 60 * 60 * 1000;
const MIB = 1024 * 1024;

/** Bytes a case counts against the quota. */
export function caseBytes(summary: CaseSummary): number {
  return RECORD_OVERHEAD_BYTES + summary.bytes + summary.messageBytes;
}

/**
 * Counts the store's bytes from the in-memory summaries (announced upload
 * lengths, so an upload's bytes are counted from the moment it is created)
 * and checks writes against the limits. The sum over all cases is cached
 * and writes since are added, so a check stays cheap with 100,000 cases;
 * a deletion is seen at the next sum (sooner with `forget`). Checks that
 * run at the same moment may overshoot the quota by the bodies in flight,
 * which the memory budget bounds.
 */
export class StoreQuota {
  readonly #options: QuotaOptions;
  #usage: { bytes: number; at: number } | undefined;
  /** The sum being taken: requests that arrive meanwhile wait for it rather than take their own. */
  #summing: Promise<number> | undefined;
  #free: { bytes: number | undefined; at: number } | undefined;
  #warned = Number.NEGATIVE_INFINITY;

  constructor(options: QuotaOptions) {
    this.#options = options;
  }

  /** Bytes the cases hold now (by the cached sum). */
  async usage(): Promise<number> {
    const now = this.#options.now();
    if (!this.#usage || now - this.#usage.at > USAGE_TTL_MS) {
      this.#summing ??= this.#sum().finally(() => {
        this.#summing = undefined;
      });
      const bytes = await this.#summing;
      this.#usage = { bytes, at: now };
    }
    return this.#usage.bytes;
  }

  async #sum(): Promise<number> {
    if (this.#options.totalBytes) return this.#options.totalBytes();
    let bytes = 0;
    for await (const [, summary] of this.#options.store.records.summaries())
      bytes += caseBytes(summary);
    return bytes;
  }

  async #freeBytes(): Promise<number | undefined> {
    const now = this.#options.now();
    if (!this.#options.diskFree) return undefined;
    if (!this.#free || now - this.#free.at > FREE_TTL_MS)
      this.#free = { bytes: await this.#options.diskFree(), at: now };
    return this.#free.bytes;
  }

  /**
   * Throws StoreFullError unless `storeBytes` more fit in the quota and
   * `diskBytes` more leave the disk above its floor. Nothing is counted.
   */
  async check(storeBytes: number, diskBytes: number): Promise<void> {
    const usage = await this.usage();
    if (usage + storeBytes > this.#options.maxStoreBytes) {
      this.#warn(
        `WARNING: the store holds ${(usage / MIB).toFixed(0)} MiB of KLUIS_MAX_STORE_MB ${this.#options.maxStoreBytes / MIB}: reporters are refused (store-full) until cases are deleted or the quota is raised`,
      );
      throw new StoreFullError('the drop box is full for now: try again later');
    }
    const free = await this.#freeBytes();
    if (free !== undefined && free - diskBytes < this.#options.minFreeBytes) {
      this.#warn(
        `WARNING: ${(free / MIB).toFixed(0)} MiB free on the data directory's disk, below KLUIS_MIN_FREE_MB ${this.#options.minFreeBytes / MIB}: reporters are refused (store-full) until space is freed`,
      );
      throw new StoreFullError('the server’s disk is nearly full: try again later');
    }
  }

  #warn(message: string): void {
    const now = this.#options.now();
    if (now - this.#warned < WARN_INTERVAL_MS) return;
    this.#warned = now;
    this.#options.warn?.(message);
  }

  /** Counts a write that was made (store bytes and disk bytes). */
  wrote(storeBytes: number, diskBytes: number): void {
    if (this.#usage) this.#usage.bytes += storeBytes;
    if (this.#free?.bytes !== undefined) this.#free.bytes -= diskBytes;
  }

  /** Forgets the cached sums, e.g. after a deletion, so the freed bytes count at once. */
  forget(): void {
    this.#usage = undefined;
    this.#free = undefined;
  }
}
