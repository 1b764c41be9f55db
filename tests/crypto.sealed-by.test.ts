/**
 * The "sent without JavaScript" mark (PROTOCOL §7.1): `sealedBy: "server"` on a report or a
 * reporter's message, nothing else and nowhere else.
 */

import { describe, expect, it } from 'vitest';
import {
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
