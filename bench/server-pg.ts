/**
 * The PostgreSQL rows of `npm run bench -- server`: the same durable submissions against the
 * real server on KLUIS_DATABASE_URL (a PostgreSQL 15 started for the run, fsync on, as
 * tests/helpers/postgres.ts starts it), with one and with two server processes on one database,
 * and with 100,000 cases already stored. Without PostgreSQL installed the rows are left out.
 */
import pg from 'pg';
import { type Envelope, toBase64, toCrockford } from '../crypto/index.js';
import { caseBytes } from '../server/quota.js';
import { type CaseRecord, hourOf, summarize } from '../server/records.js';
import { POSTGRES_BIN, startPostgres } from '../tests/helpers/postgres.js';
import { load, rssMb, type Running, start, stop, submissionBodies } from './server.js';

/** One row of the table. */
export interface PgResult {
  readonly label: string;
  readonly processes: number;
  readonly stored: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly rss: number;
}

/** Writes `count` cases straight into the database in large transactions, as the server would store them. */
async function populate(url: string, count: number, report: Envelope): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const hour = hourOf(Date.now());
  try {
    for (let from = 0; from < count; from += 1000) {
      const ids: string[] = [];
      const docs: string[] = [];
      const summaries: string[] = [];
      const weights: number[] = [];
      for (let n = from; n < Math.min(count, from + 1000); n++) {
        const caseNumber = toCrockford(
          new Uint8Array([0xb0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]),
        );
        const record: CaseRecord = {
          v: 1,
          case: caseNumber,
          createdHour: hour,
          verifier: toBase64(new Uint8Array(32)),
          status: 'received',
          statusHour: hour,
          ackHour: null,
          messages: [{ seq: 0, hour, author: 'reporter', envelope: report }],
          notes: [],
          uploads: [],
          forwardedTo: [],
        };
        ids.push(caseNumber);
        docs.push(`${JSON.stringify(record)}\n`);
        summaries.push(JSON.stringify(summarize(record)));
        weights.push(caseBytes(summarize(record)));
      }
      await client.query(
        `INSERT INTO kluis_records (id, doc, summary, weight)
           SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bigint[])`,
        [ids, docs, summaries, weights],
      );
    }
  } finally {
    await client.end();
  }
}

/** Measures the PostgreSQL rows; undefined when PostgreSQL is not installed. */
export async function pgRows(
  bundles: string,
  work: string,
  report: Envelope,
  submissions: number,
): Promise<PgResult[] | undefined> {
  if (POSTGRES_BIN === undefined) {
    console.log('(PostgreSQL rows left out: PostgreSQL 15 is not installed)');
    return undefined;
  }
  const postgres = await startPostgres();
  const results: PgResult[] = [];
  try {
    const runs: Array<[string, number, number]> = [
      ['Kluis on PostgreSQL, 1 process, 0 cases stored', 1, 0],
      ['Kluis on PostgreSQL, 2 processes, 0 cases stored', 2, 0],
      ['Kluis on PostgreSQL, 1 process, 100,000 cases stored', 1, 100_000],
    ];
    for (const [label, processes, stored] of runs) {
      const url = await postgres.createDatabase();
      const servers: Running[] = [];
      try {
        for (let i = 0; i < processes; i++)
          servers.push(
            await start(['--import', 'tsx', 'server/main.ts'], {
              KLUIS_DATABASE_URL: url,
              KLUIS_DATA_DIR: `${work}/pg-scratch-${i}`,
              KLUIS_PORT: '0',
              KLUIS_POW_BITS: '0',
              KLUIS_COUNSELLORS: bundles,
            }),
          );
        // The tables exist once a server has started.
        if (stored > 0) await populate(url, stored, report);
        const bodies = await submissionBodies(servers[0]!.url, submissions, report);
        const measured = await load(
          servers.map((server) => `${server.url}/api/v1/cases`),
          bodies,
        );
        const rss = servers.reduce((sum, server) => sum + rssMb(server.child.pid!), 0);
        results.push({ label, processes, stored, ...measured, rss });
      } finally {
        for (const server of servers) await stop(server);
      }
    }
  } finally {
    await postgres.stop();
  }
  return results;
}
