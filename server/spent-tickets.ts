/**
 * Spent tickets: each ticket buys one anonymous write (a case, or a
 * reporter's message), so the server remembers every ticket used until it
 * expires, across restarts.
 *
 * What is kept is coarse on purpose (docs/API.md, "What the server
 * stores"): not the ticket, whose bytes carry its expiry to the second, but
 * a 16-byte hash of it, in one file per expiry hour
 * (`spent-tickets/<hour>`, the hour since the epoch, rounded up, by which
 * every ticket in the file has expired). Files and the directory carry the
 * store's one fixed time (store/coarse-time.ts), like everything the server
 * writes. A file is removed once its hour has passed.
 */

import { open, readdir, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { labelledHash, toBase64 } from '../crypto/index.js';
import { TicketSpentError } from './errors.js';
import { ExpiringSet } from './expiring-set.js';
import { hourOf } from './records.js';
import { readFileQuietSync, stampHandle, stampPath } from './store/coarse-time.js';
import { DirSyncer, DurableDirs, isErrno } from './store/durable-fs.js';

/** The directory in the data directory. */
export const SPENT_TICKETS_DIR = 'spent-tickets';
/** Bytes of one entry: the ticket's hash. */
export const SPENT_ENTRY_BYTES = 16;
const HOUR_MS = 3_600_000;

/** The entry of a ticket: a hash, so the file holds neither the ticket's case number nor its precise expiry. */
export function spentTicketId(ticket: Uint8Array): Uint8Array {
  return labelledHash('kluis/v1/spent-ticket', SPENT_ENTRY_BYTES, ticket);
}

/** The hour (since the epoch) by which a ticket expiring at `expires` (seconds) has expired. */
export function expiryHour(expires: number): number {
  return Math.ceil((expires * 1000) / HOUR_MS);
}

/** Where spent tickets are written to survive a restart. */
export interface SpentTicketJournal {
  /** Appends an entry durably (fsync) before resolving. */
  append(id: Uint8Array, hour: number, nowMs: number): Promise<void>;
}

/** The set of spent tickets: in memory for the check, in an optional journal for restarts. */
export class SpentTickets {
  readonly #memory: ExpiringSet;
  readonly #journal: SpentTicketJournal | undefined;

  constructor(capacity: number, journal?: SpentTicketJournal) {
    this.#memory = new ExpiringSet(capacity);
    this.#journal = journal;
  }

  /** Marks a ticket spent, durably if there is a journal; throws TicketSpentError if it already was. */
  async spend(ticket: Uint8Array, expires: number, nowMs: number): Promise<void> {
    const id = spentTicketId(ticket);
    const hour = expiryHour(expires);
    if (!this.#memory.add(toBase64(id), hour * HOUR_MS, nowMs)) throw new TicketSpentError('ticket already used: ask for a new one');
    try {
      await this.#journal?.append(id, hour, nowMs);
    } catch (error) {
      this.#memory.delete(toBase64(id));
      throw error;
    }
  }

  /**
   * Unspends a ticket whose write did not happen (e.g. a seq conflict), so the client can try
   * again with it. Only in memory: after a restart the ticket stays spent and the client asks
   * for a new one.
   */
  refund(ticket: Uint8Array): void {
    this.#memory.delete(toBase64(spentTicketId(ticket)));
  }

  /** Loads an entry read back from the journal. */
  remember(id: Uint8Array, hour: number, nowMs: number): void {
    this.#memory.add(toBase64(id), hour * HOUR_MS, nowMs);
  }
}

/** The journal in `<dataDir>/spent-tickets`. */
class FileJournal implements SpentTicketJournal {
  readonly #dir: string;
  readonly #syncer = new DirSyncer();
  readonly #dirs = new DurableDirs(this.#syncer);
  /** Hour files known to exist durably (their directory entry fsynced). */
  readonly #files = new Map<number, Promise<void>>();
  #purgedHour = -1;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async append(id: Uint8Array, hour: number, nowMs: number): Promise<void> {
    await this.#purge(nowMs);
    await this.#ensureFile(hour);
    // O_APPEND: concurrent appends of 16 bytes land whole, one after the other.
    const handle = await open(join(this.#dir, String(hour)), 'a', 0o600);
    try {
      await handle.write(id);
      await stampHandle(handle); // before the fsync, so one fsync covers both
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  #ensureFile(hour: number): Promise<void> {
    let made = this.#files.get(hour);
    if (made === undefined) {
      made = (async () => {
        await this.#dirs.ensure(this.#dir);
        const created = await open(join(this.#dir, String(hour)), 'a', 0o600);
        try {
          await stampHandle(created);
          await created.sync();
        } finally {
          await created.close();
        }
        await this.#syncer.sync(this.#dir);
      })();
      made.catch(() => this.#files.delete(hour));
      this.#files.set(hour, made);
    }
    return made;
  }

  /** Removes the files of hours that have passed (at most once an hour). */
  async #purge(nowMs: number): Promise<void> {
    const current = hourOf(nowMs);
    if (current === this.#purgedHour) return;
    this.#purgedHour = current;
    for (const hour of this.#files.keys()) {
      if (hour * HOUR_MS <= nowMs) {
        this.#files.delete(hour);
        await unlink(join(this.#dir, String(hour))).catch((error: unknown) => {
          if (!isErrno(error, 'ENOENT')) throw error;
        });
      }
    }
    await this.#stampDir();
  }

  async #stampDir(): Promise<void> {
    await stampPath(this.#dir).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }

  /** Reads the journal into `tickets`, removing expired files and cutting a torn last entry. */
  async load(tickets: SpentTickets, nowMs: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    this.#dirs.known(this.#dir);
    for (const name of names) {
      if (!/^[1-9][0-9]{0,9}$/.test(name)) continue; // not ours: left alone
      const hour = Number(name);
      const path = join(this.#dir, name);
      if (hour * HOUR_MS <= nowMs) {
        await unlink(path);
        continue;
      }
      const bytes = new Uint8Array(readFileQuietSync(path)); // read without stamping a precise atime
      const whole = bytes.length - (bytes.length % SPENT_ENTRY_BYTES);
      // A crash in the middle of an append leaves part of an entry; later appends must not shift.
      if (whole !== bytes.length) {
        await truncate(path, whole);
        await stampPath(path);
      }
      for (let at = 0; at < whole; at += SPENT_ENTRY_BYTES) tickets.remember(bytes.subarray(at, at + SPENT_ENTRY_BYTES), hour, nowMs);
      this.#files.set(hour, Promise.resolve());
    }
    await this.#stampDir();
    await this.#syncer.sync(this.#dir);
  }
}

/** The spent tickets of a data directory, read back from its journal. */
export async function openSpentTickets(dataDir: string, nowMs: number, capacity = 1_000_000): Promise<SpentTickets> {
  const journal = new FileJournal(join(dataDir, SPENT_TICKETS_DIR));
  const tickets = new SpentTickets(capacity, journal);
  await journal.load(tickets, nowMs);
  return tickets;
}
