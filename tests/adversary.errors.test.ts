/**
 * Hostile review #10, finding 3: the server's log must not name cases. A
 * request the client cuts off mid-body (routine over Tor) is no error and
 * logs nothing; a store failure logs its code and operation only, never a
 * path (which holds the case number or an attachment id), a message or a
 * stack. Against the real server process over HTTP, with raw sockets for the
 * cut-off requests and real file system failures: a path that is a file
 * where a directory is expected (everywhere), an immutable file (chattr +i,
 * where the test may use it) and a full disk (a small tmpfs, where the test
 * may mount one).
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachmentCiphertextLength,
  deriveReporterKeys,
  exportBundle,
  generateIdentity,
  generateReceiptSecret,
  secureRandom,
  toBase64,
} from '../crypto/index.js';
import {
  createUpload,
  type Fetch,
  httpFetch,
  json,
  recipientOf,
  type ReporterCase,
  sealReport,
  submitReport,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const work = mkdtempSync(join(tmpdir(), 'kluis-errors-'));
const counsellor = generateIdentity('counsellor', 'Errors test');
const bundles = join(work, 'bundles.json');
writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
const env = { KLUIS_COUNSELLORS: bundles, KLUIS_POW_BITS: '0' };
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** True if `command args` runs (as the test user, here). */
function works(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends a request's head with a Content-Length and only `sent` bytes of its body, then cuts
 * the connection, as a broken Tor circuit does. Resolves once the socket is closed.
 */
function cutOff(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
  sent: number,
): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      const head = [
        `${method} ${path} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        `Content-Length: ${body.length}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        '',
        '',
      ].join('\r\n');
      socket.write(head);
      socket.write(body.subarray(0, sent), () => {
        // Long enough for the server to start reading the body.
        setTimeout(() => socket.destroy(), 100);
      });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

/** Lets the server finish what the cut-off requests started. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** What the server printed must name no case or upload, no path in its data directory, and hold no stack. */
function expectNothingNamed(output: string, server: ServerProcess, names: readonly string[]): void {
  // The start-up lines name the data directory on purpose; only what follows them counts.
  const after = output.slice(output.indexOf('Kluis listening on'));
  for (const name of names) expect(after, `${name} in the server's output`).not.toContain(name);
  expect(after).not.toContain(server.dataDir);
  expect(after).not.toContain('    at ');
  expect(after).not.toContain('.tmp');
}

async function announce(
  fetcher: Fetch,
  reporter: ReporterCase,
  size: number,
): Promise<{ id: string; bytes: Uint8Array }> {
  const length = attachmentCiphertextLength(size);
  const response = await createUpload(fetcher, reporter, length);
  expect(response.status).toBe(201);
  return { id: ((await response.json()) as { id: string }).id, bytes: secureRandom(length) };
}

describe('requests cut off mid-body', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env });
  });
  afterAll(() => server.stop());

  it('log nothing, and the server answers on', async () => {
    const fetcher = httpFetch(server.url);
    const reporter = await submitReport(fetcher, [recipientOf(counsellor)], 'A report.');
    const upload = await announce(fetcher, reporter, 300_000);
    const names = [reporter.caseNumber, upload.id];
    const before = server.output().length;

    // A case creation with its report.
    const t = await ticket(fetcher, { kind: 'case' });
    names.push(t.caseNumber);
    const keys = deriveReporterKeys({ caseNumber: t.caseNumber, secret: generateReceiptSecret() });
    const report = sealReport(
      {
        caseNumber: t.caseNumber,
        secret: new Uint8Array(0),
        keys,
        auth: {},
        last: new Uint8Array(32),
        count: 0,
      },
      [recipientOf(counsellor)],
      'cut off',
    );
    const create = new TextEncoder().encode(
      JSON.stringify({ verifier: toBase64(keys.verifier), report }),
    );
    await cutOff(
      server.url,
      'POST',
      '/api/v1/cases',
      { 'Content-Type': 'application/json', ...workHeaders(t) },
      create,
      200,
    );
    // A message.
    const message = new TextEncoder().encode(JSON.stringify({ seq: 1, envelope: report }));
    const messageTicket = await ticket(fetcher, { kind: 'message', case: reporter.caseNumber });
    await cutOff(
      server.url,
      'POST',
      `/api/v1/cases/${reporter.caseNumber}/messages`,
      { 'Content-Type': 'application/json', ...reporter.auth, ...workHeaders(messageTicket) },
      message,
      100,
    );
    // Upload chunks, at the start and halfway.
    const chunk = upload.bytes.subarray(0, 200_000);
    await cutOff(
      server.url,
      'PATCH',
      `/api/v1/cases/${reporter.caseNumber}/uploads/${upload.id}`,
      { 'Content-Type': 'application/octet-stream', 'Upload-Offset': '0', ...reporter.auth },
      chunk,
      0,
    );
    await cutOff(
      server.url,
      'PATCH',
      `/api/v1/cases/${reporter.caseNumber}/uploads/${upload.id}`,
      { 'Content-Type': 'application/octet-stream', 'Upload-Offset': '0', ...reporter.auth },
      chunk,
      70_000,
    );
    await settle();

    expect(server.output().slice(before)).toBe('');
    expectNothingNamed(server.output(), server, names);
    expect((await fetcher('/api/v1/health')).status).toBe(200);
    // Nothing of the cut-off upload was appended: it resumes from 0.
    const status = (await (
      await fetcher(`/api/v1/cases/${reporter.caseNumber}/uploads/${upload.id}`, {
        headers: reporter.auth,
      })
    ).json()) as { offset: number };
    expect(status.offset).toBe(0);
  });
});

describe('store failures', () => {
  it('log their code and operation only, and the server answers on', async () => {
    const server = await startServer({ env });
    try {
      const fetcher = httpFetch(server.url);
      // A case number is issued with its ticket: make its shard directory's name a file.
      const t = await ticket(fetcher, { kind: 'case' });
      const shard = join(server.dataDir, 'records', t.caseNumber.slice(0, 2));
      writeFileSync(shard, '');
      const keys = deriveReporterKeys({
        caseNumber: t.caseNumber,
        secret: generateReceiptSecret(),
      });
      // Acknowledged from the journal (server/store/journal.ts): the record file comes later.
      const created = await fetcher(
        '/api/v1/cases',
        json({ verifier: toBase64(keys.verifier) }, workHeaders(t)),
      );
      expect(created.status).toBe(201);
      // Writing it into its file, once writes pause, fails; the operator is told, without the case.
      const line =
        /kluis: writing cases from the journal into their files failed: ENOTDIR writing a record; tried again in a moment, the journal keeps them meanwhile\n/;
      for (let waited = 0; !line.test(server.output()) && waited < 10_000; waited += 100)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.output()).toMatch(line);
      expectNothingNamed(server.output(), server, [t.caseNumber]);
      expect((await fetcher('/api/v1/health')).status).toBe(200);
      // Repaired, the next attempt writes it.
      rmSync(shard);
      for (
        let waited = 0;
        readdirSync(join(server.dataDir, 'records')).length === 0 && waited < 10_000;
        waited += 100
      )
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readdirSync(shard)).toEqual([`${t.caseNumber}.json`]);
    } finally {
      await server.stop();
    }
  });

  // Whether this machine lets us make a file immutable (chattr, CAP_LINUX_IMMUTABLE, a file system that has it).
  const probe = join(work, 'immutable-probe');
  writeFileSync(probe, '');
  const canMakeImmutable = works('chattr', ['+i', probe]) && works('chattr', ['-i', probe]);

  it.skipIf(!canMakeImmutable)(
    'an attachment that cannot be written (chattr +i) logs EPERM appending to an attachment',
    async () => {
      const server = await startServer({ env });
      const fetcher = httpFetch(server.url);
      const reporter = await submitReport(fetcher, [recipientOf(counsellor)], 'A report.');
      const upload = await announce(fetcher, reporter, 100_000);
      const file = join(server.dataDir, 'blobs', upload.id.slice(0, 2), upload.id);
      let immutable = false;
      try {
        immutable = works('chattr', ['+i', file]);
        expect(immutable).toBe(true);
        const response = await fetcher(
          `/api/v1/cases/${reporter.caseNumber}/uploads/${upload.id}`,
          {
            method: 'PATCH',
            headers: {
              ...reporter.auth,
              'content-type': 'application/octet-stream',
              'upload-offset': '0',
            },
            body: upload.bytes.subarray(0, 1000) as Uint8Array<ArrayBuffer>,
          },
        );
        expect(response.status).toBe(500);
        expect(server.output()).toMatch(
          /kluis: internal error on PATCH \/api\/v1\/cases\/:case\/uploads\/:id: EPERM appending to an attachment\n/,
        );
        expectNothingNamed(server.output(), server, [reporter.caseNumber, upload.id]);
        expect((await fetcher('/api/v1/health')).status).toBe(200);
      } finally {
        if (immutable) works('chattr', ['-i', file]);
        await server.stop();
      }
    },
  );

  const mountPoint = join(work, 'small-disk');
  mkdirSync(mountPoint);
  const mounted = works('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', mountPoint]);
  afterAll(() => {
    if (mounted) works('umount', [mountPoint]);
  });

  it.skipIf(!mounted)('a full disk (a 512 KB tmpfs) logs ENOSPC and the operation', async () => {
    const dataDir = join(mountPoint, 'data');
    // No free-space floor, so the disk really fills (with the floor, writes stop with 503 store-full first).
    const server = await startServer({ env: { ...env, KLUIS_MIN_FREE_MB: '0' }, dataDir });
    try {
      const fetcher = httpFetch(server.url);
      const reporter = await submitReport(fetcher, [recipientOf(counsellor)], 'A report.');
      // Fill the disk, then ask for more.
      try {
        writeFileSync(join(mountPoint, 'filler'), new Uint8Array(1024 * 1024));
      } catch {
        // ENOSPC: full, as wanted.
      }
      const t = await ticket(fetcher, { kind: 'case' });
      const keys = deriveReporterKeys({
        caseNumber: t.caseNumber,
        secret: generateReceiptSecret(),
      });
      const report = sealReport(
        {
          caseNumber: t.caseNumber,
          secret: new Uint8Array(0),
          keys,
          auth: {},
          last: new Uint8Array(32),
          count: 0,
        },
        [recipientOf(counsellor)],
        'x'.repeat(20_000),
      );
      const answer = await fetcher(
        '/api/v1/cases',
        json({ verifier: toBase64(keys.verifier), report }, workHeaders(t)),
      );
      expect(answer.status).toBe(500);
      expect(server.output()).toMatch(
        /kluis: internal error on POST \/api\/v1\/cases: ENOSPC creating a record\n/,
      );
      expectNothingNamed(server.output(), server, [reporter.caseNumber, t.caseNumber]);
      rmSync(join(mountPoint, 'filler'));
      expect((await fetcher('/api/v1/health')).status).toBe(200);
      expect(readdirSync(dataDir)).toContain('records');
    } finally {
      await server.stop();
    }
  });
});
