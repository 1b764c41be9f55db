/**
 * Sealing with a content key wrapped ahead (crypto's `wrapAhead`, used by
 * the reporter page while the reporter writes): the envelope is the same
 * kind any reader opens, and a key wrapped for other recipients is refused.
 */

import { describe, expect, it } from 'vitest';
import {
  decodeContent,
  deriveReporterKeys,
  encodeContent,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  generateReceiptSecret,
  MalformedError,
  openEnvelope,
  sealEnvelope,
  wrapAhead,
} from '../crypto/index.js';

const reporter = deriveReporterKeys({ caseNumber: 'K7P49QXM', secret: generateReceiptSecret() });
const counsellor = generateIdentity('counsellor', 'Counsellor');
const recipients = [
  { fingerprint: reporter.fingerprint, boxPublicKey: reporter.box.publicKey },
  { fingerprint: fingerprintOf(counsellor.sign.publicKey), boxPublicKey: counsellor.box.publicKey },
];
const content = encodeContent({
  v: 1,
  type: 'message',
  time: '2026-12-01T12:00:00Z',
  text: 'Written after the key was wrapped.',
  attachments: [],
});
const input = {
  caseNumber: 'K7P49QXM',
  seq: 1,
  prev: GENESIS_HASH,
  author: reporter.sign,
  content,
  recipients,
};

describe('a content key wrapped ahead', () => {
  it('seals an envelope every recipient opens, with the key made ahead', () => {
    const ahead = wrapAhead(recipients);
    const sealed = sealEnvelope({ ...input, wrapped: ahead });
    expect(sealed.contentKey).toEqual(ahead.contentKey);
    expect(sealed.envelope.keys).toEqual(ahead.keys);
    const keys = [
      { ...recipients[0]!, boxSecretKey: reporter.box.secretKey },
      { ...recipients[1]!, boxSecretKey: counsellor.box.secretKey },
    ];
    for (const key of keys) {
      const opened = openEnvelope(sealed.envelope, key, { caseNumber: 'K7P49QXM' });
      expect(decodeContent(opened.content)).toMatchObject({
        text: 'Written after the key was wrapped.',
      });
    }
  });

  it('is refused for other recipients (another list, or another order)', () => {
    const forOne = wrapAhead(recipients.slice(0, 1));
    expect(() => sealEnvelope({ ...input, wrapped: forOne })).toThrow(MalformedError);
    const reversed = wrapAhead([...recipients].reverse());
    expect(() => sealEnvelope({ ...input, wrapped: reversed })).toThrow(MalformedError);
  });
});
