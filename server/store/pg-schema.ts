/**
 * The PostgreSQL store's tables, and how a pool's failures become StoreErrors.
 *
 * What the rows hold is what the file store's files hold, and no more (docs/ARCHITECTURE.md,
 * "The PostgreSQL store"): record documents as the server wrote them (ciphertext and coarse
 * hours), their summaries, attachment ciphertext in chunks, 16-byte hashes of spent tickets and
 * of signed-request nonces with the hour they expire. No column has a time default (`now()`),
 * no row a precise time or an address.
 */
import pg from 'pg';
import { isSystemError, StoreError, StoreIoError, type StoreOperation } from './errors.js';

/** The schema version this code writes (kluis_meta 'schema'). */
export const PG_SCHEMA_VERSION = 1;

/** Key of the advisory lock that serialises schema creation across server processes. */
const SCHEMA_LOCK = 0x6b6c7569; // 'klui'
/** Key of the advisory lock held by the one process that runs retention. */
export const RETENTION_LOCK = 0x6b6c7572; // 'klur'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kluis_meta (
  key text PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS kluis_records (
  id text PRIMARY KEY CHECK (id ~ '^[0-9A-Z]{8}$'),
  doc text NOT NULL,
  summary jsonb NOT NULL,
  -- What the case counts against the store quota (PgStoreOptions.weigh), summed in one query.
  weight bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS kluis_blobs (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  size bigint NOT NULL CHECK (size >= 0)
);
CREATE TABLE IF NOT EXISTS kluis_blob_chunks (
  blob text NOT NULL REFERENCES kluis_blobs (id) ON DELETE CASCADE,
  start bigint NOT NULL CHECK (start >= 0),
  bytes bytea NOT NULL,
  PRIMARY KEY (blob, start)
);
-- Ciphertext does not compress: store it out of line without trying.
ALTER TABLE kluis_blob_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS kluis_spent_tickets (
  id bytea PRIMARY KEY CHECK (octet_length(id) = 16),
  hour integer NOT NULL
);
CREATE TABLE IF NOT EXISTS kluis_nonces (
  id bytea PRIMARY KEY CHECK (octet_length(id) = 16),
  hour integer NOT NULL
);
`;

/** Creates the tables if missing (once, whichever process comes first) and checks the version. */
export async function ensureSchema(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(SCHEMA);
    const found = await client.query<{ value: Buffer }>(
      "SELECT value FROM kluis_meta WHERE key = 'schema'",
    );
    const row = found.rows[0];
    if (row === undefined) {
      await client.query("INSERT INTO kluis_meta (key, value) VALUES ('schema', $1)", [
        Buffer.from(String(PG_SCHEMA_VERSION)),
      ]);
    } else if (Number(row.value.toString()) !== PG_SCHEMA_VERSION) {
      throw new StoreError(
        `the database holds Kluis schema ${row.value.toString()}; this Kluis reads schema ${PG_SCHEMA_VERSION}`,
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** A PostgreSQL error's SQLSTATE (e.g. '23505' unique violation), or undefined. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * A database or connection failure as a StoreIoError of `operation`: its SQLSTATE or errno code
 * only, never the server's message (whose DETAIL can quote a key, i.e. a case number).
 */
export function asPgError(error: unknown, operation: StoreOperation): unknown {
  if (error instanceof StoreError) return error;
  // Only the database's own failures: a caller's error thrown by mutate passes unchanged.
  if (error instanceof pg.DatabaseError) {
    const state = sqlState(error);
    return new StoreIoError(`PG${state ?? 'ERROR'}`, operation, 'postgresql');
  }
  if (isSystemError(error)) return new StoreIoError(error.code, operation, 'postgresql');
  if (
    error instanceof Error &&
    /^Connection terminated|^Client has encountered a connection error/.test(error.message)
  )
    return new StoreIoError('ECONNRESET', operation, 'postgresql');
  return error;
}

/** Runs fn in a transaction on one connection of the pool; rolls back if it throws. */
export async function inTransaction<R>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<R>,
): Promise<R> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
