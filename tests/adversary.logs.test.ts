/**
 * Nothing that could identify a reporter reaches the server's output or its
 * disk: run a whole flow (and some failures) against the real server
 * process from a distinct client address with a distinctive user agent,
 * then search everything the server printed and stored.
 */

import { request as httpRequest } from 'node:http';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { exportBundle, fromBase64, generateIdentity, toBase64, toHex } from '../crypto/index.js';
import { type Fetch, recipientOf, submitReport } from './helpers/api-client.js';
import { startServer } from './helpers/server-process.js';

const CLIENT_ADDRESS = '127.0.0.2';
const USER_AGENT = 'Mozilla/5.0 (KluisCanaryAgent 7.3; rv:99)';
const CANARY = 'canary-sentence-9d41: the deputy director threatened our grant';

/** fetch-like over node:http from CLIENT_ADDRESS, with the distinctive user agent. */
function fromClientAddress(base: string): Fetch {
  return (path, init = {}) =>
    new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const headers: Record<string, string> = {
        'user-agent': USER_AGENT,
        ...(init.headers as Record<string, string>),
      };
      const body =
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? Buffer.from(init.body)
            : Buffer.from(init.body as Uint8Array);
      if (body) headers['content-length'] = String(body.length);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: init.method ?? 'GET',
          headers,
          localAddress: CLIENT_ADDRESS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve(
              new Response(Buffer.concat(chunks), {
                status: res.statusCode ?? 500,
                headers: res.headers as Record<string, string>,
              }),
            ),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

function everyFile(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? everyFile(path) : [readFileSync(path)];
  });
}

it('the server prints and stores no client address, user agent, receipt secret, key or plaintext', async () => {
  const work = mkdtempSync(join(tmpdir(), 'kluis-logs-'));
  const bundles = join(work, 'bundles.json');
  const counsellor = generateIdentity('counsellor', 'Logs test');
  writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
  const server = await startServer({ env: { KLUIS_COUNSELLORS: bundles, KLUIS_POW_BITS: '0' } });
  try {
    const fetcher = fromClientAddress(server.url);
    const reporter = await submitReport(fetcher, [recipientOf(counsellor)], CANARY);
    expect(
      (await fetcher(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth })).status,
    ).toBe(200);
    // Failures too: a wrong key, malformed JSON, an unknown route.
    expect(
      (
        await fetcher(`/api/v1/cases/${reporter.caseNumber}`, {
          headers: { 'kluis-auth': toBase64(new Uint8Array(32)) },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await fetcher('/api/v1/tickets', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        })
      ).status,
    ).toBe(400);
    expect((await fetcher('/api/v1/nothing-here')).status).toBe(404);

    const secrets = [
      ['client address', CLIENT_ADDRESS],
      ['user agent', 'KluisCanaryAgent'],
      ['plaintext', 'canary-sentence-9d41'],
      ['receipt secret (hex)', toHex(reporter.secret)],
      ['auth key', reporter.auth['kluis-auth']!],
      ['auth key (hex)', toHex(fromBase64(reporter.auth['kluis-auth']!))],
    ] as const;
    const output = server.output();
    const stored = everyFile(server.dataDir);
    for (const [what, value] of secrets) {
      expect(output.includes(value), `${what} in the server's output`).toBe(false);
      expect(
        stored.some((file) => file.includes(value)),
        `${what} on disk`,
      ).toBe(false);
    }
    // The flow did reach the server (the check above is not vacuous).
    expect(stored.some((file) => file.includes(reporter.caseNumber))).toBe(true);
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
