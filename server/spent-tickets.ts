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
 *
 * In the server a spend does not write those files itself: it appends a
 * mark (the hash and the hour, 20 bytes) to the store's journal, where it
 * shares the group commit of the record writes (store/journal.ts), so one
 * fsync covers the spends and the writes they pay for. The store hands the
 * marks back here at each checkpoint (appended to the hour files, one fsync
 * per file per checkpoint) and, after a crash, on open (`marks`: a
 * MarkSink). Either way a spend resolves only once it is durable.
 */

import { open, readdir, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { labelledHash, toBase64 } from '../crypto/index.js';
import { TicketSpentError } from './errors.js';
import { ExpiringSet } from './expiring-set.js';
import { hourOf } from './records.js';
import { readFileQuietSync, stampHandle, stampPath } from './store/coarse-time.js';
import { DirSyncer, DurableDirs, isErrno } from './store/durable-fs.js';
import type { MarkSink } from './store/index.js';

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

/** Bytes of a mark in the store's journal: the entry and its expiry hour (u32, little-endian). */
export const SPENT_MARK_BYTES = SPENT_ENTRY_BYTES + 4;

/** The journal mark of a spent ticket (no precise time: the hour by which it has expired). */
export function encodeSpentMark(id: Uint8Array, hour: number): Uint8Array {
  const mark = new Uint8Array(SPENT_MARK_BYTES);
  mark.set(id, 0);
  new DataView(mark.buffer).setUint32(SPENT_ENTRY_BYTES, hour, true);
  return mark;
}

/** The entry and hour of a mark, or undefined if it is not one. */
export function decodeSpentMark(mark: Uint8Array): { id: Uint8Array; hour: number } | undefined {
  if (mark.length !== SPENT_MARK_BYTES) return undefined;
  const hour = new DataView(mark.buffer, mark.byteOffset, mark.length).getUint32(
    SPENT_ENTRY_BYTES,
    true,
  );
  return hour > 0 ? { id: mark.subarray(0, SPENT_ENTRY_BYTES), hour } : undefined;
}

/** A store whose journal can carry marks (store/file-store.ts FileStore.appendMark). */
export interface MarkJournal {
  appendMark(mark: Uint8Array): Promise<void>;
}

/** Where spent tickets are written to survive a restart. */
export interface SpentTicketJournal {
  /** Appends an entry durably (fsync) before resolving. */
  append(id: Uint8Array, hour: number, nowMs: number): Promise<void>;
}

/**
 * Where tickets are spent: this process's set (SpentTickets, one server per data directory), or
 * the database several processes share (pg-state.ts PgSpentTickets).
 */
export interface TicketLedger {
  /** Marks a ticket spent, durably; throws TicketSpentError if it already was. */
  spend(ticket: Uint8Array, expires: number, nowMs: number): Promise<void>;
  /** Gives back a ticket whose write did not happen (best effort: never rejects). */
  refund(ticket: Uint8Array): void | Promise<void>;
}

/** The set of spent tickets: in memory for the check, in an optional journal for restarts. */
export class SpentTickets implements TicketLedger {
  readonly #memory: ExpiringSet;
  #journal: SpentTicketJournal | undefined;
  /** Where the marks the store's journal holds end up (set by openSpentTickets). */
  #marks: MarkSink | undefined;

  constructor(capacity: number, journal?: SpentTicketJournal) {
    this.#memory = new ExpiringSet(capacity);
    this.#journal = journal;
  }

  /**
   * The owner of spent-ticket marks in the store's journal: pass it to the store's open
   * (FileStoreOptions.marks), then call ridesOn with the opened store.
   */
  get marks(): MarkSink {
    if (this.#marks === undefined)
      throw new Error('these spent tickets have no files: open them with openSpentTickets');
    return this.#marks;
  }

  /** From now on a spend is a mark in the store's journal (one group commit with the record writes). */
  ridesOn(store: MarkJournal): void {
    this.#journal = { append: (id, hour) => store.appendMark(encodeSpentMark(id, hour)) };
  }

  /** @internal set by openSpentTickets. */
  setMarks(marks: MarkSink): void {
    this.#marks = marks;
  }

  /** Marks a ticket spent, durably if there is a journal; throws TicketSpentError if it already was. */
  async spend(ticket: Uint8Array, expires: number, nowMs: number): Promise<void> {
    const id = spentTicketId(ticket);
    const hour = expiryHour(expires);
    if (!this.#memory.add(toBase64(id), hour * HOUR_MS, nowMs))
      throw new TicketSpentError('ticket already used: ask for a new one');
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

  /**
   * Appends spent-ticket marks handed back by the store's journal to their hour files: one write
   * and one fsync per hour file. Marks of hours that have passed are dropped.
   */
  async materialise(marks: readonly Uint8Array[], nowMs: number): Promise<void> {
    await this.#purge(nowMs);
    const byHour = new Map<number, Uint8Array[]>();
    for (const mark of marks) {
      const decoded = decodeSpentMark(mark);
      if (decoded === undefined || decoded.hour * HOUR_MS <= nowMs) continue;
      const ids = byHour.get(decoded.hour);
      if (ids === undefined) byHour.set(decoded.hour, [decoded.id]);
      else ids.push(decoded.id);
    }
    for (const [hour, ids] of byHour) {
      await this.#ensureFile(hour);
      const handle = await open(join(this.#dir, String(hour)), 'a', 0o600);
      try {
        await handle.write(Buffer.concat(ids));
        await stampHandle(handle);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
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
      for (let at = 0; at < whole; at += SPENT_ENTRY_BYTES)
        tickets.remember(bytes.subarray(at, at + SPENT_ENTRY_BYTES), hour, nowMs);
      this.#files.set(hour, Promise.resolve());
    }
    await this.#stampDir();
    await this.#syncer.sync(this.#dir);
  }
}

/**
 * The spent tickets of a data directory, read back from their files. They write those files
 * directly until `ridesOn(store)`; the server opens the store with `tickets.marks` and then
 * does that.
 */
export async function openSpentTickets(
  dataDir: string,
  nowMs: number,
  capacity = 1_000_000,
): Promise<SpentTickets> {
  const journal = new FileJournal(join(dataDir, SPENT_TICKETS_DIR));
  const tickets = new SpentTickets(capacity, journal);
  await journal.load(tickets, nowMs);
  tickets.setMarks({
    replay(mark) {
      const decoded = decodeSpentMark(mark);
      if (decoded !== undefined) tickets.remember(decoded.id, decoded.hour, Date.now());
    },
    materialise: (marks) => journal.materialise(marks, Date.now()),
  });
  return tickets;
}
