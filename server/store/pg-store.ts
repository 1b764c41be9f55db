/**
 * The store on PostgreSQL (chosen by KLUIS_DATABASE_URL), for several stateless server processes
 * over one database that the operator replicates and backs up (docs/DEPLOY.md, "PostgreSQL").
 *
 * Same contract as the file store (types.ts): a mutating call resolves once its transaction has
 * committed (PostgreSQL with fsync and synchronous_commit on: durable); what one process
 * acknowledged, every process reads. Nothing is cached in this process's memory: the index reads
 * (has, summary, summaries, count) are queries, so they are right whichever process wrote.
 * Correctness across processes comes from the database: a primary key makes a case number or a
 * blob id taken exactly once, an update holds its row (SELECT ... FOR UPDATE) while it reads,
 * mutates and writes, an append holds its blob's row while it checks the offset.
 *
 * Attachments are stored as chunks of at most READ_CHUNK_BYTES (one row each), so an append
 * writes its chunk and a read streams chunk by chunk: a 100 MB file is never held whole.
 */
import pg from 'pg';
import { READ_CHUNK_BYTES } from './blob-store.js';
import {
  BlobExistsError,
  BlobNotFoundError,
  CorruptStoreError,
  InvalidRangeError,
  OffsetMismatchError,
  RecordExistsError,
  RecordNotFoundError,
  type StoreOperation,
} from './errors.js';
import { asPgError, ensureSchema, inTransaction, RETENTION_LOCK } from './pg-schema.js';
import type { RecordOptions } from './record-store.js';
import { assertBlobId, assertPosition, assertRecordId, Lifecycle, snapshot } from './support.js';
import type { BlobStore, RecordStore, Store } from './types.js';

/** Rows fetched per query when listing summaries or blob ids (bounded memory at any size). */
const PAGE_ROWS = 1000;

export interface PgStoreOptions<T, S> extends Pick<RecordOptions<T, S>, 'summarize' | 'validate'> {
  /** postgresql://... (KLUIS_DATABASE_URL). */
  url: string;
  /** Connections this process keeps at most (default 10). */
  poolSize?: number;
  /** What a record counts (e.g. against a quota), kept in a column so totalWeight() is one query. */
  weigh?: (summary: S) => number;
}

export interface PgStore<T, S> extends Store<T, S> {
  /** The pool, for the other state that lives in the database (pg-state.ts). */
  readonly pool: pg.Pool;
  /**
   * Runs fn if this process gets the database-wide lock `key` (pg_try_advisory_lock), else
   * resolves undefined at once: e.g. retention, which one process at a time runs.
   */
  exclusive<R>(fn: () => Promise<R>, key?: number): Promise<R | undefined>;
  /** The sum of every record's weight (PgStoreOptions.weigh), in one query. */
  totalWeight(): Promise<number>;
}

/** Opens the store on the database at options.url, creating its tables if missing. */
export async function openPgStore<T, S>(options: PgStoreOptions<T, S>): Promise<PgStore<T, S>> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // No application name or client address worth logging is sent; the server's logs are the
    // operator's to configure (docs/DEPLOY.md).
  });
  // An idle connection that dies (the database restarts) must not crash the process.
  pool.on('error', () => {});
  try {
    await ensureSchema(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw asPgError(error, 'opening the store');
  }
  const life = new Lifecycle();
  const track = <R>(operation: StoreOperation, run: () => Promise<R>): Promise<R> => {
    // A closed store rejects (never throws at the call), like the file store's async methods.
    try {
      life.check();
    } catch (error) {
      return Promise.reject(error);
    }
    return life.track(
      operation,
      run().catch((error: unknown) => {
        throw asPgError(error, operation);
      }),
    );
  };
  const weigh = options.weigh ?? (() => 0);
  const records = new PgRecords<T, S>(pool, options, weigh, track, life);
  const blobs = new PgBlobs(pool, track, life);
  let closed: Promise<void> | undefined;
  return {
    pool,
    records,
    blobs,
    async exclusive(fn, key = RETENTION_LOCK) {
      life.check();
      const client = await pool.connect();
      try {
        const got = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1) AS locked',
          [key],
        );
        if (!got.rows[0]?.locked) return undefined;
        try {
          return await fn();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        }
      } finally {
        client.release();
      }
    },
    totalWeight() {
      return track('reading a record', async () => {
        const found = await pool.query<{ total: string | null }>(
          'SELECT sum(weight) AS total FROM kluis_records',
        );
        return Number(found.rows[0]?.total ?? 0);
      });
    },
    close() {
      closed ??= life.close().then(() => pool.end());
      return closed;
    },
  };
}

type Track = <R>(operation: StoreOperation, run: () => Promise<R>) => Promise<R>;

class PgRecords<T, S> implements RecordStore<T, S> {
  constructor(
    private readonly pool: pg.Pool,
    private readonly checks: Pick<PgStoreOptions<T, S>, 'summarize' | 'validate'>,
    private readonly weigh: (summary: S) => number,
    private readonly track: Track,
    private readonly life: Lifecycle,
  ) {}

  create(id: string, doc: T): Promise<void> {
    return this.track('creating a record', async () => {
      assertRecordId(id);
      const { copy, text } = snapshot(doc);
      const summarized = this.checks.summarize(copy);
      const inserted = await this.pool.query(
        'INSERT INTO kluis_records (id, doc, summary, weight) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
        [id, text, JSON.stringify(summarized), this.weigh(summarized)],
      );
      if (inserted.rowCount !== 1) throw new RecordExistsError(id);
    });
  }

  /**
   * A stored case, checked like every record the file store opens (`validate`): the file store
   * checks once at start, a row is checked each time it is read, since another process or the
   * database's operator may have written it since.
   */
  private parse(text: string, id: string): T {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
      this.checks.validate?.(doc, id);
    } catch {
      throw new CorruptStoreError(
        `kluis_records ${id}`,
        'the stored case does not have the shape the server writes',
      );
    }
    return doc as T;
  }

  get(id: string): Promise<T | undefined> {
    return this.track('reading a record', async () => {
      assertRecordId(id);
      const found = await this.pool.query<{ doc: string }>(
        'SELECT doc FROM kluis_records WHERE id = $1',
        [id],
      );
      const row = found.rows[0];
      return row === undefined ? undefined : this.parse(row.doc, id);
    });
  }

  has(id: string): Promise<boolean> {
    return this.track('reading a record', async () => {
      assertRecordId(id);
      const found = await this.pool.query('SELECT 1 FROM kluis_records WHERE id = $1', [id]);
      return found.rowCount === 1;
    });
  }

  update(id: string, mutate: (doc: T) => T): Promise<T> {
    return this.track('writing a record', async () => {
      assertRecordId(id);
      return inTransaction(this.pool, async (client) => {
        // The row stays locked until COMMIT: updates of one case from any process take turns.
        const found = await client.query<{ doc: string }>(
          'SELECT doc FROM kluis_records WHERE id = $1 FOR UPDATE',
          [id],
        );
        const row = found.rows[0];
        if (row === undefined) throw new RecordNotFoundError(id);
        const { copy, text } = snapshot(mutate(this.parse(row.doc, id)));
        const summarized = this.checks.summarize(copy);
        await client.query(
          'UPDATE kluis_records SET doc = $2, summary = $3, weight = $4 WHERE id = $1',
          [id, text, JSON.stringify(summarized), this.weigh(summarized)],
        );
        return copy;
      });
    });
  }

  delete(id: string): Promise<boolean> {
    return this.track('deleting a record', async () => {
      assertRecordId(id);
      const deleted = await this.pool.query('DELETE FROM kluis_records WHERE id = $1', [id]);
      return deleted.rowCount === 1;
    });
  }

  async *summaries(): AsyncGenerator<[string, S]> {
    this.life.check();
    // Keyset pages in id order: bounded memory with 100,000 cases, and no long transaction.
    let after = '';
    for (;;) {
      const page = await this.track('reading a record', () =>
        this.pool.query<{ id: string; summary: S }>(
          'SELECT id, summary FROM kluis_records WHERE id > $1 ORDER BY id LIMIT $2',
          [after, PAGE_ROWS],
        ),
      );
      for (const row of page.rows) yield [row.id, row.summary];
      if (page.rows.length < PAGE_ROWS) return;
      after = page.rows.at(-1)!.id;
    }
  }

  summary(id: string): Promise<S | undefined> {
    return this.track('reading a record', async () => {
      assertRecordId(id);
      const found = await this.pool.query<{ summary: S }>(
        'SELECT summary FROM kluis_records WHERE id = $1',
        [id],
      );
      return found.rows[0]?.summary;
    });
  }

  count(): Promise<number> {
    return this.track('reading a record', async () => {
      const found = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM kluis_records');
      return Number(found.rows[0]?.n ?? 0);
    });
  }
}

class PgBlobs implements BlobStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly track: Track,
    private readonly life: Lifecycle,
  ) {}

  create(id: string): Promise<void> {
    return this.track('creating an attachment', async () => {
      assertBlobId(id);
      const inserted = await this.pool.query(
        'INSERT INTO kluis_blobs (id, size) VALUES ($1, 0) ON CONFLICT (id) DO NOTHING',
        [id],
      );
      if (inserted.rowCount !== 1) throw new BlobExistsError(id);
    });
  }

  append(id: string, offset: number, bytes: Uint8Array): Promise<number> {
    return this.track('appending to an attachment', async () => {
      assertBlobId(id);
      assertPosition(offset, 'offset');
      if (!(bytes instanceof Uint8Array)) throw new InvalidRangeError('bytes must be a Uint8Array');
      return inTransaction(this.pool, async (client) => {
        // The blob's row is held until COMMIT: appends from any process take turns, and the
        // second of two at one offset sees the first one's size.
        const found = await client.query<{ size: string }>(
          'SELECT size FROM kluis_blobs WHERE id = $1 FOR UPDATE',
          [id],
        );
        const row = found.rows[0];
        if (row === undefined) throw new BlobNotFoundError(id);
        const size = Number(row.size);
        if (offset !== size) throw new OffsetMismatchError(id, offset, size);
        for (let at = 0; at < bytes.length; at += READ_CHUNK_BYTES) {
          const piece = bytes.subarray(at, at + READ_CHUNK_BYTES);
          await client.query(
            'INSERT INTO kluis_blob_chunks (blob, start, bytes) VALUES ($1, $2, $3)',
            [id, size + at, Buffer.from(piece.buffer, piece.byteOffset, piece.length)],
          );
        }
        const next = size + bytes.length;
        if (bytes.length > 0)
          await client.query('UPDATE kluis_blobs SET size = $2 WHERE id = $1', [id, next]);
        return next;
      });
    });
  }

  size(id: string): Promise<number | undefined> {
    return this.track('reading an attachment', async () => {
      assertBlobId(id);
      const found = await this.pool.query<{ size: string }>(
        'SELECT size FROM kluis_blobs WHERE id = $1',
        [id],
      );
      const row = found.rows[0];
      return row === undefined ? undefined : Number(row.size);
    });
  }

  read(id: string, start = 0, end?: number): AsyncIterable<Uint8Array> {
    return this.#read(id, start, end);
  }

  async *#read(id: string, start: number, end: number | undefined): AsyncGenerator<Uint8Array> {
    this.life.check();
    assertBlobId(id);
    assertPosition(start, 'start');
    if (end !== undefined) {
      assertPosition(end, 'end');
      if (start > end) throw new InvalidRangeError('start must not be greater than end');
    }
    const size = await this.size(id);
    if (size === undefined) throw new BlobNotFoundError(id);
    const stop = Math.min(end ?? size, size);
    let position = start;
    // One chunk per query: the rows up to `stop` were committed before the size was read.
    while (position < stop) {
      const found = await this.track('reading an attachment', () =>
        this.pool.query<{ start: string; bytes: Buffer }>(
          `SELECT start, bytes FROM kluis_blob_chunks
            WHERE blob = $1 AND start <= $2 ORDER BY start DESC LIMIT 1`,
          [id, position],
        ),
      );
      const row = found.rows[0];
      if (row === undefined) throw new BlobNotFoundError(id); // deleted while being read
      const from = position - Number(row.start);
      const piece = row.bytes.subarray(from, Math.min(row.bytes.length, from + stop - position));
      if (piece.length === 0) throw new BlobNotFoundError(id);
      position += piece.length;
      yield piece;
    }
  }

  delete(id: string): Promise<boolean> {
    return this.track('deleting an attachment', async () => {
      assertBlobId(id);
      const deleted = await this.pool.query('DELETE FROM kluis_blobs WHERE id = $1', [id]);
      return deleted.rowCount === 1;
    });
  }

  async *ids(): AsyncGenerator<string> {
    this.life.check();
    let after = '';
    for (;;) {
      const page = await this.track('listing attachments', () =>
        this.pool.query<{ id: string }>(
          'SELECT id FROM kluis_blobs WHERE id > $1 ORDER BY id LIMIT $2',
          [after, PAGE_ROWS],
        ),
      );
      for (const row of page.rows) yield row.id;
      if (page.rows.length < PAGE_ROWS) return;
      after = page.rows.at(-1)!.id;
    }
  }
}
