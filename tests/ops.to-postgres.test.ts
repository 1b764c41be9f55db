/**
 * `npm run to-postgres`: an embedded data directory moved into a real, empty PostgreSQL
 * database (tests/helpers/postgres.ts), checked, and then served by a real server on that
 * database. The command refuses a database that already holds cases, and its check finds a
 * case that differs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle, generateIdentity } from '../crypto/index.js';
import { checkMove } from '../server/ops/to-postgres.js';
import { type CaseRecord, type CaseSummary, summarize } from '../server/records.js';
import { spentTicketId } from '../server/spent-tickets.js';
import { openFileStore, openPgStore } from '../server/store/index.js';
import { buildCase, makeStore } from './fixtures/ops-store.js';
import { recipientOf } from './helpers/api-client.js';
import {
  POSTGRES_BIN,
  POSTGRES_SKIP_REASON,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.js';
import { startServer } from './helpers/server-process.js';

const run = promisify(execFile);

async function toPostgres(dir: string, url: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/to-postgres.ts', dir],
      { env: { PATH: process.env.PATH ?? '', KLUIS_DATABASE_URL: url } },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe.skipIf(POSTGRES_BIN === undefined)(
  `moving a data directory into PostgreSQL${POSTGRES_BIN === undefined ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let postgres: TestPostgres;
    let work: string;
    beforeAll(async () => {
      postgres = await startPostgres();
      work = mkdtempSync(join(tmpdir(), 'kluis-to-pg-'));
    });
    afterAll(async () => {
      await postgres?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('copies every case, attachment, spent ticket and the ticket key; checks; the servers serve them', async () => {
      const counsellor = generateIdentity('counsellor', 'Move test');
      const bundles = join(work, 'bundles.json');
      writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
      const recipients = [recipientOf(counsellor)];
      const cases = [
        buildCase(recipients),
        // Three read chunks and a bit: the attachment is streamed, not read whole.
        buildCase(recipients, { uploads: [{ size: 200_000 }, { size: 1000, written: 300 }] }),
        buildCase(recipients, { uploads: [{ size: 10 }] }),
      ];
      const dir = join(work, 'data');
      await makeStore(dir, cases);
      // A spent ticket that expires in two hours, and the ticket key.
      const hour = Math.ceil(Date.now() / 3_600_000) + 2;
      const spent = spentTicketId(new Uint8Array(37).fill(7));
      await mkdir(join(dir, 'spent-tickets'));
      writeFileSync(join(dir, 'spent-tickets', String(hour)), spent);
      writeFileSync(join(dir, 'server-secret'), new Uint8Array(32).fill(9));

      const url = await postgres.createDatabase();
      const moved = await toPostgres(dir, url);
      expect(moved.output).toContain('checked: the database holds the 3 cases and 3 attachments');
      expect(moved.code).toBe(0);

      const database = await openPgStore<CaseRecord, CaseSummary>({ url, summarize });
      try {
        for (const built of cases) {
          expect(await database.records.get(built.record.case)).toEqual(built.record);
          for (const [id, bytes] of built.blobs) {
            const parts: Uint8Array[] = [];
            for await (const part of database.blobs.read(id)) parts.push(part);
            expect(Buffer.concat(parts).equals(Buffer.from(bytes))).toBe(true);
          }
        }
        const tickets = await database.pool.query<{ id: Buffer; hour: number }>(
          'SELECT id, hour FROM kluis_spent_tickets',
        );
        expect(tickets.rows).toEqual([{ id: Buffer.from(spent), hour }]);
        const key = await database.pool.query<{ value: Buffer }>(
          "SELECT value FROM kluis_meta WHERE key = 'ticket-secret'",
        );
        expect(key.rows[0]!.value).toEqual(Buffer.alloc(32, 9));

        // Run again: the database is no longer empty, so the command refuses and changes nothing.
        const again = await toPostgres(dir, url);
        expect(again.code).toBe(1);
        expect(again.output).toContain('move into an empty database');
        expect(await database.records.count()).toBe(3);

        // The check finds a case that differs from the directory's.
        const target = cases[0]!.record.case;
        await database.records.update(target, (record) => ({ ...record, status: 'closed' }));
        const files = await openFileStore<CaseRecord, CaseSummary>({ dir, summarize });
        try {
          expect(await checkMove(files, database)).toEqual([`case ${target} differs`]);
        } finally {
          await files.close();
        }
        await database.records.update(target, () => cases[0]!.record);
      } finally {
        await database.close();
      }

      // A server on the database serves a moved case to its reporter.
      const server = await startServer({
        env: { KLUIS_DATABASE_URL: url, KLUIS_COUNSELLORS: bundles },
      });
      try {
        // The start-up retention sweep runs beside the first requests: wait for its line (it
        // removes the stale upload checked below), not for a guessed while.
        for (let i = 0; i < 300 && !server.output().includes('retention: removed'); i++)
          await new Promise((done) => setTimeout(done, 100));
        expect(server.output()).toContain('"incompleteUploads":1');
        const reporter = cases[1]!.reporter;
        const response = await fetch(`${server.url}/api/v1/cases/${reporter.caseNumber}`, {
          headers: reporter.auth,
        });
        expect(response.status).toBe(200);
        const view = (await response.json()) as { uploads: Array<{ offset: number }> };
        // The incomplete one was announced long ago (the fixture's hour): the server's first
        // retention sweep, on the database now, removed it.
        expect(view.uploads.map((u) => u.offset)).toEqual([cases[1]!.record.uploads[0]!.length]);
      } finally {
        await server.stop();
      }
    });
  },
);
