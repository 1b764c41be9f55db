/**
 * What several server processes on one PostgreSQL database must share besides the cases
 * (docs/ARCHITECTURE.md, "Several servers on one database"): the spent tickets, the nonces of
 * accepted signed requests, and the ticket MAC key. Each in the database, never in one process's
 * memory, so that a ticket spent or a request accepted by one process is refused by all.
 *
 * Rows hold a 16-byte hash and the hour by which it may be forgotten (rounded up: coarse, like
 * every time the server keeps); never a ticket, a nonce, a key or a precise time.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { caseBytes } from './quota.js';
import { assertCaseRecord } from './ops/record-check.js';
import { type CaseRecord, type CaseSummary, summarize } from './records.js';
import { openPgStore, type PgStore } from './store/index.js';
import { labelledHash, utf8 } from '../crypto/index.js';
import type { NonceMemory } from './auth.js';
import { TicketSpentError } from './errors.js';
import { expiryHour, spentTicketId, type TicketLedger } from './spent-tickets.js';

const HOUR_MS = 3_600_000;

/**
 * Remembers `id` until `hour` in `table`; false if it is there and its hour has not passed.
 * One statement: the primary key decides between two processes inserting the same id at once.
 */
async function remember(
  pool: pg.Pool,
  table: 'kluis_spent_tickets' | 'kluis_nonces',
  id: Uint8Array,
  hour: number,
  nowMs: number,
): Promise<boolean> {
  const result = await pool.query(
    `INSERT INTO ${table} (id, hour) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET hour = EXCLUDED.hour WHERE ${table}.hour <= $3`,
    [Buffer.from(id), hour, Math.floor(nowMs / HOUR_MS)],
  );
  return result.rowCount === 1;
}

/** Spent tickets in the database: a spend commits before the write it pays for starts. */
export class PgSpentTickets implements TicketLedger {
  constructor(private readonly pool: pg.Pool) {}

  async spend(ticket: Uint8Array, expires: number, nowMs: number): Promise<void> {
    if (
      !(await remember(
        this.pool,
        'kluis_spent_tickets',
        spentTicketId(ticket),
        expiryHour(expires),
        nowMs,
      ))
    )
      throw new TicketSpentError('ticket already used: ask for a new one');
  }

  /**
   * Gives a ticket back whose write did not happen, before the refusal is answered (so the
   * client's retry finds it unspent). If this fails, the ticket stays spent: the client asks
   * for a new one.
   */
  async refund(ticket: Uint8Array): Promise<void> {
    await this.pool
      .query('DELETE FROM kluis_spent_tickets WHERE id = $1', [Buffer.from(spentTicketId(ticket))])
      .catch(() => {});
  }
}

/** Nonces of accepted signed requests in the database, shared by every server process. */
export class PgNonces implements NonceMemory {
  constructor(private readonly pool: pg.Pool) {}

  add(key: string, expiresAt: number, now: number): Promise<boolean> {
    const id = labelledHash('kluis/v1/request-nonce', 16, utf8(key));
    return remember(this.pool, 'kluis_nonces', id, Math.ceil(expiresAt / HOUR_MS), now);
  }
}

/** Forgets spent tickets and nonces whose hour has passed (retention runs it). Returns the rows removed. */
export async function purgeExpired(pool: pg.Pool, nowMs: number): Promise<number> {
  const hour = Math.floor(nowMs / HOUR_MS);
  let removed = 0;
  for (const table of ['kluis_spent_tickets', 'kluis_nonces']) {
    const result = await pool.query(`DELETE FROM ${table} WHERE hour <= $1`, [hour]);
    removed += result.rowCount ?? 0;
  }
  return removed;
}

/**
 * The ticket MAC key, shared by every process on the database: made by whichever comes first
 * (the primary key keeps the first), read by the others.
 */
export async function loadOrCreatePgSecret(pool: pg.Pool): Promise<Uint8Array> {
  await pool.query(
    "INSERT INTO kluis_meta (key, value) VALUES ('ticket-secret', $1) ON CONFLICT (key) DO NOTHING",
    [randomBytes(32)],
  );
  const found = await pool.query<{ value: Buffer }>(
    "SELECT value FROM kluis_meta WHERE key = 'ticket-secret'",
  );
  const value = found.rows[0]?.value;
  if (value === undefined || value.length !== 32)
    throw new Error('the database holds a damaged ticket secret (kluis_meta ticket-secret)');
  return new Uint8Array(value);
}

/** Everything a server process keeps in the database. */
export interface DatabaseState {
  readonly store: PgStore<CaseRecord, CaseSummary>;
  readonly spentTickets: PgSpentTickets;
  readonly nonces: PgNonces;
  readonly secret: Uint8Array;
}

/** Opens the PostgreSQL store at `url` (creating its tables if missing) and what goes with it. */
export async function openDatabaseState(url: string): Promise<DatabaseState> {
  const store = await openPgStore<CaseRecord, CaseSummary>({
    url,
    summarize,
    validate: assertCaseRecord,
    weigh: caseBytes,
  });
  try {
    return {
      store,
      spentTickets: new PgSpentTickets(store.pool),
      nonces: new PgNonces(store.pool),
      secret: await loadOrCreatePgSecret(store.pool),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
