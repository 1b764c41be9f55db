/**
 * Moves an embedded data directory into an empty PostgreSQL database (`npm run to-postgres`,
 * docs/DEPLOY.md, "Moving a data directory into PostgreSQL"), then checks the result: every case
 * document equal, every attachment the same bytes (SHA-256 of both, streamed), nothing more in
 * the database than in the directory. The data directory is left as it was; the server must be
 * stopped meanwhile (a case written during the move would be missed, and the check says so).
 *
 * Also moved: the ticket key (so tickets handed out before the move stay valid) and the spent
 * tickets that have not expired (so none can be used twice across the move).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { caseBytes } from '../quota.js';
import { type CaseRecord, type CaseSummary, summarize } from '../records.js';
import { SPENT_ENTRY_BYTES, SPENT_TICKETS_DIR } from '../spent-tickets.js';
import { readFileQuietSync } from '../store/coarse-time.js';
import {
  type BlobStore,
  type FileStore,
  openFileStore,
  openPgStore,
  type PgStore,
  StoreError,
} from '../store/index.js';

/** What a move did, and what its check found. */
export interface MoveReport {
  readonly cases: number;
  readonly attachments: number;
  readonly attachmentBytes: number;
  readonly spentTickets: number;
  /** Differences the check found (empty: the database holds exactly the directory's cases). */
  readonly problems: readonly string[];
}

const HOUR_MS = 3_600_000;

/** The move refused to start (e.g. the database is not empty). */
export class MoveRefusedError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = 'MoveRefusedError';
  }
}

async function sha256(blobs: BlobStore, id: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of blobs.read(id)) hash.update(piece);
  return hash.digest('hex');
}

/** Copies the data directory `dataDir` into the empty database at `url`, then checks it. */
export async function moveToPostgres(
  dataDir: string,
  url: string,
  log: (line: string) => void = () => {},
): Promise<MoveReport> {
  const files = await openFileStore<CaseRecord, CaseSummary>({ dir: dataDir, summarize });
  try {
    const database = await openPgStore<CaseRecord, CaseSummary>({
      url,
      summarize,
      weigh: caseBytes,
    });
    try {
      if ((await database.records.count()) > 0 || !(await isEmpty(database.blobs)))
        throw new MoveRefusedError(
          'the database already holds Kluis cases or attachments: move into an empty database',
        );
      let attachments = 0;
      let attachmentBytes = 0;
      for (const [id] of files.records.summaries()) {
        const record = await files.records.get(id);
        if (record === undefined) continue;
        // The attachments first: a case never names an attachment the database does not hold.
        for (const upload of record.uploads) {
          const size = await files.blobs.size(upload.id);
          if (size === undefined) continue; // announced, never started: retention's to tidy
          await database.blobs.create(upload.id);
          let offset = 0;
          for await (const piece of files.blobs.read(upload.id))
            offset = await database.blobs.append(upload.id, offset, piece);
          attachments++;
          attachmentBytes += offset;
        }
        await database.records.create(id, record);
      }
      const secret = await moveSecret(dataDir, database);
      const spentTickets = await moveSpentTickets(dataDir, database, Date.now());
      log(
        `moved ${files.records.size} cases, ${attachments} attachments (${attachmentBytes} bytes), ${spentTickets} spent tickets${secret ? ', the ticket key' : ''}`,
      );
      const problems = await checkMove(files, database);
      return {
        cases: files.records.size,
        attachments,
        attachmentBytes,
        spentTickets,
        problems,
      };
    } finally {
      await database.close();
    }
  } finally {
    await files.close();
  }
}

async function isEmpty(blobs: BlobStore): Promise<boolean> {
  for await (const _ of blobs.ids()) return false;
  return true;
}

/** The ticket key of the directory, if it has one, becomes the database's. */
async function moveSecret(
  dataDir: string,
  database: PgStore<CaseRecord, CaseSummary>,
): Promise<boolean> {
  let secret: Buffer;
  try {
    secret = await readFile(join(dataDir, 'server-secret'));
  } catch {
    return false;
  }
  if (secret.length !== 32) return false;
  await database.pool.query(
    "INSERT INTO kluis_meta (key, value) VALUES ('ticket-secret', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    [secret],
  );
  return true;
}

/** The unexpired spent tickets of the directory (spent-tickets/<hour>, 16 bytes each). */
async function moveSpentTickets(
  dataDir: string,
  database: PgStore<CaseRecord, CaseSummary>,
  nowMs: number,
): Promise<number> {
  const dir = join(dataDir, SPENT_TICKETS_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let moved = 0;
  for (const name of names) {
    if (!/^[1-9][0-9]{0,9}$/.test(name) || Number(name) * HOUR_MS <= nowMs) continue;
    const bytes = readFileQuietSync(join(dir, name));
    const ids: Buffer[] = [];
    for (let at = 0; at + SPENT_ENTRY_BYTES <= bytes.length; at += SPENT_ENTRY_BYTES)
      ids.push(bytes.subarray(at, at + SPENT_ENTRY_BYTES));
    if (ids.length === 0) continue;
    const result = await database.pool.query(
      `INSERT INTO kluis_spent_tickets (id, hour) SELECT unnest($1::bytea[]), $2
         ON CONFLICT (id) DO NOTHING`,
      [ids, Number(name)],
    );
    moved += result.rowCount ?? 0;
  }
  return moved;
}

/**
 * Compares the database with the data directory: the same case numbers, each document equal,
 * each attachment the same length and SHA-256. Returns the differences (case numbers and
 * attachment ids only: nothing of what they hold).
 */
export async function checkMove(
  files: FileStore<CaseRecord, CaseSummary>,
  database: PgStore<CaseRecord, CaseSummary>,
): Promise<string[]> {
  const problems: string[] = [];
  const inDatabase = new Set<string>();
  for await (const [id] of database.records.summaries()) inDatabase.add(id);
  for (const [id] of files.records.summaries()) {
    if (!inDatabase.delete(id)) {
      problems.push(`case ${id} is not in the database`);
      continue;
    }
    const [theirs, ours] = await Promise.all([files.records.get(id), database.records.get(id)]);
    if (!isDeepStrictEqual(theirs, ours)) {
      problems.push(`case ${id} differs`);
      continue;
    }
    for (const upload of theirs?.uploads ?? []) {
      const size = await files.blobs.size(upload.id);
      if (size === undefined) continue;
      if ((await database.blobs.size(upload.id)) !== size)
        problems.push(`attachment ${upload.id} of case ${id} has another length`);
      else if ((await sha256(files.blobs, upload.id)) !== (await sha256(database.blobs, upload.id)))
        problems.push(`attachment ${upload.id} of case ${id} differs`);
    }
  }
  for (const id of inDatabase) problems.push(`case ${id} is in the database only`);
  return problems;
}
