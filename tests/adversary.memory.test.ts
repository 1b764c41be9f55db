/**
 * Hostile review, finding 5 (issue #10): memory under stalled requests.
 * 100 stalled `POST /api/v1/cases` bodies used to add 200 MiB to the
 * server, because bodies were read in full before any check. Now the
 * ticket (or the reporter's key) is checked from the headers before a body
 * is read, and the bodies in flight share one memory budget (24 MiB by
 * default). Against the real server process, over loopback only.
 */

import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachmentCiphertextLength } from '../crypto/index.js';
import { createUpload, httpFetch, type ReporterCase, createCase } from './helpers/api-client.js';
import { submitReport } from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const KIB = 1024;
const MIB = 1024 * KIB;

let server: ServerProcess;
const sockets: Staller[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const s of sockets) s.socket.destroy();
  await server.stop();
});

function rssMib(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error('no VmRSS');
  return Number(match[1]) / 1024;
}

/** The highest RSS of the server over `ms`, sampled every 100 ms. */
async function peakRss(ms: number): Promise<number> {
  let peak = 0;
  for (let waited = 0; waited <= ms; waited += 100) {
    peak = Math.max(peak, rssMib(server.child.pid!));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return peak;
}

/** A raw connection that sent its headers and part of its body, then stopped. */
interface Staller {
  readonly socket: Socket;
  /** What the server answered so far. */
  readonly received: () => string;
}

/** Opens a loopback connection, sends `head` and `sent` bytes of body, then stalls (never ends). */
function stall(head: string, sent: number): Promise<Staller> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(head);
      socket.write(Buffer.alloc(sent, 0x41));
      resolve(staller);
    });
    const staller: Staller = { socket, received: () => received };
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    // A server that refuses and closes may reset a connection still sending: that is the point.
    socket.on('error', () => {});
    socket.once('error', reject);
    sockets.push(staller);
  });
}

async function stallMany(count: number, head: () => string, sent: number): Promise<Staller[]> {
  const opened: Staller[] = [];
  // In batches, so the loopback connects do not queue up behind each other.
  for (let i = 0; i < count; i += 50) {
    opened.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => stall(head(), sent)),
      )),
    );
  }
  return opened;
}

it('hundreds of stalled bodies keep the server within its memory budget, and a real report still goes through', async () => {
  const url = new URL(server.url);
  const fetcher = httpFetch(server.url);
  // Warm up with requests every server version answers alike; then the baseline.
  for (let i = 0; i < 20; i++) {
    await (await fetcher('/api/v1/info')).arrayBuffer();
    await (
      await fetcher('/api/v1/tickets', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"kind":"case"}',
      })
    ).arrayBuffer();
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const baseline = rssMib(server.child.pid!);

  // 300 anonymous bodies of a declared 2 MB, half a MiB sent, then silence. No ticket in the headers:
  // the server refuses them before reading (it used to read and hold every byte).
  const junkHead = () =>
    `POST /api/v1/cases HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{"verifier":"`;
  const junk = await stallMany(300, junkHead, 512 * KIB);
  const afterJunk = (await peakRss(2000)) - baseline;
  expect(afterJunk).toBeLessThan(64);

  // Bodies a reporter is allowed to send (its own case, its own key), stalled at 900 KiB of 1 MiB:
  // within the 24 MiB budget they are read and held, so 24 of them hold about 21 MiB.
  const reporter: ReporterCase = await createCase(fetcher);
  const announced = await createUpload(fetcher, reporter, attachmentCiphertextLength(40 * MIB));
  expect(announced.status).toBe(201);
  const { id } = (await announced.json()) as { id: string };
  const chunkHead = () =>
    `PATCH /api/v1/cases/${reporter.caseNumber}/uploads/${id} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Length: 1048832\r\nUpload-Offset: 0\r\nKluis-Auth: ${reporter.auth['kluis-auth']}\r\n\r\n`;
  await stallMany(24, chunkHead, 900 * KIB);
  await peakRss(1000);

  // While all of that stalls, a real reporter's submission goes through.
  const real = await submitReport(server.url, {
    text: 'A real report, sent while the server is under attack.',
  });
  expect(real.caseNumber).toMatch(/^[0-9A-Z]{8}$/);

  // 24 more such bodies would pass the budget: the ones without room get 503 busy instead of memory.
  const more = await stallMany(24, chunkHead, 900 * KIB);
  const grown = (await peakRss(2000)) - baseline;
  const busy = more.filter(
    (s) => s.received().startsWith('HTTP/1.1 503') && s.received().includes('"busy"'),
  );
  expect(busy.length).toBeGreaterThan(0);
  expect(grown).toBeLessThan(64);
  // The anonymous bodies were refused for want of a ticket, before their bodies were read.
  expect(
    junk.filter(
      (s) => s.received().startsWith('HTTP/1.1 400') && s.received().includes('"invalid-ticket"'),
    ).length,
  ).toBe(junk.length);
  // ... and their connections closed rather than their bodies read.
  expect(junk.filter((s) => /\r\nconnection: close\r\n/i.test(s.received())).length).toBe(
    junk.length,
  );
  console.log(
    `stalled bodies: RSS growth ${afterJunk.toFixed(1)} MiB after 300 anonymous, ${grown.toFixed(1)} MiB after 48 authenticated; ${busy.length} of 24 refused busy`,
  );
}, 120_000);
