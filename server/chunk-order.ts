/**
 * Pipelined upload chunks (docs/API.md, `PATCH …/uploads/:id`). Over Tor a
 * round trip takes about a second, so the page sends an upload's next
 * chunk before the answer to the one before has come back. Each request
 * travels on a connection of its own, so a later chunk can arrive first:
 * it waits here, for its turn, until the upload reaches its offset or a
 * short while has passed, and is then appended (or refused with
 * `offset-mismatch` as before). Bounded: beyond a few waiting chunks per
 * upload and in all, a chunk does not wait (each holds its body, at most
 * 1 MiB, in memory).
 */

interface Waiter {
  readonly offset: number;
  readonly wake: () => void;
}

/** How many chunks may wait, how far ahead of the upload, and how long. */
export interface ChunkOrderOptions {
  /** Waiting chunks in all. */
  readonly maxWaiting: number;
  /** Waiting chunks of one upload. */
  readonly maxPerUpload: number;
  /** A chunk further ahead than this of what the upload holds is not pipelined: it does not wait. */
  readonly maxAheadBytes: number;
  /** Longest wait, in milliseconds. */
  readonly waitMs: number;
}

/** Chunks waiting for their upload to reach their offset, by upload id. */
export class ChunkOrder {
  readonly #waiting = new Map<string, Set<Waiter>>();
  #count = 0;
  readonly #options: ChunkOrderOptions;

  constructor(options: Partial<ChunkOrderOptions> = {}) {
    this.#options = {
      maxWaiting: 32,
      maxPerUpload: 4,
      maxAheadBytes: 4 * 1_048_832,
      waitMs: 30_000,
      ...options,
    };
  }

  /**
   * Returns once upload `id` holds at least `offset` bytes (by `size`),
   * after `waitMs`, or at once when too many chunks wait already or the
   * offset is too far ahead.
   */
  async turn(id: string, offset: number, size: () => Promise<number | undefined>): Promise<void> {
    const set = this.#waiting.get(id) ?? new Set<Waiter>();
    if (this.#count >= this.#options.maxWaiting || set.size >= this.#options.maxPerUpload) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: Waiter | undefined;
    const woken = new Promise<void>((resolve) => {
      waiter = { offset, wake: resolve };
      timer = setTimeout(resolve, this.#options.waitMs);
    });
    // Registered before the size is read, so an append that ends meanwhile still wakes it.
    set.add(waiter!);
    this.#waiting.set(id, set);
    this.#count++;
    try {
      const held = (await size()) ?? 0;
      if (held >= offset || offset - held > this.#options.maxAheadBytes) return;
      await woken;
    } finally {
      clearTimeout(timer);
      set.delete(waiter!);
      this.#count--;
      if (set.size === 0 && this.#waiting.get(id) === set) this.#waiting.delete(id);
    }
  }

  /** Upload `id` now holds `size` bytes: wakes the chunks that start at or before it. */
  reached(id: string, size: number): void {
    for (const waiter of this.#waiting.get(id) ?? []) if (waiter.offset <= size) waiter.wake();
  }
}
