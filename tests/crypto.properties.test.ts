import { createHmac, createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  AttachmentDecryptor,
  AttachmentEncryptor,
  attachmentCiphertextLength,
  checkChain,
  concatBytes,
  decodeContent,
  deriveReporterKeys,
  encodeContent,
  envelopeHash,
  exportBundle,
  formatReceiptCode,
  fromBase64,
  fromCrockford,
  GENESIS_HASH,
  generateIdentity,
  hmacSha512,
  isValidAttachmentLength,
  isValidCiphertextLength,
  KluisError,
  newAttachmentKey,
  openConversation,
  openEnvelope,
  padme,
  paddedLength,
  parseEnvelope,
  parseReceiptCode,
  sealEnvelope,
  sha512,
  signRequest,
  solvePow,
  checkPow,
  StreamDecryptor,
  StreamEncryptor,
  streamCiphertextLength,
  streamPlaintextLength,
  toBase64,
  toCrockford,
  verifyBundle,
  verifyRequest,
  verifySignature,
  wrapContentKey,
  type Envelope,
  type Identity,
  type RecipientKey,
} from '../crypto/index.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
import { seededRandom } from './helpers/seeded-random.js';

const nativeVerifier = createNativeVerifier();
const bytes = (options: { minLength?: number; maxLength?: number } = {}) => fc.uint8Array(options);

function kluisCode(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof KluisError) return error.code;
    throw error;
  }
}

const counsellor = generateIdentity('counsellor', 'Counsellor', seededRandom('prop-counsellor'));
const deputy = generateIdentity('counsellor', 'Deputy', seededRandom('prop-deputy'));
const keyOf = (identity: Identity): RecipientKey => ({
  fingerprint: verifyBundle(exportBundle(identity)).fingerprint,
  boxPublicKey: identity.box.publicKey,
  boxSecretKey: identity.box.secretKey,
});
const counsellorKey = keyOf(counsellor);
const deputyKey = keyOf(deputy);
const reporter = deriveReporterKeys({ caseNumber: 'K7P49QXM', secret: new Uint8Array(10).fill(7) });
const reporterKey: RecipientKey = {
  fingerprint: reporter.fingerprint,
  boxPublicKey: reporter.box.publicKey,
  boxSecretKey: reporter.box.secretKey,
};
const everyone = [reporterKey, counsellorKey, deputyKey];

describe('encodings', () => {
  it('base64 round-trips and matches Node’s encoder', () => {
    fc.assert(
      fc.property(bytes({ maxLength: 300 }), (data) => {
        const text = toBase64(data);
        expect(text).toBe(Buffer.from(data).toString('base64'));
        expect(fromBase64(text)).toEqual(data);
      }),
    );
  });

  it('base64 has one spelling per value: any other string is refused or decodes to other bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        let decoded: Uint8Array | undefined;
        try {
          decoded = fromBase64(text);
        } catch (error) {
          expect(error).toBeInstanceOf(KluisError);
          return;
        }
        expect(toBase64(decoded)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('Crockford base32 round-trips', () => {
    fc.assert(
      fc.property(bytes({ maxLength: 64 }), (data) => {
        expect(fromCrockford(toCrockford(data), data.length)).toEqual(data);
      }),
    );
  });
});

describe('hashes against Node’s OpenSSL', () => {
  it('SHA-512 and HMAC-SHA-512 agree', () => {
    fc.assert(
      fc.property(bytes({ maxLength: 300 }), bytes({ maxLength: 200 }), (key, data) => {
        expect(Buffer.from(sha512(data)).toString('hex')).toBe(
          createHash('sha512').update(data).digest('hex'),
        );
        expect(Buffer.from(hmacSha512(key, data)).toString('hex')).toBe(
          createHmac('sha512', key).update(data).digest('hex'),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('Ed25519 verifiers agree', () => {
  it('on valid, altered and non-canonical signatures, for keys made by tweetnacl and by OpenSSL', () => {
    fc.assert(
      fc.property(
        bytes({ minLength: 32, maxLength: 32 }),
        bytes({ maxLength: 100 }),
        fc.nat(63),
        (seed, message, flip) => {
          const pair = nacl.sign.keyPair.fromSeed(seed);
          const signature = nacl.sign.detached(message, pair.secretKey);
          const altered = signature.slice();
          altered[flip]! ^= 1 << (flip % 8);
          // S + L: verifies in bare tweetnacl, must be refused by both verifiers here.
          const malleated = signature.slice();
          let carry = 0;
          const order = [
            0xed,
            0xd3,
            0xf5,
            0x5c,
            0x1a,
            0x63,
            0x12,
            0x58,
            0xd6,
            0x9c,
            0xf7,
            0xa2,
            0xde,
            0xf9,
            0xde,
            0x14,
            ...new Array(15).fill(0),
            0x10,
          ];
          for (let i = 0; i < 32; i++) {
            const sum = malleated[32 + i]! + order[i]! + carry;
            malleated[32 + i] = sum & 0xff;
            carry = sum >> 8;
          }
          for (const [sig, expected] of [
            [signature, true],
            [altered, false],
            [malleated, false],
          ] as const) {
            expect(verifySignature(message, sig, pair.publicKey)).toBe(expected);
            expect(verifySignature(message, sig, pair.publicKey, nativeVerifier)).toBe(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    const message = new TextEncoder().encode('signed by OpenSSL');
    const signature = new Uint8Array(nodeSign(null, message, privateKey));
    expect(verifySignature(message, signature, raw)).toBe(true);
    expect(verifySignature(message, signature, raw, nativeVerifier)).toBe(true);
  });
});

describe('padding', () => {
  it('Padmé never shrinks, adds at most 12 %, and is idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (length) => {
        const padded = padme(length);
        expect(padded).toBeGreaterThanOrEqual(length);
        expect(padded - length).toBeLessThanOrEqual(Math.max(1, length * 0.12));
        expect(padme(padded)).toBe(padded);
      }),
    );
  });
});

describe('receipt codes', () => {
  it('round-trip through formatting and every normalisation a person might apply', () => {
    fc.assert(
      fc.property(
        bytes({ minLength: 5, maxLength: 5 }),
        bytes({ minLength: 10, maxLength: 10 }),
        fc.boolean(),
        (caseBytes, secret, lower) => {
          const code = { caseNumber: toCrockford(caseBytes), secret };
          let typed = formatReceiptCode(code);
          if (lower)
            typed = typed.toLowerCase().replace(/1/g, 'l').replace(/0/g, 'o').replace(/-/g, ' ');
          const parsed = parseReceiptCode(typed);
          expect(parsed.caseNumber).toBe(code.caseNumber);
          expect(parsed.secret).toEqual(secret);
        },
      ),
    );
  });

  it('a single changed symbol is caught before any request (all but ~2^-20 of the time)', () => {
    let slipped = 0;
    fc.assert(
      fc.property(
        bytes({ minLength: 5, maxLength: 5 }),
        bytes({ minLength: 10, maxLength: 10 }),
        fc.nat(27),
        fc.nat(30),
        (caseBytes, secret, position, shift) => {
          const symbols = formatReceiptCode({ caseNumber: toCrockford(caseBytes), secret }).replace(
            /-/g,
            '',
          );
          const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
          const replaced = alphabet[(alphabet.indexOf(symbols[position]!) + 1 + shift) % 32]!;
          const typo = symbols.slice(0, position) + replaced + symbols.slice(position + 1);
          if (kluisCode(() => parseReceiptCode(typo)) === undefined) slipped++;
        },
      ),
      { numRuns: 2000 },
    );
    expect(slipped).toBeLessThanOrEqual(1);
  });

  it('keys from different codes, and different keys from one code, never coincide', () => {
    const a = deriveReporterKeys({ caseNumber: 'K7P49QXM', secret: new Uint8Array(10) });
    const b = deriveReporterKeys({ caseNumber: 'K7P49QXN', secret: new Uint8Array(10) });
    const values = [
      a.authKey,
      a.box.secretKey,
      a.sign.secretKey.subarray(0, 32),
      b.authKey,
      b.box.secretKey,
    ].map((k) => toBase64(k));
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('envelopes', () => {
  const caseNumber = 'K7P49QXM';
  const sealReport = (content: Uint8Array, random = seededRandom('prop-envelope')) =>
    sealEnvelope(
      {
        caseNumber,
        seq: 0,
        prev: GENESIS_HASH,
        author: reporter.sign,
        content,
        recipients: [counsellorKey, deputyKey],
      },
      random,
    );

  it('round-trip for every recipient, and the server-side shape check accepts them', () => {
    fc.assert(
      fc.property(bytes({ maxLength: 3000 }), (content) => {
        const sealed = sealReport(content, nacl.randomBytes);
        expect(parseEnvelope(JSON.parse(JSON.stringify(sealed.envelope)))).toEqual(sealed.envelope);
        expect(isValidCiphertextLength(fromBase64(sealed.envelope.ct).length)).toBe(true);
        for (const key of [counsellorKey, deputyKey]) {
          const opened = openEnvelope(sealed.envelope, key, {
            caseNumber,
            verifier: nativeVerifier,
          });
          expect(opened.content).toEqual(content);
          expect(opened.author).toEqual(reporter.sign.publicKey);
        }
        expect(kluisCode(() => openEnvelope(sealed.envelope, reporterKey, { caseNumber }))).toBe(
          'wrong-key',
        );
      }),
      { numRuns: 30 },
    );
  });

  it('ciphertext length reveals only the padded length', () => {
    const lengths = new Set(
      [0, 10, 100, 300].map((n) => sealReport(new Uint8Array(n)).envelope.ct.length),
    );
    expect(lengths.size).toBe(1);
  });

  const sealed = sealReport(
    encodeContent({ v: 1, type: 'note', time: '2026-11-28T10:00:00Z', text: 'canary' }),
  );
  const stored = sealed.envelope;
  const fields: Array<[string, (e: Envelope) => string, (e: Envelope, v: string) => Envelope]> = [
    ['nonce', (e) => e.nonce, (e, v) => ({ ...e, nonce: v })],
    ['ct', (e) => e.ct, (e, v) => ({ ...e, ct: v })],
    [
      'keys[0].epk',
      (e) => e.keys[0]!.epk,
      (e, v) => ({ ...e, keys: [{ ...e.keys[0]!, epk: v }, e.keys[1]!] }),
    ],
    [
      'keys[0].wk',
      (e) => e.keys[0]!.wk,
      (e, v) => ({ ...e, keys: [{ ...e.keys[0]!, wk: v }, e.keys[1]!] }),
    ],
  ];

  it.each(fields)('every single-byte change to %s is rejected', (_, get, set) => {
    const original = fromBase64(get(stored));
    fc.assert(
      fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), (index, delta) => {
        const changed = original.slice();
        changed[index] = (changed[index]! + delta) & 0xff;
        const code = kluisCode(() =>
          openEnvelope(set(stored, toBase64(changed)), counsellorKey, { caseNumber }),
        );
        expect(['auth-failure', 'malformed', 'bad-signature']).toContain(code);
      }),
      { numRuns: 150 },
    );
  });

  it('every single-byte change to a recipient name makes it unreadable for that recipient', () => {
    fc.assert(
      fc.property(fc.nat(23), fc.nat(30), (index, shift) => {
        const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
        const to = stored.keys[0]!.to;
        const changed =
          to.slice(0, index) +
          alphabet[(alphabet.indexOf(to[index]!) + 1 + shift) % 32]! +
          to.slice(index + 1);
        const code = kluisCode(() =>
          openEnvelope(
            { ...stored, keys: [{ ...stored.keys[0]!, to: changed }, stored.keys[1]!] },
            counsellorKey,
            { caseNumber },
          ),
        );
        expect(['wrong-key', 'malformed']).toContain(code);
      }),
      { numRuns: 100 },
    );
  });

  it('a message moved to another case is rejected', () => {
    fc.assert(
      fc.property(bytes({ minLength: 5, maxLength: 5 }), (other) => {
        const otherCase = toCrockford(other);
        fc.pre(otherCase !== caseNumber);
        expect(
          kluisCode(() => openEnvelope(stored, counsellorKey, { caseNumber: otherCase })),
        ).toBe('bad-signature');
      }),
      { numRuns: 30 },
    );
  });

  it('a conversation is intact only as a prefix of its own order; any move, drop or duplication is reported', () => {
    // Build a conversation of 5 messages alternating reporter and counsellor.
    const messages: Envelope[] = [];
    let prev = GENESIS_HASH;
    const random = seededRandom('prop-conversation');
    for (let seq = 0; seq < 5; seq++) {
      const author = seq % 2 === 0 ? reporter.sign : counsellor.sign;
      const content = encodeContent({
        v: 1,
        type: 'message',
        time: '2026-11-28T10:00:00Z',
        text: `message ${seq}`,
        attachments: [],
      });
      const { envelope, hash } = sealEnvelope(
        { caseNumber, seq, prev, author, content, recipients: everyone },
        random,
      );
      messages.push(envelope);
      prev = hash;
    }
    const options = {
      caseNumber,
      counsellorSignKeys: [counsellor.sign.publicKey, deputy.sign.publicKey],
      verifier: nativeVerifier,
    };
    for (const key of everyone) expect(openConversation(messages, key, options).intact).toBe(true);
    fc.assert(
      fc.property(fc.array(fc.nat(4), { minLength: 1, maxLength: 7 }), (order) => {
        // Withholding the latest messages (showing a prefix) is undetectable until the other side writes (PROTOCOL §6).
        fc.pre(order.some((position, index) => position !== index));
        const shown = order.map((i) => messages[i]!);
        const conversation = openConversation(shown, counsellorKey, options);
        expect(conversation.intact).toBe(false);
        expect(conversation.problems.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    // A message signed by an unknown key, well-formed and correctly chained, is refused by author.
    const stranger = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
    const forged = sealEnvelope(
      {
        caseNumber,
        seq: 5,
        prev,
        author: stranger,
        content: encodeContent({
          v: 1,
          type: 'message',
          time: '2026-11-28T10:00:00Z',
          text: 'forged',
          attachments: [],
        }),
        recipients: everyone,
      },
      random,
    );
    const withForgery = openConversation([...messages, forged.envelope], reporterKey, {
      ...options,
      reporterSignKey: reporter.sign.publicKey,
    });
    expect(withForgery.intact).toBe(false);
    expect(withForgery.problems).toEqual([]);
    const last = withForgery.entries.at(-1)!;
    expect(last.ok).toBe(false);
    if (!last.ok) expect(last.error.code).toBe('bad-signature');
    expect(checkChain([{ seq: 0, prev: GENESIS_HASH, hash: envelopeHash(messages[0]!) }])).toEqual(
      [],
    );
  });

  it('a forwarded key opens the same message for the escalation recipient and leaves the hash unchanged', () => {
    const escalation = generateIdentity('escalation', 'SG', seededRandom('prop-escalation'));
    const escalationKey = keyOf(escalation);
    const opened = openEnvelope(stored, counsellorKey, { caseNumber });
    const forwarded = {
      ...stored,
      keys: [...stored.keys, wrapContentKey(opened.contentKey, escalationKey)],
    };
    expect(envelopeHash(forwarded)).toEqual(envelopeHash(stored));
    expect(
      decodeContent(openEnvelope(forwarded, escalationKey, { caseNumber }).content),
    ).toMatchObject({ text: 'canary' });
  });
});

describe('attachment streams', () => {
  const key = new Uint8Array(32).fill(1);
  const prefix = new Uint8Array(19).fill(2);

  it('round-trip whatever the slicing of input and ciphertext', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * 65_536 + 10 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 8 }),
        (length, pushSizes, pullSizes) => {
          const plaintext = nacl.randomBytes(length);
          const encryptor = new StreamEncryptor(key, prefix);
          const sealedParts: Uint8Array[] = [];
          for (let offset = 0, i = 0; offset < length; i++) {
            const size = pushSizes[i % pushSizes.length]!;
            sealedParts.push(...encryptor.push(plaintext.subarray(offset, offset + size)));
            offset += size;
          }
          sealedParts.push(encryptor.finish());
          const ciphertext = concatBytes(...sealedParts);
          expect(ciphertext.length).toBe(streamCiphertextLength(length));
          expect(streamPlaintextLength(ciphertext.length)).toBe(length);
          const decryptor = new StreamDecryptor(key, prefix);
          const out: Uint8Array[] = [];
          for (let offset = 0, i = 0; offset < ciphertext.length; i++) {
            const size = pullSizes[i % pullSizes.length]!;
            out.push(...decryptor.push(ciphertext.subarray(offset, offset + size)));
            offset += size;
          }
          out.push(decryptor.finish());
          expect(concatBytes(...out)).toEqual(plaintext);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('any single-byte change, any truncation, any swap between two files fails', () => {
    const encrypt = (k: Uint8Array, data: Uint8Array) => {
      const e = new StreamEncryptor(k, prefix);
      return concatBytes(...e.push(data), e.finish());
    };
    const decrypt = (data: Uint8Array) => {
      const d = new StreamDecryptor(key, prefix);
      return concatBytes(...d.push(data), d.finish());
    };
    const ciphertext: Uint8Array = encrypt(key, nacl.randomBytes(150_000));
    const otherFile = encrypt(new Uint8Array(32).fill(3), nacl.randomBytes(150_000));
    fc.assert(
      fc.property(
        fc.nat(ciphertext.length - 1),
        fc.integer({ min: 1, max: 255 }),
        (index, delta) => {
          const changed = ciphertext.slice();
          changed[index] = (changed[index]! + delta) & 0xff;
          expect(kluisCode(() => decrypt(changed))).toBe('auth-failure');
        },
      ),
      { numRuns: 40 },
    );
    fc.assert(
      fc.property(fc.nat(ciphertext.length - 1), (cut) => {
        expect(kluisCode(() => decrypt(ciphertext.subarray(0, cut)))).toBe('auth-failure');
      }),
      { numRuns: 40 },
    );
    const chunk = 65_536 + 16;
    for (let i = 0; i < 3; i++) {
      const mixed = ciphertext.slice();
      mixed.set(
        otherFile.subarray(i * chunk, Math.min((i + 1) * chunk, otherFile.length)),
        i * chunk,
      );
      expect(kluisCode(() => decrypt(mixed))).toBe('auth-failure');
    }
  });

  it('attachments round-trip, hide their exact size, and the server’s length check accepts exactly their lengths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), (size) => {
        const attachment = newAttachmentKey(size);
        const data = nacl.randomBytes(size);
        const encryptor = new AttachmentEncryptor(attachment);
        const ciphertext = concatBytes(...encryptor.push(data), ...encryptor.finish());
        expect(ciphertext.length).toBe(attachmentCiphertextLength(size));
        expect(ciphertext.length).toBe(streamCiphertextLength(paddedLength(size)));
        expect(isValidAttachmentLength(ciphertext.length)).toBe(true);
        const decryptor = new AttachmentDecryptor(attachment);
        expect(concatBytes(...decryptor.push(ciphertext), ...decryptor.finish())).toEqual(data);
        // The same ciphertext under another key or prefix is refused.
        const otherPrefix = new AttachmentDecryptor({
          ...attachment,
          prefix: toBase64(new Uint8Array(19)),
        });
        expect(kluisCode(() => [...otherPrefix.push(ciphertext), ...otherPrefix.finish()])).toBe(
          'auth-failure',
        );
      }),
      { numRuns: 20 },
    );
    expect(isValidAttachmentLength(513 + 16)).toBe(false);
  });
});

describe('proof of work and requests', () => {
  it('solutions verify at their difficulty and are found for random challenges', () => {
    fc.assert(
      fc.property(
        bytes({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 0, max: 10 }),
        (challenge, bits) => {
          const nonce = solvePow(challenge, bits)!;
          expect(checkPow(challenge, bits, nonce)).toBe(true);
          for (let smaller = 0; smaller < nonce; smaller++)
            expect(checkPow(challenge, bits, smaller)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
    // Difficulty is bound into the hash: the smallest solution at 12 bits is not accepted at 13 unless it also solves 13.
    const challenge = new Uint8Array(16).fill(5);
    const nonce = solvePow(challenge, 12)!;
    expect(checkPow(challenge, 13, nonce)).toBe(solvePow(challenge, 13, nonce, 1) === nonce);
  });

  it('any change to a signed request, its origin included, breaks its signature', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'DELETE'),
        fc.stringMatching(/^\/[a-zA-Z0-9/_.-]{0,60}$/),
        fc.integer({ min: 0, max: 2 ** 40 }),
        bytes({ maxLength: 200 }),
        fc.nat(4),
        (method, path, time, body, which) => {
          const origin = 'https://kluis.example.org';
          const headers = signRequest(
            { origin, method, path, time, body },
            counsellor.sign.secretKey,
          );
          const parts = { origin, method, path, time, nonce: headers['kluis-nonce'], body };
          const signature = fromBase64(headers['kluis-signature']);
          verifyRequest(parts, signature, counsellor.sign.publicKey, nativeVerifier);
          const changed = [
            { ...parts, method: method === 'GET' ? 'PUT' : 'GET' },
            { ...parts, path: `${path}x` },
            { ...parts, time: time + 1 },
            { ...parts, body: concatBytes(body, new Uint8Array([0])) },
            { ...parts, origin: 'https://kluis.example.org:8443' },
          ][which]!;
          expect(
            kluisCode(() =>
              verifyRequest(changed, signature, counsellor.sign.publicKey, nativeVerifier),
            ),
          ).toBe('bad-signature');
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('content', () => {
  it('any text round-trips exactly, unicode and control characters included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => {
        const content = {
          v: 1 as const,
          type: 'message' as const,
          time: '2026-11-28T10:00:00Z',
          text,
          attachments: [],
        };
        expect(decodeContent(encodeContent(content))).toEqual(content);
      }),
    );
  });

  it('a report carries any simple language tag, and nothing else in that field', () => {
    const report = (language: unknown) => ({
      v: 1,
      type: 'report',
      time: '2026-11-28T10:00:00Z',
      text: 'x',
      consent: 'no',
      addressAs: '',
      language,
      reporterBox: 'A'.repeat(43) + '=',
      attachments: [],
    });
    for (const tag of ['nl', 'en', 'fr', 'ar', 'pt-BR', 'fil']) {
      expect(decodeContent(new TextEncoder().encode(JSON.stringify(report(tag)))).type).toBe(
        'report',
      );
    }
    for (const bad of [
      '',
      'NL',
      'e',
      'en_GB',
      'x'.repeat(36),
      'nl-' + 'a'.repeat(33),
      7,
      null,
      '<b>',
    ]) {
      expect(() => decodeContent(new TextEncoder().encode(JSON.stringify(report(bad))))).toThrow();
    }
  });
});
