/**
 * The "sent without JavaScript" mark (PROTOCOL §7.1): `sealedBy: "server"` on a report or a
 * reporter's message, nothing else and nowhere else.
 */

import { describe, expect, it } from 'vitest';
import {
  deriveReporterKeys,
  envelopeHash,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  MisplacedError,
  readConversation,
  sealEnvelope,
  toBase64,
  type Content,
  decodeContent,
  encodeContent,
  MalformedError,
  parseContent,
  sealedByServer,
  utf8,
} from '../crypto/index.js';

const report = {
  v: 1,
  type: 'report',
  time: '2026-11-28T12:00:00Z',
  text: 'x',
  consent: 'ask',
  addressAs: '',
  language: 'fr',
  reporterBox: 'A'.repeat(43) + '=',
  attachments: [],
} as const;
const message = {
  v: 1,
  type: 'message',
  time: '2026-11-28T12:00:00Z',
  text: 'x',
  attachments: [],
} as const;

describe('sealedBy', () => {
  it('may not stand on a counsellor’s message (misplaced, reporter-only)', () => {
    const keys = deriveReporterKeys({ caseNumber: 'K7P49QXM', secret: new Uint8Array(10).fill(3) });
    const counsellor = generateIdentity('counsellor', 'C');
    const fingerprint = fingerprintOf(counsellor.sign.publicKey);
    const recipients = [
      { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
      { fingerprint, boxPublicKey: counsellor.box.publicKey },
    ];
    const first = sealEnvelope({
      caseNumber: 'K7P49QXM',
      seq: 0,
      prev: GENESIS_HASH,
      author: keys.sign,
      content: encodeContent({
        ...report,
        reporterBox: toBase64(keys.box.publicKey),
        sealedBy: 'server',
      } as Content),
      recipients,
    });
    const second = sealEnvelope({
      caseNumber: 'K7P49QXM',
      seq: 1,
      prev: envelopeHash(first.envelope),
      author: counsellor.sign,
      content: encodeContent({ ...message, sealedBy: 'server' } as Content),
      recipients,
    });
    const read = readConversation(
      [first.envelope, second.envelope],
      { ...recipients[0]!, boxSecretKey: keys.box.secretKey },
      {
        caseNumber: 'K7P49QXM',
        counsellors: [{ fingerprint, signPublicKey: counsellor.sign.publicKey }],
        escalation: [],
        reporterSignKey: keys.sign.publicKey,
      },
    );
    expect(read.messages[0]!.ok).toBe(true);
    const misplaced = read.messages[1]!;
    expect(misplaced.ok).toBe(false);
    expect(
      !misplaced.ok && misplaced.error instanceof MisplacedError && misplaced.error.reason,
    ).toBe('reporter-only');
  });

  it('marks a report or message the server sealed, and only those', () => {
    expect(sealedByServer(parseContent({ ...report, sealedBy: 'server' }))).toBe(true);
    expect(sealedByServer(parseContent({ ...message, sealedBy: 'server' }))).toBe(true);
    expect(sealedByServer(parseContent(report))).toBe(false);
    expect(sealedByServer(parseContent(message))).toBe(false);
  });

  it('is the JSON member "sealedBy":"server", at the end of what encodeContent writes', () => {
    const bytes = encodeContent({ ...message, sealedBy: 'server' } as Content);
    expect(new TextDecoder().decode(bytes)).toBe(
      '{"v":1,"type":"message","time":"2026-11-28T12:00:00Z","text":"x","attachments":[],"sealedBy":"server"}',
    );
    expect(
      sealedByServer(
        decodeContent(
          utf8(
            '{"v":1,"type":"message","time":"2026-11-28T12:00:00Z","text":"x","attachments":[],"sealedBy":"server"}',
          ),
        ),
      ),
    ).toBe(true);
  });

  it('refuses any other value, and the mark on any other content', () => {
    for (const value of ['browser', 'Server', '', true, null])
      expect(() => parseContent({ ...report, sealedBy: value })).toThrow(MalformedError);
    expect(() =>
      parseContent({
        v: 1,
        type: 'note',
        time: '2026-11-28T12:00:00Z',
        text: 'x',
        sealedBy: 'server',
      }),
    ).toThrow(MalformedError);
    expect(() =>
      parseContent({
        v: 1,
        type: 'status',
        time: '2026-11-28T12:00:00Z',
        status: 'closed',
        text: '',
        sealedBy: 'server',
      }),
    ).toThrow(MalformedError);
  });
});
