/**
 * Several real server processes (server/main.ts) on one real PostgreSQL database
 * (KLUIS_DATABASE_URL), over HTTP: behind one address (a round-robin proxy, as Onionbalance or a
 * load balancer puts them) they serve the same cases, and what must hold across processes holds
 * (tickets, signed-request nonces, message seqs, upload offsets). A kill -9 of a server during a
 * load of submissions, and then of PostgreSQL itself, loses nothing acknowledged. A dump of the
 * database holds no canary from a report.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptStoreError } from '../server/store/errors.js';
import {
  encodeContent,
  type Envelope,
  exportBundle,
  generateIdentity,
  sealEnvelope,
  toBase64,
} from '../crypto/index.js';
import {
  createCase,
  createUpload,
  type Fetch,
  httpFetch,
  json,
  type ReporterCase,
  recipientOf,
  reporterRecipient,
  sealReport,
  sendSigned,
  submitReport,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import {
  POSTGRES_BIN,
  POSTGRES_SKIP_REASON,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';
import { openDatabaseState, purgeExpired } from '../server/pg-state.js';

/** One address in front of several servers: each request goes to the next one in turn. */
async function roundRobin(): Promise<{ origin: string; use(urls: string[]): void; close(): void }> {
  let upstreams: URL[] = [];
  let next = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const target = upstreams[next++ % upstreams.length]!;
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    use(urls) {
      upstreams = urls.map((url) => new URL(url));
    },
    close: () => server.close(),
  };
}

async function errorCode(response: Response): Promise<[number, string | undefined]> {
  const body = (await response.json()) as { error?: { code?: string } };
  return [response.status, body.error?.code];
}

/** A reporter's message at `seq` (sealed for the reporter only: the server never reads it). */
function message(reporter: ReporterCase, seq: number, text: string): Envelope {
  return sealEnvelope({
    caseNumber: reporter.caseNumber,
    seq,
    prev: reporter.last,
    author: reporter.keys.sign,
    content: encodeContent({
      v: 1,
      type: 'message',
      time: '2026-11-28T12:00:00Z',
      text,
      attachments: [],
    }),
    recipients: [reporterRecipient(reporter)],
  }).envelope;
}

describe.skipIf(POSTGRES_BIN === undefined)(
  `several servers on one PostgreSQL database${POSTGRES_BIN === undefined ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    let postgres: TestPostgres;
    const cleanup: Array<() => unknown> = [];
    const counsellor = generateIdentity('counsellor', 'Database test');
    let bundleFile: string;

    beforeAll(async () => {
      postgres = await startPostgres();
      const dir = mkdtempSync(join(tmpdir(), 'kluis-pg-bundles-'));
      bundleFile = join(dir, 'counsellors.json');
      writeFileSync(bundleFile, JSON.stringify([exportBundle(counsellor)]));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    });
    afterAll(async () => {
      for (const step of cleanup.reverse()) await step();
      await postgres?.stop();
    });

    async function server(env: Record<string, string>): Promise<ServerProcess> {
      const started = await startServer({
        env: { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: bundleFile, ...env },
      });
      cleanup.push(() => started.stop());
      return started;
    }

    it('two servers behind one address serve the same cases; tickets, nonces, seqs and offsets hold across them; the dump holds no canary', async () => {
      const database = `kluis_two_${process.pid}`;
      const url = await postgres.createDatabase(database);
      const proxy = await roundRobin();
      cleanup.push(() => proxy.close());
      const env = { KLUIS_DATABASE_URL: url, KLUIS_ORIGINS: proxy.origin };
      const [a, b] = await Promise.all([server(env), server(env)]);
      proxy.use([a!.url, b!.url]);
      const one = httpFetch(proxy.origin);
      const viaA = httpFetch(a!.url);
      const viaB = httpFetch(b!.url);

      // Reports through the one address: the ticket comes from one server, the case is made on
      // the other (one ticket key, one ledger of spent tickets).
      const canary = `CANARY-${randomBytes(12).toString('hex')}`;
      const reporters: ReporterCase[] = [];
      for (let i = 0; i < 4; i++)
        reporters.push(await submitReport(one, [recipientOf(counsellor)], `${canary} ${i}`));

      // Each server reads every case, whichever server made it.
      for (const reporter of reporters)
        for (const fetcher of [viaA, viaB]) {
          const response = await fetcher(`/api/v1/cases/${reporter.caseNumber}`, {
            headers: reporter.auth,
          });
          expect(response.status).toBe(200);
          expect(((await response.json()) as { messages: unknown[] }).messages).toHaveLength(1);
        }

      // A ticket spent on A is spent on B.
      const t = await ticket(viaA, { kind: 'case' });
      const body = json({ verifier: toBase64(randomBytes(32)) }, workHeaders(t));
      expect((await viaA('/api/v1/cases', body)).status).toBe(201);
      const again = json({ verifier: toBase64(randomBytes(32)) }, workHeaders(t));
      expect(await errorCode(await viaB('/api/v1/cases', again))).toEqual([400, 'ticket-spent']);

      // A counsellor's signed request through the one address lists every case; replayed to
      // either server directly, it is refused by both.
      const { response: listing, init } = await sendSigned(
        one,
        counsellor,
        'GET',
        '/api/v1/counsellor/cases',
        undefined,
        proxy.origin,
      );
      expect(listing.status).toBe(200);
      const listed = ((await listing.json()) as { cases: Array<{ case: string }> }).cases;
      expect(listed.map((c) => c.case).sort()).toEqual(reporters.map((r) => r.caseNumber).sort());
      for (const fetcher of [viaA, viaB])
        expect(await errorCode(await fetcher('/api/v1/counsellor/cases', init))).toEqual([
          401,
          'replayed-signature',
        ]);

      // The same seq sent to both servers at once: one is written, the other is a conflict.
      const reporter = reporters[0]!;
      const [ta, tb] = await Promise.all([
        ticket(viaA, { kind: 'message', case: reporter.caseNumber }),
        ticket(viaB, { kind: 'message', case: reporter.caseNumber }),
      ]);
      const post = (fetcher: Fetch, tk: typeof ta, text: string) =>
        fetcher(
          `/api/v1/cases/${reporter.caseNumber}/messages`,
          json(
            { seq: 1, envelope: message(reporter, 1, text) },
            { ...reporter.auth, ...workHeaders(tk) },
          ),
        );
      const answers = await Promise.all([post(viaA, ta, 'from A'), post(viaB, tb, 'from B')]);
      const codes = await Promise.all(
        answers.map((r) => (r.status === 201 ? [201, undefined] : errorCode(r))),
      );
      expect(codes.sort()).toEqual(
        [
          [201, undefined],
          [409, 'seq-conflict'],
        ].sort(),
      );

      // The same upload offset sent to both servers at once: one chunk is stored, the other is told the offset.
      const announced = await createUpload(one, reporter, 2000);
      expect(announced.status).toBe(201);
      const { id } = (await announced.json()) as { id: string };
      const chunk = (fetcher: Fetch, fill: number) =>
        fetcher(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
          method: 'PATCH',
          headers: {
            ...reporter.auth,
            'content-type': 'application/octet-stream',
            'upload-offset': '0',
          },
          body: new Uint8Array(1000).fill(fill),
        });
      const chunks = await Promise.all([chunk(viaA, 1), chunk(viaB, 2)]);
      const statuses = await Promise.all(
        chunks.map((r) => (r.status < 300 ? [r.status, undefined] : errorCode(r))),
      );
      expect(statuses.filter(([status]) => status === 200 || status === 201)).toHaveLength(1);
      expect(statuses).toContainEqual([409, 'offset-mismatch']);
      const status = await viaB(`/api/v1/cases/${reporter.caseNumber}/uploads/${id}`, {
        headers: reporter.auth,
      });
      expect(((await status.json()) as { offset: number }).offset).toBe(1000);

      // What the operator's backup holds: ciphertext and coarse hours, no report text, no address.
      const dump = postgres.dump(database);
      expect(dump.includes(canary)).toBe(false);
      expect(dump.includes(Buffer.from(canary).toString('base64').slice(0, 16))).toBe(false);
      expect(dump.includes(Buffer.from(canary).toString('hex'))).toBe(false);
      expect(dump.includes('127.0.0.1')).toBe(false);
      expect(dump.includes(reporter.caseNumber)).toBe(true); // the dump is of the right database
    });

    it('kill -9 of a server during a load of submissions, then of PostgreSQL, loses nothing acknowledged', async () => {
      const url = await postgres.createDatabase(`kluis_crash_${process.pid}`);
      const env = { KLUIS_DATABASE_URL: url };
      const first = await server(env);
      const fetcher = httpFetch(first.url);
      const acknowledged = new Map<string, { auth: Record<string, string>; envelope: Envelope }>();
      let started = 0;
      let killed = false;
      const worker = async () => {
        while (started < 600 && !killed) {
          started++;
          try {
            const reporter = await createCase(fetcher);
            const envelope = sealReport(reporter, [recipientOf(counsellor)], `report ${started}`);
            const response = await fetcher(
              `/api/v1/cases/${reporter.caseNumber}/messages`,
              json({ seq: 0, envelope }, reporter.auth),
            );
            if (response.status === 201)
              acknowledged.set(reporter.caseNumber, { auth: reporter.auth, envelope });
          } catch {
            // Requests in flight when the server dies fail; they were never acknowledged.
          }
          if (acknowledged.size >= 150 && !killed) {
            killed = true;
            await first.kill();
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      expect(killed).toBe(true);
      expect(acknowledged.size).toBeGreaterThanOrEqual(150);

      // And the database server itself dies without a clean shutdown: what it committed stays.
      await postgres.crash();

      const second = await server(env);
      const again = httpFetch(second.url);
      for (const [caseNumber, { auth, envelope }] of acknowledged) {
        const response = await again(`/api/v1/cases/${caseNumber}`, { headers: auth });
        expect(response.status, caseNumber).toBe(200);
        const view = (await response.json()) as { messages: Array<{ envelope: Envelope }> };
        expect(view.messages[0]!.envelope).toEqual(envelope);
      }
    });

    it('retention runs in one process at a time; expired spent tickets and nonces are forgotten, live ones kept', async () => {
      const url = await postgres.createDatabase(`kluis_lock_${process.pid}`);
      const [one, two] = await Promise.all([openDatabaseState(url), openDatabaseState(url)]);
      try {
        // One ticket key for both, made by whichever came first.
        expect(one.secret).toEqual(two.secret);
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => {
          entered = resolve;
        });
        const first = one.store.exclusive(async () => {
          entered();
          await held;
          return 'swept by one';
        });
        // While the first holds the lock (it is inside), the second skips its round. (Waiting
        // for it to be inside, not trying a number of times: on a loaded machine the first's
        // connection can take longer than any fixed number of tries.)
        await inside;
        expect(await two.store.exclusive(async () => 'swept by two')).toBeUndefined();
        release();
        expect(await first).toBe('swept by one');
        expect(await two.store.exclusive(async () => 'swept by two')).toBe('swept by two');

        const now = Date.now();
        const expires = Math.floor(now / 1000) + 600;
        const ticketBytes = new Uint8Array(37).fill(3);
        await one.spentTickets.spend(ticketBytes, expires, now);
        await expect(two.spentTickets.spend(ticketBytes, expires, now)).rejects.toMatchObject({
          code: 'ticket-spent',
        });
        expect(await one.nonces.add('key:nonce', now + 600_000, now)).toBe(true);
        expect(await two.nonces.add('key:nonce', now + 600_000, now)).toBe(false);
        // Two hours on, both have expired: the sweep forgets them, and they may come again.
        const later = now + 2 * 3_600_000;
        expect(await purgeExpired(one.store.pool, now)).toBe(0);
        expect(await purgeExpired(one.store.pool, later)).toBe(2);
        expect(await two.nonces.add('key:nonce', later + 600_000, later)).toBe(true);
      } finally {
        await Promise.all([one.store.close(), two.store.close()]);
      }
    });

    it('refuses a stored case that does not have the shape the server writes, as the file store does', async () => {
      const url = await postgres.createDatabase(`kluis_shape_${process.pid}`);
      const state = await openDatabaseState(url);
      try {
        // Written past the server (another program, or the database's operator).
        await state.store.pool.query(
          "INSERT INTO kluis_records (id, doc, summary, weight) VALUES ('AAAAAAAA', $1, '{}', 0)",
          [JSON.stringify({ messages: 'not a list' })],
        );
        await expect(state.store.records.get('AAAAAAAA')).rejects.toBeInstanceOf(CorruptStoreError);
        await expect(state.store.records.update('AAAAAAAA', (doc) => doc)).rejects.toBeInstanceOf(
          CorruptStoreError,
        );
      } finally {
        await state.store.close();
      }
    });
  },
);
