import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AttachmentDecryptor,
  assertChain,
  checkChain,
  checkPow,
  checkRequestTime,
  concatBytes,
  decodeContent,
  deriveReporterKeys,
  encodeContent,
  fromBase64,
  fromCrockford,
  fromHex,
  GENESIS_HASH,
  hmacSha512,
  identityFromSeeds,
  InvalidReceiptCodeError,
  KluisError,
  openEnvelope,
  openKeyFile,
  openSecretbox,
  padme,
  parseContent,
  parseReceiptCode,
  readConversation,
  sealSecretbox,
  sha512,
  StreamDecryptor,
  StreamEncryptor,
  toBase64,
  toCrockford,
  toHex,
  verifyBundle,
  verifyPow,
  verifyRequest,
  verifySignature,
  type Envelope,
  type Identity,
  type RecipientKey,
} from '../crypto/index.js';
import { nodeScrypt } from '../crypto-node/scrypt.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
import { generateVectors, patternBytes } from './vectors/generate.js';
import { currentAppendix, renderVectorAppendix } from './vectors/render.js';

const vectors = JSON.parse(readFileSync('docs/vectors/kluis-v1.json', 'utf8')) as Awaited<
  ReturnType<typeof generateVectors>
>;
const naclVectors = JSON.parse(readFileSync('docs/vectors/tweetnacl-secretbox.json', 'utf8')) as {
  vectors: string[][];
};
const verifiers = { tweetnacl: undefined, native: createNativeVerifier() };

/** Runs `action` and returns the code of the KluisError it throws (fails the test if it does not throw one). */
function errorCode(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof KluisError) return error.code;
    throw error;
  }
  throw new Error('expected a KluisError, nothing was thrown');
}

async function asyncErrorCode(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    if (error instanceof KluisError) return error.code;
    throw error;
  }
  throw new Error('expected a KluisError, nothing was thrown');
}

function identity(seed: string): Identity {
  const v = vectors.identities.find((i) => i.seed === seed)!;
  return identityFromSeeds(v.role, v.name, fromHex(v.signSeed), fromHex(v.boxSecretKey));
}

function recipientKey(seed: string): RecipientKey {
  const v = vectors.identities.find((i) => i.seed === seed)!;
  return {
    fingerprint: v.fingerprint,
    boxPublicKey: fromHex(v.boxPublicKey),
    boxSecretKey: fromHex(v.boxSecretKey),
  };
}

describe('vector file', () => {
  it('is exactly what the generator produces from the fixed seeds', async () => {
    expect(JSON.parse(JSON.stringify(await generateVectors()))).toEqual(vectors);
  });

  it('is what the appendix of docs/PROTOCOL.md shows', () => {
    expect(currentAppendix(readFileSync('docs/PROTOCOL.md', 'utf8'))).toBe(
      renderVectorAppendix(vectors),
    );
  });
});

describe('external vectors', () => {
  it('RFC 4231 HMAC-SHA-512', () => {
    for (const v of vectors.hmacSha512)
      expect(toHex(hmacSha512(fromHex(v.keyHex), fromHex(v.dataHex)))).toBe(v.mac);
  });

  it.each(Object.entries(verifiers))(
    'RFC 8032 Ed25519 signatures verify with the %s verifier, and altered ones do not',
    (_, verifier) => {
      for (const v of vectors.ed25519.valid) {
        const message = fromHex(v.message);
        const signature = fromHex(v.signature);
        const publicKey = fromHex(v.publicKey);
        expect(verifySignature(message, signature, publicKey, verifier)).toBe(true);
        const altered = signature.slice();
        altered[0]! ^= 1;
        expect(verifySignature(message, altered, publicKey, verifier)).toBe(false);
        expect(
          verifySignature(
            concatBytes(message, new Uint8Array([0])),
            signature,
            publicKey,
            verifier,
          ),
        ).toBe(false);
      }
    },
  );

  it('TweetNaCl secretbox vectors pass through sealSecretbox and openSecretbox', () => {
    for (const [key, nonce, message, sealed] of naclVectors.vectors) {
      const k = fromBase64(key!);
      const n = fromBase64(nonce!);
      expect(toBase64(sealSecretbox(k, n, fromBase64(message!)))).toBe(sealed);
      expect(toBase64(openSecretbox(k, n, fromBase64(sealed!)))).toBe(message);
      const tampered = fromBase64(sealed!);
      tampered[tampered.length - 1]! ^= 0x80;
      expect(errorCode(() => openSecretbox(k, n, tampered))).toBe('auth-failure');
    }
  });
});

describe('padding and encodings', () => {
  it('Padmé lengths', () => {
    for (const v of vectors.padme) expect(padme(v.length)).toBe(v.padme);
  });

  it('Crockford base32 both ways', () => {
    for (const v of vectors.crockford) {
      expect(toCrockford(fromHex(v.hex))).toBe(v.crockford);
      expect(toHex(fromCrockford(v.crockford, v.hex.length / 2))).toBe(v.hex);
    }
  });
});

describe('receipt codes', () => {
  it('derive the published keys', () => {
    for (const v of vectors.receipts) {
      const code = parseReceiptCode(v.code);
      expect(code.caseNumber).toBe(v.caseNumber);
      expect(toHex(code.secret)).toBe(v.secret);
      const keys = deriveReporterKeys(code);
      expect(toHex(keys.sign.publicKey)).toBe(v.signPublicKey);
      expect(toHex(keys.box.publicKey)).toBe(v.boxPublicKey);
      expect(keys.fingerprint).toBe(v.fingerprint);
      expect(toHex(keys.authKey)).toBe(v.authKey);
      expect(toHex(keys.verifier)).toBe(v.verifier);
    }
  });

  it('parse what people type, and refuse typos with the named problem', () => {
    for (const v of vectors.receiptParse) {
      if ('error' in v) {
        let thrown: unknown;
        try {
          parseReceiptCode(v.input);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, v.input).toBeInstanceOf(InvalidReceiptCodeError);
        expect((thrown as InvalidReceiptCodeError).code).toBe(v.error);
        expect((thrown as InvalidReceiptCodeError).problem).toBe(v.problem);
      } else {
        const code = parseReceiptCode(v.input);
        expect(code.caseNumber).toBe(v.caseNumber);
        expect(toHex(code.secret)).toBe(v.secret);
      }
    }
  });
});

describe('identities and bundles', () => {
  it('seeds give the published keys, fingerprints and bundles', () => {
    for (const v of vectors.identities) {
      const verified = verifyBundle(v.bundle);
      expect(toHex(verified.signPublicKey)).toBe(v.signPublicKey);
      expect(toHex(verified.boxPublicKey)).toBe(v.boxPublicKey);
      expect(verified.fingerprint).toBe(v.fingerprint);
      expect(verified.role).toBe(v.role);
      const rebuilt = identity(v.seed);
      expect(toHex(rebuilt.box.publicKey)).toBe(v.boxPublicKey);
    }
  });

  it.each(Object.entries(verifiers))(
    'altered bundles fail with their error (%s verifier)',
    (_, verifier) => {
      for (const f of vectors.bundleFailures)
        expect(
          errorCode(() => verifyBundle(f.bundle, verifier)),
          f.why,
        ).toBe(f.error);
    },
  );
});

describe('envelopes', () => {
  const { caseNumber, report, reply, reportV1 } = vectors.envelopes;
  const counsellorFingerprints = ['counsellor-1', 'counsellor-2']
    .map((seed) => vectors.identities.find((i) => i.seed === seed)!.fingerprint)
    .sort();
  const reporterCode = parseReceiptCode(vectors.receipts[0]!.code);
  const reporter = deriveReporterKeys(reporterCode);
  const reporterKey: RecipientKey = {
    fingerprint: reporter.fingerprint,
    boxPublicKey: reporter.box.publicKey,
    boxSecretKey: reporter.box.secretKey,
  };

  it.each(Object.entries(verifiers))(
    'the report opens for both counsellors with the published content (%s verifier)',
    (_, verifier) => {
      for (const reader of ['counsellor-1', 'counsellor-2']) {
        const opened = openEnvelope(report.envelope, recipientKey(reader), {
          caseNumber,
          ...(verifier ? { verifier } : {}),
        });
        expect(opened.seq).toBe(0);
        expect(opened.prev).toEqual(GENESIS_HASH);
        expect(toHex(opened.author)).toBe(vectors.receipts[0]!.signPublicKey);
        expect(toHex(opened.hash)).toBe(report.hash);
        expect(decodeContent(opened.content)).toEqual(report.content);
        expect(opened.version).toBe(2);
        expect(opened.recipients).toEqual(counsellorFingerprints);
      }
    },
  );

  it('the version 1 report (recipients not signed) still opens, and says its recipients are unsigned', () => {
    for (const reader of ['counsellor-1', 'counsellor-2']) {
      const opened = openEnvelope(reportV1.envelope, recipientKey(reader), { caseNumber });
      expect(opened.version).toBe(1);
      expect(opened.recipients).toBeUndefined();
      expect(toHex(opened.hash)).toBe(reportV1.hash);
      expect(decodeContent(opened.content)).toEqual(reportV1.content);
    }
  });

  it('the reply opens for the reporter and names the report as its predecessor', () => {
    const opened = openEnvelope(reply.envelope, reporterKey, { caseNumber });
    expect(opened.seq).toBe(1);
    expect(toHex(opened.prev)).toBe(report.hash);
    expect(toHex(opened.author)).toBe(vectors.identities[0]!.signPublicKey);
    expect(decodeContent(opened.content)).toEqual(reply.content);
    expect(opened.recipients).toEqual([reporter.fingerprint, ...counsellorFingerprints].sort());
  });

  describe('the handover to counsellor-3', () => {
    const { handover } = vectors.envelopes;
    const trusted = (seeds: readonly string[]) =>
      seeds.map((seed) => {
        const v = vectors.identities.find((i) => i.seed === seed)!;
        return { fingerprint: v.fingerprint, signPublicKey: fromHex(v.signPublicKey) };
      });
    const newcomer = vectors.identities.find((i) => i.seed === 'counsellor-3')!.fingerprint;
    // The report and the reply with their keys for counsellor-3 appended, as the server stores them after the handover.
    const handedOver = [
      { ...report.envelope, keys: [...report.envelope.keys, handover.keys.report] },
      { ...reply.envelope, keys: [...reply.envelope.keys, handover.keys.reply] },
      handover.envelope,
    ];

    it('opens for counsellor-3, every message, and reads intact where counsellor-3 is trusted', () => {
      const read = readConversation(handedOver, recipientKey('counsellor-3'), {
        caseNumber,
        counsellors: trusted(['counsellor-1', 'counsellor-2', 'counsellor-3']),
        escalation: [],
      });
      expect(read.messages.map((m) => m.ok)).toEqual([true, true, true]);
      expect(read.intact).toBe(true);
      expect(read.handedTo).toEqual([newcomer]);
      const last = read.messages[2]!;
      expect(last.ok && last.content).toEqual(handover.content);
      expect(last.ok && toHex(last.opened.hash)).toBe(handover.hash);
    });

    // The report of these vectors is sealed for the counsellors only, so counsellor-1 reads here, as a
    // reader (a page, a client) that does not trust counsellor-3 would.
    it('names counsellor-3 as an unexpected recipient of every message where it is not trusted', () => {
      const read = readConversation(handedOver, recipientKey('counsellor-1'), {
        caseNumber,
        counsellors: trusted(['counsellor-1', 'counsellor-2']),
        escalation: [],
      });
      expect(read.intact).toBe(false);
      expect(read.handedTo).toEqual([]);
      for (const m of read.messages) expect(m.ok && m.recipients.unexpected).toEqual([newcomer]);
    });

    it('names the key of a handover as unexpected even when no key was wrapped for it', () => {
      const read = readConversation(
        [report.envelope, reply.envelope, handover.envelope],
        recipientKey('counsellor-1'),
        {
          caseNumber,
          counsellors: trusted(['counsellor-1', 'counsellor-2']),
          escalation: [],
        },
      );
      expect(read.messages.map((m) => m.ok && m.recipients.unexpected)).toEqual([
        [],
        [],
        [newcomer],
      ]);
    });
  });

  it('failure vectors fail with their error', () => {
    for (const f of vectors.envelopes.failures) {
      expect(
        errorCode(() =>
          openEnvelope(f.envelope, recipientKey(f.reader), { caseNumber: f.caseNumber }),
        ),
        f.why,
      ).toBe(f.error);
    }
  });

  it('chain vectors show the published problems', () => {
    const byName: Record<string, Envelope> = { report: report.envelope, reply: reply.envelope };
    for (const c of vectors.envelopes.chain) {
      const links = c.order.map((name) =>
        openEnvelope(byName[name], recipientKey('counsellor-1'), { caseNumber }),
      );
      expect(checkChain(links), c.why).toEqual(c.problems);
      if (c.problems.length > 0) expect(errorCode(() => assertChain(links))).toBe('out-of-order');
      else assertChain(links);
    }
  });
});

describe('attachment streams', () => {
  const key = fromHex(vectors.stream.key);
  const prefix = fromHex(vectors.stream.prefix);

  it('the vectors given in full decrypt to the pattern', () => {
    for (const v of vectors.stream.vectors) {
      if (!('ciphertext' in v) || v.ciphertext === undefined) continue;
      const decryptor = new StreamDecryptor(key, prefix);
      const plaintext = concatBytes(...decryptor.push(fromHex(v.ciphertext)), decryptor.finish());
      expect(plaintext).toEqual(patternBytes(v.plaintextLength));
    }
  });

  it('the 200,000-byte vector has the published hash and decrypts; each tampering fails', () => {
    const encryptor = new StreamEncryptor(key, prefix);
    const ciphertext = concatBytes(...encryptor.push(patternBytes(200_000)), encryptor.finish());
    expect(toHex(sha512(ciphertext))).toBe(vectors.stream.vectors.at(-1)!.ciphertextSha512);
    const chunk = 65_536 + 16;
    const chunks = [0, 1, 2, 3].map((i) => ciphertext.slice(i * chunk, (i + 1) * chunk));
    const decrypt = (bytes: Uint8Array, k = key) => {
      const d = new StreamDecryptor(k, prefix);
      return concatBytes(...d.push(bytes), d.finish());
    };
    expect(decrypt(ciphertext)).toEqual(patternBytes(200_000));
    const flipped = ciphertext.slice();
    flipped[100_000]! ^= 1;
    const otherKey = key.slice();
    otherKey[0]! ^= 1;
    for (const [why, bytes, k] of [
      ['last chunk removed', concatBytes(chunks[0]!, chunks[1]!, chunks[2]!), key],
      ['chunks 0 and 1 swapped', concatBytes(chunks[1]!, chunks[0]!, chunks[2]!, chunks[3]!), key],
      ['one byte flipped', flipped, key],
      ['cut to the first full chunk', chunks[0]!, key],
      ['another key', ciphertext, otherKey],
    ] as const) {
      expect(
        errorCode(() => decrypt(bytes, k)),
        why,
      ).toBe('auth-failure');
    }
  });

  it('the attachment vector decrypts to its declared size', () => {
    const decryptor = new AttachmentDecryptor(vectors.attachment.key);
    const plaintext = concatBytes(
      ...decryptor.push(fromHex(vectors.attachment.ciphertext)),
      ...decryptor.finish(),
    );
    expect(plaintext).toEqual(patternBytes(vectors.attachment.key.size));
  });
});

describe('proof of work', () => {
  it('published nonces are the smallest solutions', () => {
    for (const v of vectors.pow) {
      const challenge = fromHex(v.challenge);
      expect(checkPow(challenge, v.bits, v.nonce)).toBe(true);
      verifyPow(challenge, v.bits, v.nonce);
      for (let smaller = 0; smaller < v.nonce; smaller++)
        expect(checkPow(challenge, v.bits, smaller)).toBe(false);
      if (v.nonce > 0)
        expect(errorCode(() => verifyPow(challenge, v.bits, v.nonce - 1))).toBe(
          'insufficient-work',
        );
    }
  });
});

describe('signed requests', () => {
  const r = vectors.request;
  const signer = (seed: string) =>
    fromHex(vectors.identities.find((i) => i.seed === seed)!.signPublicKey);

  it.each(Object.entries(verifiers))(
    'the published request verifies (%s verifier) and each change fails',
    (_, verifier) => {
      const parts = {
        origin: r.origin,
        method: r.method,
        path: r.path,
        time: r.time,
        nonce: r.headers['kluis-nonce'],
        body: new TextEncoder().encode(r.body),
      };
      const signature = fromBase64(r.headers['kluis-signature']);
      verifyRequest(parts, signature, signer(r.signer), verifier);
      checkRequestTime(r.time, r.time + 300, 300);
      for (const f of r.failures) {
        const change = f.change as Partial<{
          origin: string;
          body: string;
          path: string;
          method: string;
          time: number;
          signer: string;
          now: number;
        }>;
        const code = errorCode(() => {
          const changed = {
            ...parts,
            ...(change.body !== undefined ? { body: new TextEncoder().encode(change.body) } : {}),
            ...(change.origin ? { origin: change.origin } : {}),
            ...(change.path ? { path: change.path } : {}),
            ...(change.method ? { method: change.method } : {}),
            ...(change.time ? { time: change.time } : {}),
          };
          verifyRequest(changed, signature, signer(change.signer ?? r.signer), verifier);
          checkRequestTime(changed.time, change.now ?? changed.time, 300);
        });
        expect(code, f.why).toBe(f.error);
      }
    },
  );
});

describe('key file', () => {
  it('opens with the passphrase to the published identity; failures fail', async () => {
    const opened = await openKeyFile(vectors.keyFile.file, vectors.keyFile.passphrase, nodeScrypt);
    expect(toHex(opened.sign.publicKey)).toBe(vectors.identities[0]!.signPublicKey);
    expect(toHex(opened.box.secretKey)).toBe(vectors.identities[0]!.boxSecretKey);
    for (const f of vectors.keyFile.failures) {
      expect(await asyncErrorCode(() => openKeyFile(f.file, f.passphrase, nodeScrypt)), f.why).toBe(
        f.error,
      );
    }
  });
});

describe('content', () => {
  it('valid content round-trips; invalid content is malformed', () => {
    for (const c of vectors.content.valid)
      expect(decodeContent(encodeContent(parseContent(c)))).toEqual(c);
    for (const f of vectors.content.failures)
      expect(
        errorCode(() => parseContent(f.content)),
        f.why,
      ).toBe(f.error);
  });
});
