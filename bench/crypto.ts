/**
 * `npm run bench -- crypto`: the protocol core beside raw tweetnacl on the
 * same bytes, in the same run.
 */

import nacl from 'tweetnacl';
import {
  deriveReporterKeys,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  openEnvelope,
  openKeyFile,
  parseKeyFile,
  sealEnvelope,
  sealKeyFile,
  StreamDecryptor,
  StreamEncryptor,
  STREAM_CHUNK_BYTES,
  verifySignature,
  fromBase64,
} from '../crypto/index.js';
import { nodeScrypt } from '../crypto-node/scrypt.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
import { printTable, round } from './table.js';

const MB = 1024 * 1024;

/** Calls `step` repeatedly for about `seconds` and returns calls per second. */
function rate(step: () => void, seconds = 1): number {
  step(); // warm up
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    step();
    count++;
    elapsed = performance.now() - start;
  }
  return (count * 1000) / elapsed;
}

function rssMb(): number {
  return process.memoryUsage.rss() / MB;
}

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function envelopeFigures(size: number) {
  const counsellor = generateIdentity('counsellor', 'Bench');
  const deputy = generateIdentity('counsellor', 'Bench deputy');
  const reporter = deriveReporterKeys({ caseNumber: 'K7P49QXM', secret: nacl.randomBytes(10) });
  const recipients = [counsellor, deputy].map((identity) => ({
    fingerprint: fingerprintOf(identity.sign.publicKey),
    boxPublicKey: identity.box.publicKey,
  }));
  const content = nacl.randomBytes(size);
  const seal = () =>
    sealEnvelope({
      caseNumber: 'K7P49QXM',
      seq: 0,
      prev: GENESIS_HASH,
      author: reporter.sign,
      content,
      recipients,
    });
  const { envelope } = seal();
  const key = { ...recipients[0]!, boxSecretKey: counsellor.box.secretKey };
  const native = createNativeVerifier();
  const seconds = size > MB / 2 ? 3 : 1;
  // The baseline: the same primitives on the same bytes, called directly (sign, secretbox, and one
  // ephemeral key and box per recipient; for opening: box.open, secretbox.open and verify).
  const rawSeal = () => {
    const signature = nacl.sign.detached(content, reporter.sign.secretKey);
    const contentKey = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    const sealed = nacl.secretbox(content, nonce, contentKey);
    const wraps = recipients.map((r) => {
      const ephemeral = nacl.box.keyPair.fromSecretKey(nacl.randomBytes(32));
      return nacl.box(contentKey, nonce, r.boxPublicKey, ephemeral.secretKey);
    });
    return { signature, nonce, sealed, wraps, ephemeral: nacl.box.keyPair() };
  };
  const raw = (() => {
    const contentKey = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    const ephemeral = nacl.box.keyPair();
    return {
      contentKey,
      nonce,
      ephemeral,
      wrap: nacl.box(contentKey, nonce, counsellor.box.publicKey, ephemeral.secretKey),
      sealed: nacl.secretbox(content, nonce, contentKey),
      signature: nacl.sign.detached(content, reporter.sign.secretKey),
    };
  })();
  const rawOpen = (verify: (m: Uint8Array, s: Uint8Array, p: Uint8Array) => boolean) => () => {
    const contentKey = nacl.box.open(
      raw.wrap,
      raw.nonce,
      raw.ephemeral.publicKey,
      counsellor.box.secretKey,
    )!;
    const plaintext = nacl.secretbox.open(raw.sealed, raw.nonce, contentKey)!;
    if (!verify(plaintext, raw.signature, reporter.sign.publicKey))
      throw new Error('bench: raw verify failed');
  };
  return {
    seal: rate(seal, seconds),
    openNacl: rate(() => openEnvelope(envelope, key, { caseNumber: 'K7P49QXM' }), seconds),
    openNative: rate(
      () => openEnvelope(envelope, key, { caseNumber: 'K7P49QXM', verifier: native }),
      seconds,
    ),
    rawSeal: rate(rawSeal, seconds),
    rawOpenNacl: rate(rawOpen(nacl.sign.detached.verify), seconds),
    rawOpenNative: rate(rawOpen(native), seconds),
  };
}

function streamFigures(totalMb: number) {
  const key = nacl.randomBytes(32);
  const prefix = nacl.randomBytes(19);
  const block = nacl.randomBytes(MB);
  let sink = 0;

  // Raw tweetnacl on the same bytes: one secretbox over the whole file (the baseline).
  collect();
  const whole = new Uint8Array(totalMb * MB);
  for (let i = 0; i < totalMb; i++) whole.set(block, i * MB);
  const rawNonce = nacl.randomBytes(24);
  let start = performance.now();
  const rawSealed = nacl.secretbox(whole, rawNonce, key);
  const rawSeconds = (performance.now() - start) / 1000;
  sink += rawSealed[0]!;

  // Raw tweetnacl in 64 KiB calls, for reference.
  start = performance.now();
  for (let offset = 0; offset < whole.length; offset += STREAM_CHUNK_BYTES) {
    sink += nacl.secretbox(whole.subarray(offset, offset + STREAM_CHUNK_BYTES), rawNonce, key)[0]!;
  }
  const rawChunkedSeconds = (performance.now() - start) / 1000;

  // The stream, fed 1 MiB at a time as a file reader would, chunks discarded as an upload would.
  const encryptor = new StreamEncryptor(key, prefix);
  start = performance.now();
  const sealedChunks: Uint8Array[] = [];
  for (let i = 0; i < totalMb; i++) {
    for (const chunk of encryptor.push(block)) sealedChunks.push(chunk);
  }
  sealedChunks.push(encryptor.finish());
  const streamSeconds = (performance.now() - start) / 1000;

  const decryptor = new StreamDecryptor(key, prefix);
  start = performance.now();
  for (const chunk of sealedChunks) for (const plain of decryptor.push(chunk)) sink += plain[0]!;
  sink += decryptor.finish().length;
  const decryptSeconds = (performance.now() - start) / 1000;

  // Memory: a fresh stream of the same size, nothing retained, RSS sampled after every MiB.
  sealedChunks.length = 0;
  collect();
  const before = rssMb();
  let peak = before;
  const memoryEncryptor = new StreamEncryptor(key, prefix);
  for (let i = 0; i < totalMb; i++) {
    for (const chunk of memoryEncryptor.push(block)) sink += chunk[0]!;
    peak = Math.max(peak, rssMb());
  }
  sink += memoryEncryptor.finish()[0]!;
  peak = Math.max(peak, rssMb());
  if (sink === -1) console.log('unreachable');
  return {
    rawMbps: totalMb / rawSeconds,
    rawChunkedMbps: totalMb / rawChunkedSeconds,
    streamMbps: totalMb / streamSeconds,
    decryptMbps: totalMb / decryptSeconds,
    rssGrowthMb: peak - before,
  };
}

function verifyFigures() {
  const pair = nacl.sign.keyPair();
  const message = nacl.randomBytes(2048);
  const signature = nacl.sign.detached(message, pair.secretKey);
  const native = createNativeVerifier();
  return {
    rawNacl: rate(
      () => nacl.sign.detached.verify(message, signature, pair.secretKey.subarray(32)),
      2,
    ),
    wrappedNacl: rate(() => verifySignature(message, signature, pair.publicKey), 2),
    wrappedNative: rate(() => verifySignature(message, signature, pair.publicKey, native)),
  };
}

async function unlockFigures() {
  const identity = generateIdentity('counsellor', 'Bench');
  const file = await sealKeyFile(identity, 'a long bench passphrase', nodeScrypt);
  const parsed = parseKeyFile(file);
  const times: number[] = [];
  const rawTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    let start = performance.now();
    await openKeyFile(file, 'a long bench passphrase', nodeScrypt);
    times.push((performance.now() - start) / 1000);
    start = performance.now();
    await nodeScrypt(
      new TextEncoder().encode('a long bench passphrase'),
      fromBase64(parsed.kdf.salt),
      parsed.kdf,
      32,
    );
    rawTimes.push((performance.now() - start) / 1000);
  }
  return { unlock: Math.min(...times), rawScrypt: Math.min(...rawTimes) };
}

/** Runs the crypto suite. */
export async function run(): Promise<void> {
  const small = envelopeFigures(2 * 1024);
  const large = envelopeFigures(MB);
  const stream = streamFigures(100);
  const verify = verifyFigures();
  const unlock = await unlockFigures();

  printTable(
    ['measure', 'Kluis', 'raw tweetnacl', 'ratio'],
    [
      [
        'envelope seal 2 KB, 2 recipients (ops/s)',
        round(small.seal, 1),
        round(small.rawSeal, 1),
        round(small.seal / small.rawSeal),
      ],
      [
        'envelope open 2 KB, tweetnacl verify (ops/s)',
        round(small.openNacl, 1),
        round(small.rawOpenNacl, 1),
        round(small.openNacl / small.rawOpenNacl),
      ],
      [
        'envelope open 2 KB, native verify (ops/s)',
        round(small.openNative, 1),
        round(small.rawOpenNative, 1),
        round(small.openNative / small.rawOpenNative),
      ],
      [
        'envelope seal 1 MB, 2 recipients (ops/s)',
        round(large.seal, 2),
        round(large.rawSeal, 2),
        round(large.seal / large.rawSeal),
      ],
      [
        'envelope open 1 MB, native verify (ops/s)',
        round(large.openNative, 2),
        round(large.rawOpenNative, 2),
        round(large.openNative / large.rawOpenNative),
      ],
      [
        'stream encrypt 100 MB (MB/s; raw = one secretbox)',
        round(stream.streamMbps, 1),
        round(stream.rawMbps, 1),
        round(stream.streamMbps / stream.rawMbps),
      ],
      [
        'stream encrypt 100 MB (MB/s; raw = 64 KiB calls)',
        round(stream.streamMbps, 1),
        round(stream.rawChunkedMbps, 1),
        round(stream.streamMbps / stream.rawChunkedMbps),
      ],
      [
        'stream decrypt 100 MB (MB/s)',
        round(stream.decryptMbps, 1),
        round(stream.rawMbps, 1),
        round(stream.decryptMbps / stream.rawMbps),
      ],
      ['stream 100 MB peak RSS growth (MB)', round(stream.rssGrowthMb, 1), '', ''],
      [
        'Ed25519 verify, tweetnacl (sigs/s)',
        round(verify.wrappedNacl, 1),
        round(verify.rawNacl, 1),
        round(verify.wrappedNacl / verify.rawNacl),
      ],
      [
        'Ed25519 verify, native (sigs/s)',
        round(verify.wrappedNative, 1),
        round(verify.rawNacl, 1),
        round(verify.wrappedNative / verify.rawNacl),
      ],
      [
        'key file unlock, scrypt N=2^17 (s; raw = scrypt alone)',
        round(unlock.unlock),
        round(unlock.rawScrypt),
        round(unlock.unlock / unlock.rawScrypt),
      ],
    ],
  );
  console.log(
    JSON.stringify({
      suite: 'crypto',
      stream_vs_secretbox: round(stream.streamMbps / stream.rawChunkedMbps),
      stream_vs_secretbox_one_call: round(stream.streamMbps / stream.rawMbps),
      stream_100mb_rss_growth_mb: round(stream.rssGrowthMb, 1),
      stream_encrypt_mb_s: round(stream.streamMbps, 1),
      stream_decrypt_mb_s: round(stream.decryptMbps, 1),
      secretbox_mb_s: round(stream.rawMbps, 1),
      envelope_seal_2kb_per_s: round(small.seal, 1),
      envelope_seal_2kb_vs_raw: round(small.seal / small.rawSeal),
      envelope_open_2kb_native_per_s: round(small.openNative, 1),
      envelope_seal_1mb_per_s: round(large.seal, 2),
      verify_nacl_per_s: round(verify.wrappedNacl, 1),
      verify_native_per_s: round(verify.wrappedNative, 1),
      unlock_s: round(unlock.unlock),
      scrypt_s: round(unlock.rawScrypt),
    }),
  );
}
