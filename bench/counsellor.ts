/**
 * `npm run bench -- counsellor`: the counsellor's inbox of 1,000 cases (each
 * a report and three messages) on a local server, listed the way the
 * `inbox --full` command does it (every case fetched, every message decrypted,
 * every signature and chain link checked), beside the same cases fetched
 * without decrypting, in the same run; the key file's unlock time; and an
 * inbox of 10,000 cases, cold (nothing cached) and incremental (10 new
 * messages, the rest from the encrypted inbox cache).
 *
 * The cases are made through the API (KLUIS_POW_BITS=0), sealed with
 * OpenSSL's Ed25519 and X25519 so that setting up takes seconds, not the
 * minute tweetnacl's signing would; the inbox then checks every one.
 */

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign as nodeSign,
} from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';
import { CounsellorApi } from '../client/counsellor/lib/api.js';
import { createNativeRequestSigner } from '../client/counsellor/lib/native.js';
import { defaultWorkerCount } from '../client/counsellor/lib/open-pool.js';
import { CounsellorSession, mapConcurrent } from '../client/counsellor/lib/session.js';
import {
  type Content,
  DEFAULT_SCRYPT_PARAMS,
  deriveReporterKeys,
  ENVELOPE_VERSION,
  encodeContent,
  encodePayload,
  type Envelope,
  exportBundle,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  generateReceiptSecret,
  type Identity,
  labelledHash,
  messageSignedBytes,
  openConversation,
  openKeyFile,
  pad,
  type Recipient,
  sealKeyFile,
  sealSecretbox,
  sortedFingerprints,
  toBase64,
} from '../crypto/index.js';
import { nodeScrypt } from '../crypto-node/scrypt.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
import { startServer } from '../tests/helpers/server-process.js';
import { printTable, round } from './table.js';

const CASES = 1000;
const SETUP_CONCURRENCY = 16;
const RUNS = 3;
/** Cases of the large inbox, and the messages that arrive before each incremental refresh. */
const BIG_CASES = 10_000;
const NEW_MESSAGES = 10;

const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const SIGMA = new Uint8Array([
  101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107,
]);
const hsalsa = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20: (o: Uint8Array, i: Uint8Array, k: Uint8Array, c: Uint8Array) => void;
    };
  }
).lowlevel.crypto_core_hsalsa20;

/** sealEnvelope (crypto/envelope.ts, PROTOCOL §5.3) with OpenSSL doing the signature and the X25519 wraps. */
function fastSeal(input: {
  caseNumber: string;
  seq: number;
  prev: Uint8Array;
  author: nacl.SignKeyPair;
  content: Content;
  recipients: readonly Recipient[];
}) {
  const content = encodeContent(input.content);
  const key = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8, input.author.secretKey.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  const recipients = sortedFingerprints(input.recipients.map((r) => r.fingerprint));
  const signature = nodeSign(
    null,
    messageSignedBytes(
      input.caseNumber,
      input.seq,
      input.prev,
      input.author.publicKey,
      content,
      recipients,
    ),
    key,
  );
  const payload = pad(
    encodePayload({
      version: ENVELOPE_VERSION,
      seq: input.seq,
      prev: input.prev,
      author: input.author.publicKey,
      signature,
      recipients,
      content,
    }),
  );
  const contentKey = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const ct = sealSecretbox(contentKey, nonce, payload);
  const keys = input.recipients.map((r) => {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    const epk = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    const shared = diffieHellman({
      privateKey,
      publicKey: createPublicKey({
        key: Buffer.concat([X25519_SPKI, r.boxPublicKey]),
        format: 'der',
        type: 'spki',
      }),
    });
    const boxKey = new Uint8Array(32);
    hsalsa(boxKey, new Uint8Array(16), shared, SIGMA);
    const wk = nacl.secretbox(
      contentKey,
      labelledHash('kluis/v1/wrap-nonce', 24, epk, r.boxPublicKey),
      boxKey,
    );
    return { to: r.fingerprint, epk: toBase64(epk), wk: toBase64(wk) };
  });
  const envelope: Envelope = { v: 1, nonce: toBase64(nonce), ct: toBase64(ct), keys };
  return { envelope, hash: labelledHash('kluis/v1/message-hash', 32, nonce, ct) };
}

async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** One case through the API: the report, a counsellor's ack and reply, and a reporter's answer. */
export async function makeCase(
  base: string,
  api: CounsellorApi,
  counsellor: Identity,
): Promise<void> {
  const time = `${new Date().toISOString().slice(0, 19)}Z`;
  const counsellorRecipient = {
    fingerprint: fingerprintOf(counsellor.sign.publicKey),
    boxPublicKey: counsellor.box.publicKey,
  };
  const t = (await post(base, '/api/v1/tickets', { kind: 'case' })) as {
    ticket: string;
    case: string;
  };
  const caseNumber = t.case;
  const keys = deriveReporterKeys({ caseNumber, secret: generateReceiptSecret() });
  // KLUIS_POW_BITS=0: nonce 0 solves any ticket.
  await post(
    base,
    '/api/v1/cases',
    { verifier: toBase64(keys.verifier) },
    { 'kluis-ticket': t.ticket, 'kluis-work': '0' },
  );
  const auth = { 'kluis-auth': toBase64(keys.authKey) };
  const recipients = [
    { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
    counsellorRecipient,
  ];
  const text =
    'Tijdens de subsidiebespreking maakte een beleidsmedewerker opmerkingen die niet door de beugel kunnen. '.repeat(
      4,
    );
  const m0 = fastSeal({
    caseNumber,
    seq: 0,
    prev: GENESIS_HASH,
    author: keys.sign,
    recipients,
    content: {
      v: 1,
      type: 'report',
      time,
      text,
      consent: 'ask',
      addressAs: 'M.',
      language: 'nl',
      reporterBox: toBase64(keys.box.publicKey),
      attachments: [],
    },
  });
  await post(base, `/api/v1/cases/${caseNumber}/messages`, { seq: 0, envelope: m0.envelope }, auth);
  const m1 = fastSeal({
    caseNumber,
    seq: 1,
    prev: m0.hash,
    author: counsellor.sign,
    recipients,
    content: {
      v: 1,
      type: 'ack',
      time,
      reportHash: toBase64(m0.hash),
      receivedDate: time.slice(0, 10),
      text: 'Ontvangen.',
    },
  });
  await api.postMessage(caseNumber, { seq: 1, envelope: m1.envelope, ack: true });
  const m2 = fastSeal({
    caseNumber,
    seq: 2,
    prev: m1.hash,
    author: counsellor.sign,
    recipients,
    content: { v: 1, type: 'message', time, text: 'Kunnen we bellen?', attachments: [] },
  });
  await api.postMessage(caseNumber, { seq: 2, envelope: m2.envelope, status: 'in-conversation' });
  const m3 = fastSeal({
    caseNumber,
    seq: 3,
    prev: m2.hash,
    author: keys.sign,
    recipients,
    content: { v: 1, type: 'message', time, text: 'Ja, graag.', attachments: [] },
  });
  const t3 = (await post(base, '/api/v1/tickets', { kind: 'message', case: caseNumber })) as {
    ticket: string;
  };
  await post(
    base,
    `/api/v1/cases/${caseNumber}/messages`,
    { seq: 3, envelope: m3.envelope },
    { ...auth, 'kluis-ticket': t3.ticket, 'kluis-work': '0' },
  );
}

/** What the bench keeps of a small case to write in it again as the reporter. */
interface SmallCase {
  readonly caseNumber: string;
  readonly keys: ReturnType<typeof deriveReporterKeys>;
  readonly recipients: Recipient[];
  readonly last: Uint8Array;
}

/** A smaller case for the 10,000-case inbox: the report and the signed acknowledgement. */
async function makeSmallCase(
  base: string,
  api: CounsellorApi,
  counsellor: Identity,
): Promise<SmallCase> {
  const time = `${new Date().toISOString().slice(0, 19)}Z`;
  const t = (await post(base, '/api/v1/tickets', { kind: 'case' })) as {
    ticket: string;
    case: string;
  };
  const caseNumber = t.case;
  const keys = deriveReporterKeys({ caseNumber, secret: generateReceiptSecret() });
  await post(
    base,
    '/api/v1/cases',
    { verifier: toBase64(keys.verifier) },
    { 'kluis-ticket': t.ticket, 'kluis-work': '0' },
  );
  const recipients = [
    { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
    {
      fingerprint: fingerprintOf(counsellor.sign.publicKey),
      boxPublicKey: counsellor.box.publicKey,
    },
  ];
  const m0 = fastSeal({
    caseNumber,
    seq: 0,
    prev: GENESIS_HASH,
    author: keys.sign,
    recipients,
    content: {
      v: 1,
      type: 'report',
      time,
      text: 'Mijn leidinggevende dreigt met ontslag als ik de fraude meld. '.repeat(4),
      consent: 'no',
      addressAs: '',
      language: 'nl',
      reporterBox: toBase64(keys.box.publicKey),
      attachments: [],
    },
  });
  await post(
    base,
    `/api/v1/cases/${caseNumber}/messages`,
    { seq: 0, envelope: m0.envelope },
    { 'kluis-auth': toBase64(keys.authKey) },
  );
  const m1 = fastSeal({
    caseNumber,
    seq: 1,
    prev: m0.hash,
    author: counsellor.sign,
    recipients,
    content: {
      v: 1,
      type: 'ack',
      time,
      reportHash: toBase64(m0.hash),
      receivedDate: time.slice(0, 10),
      text: 'Ontvangen.',
    },
  });
  await api.postMessage(caseNumber, { seq: 1, envelope: m1.envelope, ack: true });
  return { caseNumber, keys, recipients, last: m1.hash };
}

/** The reporter of a small case writes again (seq 2). */
async function reporterWrites(base: string, c: SmallCase): Promise<void> {
  const m = fastSeal({
    caseNumber: c.caseNumber,
    seq: 2,
    prev: c.last,
    author: c.keys.sign,
    recipients: c.recipients,
    content: {
      v: 1,
      type: 'message',
      time: `${new Date().toISOString().slice(0, 19)}Z`,
      text: 'Er is iets nieuws gebeurd.',
      attachments: [],
    },
  });
  const t = (await post(base, '/api/v1/tickets', { kind: 'message', case: c.caseNumber })) as {
    ticket: string;
  };
  await post(
    base,
    `/api/v1/cases/${c.caseNumber}/messages`,
    { seq: 2, envelope: m.envelope },
    { 'kluis-auth': toBase64(c.keys.authKey), 'kluis-ticket': t.ticket, 'kluis-work': '0' },
  );
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { seconds: (performance.now() - start) / 1000, result };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kluis-bench-counsellor-'));
  const counsellor = generateIdentity('counsellor', 'Bench counsellor');
  const bundles = join(dir, 'counsellors.json');
  writeFileSync(bundles, JSON.stringify([exportBundle(counsellor)]));
  const server = await startServer({ env: { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: bundles } });
  const setupApi = new CounsellorApi({
    server: server.url,
    signer: createNativeRequestSigner(counsellor.sign.secretKey),
  });
  try {
    // Key file: seal once, unlock a few times.
    const keyFile = await sealKeyFile(
      counsellor,
      'correct horse battery staple',
      nodeScrypt,
      DEFAULT_SCRYPT_PARAMS,
    );
    const unlocks: number[] = [];
    for (let i = 0; i < RUNS; i++)
      unlocks.push(
        (await timed(() => openKeyFile(keyFile, 'correct horse battery staple', nodeScrypt)))
          .seconds,
      );

    const setup = await timed(() =>
      mapConcurrent(Array.from({ length: CASES }), SETUP_CONCURRENCY, () =>
        makeCase(server.url, setupApi, counsellor),
      ),
    );
    setupApi.close();

    const stateDir = join(dir, 'state');
    const session = await CounsellorSession.open({
      identity: counsellor,
      server: server.url,
      stateDir,
    });
    await session.serverInfo(); // first contact: trust on first use, outside the timings
    const serverCpu = () => {
      const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8')
        .split(') ')[1]!
        .split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
    };
    const measure = async <T>(work: () => Promise<T>) => {
      const cpu = process.cpuUsage();
      const server0 = serverCpu();
      const { seconds, result } = await timed(work);
      const used = process.cpuUsage(cpu);
      return {
        seconds,
        result,
        clientCpu: (used.user + used.system) / 1e6,
        serverCpu: serverCpu() - server0,
      };
    };
    const listOnly: number[] = [];
    const fetchAll: number[] = [];
    const inbox: { seconds: number; clientCpu: number; serverCpu: number }[] = [];
    const inboxWorker: number[] = [];
    let problems = 0;
    let listed = 0;
    const key = {
      fingerprint: session.fingerprint,
      boxPublicKey: counsellor.box.publicKey,
      boxSecretKey: counsellor.box.secretKey,
    };
    const counsellorSignKeys = [counsellor.sign.publicKey];
    const workers = defaultWorkerCount();
    for (let i = 0; i < RUNS; i++) {
      listOnly.push((await timed(() => session.api.listCases())).seconds);
      fetchAll.push(
        (
          await timed(async () => {
            const cases = await session.api.listCases();
            return mapConcurrent(cases, 8, (c) => session.api.getCase(c.case));
          })
        ).seconds,
      );
      const full = await measure(() => session.inbox({ full: true }));
      inbox.push(full);
      listed = full.result.entries.length;
      problems = full.result.entries.filter((e) => !e.intact).length;
      if (listed !== CASES || problems !== 0)
        throw new Error(
          `the inbox listed ${listed} cases with ${problems} problems; expected ${CASES} and 0`,
        );
      const withWorker = await timed(() =>
        session.inbox({ workers: workers > 0 ? 0 : 1, full: true }),
      );
      if (withWorker.result.entries.some((e) => !e.intact))
        throw new Error('the inbox found problems with the other worker setting');
      inboxWorker.push(withWorker.seconds);
    }
    // The same, opening with crypto/'s openConversation (tweetnacl X25519) instead of the native unwrap: once, for comparison.
    const verifier = createNativeVerifier();
    const cryptoOpen = await timed(async () => {
      const cases = await session.api.listCases();
      return mapConcurrent(cases, 8, async (c) => {
        const detail = await session.api.getCase(c.case);
        return openConversation(
          detail.messages.map((m) => m.envelope),
          key,
          { caseNumber: c.case, counsellorSignKeys, verifier },
        ).intact;
      });
    });
    session.close();

    // 10,000 cases known (the 1,000 above and 9,000 smaller ones), then 10 new messages arrive.
    const bigApi = new CounsellorApi({
      server: server.url,
      signer: createNativeRequestSigner(counsellor.sign.secretKey),
    });
    const setupBig = await timed(() =>
      mapConcurrent(Array.from({ length: BIG_CASES - CASES }), SETUP_CONCURRENCY, () =>
        makeSmallCase(server.url, bigApi, counsellor),
      ),
    );
    bigApi.close();
    const bigDir = join(dir, 'state-10000');
    const openBig = async () => {
      const s = await CounsellorSession.open({
        identity: counsellor,
        server: server.url,
        stateDir: bigDir,
      });
      await s.serverInfo(); // trust on first use (the first time), outside the timings
      return s;
    };
    const coldSession = await openBig();
    const cold = await timed(() => coldSession.inbox());
    coldSession.close();
    if (cold.result.entries.length !== BIG_CASES || cold.result.entries.some((e) => !e.intact))
      throw new Error('the 10,000-case inbox did not verify');
    const incremental: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const arriving = setupBig.result.slice(i * NEW_MESSAGES, (i + 1) * NEW_MESSAGES);
      await mapConcurrent(arriving, NEW_MESSAGES, (c) => reporterWrites(server.url, c));
      // A new process, as `kluis-counsellor inbox` or a restarted app: the cache comes from disk.
      const s = await openBig();
      const run = await timed(() => s.inbox());
      s.close();
      const fresh = run.result.entries.filter((e) =>
        arriving.some((c) => c.caseNumber === e.caseNumber),
      );
      if (fresh.length !== NEW_MESSAGES || fresh.some((e) => e.messages !== 3 || !e.intact))
        throw new Error('the incremental inbox missed a new message');
      incremental.push(run.seconds);
    }

    const inboxMedian = [...inbox].sort((a, b) => a.seconds - b.seconds)[
      Math.floor(inbox.length / 2)
    ]!;
    const figures = {
      suite: 'counsellor',
      cases: CASES,
      messages_per_case: 4,
      inbox_1000_s: round(inboxMedian.seconds),
      inbox_1000_client_cpu_s: round(inboxMedian.clientCpu),
      inbox_1000_server_cpu_s: round(inboxMedian.serverCpu),
      fetch_1000_s: round(median(fetchAll)),
      list_only_s: round(median(listOnly), 4),
      inbox_vs_fetch: round(inboxMedian.seconds / median(fetchAll), 2),
      workers: workers,
      [`inbox_1000_workers_${workers > 0 ? 0 : 1}_s`]: round(median(inboxWorker)),
      inbox_crypto_open_1000_s: round(cryptoOpen.seconds),
      inbox_10000_cold_s: round(cold.seconds),
      inbox_10000_incremental_s: round(median(incremental)),
      setup_10000_s: round(setupBig.seconds, 1),
      unlock_s: round(median(unlocks)),
      setup_1000_s: round(setup.seconds, 1),
      cores: availableParallelism(),
      loadavg_1m: round(loadavg()[0]!, 2),
    };
    printTable(
      ['measure', 'seconds', 'note'],
      [
        [
          'inbox: 1,000 cases fetched, 4,000 messages decrypted and verified',
          figures.inbox_1000_s,
          `the \`inbox\` command’s path (${workers} worker threads); target ≤ 2 s`,
        ],
        [
          '  of which CPU in the client / in the server',
          `${figures.inbox_1000_client_cpu_s} / ${figures.inbox_1000_server_cpu_s}`,
          'the two run in parallel',
        ],
        [
          'the same 1,000 cases fetched, not decrypted',
          figures.fetch_1000_s,
          `baseline; the inbox takes ${figures.inbox_vs_fetch}× this`,
        ],
        ['case list only (GET /counsellor/cases)', figures.list_only_s, 'no ciphertext'],
        [
          `inbox with ${workers > 0 ? 0 : 1} worker thread(s) instead`,
          figures[`inbox_1000_workers_${workers > 0 ? 0 : 1}_s`] as number,
          'for comparison',
        ],
        [
          'inbox opened with crypto/ openConversation (tweetnacl X25519)',
          figures.inbox_crypto_open_1000_s,
          'why the client unwraps natively',
        ],
        [
          'inbox: 10,000 cases, nothing cached (cold)',
          figures.inbox_10000_cold_s,
          'every case fetched, decrypted, verified; the encrypted cache written',
        ],
        [
          'inbox: 10,000 cases known, 10 new messages arrived',
          figures.inbox_10000_incremental_s,
          'a new process: the cache read from disk, 10 cases fetched; target ≤ 1 s',
        ],
        ['key file unlock (scrypt N=2^17, r=8, p=1)', figures.unlock_s, ''],
        [
          'setting up 1,000 cases through the API',
          figures.setup_1000_s,
          '7 requests a case, PoW 0 bits',
        ],
        [
          'machine: cores, 1-minute load average',
          `${figures.cores}, ${figures.loadavg_1m}`,
          'timings are wall-clock',
        ],
      ],
    );
    console.log(JSON.stringify(figures));
  } finally {
    setupApi.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Also runnable on its own: node --import tsx bench/counsellor.ts
if (
  process.argv[1] &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
)
  await run();
