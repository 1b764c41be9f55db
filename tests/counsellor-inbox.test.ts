/**
 * The inbox in bulk: whole cases in pages (GET /api/v1/counsellor/case-details)
 * against a real server, the same answers as one request per case; a page
 * out of order or with a wrong `next` is refused; a server without the
 * route gets one request per case.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError } from '../client/counsellor/lib/errors.js';
import { createNodeTransport, readBody, type Transport } from '../client/counsellor/lib/http.js';
import { CounsellorSession } from '../client/counsellor/lib/session.js';
import { exportBundle, generateIdentity } from '../crypto/index.js';
import { type ReporterCase, sendAsReporter, submitReport } from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const counsellor = generateIdentity('counsellor', 'Inbox test counsellor');
const dir = mkdtempSync(join(tmpdir(), 'kluis-counsellor-inbox-'));
let server: ServerProcess;
const CASES = 5;
const reporters: ReporterCase[] = [];

beforeAll(async () => {
  const bundles = join(dir, 'counsellors.json');
  writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
  server = await startServer({ env: { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: bundles } });
  for (let i = 0; i < CASES; i++)
    reporters.push(
      await submitReport(server.url, { text: `Report ${i}`, consent: i % 2 ? 'yes' : 'no' }),
    );
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A transport that records paths and may rewrite requests or answers. */
function recordingTransport(
  options: {
    rewritePath?: (path: string) => string;
    rewriteBody?: (path: string, body: unknown) => unknown;
    /** Which answers rewriteBody sees (default: the case-details pages). */
    match?: (path: string) => boolean;
  } = {},
): { transport: Transport; paths: string[] } {
  const inner = createNodeTransport({});
  const paths: string[] = [];
  const transport: Transport = {
    async request(url, request) {
      paths.push(url.pathname + url.search);
      const target = new URL(url);
      if (options.rewritePath) {
        const rewritten = new URL(options.rewritePath(url.pathname + url.search), url);
        target.pathname = rewritten.pathname;
        target.search = rewritten.search;
      }
      const response = await inner.request(target, request);
      const match = options.match ?? ((path: string) => path.endsWith('/case-details'));
      if (!options.rewriteBody || !match(url.pathname)) return response;
      const body = JSON.parse((await readBody(response)).toString('utf8')) as unknown;
      const text = JSON.stringify(options.rewriteBody(url.pathname + url.search, body));
      return Object.assign(Readable.from([Buffer.from(text)]), {
        statusCode: response.statusCode,
        headers: response.headers,
      }) as unknown as IncomingMessage;
    },
    close: () => inner.close(),
  };
  return { transport, paths };
}

async function session(transport: Transport, name: string): Promise<CounsellorSession> {
  return CounsellorSession.open({
    identity: counsellor,
    server: server.url,
    stateDir: join(dir, name),
    transport,
    workers: 0,
  });
}

describe('inbox in bulk', () => {
  it('reads whole cases in pages, no request per case, with the same answers as show', async () => {
    const { transport, paths } = recordingTransport();
    const s = await session(transport, 'paged');
    try {
      const inbox = await s.inbox({ pageSize: 2 });
      expect(inbox.entries).toHaveLength(CASES);
      expect(inbox.entries.every((e) => e.intact && e.messages === 1 && e.unread === 1)).toBe(true);
      const details = paths.filter((p) => p.includes('/case-details'));
      expect(details).toHaveLength(3);
      expect(details[0]).toBe('/api/v1/counsellor/case-details?limit=2');
      expect(paths.filter((p) => p.startsWith('/api/v1/counsellor/cases/'))).toHaveLength(0);
      for (const entry of inbox.entries) {
        const view = await s.openCase(entry.caseNumber);
        expect(view.consent).toBe(entry.consent);
        expect(view.messages.length).toBe(entry.messages);
      }
      // The rollback memory was kept by the paged inbox: a second one still verifies.
      const again = await s.inbox();
      expect(again.entries.every((e) => e.intact)).toBe(true);
    } finally {
      s.close();
    }
  });

  it('refuses a page whose cases are out of order, or whose next does not move on', async () => {
    const reversed = recordingTransport({
      rewriteBody: (_path, body) => {
        const b = body as { cases: unknown[] };
        return { ...b, cases: [...b.cases].reverse() };
      },
    });
    const s1 = await session(reversed.transport, 'reversed');
    try {
      await expect(s1.inbox({ pageSize: 3 })).rejects.toThrow(NetworkError);
      await expect(s1.inbox({ pageSize: 3 })).rejects.toThrow(/case-details.*out of order/);
    } finally {
      s1.close();
    }
    const stuck = recordingTransport({
      rewriteBody: (_path, body) => ({ ...(body as object), next: '00000000' }),
    });
    const s2 = await session(stuck.transport, 'stuck');
    try {
      await expect(s2.inbox({ pageSize: 2 })).rejects.toThrow(/case-details.*field next/);
    } finally {
      s2.close();
    }
  });

  it('falls back to one request per case on a server without case-details', async () => {
    const { transport, paths } = recordingTransport({
      rewritePath: (path) => path.replace('/case-details', '/no-such-route'),
    });
    const s = await session(transport, 'fallback');
    try {
      const inbox = await s.inbox();
      expect(inbox.entries).toHaveLength(CASES);
      expect(inbox.entries.every((e) => e.intact)).toBe(true);
      expect(paths.filter((p) => p.startsWith('/api/v1/counsellor/cases/'))).toHaveLength(CASES);
    } finally {
      s.close();
    }
  });
});

describe('incremental inbox', () => {
  const caseRequests = (paths: readonly string[]) =>
    paths.filter((p) => p.startsWith('/api/v1/counsellor/cases/') || p.includes('/case-details'));
  const summary = (e: {
    caseNumber: string;
    messages: number;
    unread: number;
    intact: boolean;
    searchText: string;
    facts: unknown;
    deadlines: unknown;
    consent?: string;
  }) => [
    e.caseNumber,
    e.messages,
    e.unread,
    e.intact,
    e.searchText,
    e.facts,
    e.deadlines,
    e.consent,
  ];

  it('opens only what changed, from a cache that holds no plaintext on disk', async () => {
    const { transport, paths } = recordingTransport();
    const s = await session(transport, 'incremental');
    try {
      const cold = await s.inbox();
      expect(caseRequests(paths)).toEqual(['/api/v1/counsellor/case-details?limit=500']);
      paths.length = 0;
      const warm = await s.inbox();
      expect(caseRequests(paths)).toEqual([]);
      expect(warm.entries.map(summary)).toEqual(cold.entries.map(summary));
      expect(warm.entries.every((e) => e.searchText.includes('report'))).toBe(true);

      // A reporter writes in one case: only that case is fetched and opened again.
      const target = reporters[2]!;
      await sendAsReporter(target, { text: 'A new message arrives' });
      paths.length = 0;
      const after = await s.inbox();
      expect(caseRequests(paths)).toEqual([`/api/v1/counsellor/cases/${target.caseNumber}`]);
      const entry = after.entries.find((e) => e.caseNumber === target.caseNumber)!;
      expect(entry).toMatchObject({ messages: 2, unread: 2, intact: true });
      expect(entry.searchText).toContain('a new message arrives');
      for (const other of after.entries.filter((e) => e.caseNumber !== target.caseNumber))
        expect(summary(other)).toEqual(
          summary(cold.entries.find((e) => e.caseNumber === other.caseNumber)!),
        );
      // A new session (the app restarted) reads the cache from disk and fetches nothing.
      const s2 = await session(transport, 'incremental');
      paths.length = 0;
      try {
        expect((await s2.inbox()).entries.map(summary)).toEqual(after.entries.map(summary));
        expect(caseRequests(paths)).toEqual([]);
      } finally {
        s2.close();
      }
    } finally {
      s.close();
    }
    // On disk: the cache is there, 0600, and no decrypted word in it or anywhere under the directory.
    const stateDir = join(dir, 'incremental', 'state');
    const files = readdirSync(stateDir);
    const cacheFile = files.find((f) => f.endsWith('.inbox'));
    expect(cacheFile).toBeDefined();
    expect(statSync(join(stateDir, cacheFile!)).mode & 0o777).toBe(0o600);
    for (const file of files) {
      const bytes = readFileSync(join(stateDir, file));
      for (const word of ['Report 0', 'report 0', 'a new message arrives', 'A new message'])
        expect(bytes.includes(Buffer.from(word)), `${file} holds "${word}"`).toBe(false);
    }
  });

  it('a cache that does not open with this key is not used: every case is opened again', async () => {
    const { transport, paths } = recordingTransport();
    const s = await session(transport, 'damaged');
    try {
      await s.inbox();
    } finally {
      s.close();
    }
    const stateDir = join(dir, 'damaged', 'state');
    const cacheFile = join(stateDir, readdirSync(stateDir).find((f) => f.endsWith('.inbox'))!);
    const bytes = readFileSync(cacheFile);
    bytes[bytes.length - 20]! ^= 1;
    writeFileSync(cacheFile, bytes);
    const again = await session(transport, 'damaged');
    paths.length = 0;
    try {
      const inbox = await again.inbox();
      expect(inbox.entries.every((e) => e.intact)).toBe(true);
      expect(caseRequests(paths)).toEqual(['/api/v1/counsellor/case-details?limit=500']);
    } finally {
      again.close();
    }
  });

  it('a server that serves an older state of a case than the cache holds is named (rollback)', async () => {
    const target = reporters[3]!;
    const plain = recordingTransport();
    const s = await session(plain.transport, 'rollback');
    try {
      await sendAsReporter(target, { text: 'Another message' });
      expect((await s.inbox()).entries.every((e) => e.intact)).toBe(true);
    } finally {
      s.close();
    }
    // The server drops the case's latest message, in its listing row and in the case.
    const rolledBack = recordingTransport({
      match: (path) => path === '/api/v1/counsellor/cases' || path.includes(target.caseNumber),
      rewriteBody: (path, body) => {
        if (path === '/api/v1/counsellor/cases') {
          const b = body as { cases?: { case: string; messages: number }[] };
          if (!b.cases) return body; // an error answer (the client signs again and retries)
          return {
            cases: b.cases.map((c) =>
              c.case === target.caseNumber ? { ...c, messages: c.messages - 1 } : c,
            ),
          };
        }
        const b = body as { messages?: unknown[] };
        if (!b.messages) return body;
        return { ...b, messages: b.messages.slice(0, -1) };
      },
    });
    const r = await session(rolledBack.transport, 'rollback');
    try {
      const inbox = await r.inbox();
      const entry = inbox.entries.find((e) => e.caseNumber === target.caseNumber)!;
      expect(entry.intact).toBe(false);
      expect(entry.problems.join('\n')).toMatch(/rollback/);
      expect(rolledBack.paths).toContain(`/api/v1/counsellor/cases/${target.caseNumber}`);
      // The other cases still come from the cache.
      expect(
        rolledBack.paths.filter((p) => p.startsWith('/api/v1/counsellor/cases/')),
      ).toHaveLength(1);
    } finally {
      r.close();
    }
  });
});
