/**
 * The inbox in bulk: whole cases in pages (GET /api/v1/counsellor/case-details)
 * against a real server, the same answers as one request per case; a page
 * out of order or with a wrong `next` is refused; a server without the
 * route gets one request per case.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError } from '../client/counsellor/lib/errors.js';
import { createNodeTransport, readBody, type Transport } from '../client/counsellor/lib/http.js';
import { CounsellorSession } from '../client/counsellor/lib/session.js';
import { exportBundle, generateIdentity } from '../crypto/index.js';
import { submitReport } from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const counsellor = generateIdentity('counsellor', 'Inbox test counsellor');
const dir = mkdtempSync(join(tmpdir(), 'kluis-counsellor-inbox-'));
let server: ServerProcess;
const CASES = 5;

beforeAll(async () => {
  const bundles = join(dir, 'counsellors.json');
  writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
  server = await startServer({ env: { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: bundles } });
  for (let i = 0; i < CASES; i++)
    await submitReport(server.url, { text: `Report ${i}`, consent: i % 2 ? 'yes' : 'no' });
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
      if (!options.rewriteBody || !url.pathname.endsWith('/case-details')) return response;
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
