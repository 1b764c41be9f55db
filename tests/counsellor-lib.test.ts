/**
 * The counsellor library's parts that need no server: text and file-name
 * safety, the native fast paths against crypto/ (same answers, tampered
 * inputs included), deadlines, the SOCKS5 client, page references, the
 * state file and the trust-on-first-use check of the server's keys.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deriveReporterKeys,
  encodeContent,
  type Envelope,
  exportBundle,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  generateReceiptSecret,
  type Identity,
  labelledHash,
  naclVerifier,
  openConversation,
  type RecipientKey,
  sealEnvelope,
  signRequest,
  toBase64,
  unwrapContentKey,
  verifySignature,
} from '../crypto/index.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
import { addMonths, caseDeadlines } from '../client/counsellor/lib/deadlines.js';
import {
  IntegrityError,
  LocalFileError,
  NetworkError,
  UsageError,
} from '../client/counsellor/lib/errors.js';
import { createNodeTransport, readBody } from '../client/counsellor/lib/http.js';
import {
  createNativeRequestSigner,
  createNativeUnwrapper,
} from '../client/counsellor/lib/native.js';
import { alternativeName, safeFileName, safeText } from '../client/counsellor/lib/sanitize.js';
import { openCaseDetail } from '../client/counsellor/lib/open-case.js';
import { OpenPool } from '../client/counsellor/lib/open-pool.js';
import { CounsellorSession } from '../client/counsellor/lib/session.js';
import { parseProxyUrl } from '../client/counsellor/lib/socks.js';
import { StateStore } from '../client/counsellor/lib/state.js';
import { referencesOf } from '../client/counsellor/lib/verify-page.js';
import { uploadFile } from '../client/counsellor/lib/attachments.js';
import { CounsellorApi } from '../client/counsellor/lib/api.js';
import type { Transport } from '../client/counsellor/lib/http.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kluis-counsellor-lib-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('safeText', () => {
  it('replaces control characters, escape sequences and bidi controls with visible stand-ins', () => {
    expect(safeText('a\u001b[2Jb')).toBe('a\u241b[2Jb');
    expect(safeText('x\ry')).toBe('x\u240dy');
    expect(safeText('csi\u009b31m')).toBe('csi<U+009B>31m');
    expect(safeText('abc\u202eexe.txt')).toBe('abc<U+202E>exe.txt');
    expect(safeText('one\ntwo')).toBe('one\u240atwo');
    expect(safeText('lone \ud800 surrogate')).toBe('lone \ufffd surrogate');
    expect(safeText('émoji 👍🏽 ok')).toBe('émoji 👍🏽 ok');
  });

  it('keeps line feeds and tabs in multi-line text, and folds CR LF and U+2028', () => {
    expect(safeText('one\r\ntwo\u2028three\tfour\rfive', { multiline: true })).toBe(
      'one\ntwo\nthree\tfour\u240dfive',
    );
  });
});

describe('safeFileName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..', 'attachment'],
    ['', 'attachment'],
    ['C:\\Windows\\system32\\x.dll', 'x.dll'],
    ['.bashrc', 'bashrc'],
    ['CON.txt', '_CON.txt'],
    ['lpt1', '_lpt1'],
    ['report\u202eexe.pdf', 'report_exe.pdf'],
    ['evil\u001b[31m.txt', 'evil_[31m.txt'],
    ['what?<>:"|*.txt', 'what_______.txt'],
    ['trailing. . ', 'trailing'],
    ['normaal bestand.pdf', 'normaal bestand.pdf'],
  ])('%j becomes %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('shortens long names to 200 bytes, keeping the extension', () => {
    const name = safeFileName(`${'ü'.repeat(300)}.docx`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.docx')).toBe(true);
  });

  it('numbers alternatives before the extension', () => {
    expect(alternativeName('a.txt', 2)).toBe('a (2).txt');
    expect(alternativeName('README', 3)).toBe('README (3)');
  });
});

describe('native fast paths give crypto/’s answers', () => {
  const counsellor = generateIdentity('counsellor', 'A');
  const deputy = generateIdentity('counsellor', 'B');
  const stranger = generateIdentity('counsellor', 'Stranger');
  const caseNumber = 'K7P49QXM';
  const reporter = deriveReporterKeys({ caseNumber, secret: generateReceiptSecret() });
  const recipient = (i: Identity) => ({
    fingerprint: fingerprintOf(i.sign.publicKey),
    boxPublicKey: i.box.publicKey,
  });
  const key: RecipientKey = { ...recipient(counsellor), boxSecretKey: counsellor.box.secretKey };
  const recipients = [
    { fingerprint: reporter.fingerprint, boxPublicKey: reporter.box.publicKey },
    recipient(counsellor),
    recipient(deputy),
  ];
  const content = (text: string) =>
    encodeContent({ v: 1, type: 'message', time: '2026-11-28T21:14:05Z', text, attachments: [] });

  function conversation(): Envelope[] {
    const envelopes: Envelope[] = [];
    let prev = GENESIS_HASH;
    const authors = [reporter.sign, counsellor.sign, reporter.sign, deputy.sign];
    authors.forEach((author, seq) => {
      const sealed = sealEnvelope({
        caseNumber,
        seq,
        prev,
        author,
        content: content(`message ${seq}`),
        recipients,
      });
      envelopes.push(sealed.envelope);
      prev = sealed.hash;
    });
    return envelopes;
  }

  const options = {
    caseNumber,
    counsellorSignKeys: [counsellor.sign.publicKey, deputy.sign.publicKey],
    verifier: createNativeVerifier(),
  };
  const summary = (c: ReturnType<typeof openConversation>) => ({
    intact: c.intact,
    problems: c.problems,
    reporter: c.reporterSignKey && toBase64(c.reporterSignKey),
    entries: c.entries.map((e) =>
      e.ok
        ? {
            ok: true,
            author: e.author,
            seq: e.opened.seq,
            hash: toBase64(e.opened.hash),
            content: toBase64(e.opened.content),
            key: toBase64(e.opened.contentKey),
          }
        : { ok: false, code: e.error.code, hash: e.hash && toBase64(e.hash) },
    ),
  });

  const flip = (text: string, at: number) => {
    const bytes = Buffer.from(text, 'base64');
    bytes[at]! ^= 1;
    return bytes.toString('base64');
  };
  const mine = (e: Envelope) => e.keys.findIndex((k) => k.to === key.fingerprint);
  const withKey = (
    e: Envelope,
    change: (k: Envelope['keys'][number]) => Envelope['keys'][number],
  ): Envelope => ({
    ...e,
    keys: e.keys.map((k, i) => (i === mine(e) ? change(k) : k)),
  });
  const lowOrderWrap = (e: Envelope, contentKey: Uint8Array): Envelope => {
    // The all-zero point: OpenSSL refuses it, tweetnacl computes a zero shared secret. A wrap made for that opens in both.
    const zero = new Uint8Array(32);
    const nonce = labelledHash('kluis/v1/wrap-nonce', 24, zero, key.boxPublicKey);
    const wk = nacl.box.after(contentKey, nonce, nacl.box.before(zero, key.boxSecretKey));
    return withKey(e, (k) => ({ ...k, epk: toBase64(zero), wk: toBase64(wk) }));
  };

  const base = conversation();
  const contentKey1 = unwrapContentKey(base[1]!, key);
  const forged = sealEnvelope({
    caseNumber,
    seq: 2,
    prev: new Uint8Array(32),
    author: stranger.sign,
    content: content('forged'),
    recipients,
  }).envelope;
  const variants: Record<string, unknown[]> = {
    intact: base,
    'ciphertext bit flipped': base.map((e, i) => (i === 1 ? { ...e, ct: flip(e.ct, 40) } : e)),
    'wrapped key altered': base.map((e, i) =>
      i === 2 ? withKey(e, (k) => ({ ...k, wk: flip(k.wk, 5) })) : e,
    ),
    'ephemeral key altered': base.map((e, i) =>
      i === 2 ? withKey(e, (k) => ({ ...k, epk: flip(k.epk, 3) })) : e,
    ),
    'low-order ephemeral key': base.map((e, i) => (i === 1 ? lowOrderWrap(e, contentKey1) : e)),
    'not addressed to the reader': base.map((e, i) =>
      i === 3 ? { ...e, keys: e.keys.filter((k) => k.to !== key.fingerprint) } : e,
    ),
    'message dropped': [base[0], base[1], base[3]],
    'messages swapped': [base[0], base[2], base[1], base[3]],
    'last withheld': base.slice(0, 3),
    'forged author': [base[0], base[1], forged],
    'malformed envelope': base.map((e, i) => (i === 2 ? { ...e, extra: true } : e)),
    'not an object': [base[0], 'nonsense', base[2]],
    'replayed report': [base[0], base[0]],
  };

  it.each(Object.keys(variants))('%s', (name) => {
    const envelopes = variants[name]!;
    const reference = summary(openConversation(envelopes, key, options));
    const native = summary(openConversation(envelopes, createNativeUnwrapper(key), options));
    expect(native).toEqual(reference);
    if (name === 'intact' || name === 'low-order ephemeral key' || name === 'last withheld')
      expect(native.intact).toBe(true);
    else expect(native.intact).toBe(false);
  });

  it('the native verifier agrees with tweetnacl, also while its key cache churns', () => {
    const fast = createNativeVerifier(4);
    const native = createNativeVerifier();
    const message = new TextEncoder().encode('kluis');
    for (let i = 0; i < 40; i++) {
      const pair = nacl.sign.keyPair();
      const signature = nacl.sign.detached(message, pair.secretKey);
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
        [message, signature, pair.publicKey],
        [new TextEncoder().encode('kluiz'), signature, pair.publicKey],
        [message, signature.map((b, j) => (j === i ? b ^ 1 : b)), pair.publicKey],
        [message, signature, pair.publicKey.map((b, j) => (j === i % 32 ? b ^ 0x80 : b))],
        [message, signature, new Uint8Array(32).fill(i)],
      ];
      for (const [m, s, k] of cases) {
        expect(fast(m, s, k)).toBe(native(m, s, k));
        expect(verifySignature(m, s, k, fast)).toBe(verifySignature(m, s, k, naclVerifier));
      }
    }
  });

  it('opens cases in a worker thread exactly as in place', async () => {
    const detail = (messages: unknown[]) => ({
      case: caseNumber,
      createdHour: 1,
      status: 'received' as const,
      statusHour: 1,
      messages: messages.map((envelope, seq) => ({
        seq,
        hour: 1,
        author: 'reporter' as const,
        envelope,
      })),
      uploads: [],
      notes: [],
      forwardedTo: [],
      ackHour: null,
    });
    const context = {
      role: 'counsellor' as const,
      fingerprint: key.fingerprint,
      unwrap: createNativeUnwrapper(key),
      verifier: createNativeVerifier(),
      counsellors: [counsellor, deputy].map((i) => ({
        fingerprint: fingerprintOf(i.sign.publicKey),
        signPublicKey: i.sign.publicKey,
      })),
      escalation: [],
      names: [[key.fingerprint, 'A'] as const],
      memory: { count: 4, lastHash: toBase64(new Uint8Array(32)), seen: 2 },
    };
    const pool = OpenPool.create(
      {
        role: 'counsellor',
        fingerprint: key.fingerprint,
        boxPublicKey: key.boxPublicKey,
        boxSecretKey: key.boxSecretKey,
      },
      1,
    )!;
    try {
      for (const name of ['intact', 'ciphertext bit flipped', 'message dropped', 'forged author']) {
        const d = detail(variants[name]!);
        const here = openCaseDetail(d, context);
        const there = await pool.open(d, context);
        expect(there).toEqual(here);
        expect(there.problems.length > 0).toBe(true); // the memory says 4 messages with another last hash
      }
    } finally {
      await pool.close();
    }
  });

  it('signs requests byte for byte as signRequest does', () => {
    const request = {
      origin: 'http://kluisexample.onion',
      method: 'POST',
      path: '/api/v1/counsellor/cases/K7P49QXM/notes',
      time: 1_795_000_000,
      body: new TextEncoder().encode('{"a":1}'),
    };
    const nonce = toBase64(nacl.randomBytes(16));
    expect(createNativeRequestSigner(counsellor.sign.secretKey)(request, nonce)).toEqual(
      signRequest({ ...request, nonce }, counsellor.sign.secretKey),
    );
  });
});

describe('resumed attachment upload', () => {
  /**
   * A server that fails the second PATCH (a broken connection), the file changing on disk just
   * then, and then claims to hold nothing, so that the client seals chunk 0 again.
   */
  it('never sends other bytes under the same key and nonces when the file changed', async () => {
    const dir = tempDir();
    const path = join(dir, 'evidence.bin');
    const data = new Uint8Array(2_000_000).map((_, i) => (i * 7 + 3) & 255);
    writeFileSync(path, data);
    const sent: { offset: number; bytes: string }[] = [];
    let patches = 0;
    const answer = (statusCode: number, body: unknown) =>
      Object.assign(Readable.from([Buffer.from(JSON.stringify(body))]), {
        statusCode,
      }) as unknown as IncomingMessage;
    const transport: Transport = {
      async request(url, request) {
        if (request.method === 'POST') return answer(201, { id: 'ab'.repeat(16), offset: 0 });
        if (request.method === 'GET')
          return answer(200, {
            id: 'ab'.repeat(16),
            length: 0,
            offset: 0,
            complete: false,
            hour: 1,
          });
        const offset = Number(request.headers?.['upload-offset']);
        sent.push({ offset, bytes: Buffer.from(request.body!).toString('base64') });
        if (++patches === 2) {
          const changed = readFileSync(path);
          changed[10]! ^= 1;
          writeFileSync(path, changed);
          throw new NetworkError(`cannot reach ${url.origin}: the test broke it`);
        }
        return answer(200, { offset: offset + request.body!.length, complete: false });
      },
      close() {},
    };
    const identity = generateIdentity('counsellor', 'A');
    const api = new CounsellorApi({
      server: 'http://127.0.0.1:1',
      signer: createNativeRequestSigner(identity.sign.secretKey),
      transport,
    });
    await expect(
      uploadFile(api, 'K7P49QXM', path, { maxFileBytes: 10_000_000 }),
    ).rejects.toBeInstanceOf(LocalFileError);
    const byOffset = new Map<number, Set<string>>();
    for (const { offset, bytes } of sent)
      byOffset.set(offset, (byOffset.get(offset) ?? new Set()).add(bytes));
    for (const [offset, bodies] of byOffset)
      expect(bodies.size, `bodies sent at offset ${offset}`).toBe(1);
  });
});

describe('deadlines', () => {
  it('adds calendar months, clamping the day', () => {
    expect(addMonths(new Date('2026-11-30T10:00:00Z'), 3).toISOString()).toBe(
      '2027-02-28T10:00:00.000Z',
    );
    expect(addMonths(new Date('2027-11-30T10:00:00Z'), 3).toISOString()).toBe(
      '2028-02-29T10:00:00.000Z',
    );
    expect(addMonths(new Date('2026-01-15T00:00:00Z'), 3).toISOString()).toBe(
      '2026-04-15T00:00:00.000Z',
    );
  });

  it('is due 7 days after the report and 3 months after the acknowledgement, and marks overdue', () => {
    const now = new Date('2026-12-10T12:00:00Z');
    const reportHour = Date.parse('2026-12-01T09:00:00Z') / 3_600_000;
    const open = caseDeadlines(
      { reportHour, ackHour: null, feedbackGiven: false, closed: false },
      now,
    );
    expect(open.acknowledge.due.toISOString()).toBe('2026-12-08T09:00:00.000Z');
    expect(open.acknowledge.overdue).toBe(true);
    expect(open.feedback.due.toISOString()).toBe('2027-03-08T09:00:00.000Z'); // 3 months after the 7 days, without an ack
    const acked = caseDeadlines(
      { reportHour, ackHour: reportHour + 48, feedbackGiven: false, closed: false },
      now,
    );
    expect(acked.acknowledge).toMatchObject({ done: true, overdue: false });
    expect(acked.feedback.due.toISOString()).toBe('2027-03-03T09:00:00.000Z');
    expect(
      caseDeadlines({ reportHour, ackHour: null, feedbackGiven: false, closed: true }, now)
        .acknowledge.overdue,
    ).toBe(false);
  });
});

/** A minimal SOCKS5 server: records what it was asked, connects every host to 127.0.0.1 (as Tor would resolve it remotely). */
async function startSocksServer(options: { credentials?: [string, string]; refuse?: string } = {}) {
  const requests: { host: string; port: number; user?: string }[] = [];
  const server = createTcpServer((client: Socket) => {
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'piping' = 'greeting';
    let user: string | undefined;
    client.on('data', (chunk: Buffer) => {
      if (stage === 'piping') return;
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'greeting' && buffer.length >= 2 && buffer.length >= 2 + buffer[1]!) {
        const methods = [...buffer.subarray(2, 2 + buffer[1]!)];
        buffer = buffer.subarray(2 + buffer[1]!);
        const method = options.credentials ? 2 : 0;
        client.write(Buffer.from([5, methods.includes(method) ? method : 0xff]));
        stage = options.credentials ? 'auth' : 'request';
      }
      if (stage === 'auth' && buffer.length >= 2) {
        const ulen = buffer[1]!;
        if (buffer.length < 3 + ulen || buffer.length < 3 + ulen + buffer[2 + ulen]!) return;
        user = buffer.subarray(2, 2 + ulen).toString();
        const pass = buffer.subarray(3 + ulen, 3 + ulen + buffer[2 + ulen]!).toString();
        buffer = buffer.subarray(3 + ulen + buffer[2 + ulen]!);
        const ok = user === options.credentials![0] && pass === options.credentials![1];
        client.write(Buffer.from([1, ok ? 0 : 1]));
        if (!ok) return void client.end();
        stage = 'request';
      }
      if (
        stage === 'request' &&
        buffer.length >= 5 &&
        buffer[3] === 3 &&
        buffer.length >= 7 + buffer[4]!
      ) {
        const host = buffer.subarray(5, 5 + buffer[4]!).toString();
        const port = buffer.readUInt16BE(5 + buffer[4]!);
        requests.push({ host, port, ...(user ? { user } : {}) });
        stage = 'piping';
        if (host === options.refuse)
          return void client.end(Buffer.from([5, 0xf0, 0, 1, 0, 0, 0, 0, 0, 0]));
        const upstream = connect(port, '127.0.0.1', () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
      }
    });
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('SOCKS5', () => {
  it('parses proxy URLs and refuses other schemes', () => {
    expect(parseProxyUrl('socks5h://127.0.0.1:9050')).toEqual({
      host: '127.0.0.1',
      port: 9050,
      remoteDns: true,
    });
    expect(parseProxyUrl('socks5://u:p%40ss@[::1]:1080')).toEqual({
      host: '::1',
      port: 1080,
      remoteDns: false,
      username: 'u',
      password: 'p@ss',
    });
    expect(() => parseProxyUrl('http://127.0.0.1:8118')).toThrow(UsageError);
  });

  it('reaches an HTTP server through the proxy, the host name resolved by the proxy, with user and password', async () => {
    const web = createHttpServer((req, res) => res.end(`hello ${req.headers.host}`));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const webPort = (web.address() as AddressInfo).port;
    const socks = await startSocksServer({ credentials: ['isolate', 'circuit-1'] });
    const transport = createNodeTransport({
      proxy: `socks5h://isolate:circuit-1@127.0.0.1:${socks.port}`,
    });
    try {
      const response = await transport.request(new URL(`http://kluisexample.onion:${webPort}/x`), {
        method: 'GET',
      });
      expect((await readBody(response)).toString()).toBe(`hello kluisexample.onion:${webPort}`);
      // A second request reuses the connection (keep-alive through the proxy).
      const again = await transport.request(new URL(`http://kluisexample.onion:${webPort}/y`), {
        method: 'GET',
      });
      await readBody(again);
      expect(socks.requests).toEqual([
        { host: 'kluisexample.onion', port: webPort, user: 'isolate' },
      ]);
    } finally {
      transport.close();
      await socks.close();
      await new Promise<void>((r) => web.close(() => r()));
    }
  });

  it('explains a refusal by the proxy', async () => {
    const socks = await startSocksServer({ refuse: 'missing.onion' });
    const transport = createNodeTransport({ proxy: `socks5h://127.0.0.1:${socks.port}` });
    try {
      const error = await transport
        .request(new URL('http://missing.onion/'), { method: 'GET' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetworkError);
      expect((error as Error).message).toContain('onion service descriptor cannot be found');
    } finally {
      transport.close();
      await socks.close();
    }
  });
});

describe('verify-page references', () => {
  it('finds the resources a page loads, not the links people click', () => {
    const page = new URL('http://kluis.example/');
    const html = `<!doctype html><script type="module" src="./assets/a.js"></script>
      <link rel="stylesheet" href="/assets/a.css"><link rel="canonical" href="https://elsewhere.example/">
      <a href="https://www.example.org/help">help</a><img data-src="x" src="https://tracker.example/p.gif">
      <form action="https://collector.example/"></form>`;
    const { paths, foreign } = referencesOf(html, page);
    expect([...paths].sort()).toEqual(['assets/a.css', 'assets/a.js']);
    expect([...foreign].sort()).toEqual([
      'https://collector.example/',
      'https://tracker.example/p.gif',
    ]);
  });
});

describe('state and trust', () => {
  it('refuses a damaged state file', async () => {
    const dir = tempDir();
    const path = StateStore.pathFor(dir, 'F'.repeat(24), 'http://x');
    const store = await StateStore.load(dir, 'F'.repeat(24), 'http://x');
    store.remember('K7P49QXM', { count: 2, lastHash: 'abc=', seen: 1 });
    await store.save();
    expect((await StateStore.load(dir, 'F'.repeat(24), 'http://x')).memory('K7P49QXM')).toEqual({
      count: 2,
      lastHash: 'abc=',
      seen: 1,
    });
    writeFileSync(
      path,
      '{"v":1,"server":"http://x","trusted":null,"cases":{"K7P49QXM":{"count":"2"}}}',
    );
    await expect(StateStore.load(dir, 'F'.repeat(24), 'http://x')).rejects.toThrow(LocalFileError);
  });

  it('trusts the server’s keys on first use, then refuses a key it adds until trusted', async () => {
    const me = generateIdentity('counsellor', 'Me');
    const intruder = generateIdentity('counsellor', 'Added by the server');
    let counsellors = [exportBundle(me)];
    const server = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          demo: false,
          powBits: 4,
          maxFileBytes: 1 << 20,
          maxCaseBytes: 1 << 22,
          uploadBytesPerSolution: 1 << 24,
          retentionDays: 180,
          counsellors,
          escalation: [],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stateDir = tempDir();
    const open = () => CounsellorSession.open({ identity: me, server: url, stateDir });
    try {
      const first = await open();
      expect((await first.serverInfo()).newlyTrusted.map((k) => k.name)).toEqual(['Me']);
      first.close();
      counsellors = [exportBundle(me), exportBundle(intruder)];
      const second = await open();
      const error = await second.serverInfo().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).problems[0]).toContain('Added by the server');
      const { added } = await second.trustServerKeys();
      expect(added.map((k) => k.name)).toEqual(['Added by the server']);
      second.close();
      const third = await open();
      expect((await third.serverInfo()).counsellors).toHaveLength(2);
      third.close();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
