/**
 * A bounded set of keys that expire: spent tickets and seen request nonces.
 * Expired keys are dropped as new ones arrive; past `capacity` the oldest
 * key goes first, so memory stays bounded whatever clients send.
 */
export class ExpiringSet {
  readonly #expiries = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Adds `key` until `expiresAt`; returns false if it is already present and unexpired. */
  add(key: string, expiresAt: number, now: number): boolean {
    const existing = this.#expiries.get(key);
    if (existing !== undefined && existing > now) return false;
    this.#expiries.delete(key);
    if (this.#expiries.size >= this.#capacity) this.#purge(now);
    if (this.#expiries.size >= this.#capacity)
      this.#expiries.delete(this.#expiries.keys().next().value!);
    this.#expiries.set(key, expiresAt);
    return true;
  }

  /** Forgets `key`, e.g. a ticket whose write did not happen after all. */
  delete(key: string): void {
    this.#expiries.delete(key);
  }

  #purge(now: number): void {
    for (const [key, expiresAt] of this.#expiries) if (expiresAt <= now) this.#expiries.delete(key);
  }

  get size(): number {
    return this.#expiries.size;
  }
}
