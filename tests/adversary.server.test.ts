/**
 * The server as adversary. The real app stores a real conversation; then a
 * hostile layer between the store and the reader alters, reorders, replays,
 * drops or injects messages, swaps attachments between cases, replays a
 * report into another case, or publishes another counsellor bundle. Each
 * time the reading client's checks (crypto/'s openConversation,
 * AttachmentDecryptor, verifyBundle) must name what happened.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AttachmentDecryptor,
  AttachmentEncryptor,
  concatBytes,
  type Conversation,
  encodeContent,
  exportBundle,
  fingerprintOf,
  fromBase64,
  generateIdentity,
  KluisError,
  newAttachmentKey,
  openConversation,
  type RecipientKey,
  sealEnvelope,
  toBase64,
  verifyBundle,
  type Envelope,
} from '../crypto/index.js';
import {
  json,
  recipientOf,
  reporterRecipient,
  type ReporterCase,
  signed,
  submitReport,
  ticket,
  workHeaders,
} from './helpers/api-client.js';
import { type Harness, makeHarness } from './helpers/app-harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

type StoredMessage = { seq: number; envelope: Envelope };

/** Writes a conversation of `count` messages: the report, then counsellor and reporter in turn. */
async function conversation(count: number, text = 'message'): Promise<ReporterCase> {
  const reporter = await submitReport(h.fetch, h.counsellorRecipients, `${text} 0`);
  for (let seq = 1; seq < count; seq++) {
    const byCounsellor = seq % 2 === 1;
    const content = encodeContent({
      v: 1,
      type: 'message',
      time: '2026-11-28T12:00:00Z',
      text: `${text} ${seq}`,
      attachments: [],
    });
    const { envelope, hash } = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq,
      prev: reporter.last,
      author: byCounsellor ? h.counsellor.sign : reporter.keys.sign,
      content,
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    });
    const path = `/api/v1/cases/${reporter.caseNumber}/messages`;
    let response: Response;
    if (byCounsellor)
      response = await h.fetch(
        path,
        signed(h.counsellor, 'POST', path, { seq, envelope }, h.seconds()),
      );
    else {
      const t = await ticket(h.fetch, { kind: 'message', case: reporter.caseNumber });
      response = await h.fetch(
        path,
        json({ seq, envelope }, { ...reporter.auth, ...workHeaders(t) }),
      );
    }
    expect(response.status).toBe(201);
    reporter.last = hash;
    reporter.count++;
  }
  return reporter;
}

async function storedMessages(reporter: ReporterCase): Promise<StoredMessage[]> {
  const view = (await (
    await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth })
  ).json()) as { messages: StoredMessage[] };
  return view.messages;
}

function readAs(
  who: 'counsellor' | 'reporter',
  reporter: ReporterCase,
  envelopes: readonly unknown[],
  caseNumber = reporter.caseNumber,
): Conversation {
  const key: RecipientKey =
    who === 'counsellor'
      ? { ...recipientOf(h.counsellor), boxSecretKey: h.counsellor.box.secretKey }
      : { ...reporterRecipient(reporter), boxSecretKey: reporter.keys.box.secretKey };
  return openConversation(envelopes, key, {
    caseNumber,
    counsellorSignKeys: [h.counsellor.sign.publicKey, h.deputy.sign.publicKey],
    ...(who === 'reporter' ? { reporterSignKey: reporter.keys.sign.publicKey } : {}),
  });
}

function errors(conversation: Conversation): Array<[number, string]> {
  return conversation.entries.flatMap((entry) =>
    entry.ok ? [] : [[entry.index, entry.error.code] as [number, string]],
  );
}

function flip(text: string, index: number): string {
  const bytes = fromBase64(text);
  bytes[index]! ^= 1;
  return toBase64(bytes);
}

describe('a hostile server is caught by the reader', () => {
  it('the untouched conversation reads as intact on both sides', async () => {
    const reporter = await conversation(5);
    const envelopes = (await storedMessages(reporter)).map((m) => m.envelope);
    expect(readAs('counsellor', reporter, envelopes).intact).toBe(true);
    expect(readAs('reporter', reporter, envelopes).intact).toBe(true);
  });

  it('an altered message: auth-failure at that message; the next one no longer follows it (fork); the rest still read', async () => {
    const reporter = await conversation(4);
    const envelopes = (await storedMessages(reporter)).map((m) => m.envelope);
    envelopes[2] = { ...envelopes[2]!, ct: flip(envelopes[2]!.ct, 100) };
    const read = readAs('counsellor', reporter, envelopes);
    expect(read.intact).toBe(false);
    expect(errors(read)).toEqual([[2, 'auth-failure']]);
    // Message 3 names the hash of the original message 2, not of what the server now shows.
    expect(read.problems).toEqual([{ index: 3, kind: 'fork' }]);
    expect(read.entries.filter((entry) => entry.ok).map((entry) => entry.index)).toEqual([0, 1, 3]);
  });

  it('reordered messages: gap, reorder and fork, with the positions', async () => {
    const reporter = await conversation(4);
    const e = (await storedMessages(reporter)).map((m) => m.envelope);
    const read = readAs('reporter', reporter, [e[0], e[2], e[1], e[3]]);
    expect(read.problems).toEqual([
      { index: 1, kind: 'gap' },
      { index: 2, kind: 'reorder' },
      { index: 3, kind: 'fork' },
    ]);
  });

  it('a replayed message: reorder', async () => {
    const reporter = await conversation(3);
    const e = (await storedMessages(reporter)).map((m) => m.envelope);
    expect(readAs('counsellor', reporter, [...e, e[1]]).problems).toEqual([
      { index: 3, kind: 'reorder' },
    ]);
  });

  it('a message dropped from the middle: gap', async () => {
    const reporter = await conversation(4);
    const e = (await storedMessages(reporter)).map((m) => m.envelope);
    expect(readAs('reporter', reporter, [e[0], e[1], e[3]]).problems).toEqual([
      { index: 2, kind: 'gap' },
    ]);
  });

  it('the latest message withheld: unseen until the other side writes, then a fork', async () => {
    const reporter = await conversation(2); // report, counsellor reply
    const e = (await storedMessages(reporter)).map((m) => m.envelope);
    // The server hides the counsellor's reply from the reporter: the reporter sees an intact, shorter case.
    expect(readAs('reporter', reporter, [e[0]]).intact).toBe(true);
    // The counsellor writes again, naming the reply it sent as its predecessor.
    const content = encodeContent({
      v: 1,
      type: 'message',
      time: '2026-11-28T12:00:00Z',
      text: 'Did you see my reply?',
      attachments: [],
    });
    const next = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 2,
      prev: reporter.last,
      author: h.counsellor.sign,
      content,
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    });
    // Shown without the withheld reply, the new message is out of place and names a predecessor the reporter never saw.
    expect(readAs('reporter', reporter, [e[0], next.envelope]).problems).toEqual([
      { index: 1, kind: 'gap' },
    ]);
    // If the server also renumbers, it cannot: seq is signed. Replaying it in place of the reply still shows a fork.
    const forked = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 1,
      prev: reporter.last,
      author: h.counsellor.sign,
      content,
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    });
    expect(readAs('reporter', reporter, [e[0], forked.envelope]).problems).toEqual([
      { index: 1, kind: 'fork' },
    ]);
  });

  it('a message injected by the server with its own key: bad-signature (author may not write here)', async () => {
    const reporter = await conversation(2);
    const e = (await storedMessages(reporter)).map((m) => m.envelope);
    const impostor = generateIdentity('counsellor', 'Impostor');
    const content = encodeContent({
      v: 1,
      type: 'message',
      time: '2026-11-28T12:00:00Z',
      text: 'Please send us your name.',
      attachments: [],
    });
    const injected = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 2,
      prev: reporter.last,
      author: impostor.sign,
      content,
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    });
    const read = readAs('reporter', reporter, [...e, injected.envelope]);
    expect(errors(read)).toEqual([[2, 'bad-signature']]);
  });

  it('a report replayed into another case: bad-signature (the case number is signed)', async () => {
    const first = await conversation(1, 'first');
    const second = await conversation(1, 'second');
    const firstReport = (await storedMessages(first))[0]!.envelope;
    const read = readAs('counsellor', second, [firstReport], second.caseNumber);
    expect(errors(read)).toEqual([[0, 'bad-signature']]);
  });

  it('attachments swapped between cases: auth-failure when decrypting', async () => {
    const files = [0, 1].map(() => {
      const data = crypto.getRandomValues(new Uint8Array(5000));
      const key = newAttachmentKey(data.length);
      const encryptor = new AttachmentEncryptor(key);
      return { key, ciphertext: concatBytes(...encryptor.push(data), ...encryptor.finish()) };
    });
    // The reader of case A holds the key of file A (from A's message); the server hands it file B.
    const decryptor = new AttachmentDecryptor(files[0]!.key);
    let code: string | undefined;
    try {
      decryptor.push(files[1]!.ciphertext);
      decryptor.finish();
    } catch (error) {
      if (error instanceof KluisError) code = error.code;
    }
    expect(code).toBe('auth-failure');
  });

  it('a replaced counsellor bundle: an altered one fails its signature; a substituted one is visible by fingerprint, and the real counsellor cannot read what was sealed to it', async () => {
    const info = (await (await h.fetch('/api/v1/info')).json()) as {
      counsellors: Array<Record<string, unknown>>;
    };
    const genuine = info.counsellors[0]!;
    const attacker = generateIdentity('counsellor', genuine.name as string);
    // Altered in place: the self-signature no longer holds.
    expect(() => verifyBundle({ ...genuine, box: exportBundle(attacker).box })).toThrowError(
      expect.objectContaining({ code: 'bad-signature' }),
    );
    // Substituted whole: valid, but its fingerprint is not the one the organisation publishes.
    const substituted = verifyBundle(exportBundle(attacker));
    expect(substituted.fingerprint).not.toBe(fingerprintOf(h.counsellor.sign.publicKey));
    // A reporter who did not compare seals to the attacker; the real counsellor sees a report not addressed to them.
    const reporter = await conversation(1);
    const sealedToAttacker = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 0,
      prev: new Uint8Array(32),
      author: reporter.keys.sign,
      content: encodeContent({
        v: 1,
        type: 'message',
        time: '2026-11-28T12:00:00Z',
        text: 'x',
        attachments: [],
      }),
      recipients: [
        reporterRecipient(reporter),
        { fingerprint: substituted.fingerprint, boxPublicKey: substituted.boxPublicKey },
      ],
    });
    expect(errors(readAs('counsellor', reporter, [sealedToAttacker.envelope]))).toEqual([
      [0, 'wrong-key'],
    ]);
  });
});
