/**
 * Builds the known-answer vectors of docs/vectors/kluis-v1.json from fixed
 * seeds. `npm run vectors` writes them (and the appendix of
 * docs/PROTOCOL.md); the test suite regenerates them and requires the
 * committed file to be identical, then checks each vector in the opening
 * direction and each failure vector for its error code.
 */

import {
  AttachmentEncryptor,
  authVerifier,
  concatBytes,
  deriveReporterKeys,
  encodeContent,
  exportBundle,
  fingerprintOf,
  formatReceiptCode,
  GENESIS_HASH,
  generateIdentity,
  messageSignedBytes,
  newAttachmentKey,
  padme,
  paddedLength,
  pad,
  sealEnvelope,
  sealKeyFile,
  sha512,
  signRequest,
  canonicalRequest,
  solvePow,
  sortedFingerprints,
  StreamEncryptor,
  toBase64,
  toCrockford,
  toHex,
  u32be,
  fromUtf8,
  type Content,
  type Envelope,
  type Identity,
  wrapContentKey,
  type ReceiptCode,
} from '../../crypto/index.js';
import { sealSecretbox } from '../../crypto/secretbox.js';
import { sign } from '../../crypto/verify.js';
import { nodeScrypt } from '../../crypto-node/scrypt.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** Deterministic plaintext for stream vectors: byte i is (7·i + 3) mod 256. */
export function patternBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (7 * i + 3) & 0xff;
  return out;
}

function identityVector(identity: Identity, seed: string) {
  return {
    seed,
    role: identity.role,
    name: identity.name,
    signSeed: toHex(identity.sign.secretKey.subarray(0, 32)),
    boxSecretKey: toHex(identity.box.secretKey),
    signPublicKey: toHex(identity.sign.publicKey),
    boxPublicKey: toHex(identity.box.publicKey),
    fingerprint: fingerprintOf(identity.sign.publicKey),
    bundle: exportBundle(identity),
  };
}

function recipientOf(identity: Identity) {
  return {
    fingerprint: fingerprintOf(identity.sign.publicKey),
    boxPublicKey: identity.box.publicKey,
  };
}

function flipBase64Byte(text: string, index: number): string {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  bytes[index]! ^= 0x01;
  return toBase64(bytes);
}

function streamCiphertext(key: Uint8Array, prefix: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const encryptor = new StreamEncryptor(key, prefix);
  return concatBytes(...encryptor.push(plaintext), encryptor.finish());
}

/**
 * Content failures for extra fields named like Object.prototype members (review finding 7): a
 * check with `key in shape` took them for known fields. Computed keys make `__proto__` an own
 * field, as JSON.parse does with hostile content.
 */
function prototypeNameFailures(message: Content) {
  const attachment = {
    name: 'a',
    type: '',
    size: 1,
    blob: '0'.repeat(32),
    key: toBase64(new Uint8Array(32)),
    prefix: toBase64(new Uint8Array(19)),
  };
  return [
    {
      why: 'extra field named constructor',
      content: { ...message, constructor: 'x' },
      error: 'malformed',
    },
    {
      why: 'extra field named __proto__',
      content: { ...message, ['__proto__']: { text: 'x' } },
      error: 'malformed',
    },
    {
      why: 'extra field named toString',
      content: { ...message, toString: 'x' },
      error: 'malformed',
    },
    {
      why: 'attachment with an extra field named hasOwnProperty',
      content: { ...message, attachments: [{ ...attachment, hasOwnProperty: 1 }] },
      error: 'malformed',
    },
  ];
}

/** Every vector, as the JSON object stored in docs/vectors/kluis-v1.json. */
export async function generateVectors() {
  // --- Primitives -------------------------------------------------------------------------------
  const padmeVectors = [
    0, 1, 2, 9, 100, 511, 512, 513, 1000, 4096, 4097, 10_000, 65_537, 1_000_000, 100_000_000,
  ].map((length) => ({ length, padme: padme(length) }));
  const base32Vectors = ['', '00', 'ff', '0102030405', 'deadbeefcafebabe0011'].map((hex) => {
    const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    return { hex, crockford: toCrockford(bytes) };
  });

  // --- Receipt codes ----------------------------------------------------------------------------
  const receipts = ['receipt-1', 'receipt-2'].map((seed) => {
    const random = seededRandom(seed);
    const code: ReceiptCode = { caseNumber: toCrockford(random(5)), secret: random(10) };
    const keys = deriveReporterKeys(code);
    return {
      seed,
      caseNumber: code.caseNumber,
      secret: toHex(code.secret),
      code: formatReceiptCode(code),
      signPublicKey: toHex(keys.sign.publicKey),
      boxPublicKey: toHex(keys.box.publicKey),
      fingerprint: keys.fingerprint,
      authKey: toHex(keys.authKey),
      verifier: toHex(keys.verifier),
    };
  });
  const first = receipts[0]!;
  const typo = `${first.code.slice(0, 12)}${first.code[12] === 'A' ? 'B' : 'A'}${first.code.slice(13)}`;
  const receiptParse = [
    { input: first.code, caseNumber: first.caseNumber, secret: first.secret },
    {
      input: ` ${first.code.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o')} `,
      caseNumber: first.caseNumber,
      secret: first.secret,
    },
    { input: first.code.replace(/-/g, ''), caseNumber: first.caseNumber, secret: first.secret },
    { input: first.code.slice(0, -1), error: 'malformed', problem: 'length' },
    { input: `${first.code}-0`, error: 'malformed', problem: 'length' },
    { input: `U${first.code.slice(1)}`, error: 'malformed', problem: 'character' },
    { input: typo, error: 'malformed', problem: 'checksum' },
    {
      input: `${first.code.slice(5, 9)}-${first.code.slice(0, 4)}${first.code.slice(9)}`,
      error: 'malformed',
      problem: 'checksum',
    },
  ];

  // --- Identities and bundles -------------------------------------------------------------------
  const counsellor = generateIdentity(
    'counsellor',
    'Extern steunpunt integriteit — A. de Vries',
    seededRandom('counsellor-1'),
  );
  const deputy = generateIdentity('counsellor', 'Deputy counsellor', seededRandom('counsellor-2'));
  const escalation = generateIdentity(
    'escalation',
    'Secretaris-generaal',
    seededRandom('escalation-1'),
  );
  // The colleague a case is handed over to (PROTOCOL §7, `handover`).
  const newcomer = generateIdentity('counsellor', 'New counsellor', seededRandom('counsellor-3'));
  const identities = [
    identityVector(counsellor, 'counsellor-1'),
    identityVector(deputy, 'counsellor-2'),
    identityVector(escalation, 'escalation-1'),
    identityVector(newcomer, 'counsellor-3'),
  ];
  const goodBundle = exportBundle(counsellor);
  const bundleFailures = [
    {
      why: 'name changed after signing',
      bundle: { ...goodBundle, name: 'Someone else' },
      error: 'bad-signature',
    },
    {
      why: 'box key replaced by another key',
      bundle: { ...goodBundle, box: exportBundle(deputy).box },
      error: 'bad-signature',
    },
    {
      why: 'role changed to escalation',
      bundle: { ...goodBundle, role: 'escalation' },
      error: 'bad-signature',
    },
    { why: 'extra field', bundle: { ...goodBundle, extra: true }, error: 'malformed' },
    { why: 'unknown version', bundle: { ...goodBundle, v: 2 }, error: 'malformed' },
    {
      why: 'short signing key',
      bundle: { ...goodBundle, sign: toBase64(new Uint8Array(31)) },
      error: 'malformed',
    },
    {
      why: 'non-canonical base64',
      bundle: { ...goodBundle, sig: goodBundle.sig.replace(/=+$/, '') },
      error: 'malformed',
    },
  ];

  // --- Envelopes and the chain ------------------------------------------------------------------
  const reporterCode: ReceiptCode = {
    caseNumber: first.caseNumber,
    secret: Uint8Array.from(first.secret.match(/../g)!, (h) => Number.parseInt(h, 16)),
  };
  const reporter = deriveReporterKeys(reporterCode);
  const caseNumber = reporterCode.caseNumber;
  const reportContent: Content = {
    v: 1,
    type: 'report',
    time: '2026-11-28T21:14:05Z',
    text: 'Tijdens de subsidiebespreking maakte een beleidsmedewerker seksueel getinte opmerkingen.',
    consent: 'ask',
    addressAs: 'M.',
    language: 'nl',
    reporterBox: toBase64(reporter.box.publicKey),
    attachments: [],
  };
  const report = sealEnvelope(
    {
      caseNumber,
      seq: 0,
      prev: GENESIS_HASH,
      author: reporter.sign,
      content: encodeContent(reportContent),
      recipients: [recipientOf(counsellor), recipientOf(deputy)],
    },
    seededRandom('envelope-report'),
  );
  const replyContent: Content = {
    v: 1,
    type: 'message',
    time: '2026-11-29T09:02:41Z',
    text: 'Dank voor uw melding. Ik lees mee en denk met u mee.',
    attachments: [],
  };
  const reply = sealEnvelope(
    {
      caseNumber,
      seq: 1,
      prev: report.hash,
      author: counsellor.sign,
      content: encodeContent(replyContent),
      recipients: [
        { fingerprint: reporter.fingerprint, boxPublicKey: reporter.box.publicKey },
        recipientOf(counsellor),
        recipientOf(deputy),
      ],
    },
    seededRandom('envelope-reply'),
  );
  // A handover to counsellor-3 (seq 2), and the report's and reply's content keys wrapped for it.
  const handoverContent: Content = {
    v: 1,
    type: 'handover',
    time: '2026-12-01T10:00:00Z',
    to: fingerprintOf(newcomer.sign.publicKey),
    name: 'New counsellor',
    text: 'Mijn collega neemt uw melding van mij over.',
  };
  const handover = sealEnvelope(
    {
      caseNumber,
      seq: 2,
      prev: reply.hash,
      author: counsellor.sign,
      content: encodeContent(handoverContent),
      recipients: [
        { fingerprint: reporter.fingerprint, boxPublicKey: reporter.box.publicKey },
        recipientOf(counsellor),
        recipientOf(deputy),
        recipientOf(newcomer),
      ],
    },
    seededRandom('envelope-handover'),
  );
  const handoverKeys = {
    report: wrapContentKey(
      report.contentKey,
      recipientOf(newcomer),
      seededRandom('handover-wrap-report'),
    ),
    reply: wrapContentKey(
      reply.contentKey,
      recipientOf(newcomer),
      seededRandom('handover-wrap-reply'),
    ),
  };
  // The same report as a version 1 payload (recipients not signed): what cases written before v2 hold.
  const reportV1 = sealEnvelope(
    {
      caseNumber,
      seq: 0,
      prev: GENESIS_HASH,
      author: reporter.sign,
      content: encodeContent(reportContent),
      recipients: [recipientOf(counsellor), recipientOf(deputy)],
      version: 1,
    },
    seededRandom('envelope-report-v1'),
  );
  // Payloads sealed by hand (version 2 layout, PROTOCOL §5.1), each wrong in one way.
  const handSealed = (seed: string, payload: Uint8Array): Envelope => {
    const key = seededRandom(seed)(32);
    const nonce = seededRandom(`${seed}-nonce`)(24);
    return {
      v: 1,
      nonce: toBase64(nonce),
      ct: toBase64(sealSecretbox(key, nonce, payload)),
      keys: [wrapContentKey(key, recipientOf(counsellor), seededRandom(`${seed}-wrap`))],
    };
  };
  const replyBytes = encodeContent(replyContent);
  // Signed for `signedFor`, listing `listed` (written byte by byte, so it can be out of order).
  const payloadV2 = (signedFor: readonly string[], listed: readonly string[]) => {
    const signature = sign(
      messageSignedBytes(
        caseNumber,
        1,
        report.hash,
        counsellor.sign.publicKey,
        replyBytes,
        signedFor,
      ),
      counsellor.sign.secretKey,
    );
    const field = concatBytes(
      new Uint8Array([listed.length]),
      ...listed.map((fp) => new TextEncoder().encode(fp)),
    );
    return concatBytes(
      new Uint8Array([2]),
      u32be(1),
      report.hash,
      counsellor.sign.publicKey,
      signature,
      field,
      u32be(replyBytes.length),
      replyBytes,
    );
  };
  const sealedFor = sortedFingerprints([
    fingerprintOf(counsellor.sign.publicKey),
    fingerprintOf(deputy.sign.publicKey),
  ]);
  const intruder = fingerprintOf(
    generateIdentity('counsellor', 'Operator', seededRandom('envelope-intruder')).sign.publicKey,
  );
  const badPaddingPayload = pad(payloadV2(sealedFor, sealedFor));
  badPaddingPayload[badPaddingPayload.length - 1] = 1;
  const badPadding = handSealed('envelope-bad-padding', badPaddingPayload);
  const recipientAdded = handSealed(
    'envelope-recipient-added',
    pad(payloadV2(sealedFor, sortedFingerprints([...sealedFor, intruder]))),
  );
  const recipientsUnsorted = handSealed(
    'envelope-recipients-unsorted',
    pad(payloadV2([...sealedFor].reverse(), [...sealedFor].reverse())),
  );

  const otherCase = receipts[1]!.caseNumber;
  const envelopes = {
    caseNumber,
    report: {
      seed: 'envelope-report',
      content: reportContent,
      envelope: report.envelope,
      hash: toHex(report.hash),
    },
    reply: {
      seed: 'envelope-reply',
      content: replyContent,
      envelope: reply.envelope,
      hash: toHex(reply.hash),
    },
    handover: {
      seed: 'envelope-handover',
      content: handoverContent,
      envelope: handover.envelope,
      hash: toHex(handover.hash),
      wrapSeeds: { report: 'handover-wrap-report', reply: 'handover-wrap-reply' },
      keys: handoverKeys,
    },
    reportV1: {
      seed: 'envelope-report-v1',
      content: reportContent,
      envelope: reportV1.envelope,
      hash: toHex(reportV1.hash),
    },
    failures: [
      {
        why: 'opened as if in another case',
        reader: 'counsellor-1',
        caseNumber: otherCase,
        envelope: report.envelope,
        error: 'bad-signature',
      },
      {
        why: 'one ciphertext bit flipped',
        reader: 'counsellor-1',
        caseNumber,
        envelope: { ...report.envelope, ct: flipBase64Byte(report.envelope.ct, 40) },
        error: 'auth-failure',
      },
      {
        why: 'nonce changed',
        reader: 'counsellor-1',
        caseNumber,
        envelope: { ...report.envelope, nonce: flipBase64Byte(report.envelope.nonce, 0) },
        error: 'auth-failure',
      },
      {
        why: 'wrapped key altered',
        reader: 'counsellor-1',
        caseNumber,
        envelope: {
          ...report.envelope,
          keys: report.envelope.keys.map((k, i) =>
            i === 0 ? { ...k, wk: flipBase64Byte(k.wk, 3) } : k,
          ),
        },
        error: 'auth-failure',
      },
      {
        why: 'wrapped keys of the two counsellors swapped',
        reader: 'counsellor-1',
        caseNumber,
        envelope: {
          ...report.envelope,
          keys: [
            { ...report.envelope.keys[1]!, to: report.envelope.keys[0]!.to },
            { ...report.envelope.keys[0]!, to: report.envelope.keys[1]!.to },
          ],
        },
        error: 'auth-failure',
      },
      {
        why: 'not addressed to the reader',
        reader: 'escalation-1',
        caseNumber,
        envelope: report.envelope,
        error: 'wrong-key',
      },
      {
        why: 'ciphertext of another envelope',
        reader: 'counsellor-1',
        caseNumber,
        envelope: { ...report.envelope, ct: reply.envelope.ct, nonce: reply.envelope.nonce },
        error: 'auth-failure',
      },
      {
        why: 'extra field',
        reader: 'counsellor-1',
        caseNumber,
        envelope: { ...report.envelope, seq: 0 },
        error: 'malformed',
      },
      {
        why: 'ciphertext length not a padded length',
        reader: 'counsellor-1',
        caseNumber,
        envelope: { ...report.envelope, ct: toBase64(new Uint8Array(600)) },
        error: 'malformed',
      },
      {
        why: 'signed payload with non-zero padding',
        reader: 'counsellor-1',
        caseNumber,
        envelope: badPadding,
        error: 'malformed',
      },
      {
        why: 'a recipient added to the signed list after signing',
        reader: 'counsellor-1',
        caseNumber,
        envelope: recipientAdded,
        error: 'bad-signature',
      },
      {
        why: 'signed recipients not in sorted order',
        reader: 'counsellor-1',
        caseNumber,
        envelope: recipientsUnsorted,
        error: 'malformed',
      },
    ],
    chain: [
      { why: 'report then reply', order: ['report', 'reply'], problems: [] },
      {
        why: 'reply shown first (reorder)',
        order: ['reply', 'report'],
        problems: [
          { index: 0, kind: 'gap' },
          { index: 1, kind: 'reorder' },
        ],
      },
      { why: 'report dropped', order: ['reply'], problems: [{ index: 0, kind: 'gap' }] },
      {
        why: 'report replayed',
        order: ['report', 'report'],
        problems: [{ index: 1, kind: 'reorder' }],
      },
    ],
  };

  // --- Attachment streams -----------------------------------------------------------------------
  const streamRandom = seededRandom('stream-1');
  const streamKey = streamRandom(32);
  const streamPrefix = streamRandom(19);
  const streams = [0, 1, 65_535, 65_536, 65_537, 200_000].map((length) => {
    const ciphertext = streamCiphertext(streamKey, streamPrefix, patternBytes(length));
    return {
      plaintextLength: length,
      ciphertextLength: ciphertext.length,
      ciphertextSha512: toHex(sha512(ciphertext)),
      ...(length <= 1 ? { ciphertext: toHex(ciphertext) } : {}),
    };
  });
  const attachmentKey = newAttachmentKey(1000, seededRandom('attachment-1'));
  const attachmentEncryptor = new AttachmentEncryptor(attachmentKey);
  const attachmentCiphertext = concatBytes(
    ...attachmentEncryptor.push(patternBytes(1000)),
    ...attachmentEncryptor.finish(),
  );

  // --- Proof of work ----------------------------------------------------------------------------
  const powChallenge = seededRandom('pow-1')(16);
  const pow = [0, 1, 8, 12].map((bits) => ({
    challenge: toHex(powChallenge),
    bits,
    nonce: solvePow(powChallenge, bits)!,
  }));

  // --- Signed requests --------------------------------------------------------------------------
  const requestBody = new TextEncoder().encode('{"text":"ontvangen"}');
  const requestParts = {
    origin: 'http://kluisexampleaddressforthetestvectorsonlyxxxxxxxxxxxxxxxx.onion',
    method: 'POST',
    path: '/api/v1/cases/K7P49QXM/messages',
    time: 1_795_000_000,
    body: requestBody,
  };
  const requestHeaders = signRequest(
    requestParts,
    counsellor.sign.secretKey,
    seededRandom('request-1'),
  );
  const request = {
    signer: 'counsellor-1',
    origin: requestParts.origin,
    method: requestParts.method,
    path: requestParts.path,
    time: requestParts.time,
    body: fromUtf8(requestBody),
    canonical: fromUtf8(
      canonicalRequest({ ...requestParts, nonce: requestHeaders['kluis-nonce'] }),
    ),
    headers: requestHeaders,
    failures: [
      { why: 'body changed', change: { body: '{"text":"ontvangen!"}' }, error: 'bad-signature' },
      {
        why: 'path changed',
        change: { path: '/api/v1/cases/K7P49QXN/messages' },
        error: 'bad-signature',
      },
      { why: 'method changed', change: { method: 'PUT' }, error: 'bad-signature' },
      { why: 'time changed', change: { time: 1_795_000_001 }, error: 'bad-signature' },
      {
        why: 'signed by another counsellor',
        change: { signer: 'counsellor-2' },
        error: 'bad-signature',
      },
      // Review #10, finding 6: the same key on two deployments.
      {
        why: 'checked by a server at another origin',
        change: { origin: 'https://kluis.example.org' },
        error: 'bad-signature',
      },
      {
        why: 'origin with a path',
        change: { origin: `${requestParts.origin}/` },
        error: 'malformed',
      },
      {
        why: 'time 301 s before now with a 300 s window',
        change: { now: 1_795_000_301 },
        error: 'expired',
      },
    ],
  };

  // --- Key file ---------------------------------------------------------------------------------
  const keyFile = await sealKeyFile(
    counsellor,
    'correct horse battery staple',
    nodeScrypt,
    undefined,
    seededRandom('keyfile-1'),
  );
  const keyFiles = {
    owner: 'counsellor-1',
    passphrase: 'correct horse battery staple',
    file: keyFile,
    failures: [
      {
        why: 'wrong passphrase',
        passphrase: 'correct horse battery stapler',
        file: keyFile,
        error: 'auth-failure',
      },
      {
        why: 'ciphertext altered',
        passphrase: 'correct horse battery staple',
        file: { ...keyFile, ct: flipBase64Byte(keyFile.ct, 5) },
        error: 'auth-failure',
      },
      {
        why: 'scrypt cost lowered below N = 2^17',
        passphrase: 'correct horse battery staple',
        file: { ...keyFile, kdf: { ...keyFile.kdf, N: 2 ** 14 } },
        error: 'malformed',
      },
      {
        why: 'bundle of another identity',
        passphrase: 'correct horse battery staple',
        file: { ...keyFile, bundle: exportBundle(deputy) },
        error: 'malformed',
      },
    ],
  };

  // --- Content ----------------------------------------------------------------------------------
  const content = {
    valid: [reportContent, replyContent, handoverContent],
    failures: [
      { why: 'extra field', content: { ...replyContent, html: '<b>x</b>' }, error: 'malformed' },
      { why: 'unknown type', content: { ...replyContent, type: 'script' }, error: 'malformed' },
      {
        why: 'time with fractions',
        content: { ...replyContent, time: '2026-11-29T09:02:41.5Z' },
        error: 'malformed',
      },
      {
        why: 'a day that does not exist',
        content: { ...replyContent, time: '2026-02-29T09:02:41Z' },
        error: 'malformed',
      },
      {
        why: 'hour 24',
        content: { ...replyContent, time: '2026-11-29T24:00:00Z' },
        error: 'malformed',
      },
      ...prototypeNameFailures(replyContent),
      {
        why: 'handover to something that is not a fingerprint',
        content: { ...handoverContent, to: 'operator' },
        error: 'malformed',
      },
      {
        why: 'blob id with path',
        content: {
          ...replyContent,
          attachments: [
            {
              name: 'a',
              type: '',
              size: 1,
              blob: '../../etc/passwd',
              key: toBase64(new Uint8Array(32)),
              prefix: toBase64(new Uint8Array(19)),
            },
          ],
        },
        error: 'malformed',
      },
    ],
  };

  return {
    description:
      'Known-answer vectors for the Kluis protocol v1 (docs/PROTOCOL.md). Hex is lower case; base64 is RFC 4648 with padding. ' +
      'Randomness comes from the seeded stream of docs/PROTOCOL.md, section "Test vectors", in the documented draw order.',
    hmacSha512: [
      {
        source: 'RFC 4231, test case 2',
        keyHex: toHex(new TextEncoder().encode('Jefe')),
        dataHex: toHex(new TextEncoder().encode('what do ya want for nothing?')),
        mac: '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
      },
    ],
    ed25519: {
      source: 'RFC 8032, section 7.1, TEST 1 and TEST 2',
      valid: [
        {
          secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
          publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
          message: '',
          signature:
            'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
        },
        {
          secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
          publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
          message: '72',
          signature:
            '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
        },
      ],
    },
    padme: padmeVectors,
    crockford: base32Vectors,
    receipts,
    receiptParse,
    authVerifierOfZeroKey: toHex(authVerifier(new Uint8Array(32))),
    identities,
    bundleFailures,
    envelopes,
    stream: {
      seed: 'stream-1',
      key: toHex(streamKey),
      prefix: toHex(streamPrefix),
      vectors: streams,
    },
    attachment: {
      seed: 'attachment-1',
      plaintextLength: 1000,
      paddedLength: paddedLength(1000),
      key: attachmentKey,
      ciphertext: toHex(attachmentCiphertext),
    },
    pow,
    request,
    keyFile: keyFiles,
    content,
  };
}
