/**
 * Key substitution (issue: "the operator cannot read, swap keys or
 * trace"). Seen on an earlier version: an operator listed its own bundle,
 * a page sealed the report to it, the operator read it, then deleted its
 * wrapped key from the stored envelope, and the counsellor's client opened
 * the case as intact, before and after the deletion.
 *
 * Reproduced here against the real app: the report sealed to the operator
 * too (as a page that trusted the server's list did), read by the
 * operator, then served with and without the operator's wrapped key. Both
 * readers, the page's (client/reporter/src/conversation.ts) and the
 * counsellor client's (client/counsellor/lib/open-case.ts), must name the
 * operator's key as an unexpected recipient both times.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CaseDetail } from '../client/counsellor/lib/api.js';
import { createNativeUnwrapper } from '../client/counsellor/lib/native.js';
import { openCaseDetail } from '../client/counsellor/lib/open-case.js';
import { readConversation as readAsPage } from '../client/reporter/src/conversation.js';
import {
  decodeContent,
  deriveReporterKeys,
  displayFingerprint,
  type Envelope,
  encodeContent,
  exportBundle,
  fingerprintOf,
  GENESIS_HASH,
  generateIdentity,
  generateReceiptSecret,
  type Identity,
  openEnvelope,
  readConversation,
  readNotes,
  type Recipient,
  sealEnvelope,
  toBase64,
  verifyBundle,
} from '../crypto/index.js';
import { createNativeVerifier } from '../crypto-node/verify.js';
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
let operator: Identity;
beforeEach(async () => {
  h = await makeHarness();
  operator = generateIdentity('counsellor', 'Vertrouwenspersoon');
});
afterEach(async () => {
  await h.close();
});

const verifier = createNativeVerifier();
const trusted = () =>
  [h.counsellor, h.deputy].map((i) => ({
    fingerprint: fingerprintOf(i.sign.publicKey),
    signPublicKey: i.sign.publicKey,
  }));

/** The case as a counsellor's client receives it (GET …/counsellor/case-details). */
async function caseDetail(caseNumber: string): Promise<CaseDetail> {
  const path = '/api/v1/counsellor/case-details';
  const response = await h.fetch(path, signed(h.counsellor, 'GET', path, undefined, h.seconds()));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { cases: CaseDetail[] };
  const found = body.cases.find((c) => c.case === caseNumber);
  if (!found) throw new Error('case not listed');
  return found;
}

/** What the counsellor's client says of a case whose envelopes the server serves as `envelopes`. */
function counsellorProblems(detail: CaseDetail, envelopes: readonly Envelope[]): readonly string[] {
  const served: CaseDetail = {
    ...detail,
    messages: detail.messages.map((m, i) => ({ ...m, envelope: envelopes[i]! })),
  };
  const key = { ...recipientOf(h.counsellor), boxSecretKey: h.counsellor.box.secretKey };
  const view = openCaseDetail(served, {
    role: 'counsellor',
    fingerprint: key.fingerprint,
    unwrap: createNativeUnwrapper(key),
    verifier,
    counsellors: trusted(),
    escalation: [fingerprintOf(h.escalation.sign.publicKey)],
    names: [],
    memory: undefined,
  });
  expect(view.intact).toBe(view.problems.length === 0);
  return view.problems;
}

/** What the reporter's page says: the unexpected recipients of each message it shows. */
function pageFindings(reporter: ReporterCase, envelopes: readonly Envelope[]) {
  const bundles = (identities: Identity[]) => identities.map((i) => verifyBundle(exportBundle(i)));
  const data = readAsPage(
    reporter.caseNumber,
    reporter.keys,
    { counsellors: bundles([h.counsellor, h.deputy]), escalation: bundles([h.escalation]) },
    envelopes,
    'received',
  );
  return {
    intact: data.intact,
    unexpected: data.items.map((item) => (item.ok ? item.unexpectedRecipients : ['(not ok)'])),
  };
}

async function served(reporter: ReporterCase): Promise<Envelope[]> {
  const view = (await (
    await h.fetch(`/api/v1/cases/${reporter.caseNumber}`, { headers: reporter.auth })
  ).json()) as { messages: { envelope: Envelope }[] };
  return view.messages.map((m) => m.envelope);
}

describe('a key the operator slipped in is named by both readers', () => {
  it('reproduces the attack: sealed to the operator too, read by it, its wrapped key then deleted; both readers name it before and after', async () => {
    const operatorFp = fingerprintOf(operator.sign.publicKey);
    const reporter = await submitReport(
      h.fetch,
      [...h.counsellorRecipients, recipientOf(operator)],
      'Canary report text',
    );
    const [stored] = await served(reporter);
    // The operator can read what was sealed to it: the defence is that the page never does, and that readers see it.
    const read = openEnvelope(
      stored,
      { ...recipientOf(operator), boxSecretKey: operator.box.secretKey },
      { caseNumber: reporter.caseNumber },
    );
    expect(decodeContent(read.content)).toMatchObject({ text: 'Canary report text' });
    const withoutTrace: Envelope = {
      ...stored!,
      keys: stored!.keys.filter((k) => k.to !== operatorFp),
    };
    const detail = await caseDetail(reporter.caseNumber);

    for (const envelope of [stored!, withoutTrace]) {
      const problems = counsellorProblems(detail, [envelope]);
      expect(
        problems.some(
          (p) => p.includes('UNEXPECTED RECIPIENT') && p.includes(displayFingerprint(operatorFp)),
        ),
      ).toBe(true);
      expect(pageFindings(reporter, [envelope])).toEqual({
        intact: false,
        unexpected: [[operatorFp]],
      });
    }
  });

  it('a report sealed only for the counsellors reads as intact on both sides (changing its signed list is a vector: bad-signature)', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const [stored] = await served(reporter);
    expect(counsellorProblems(await caseDetail(reporter.caseNumber), [stored!])).toEqual([]);
    expect(pageFindings(reporter, [stored!])).toEqual({ intact: true, unexpected: [[]] });
  });

  it('a wrapped key added later for a stranger is named; a trusted key removed is named too', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const [stored] = await served(reporter);
    // An operator that knew a content key (it cannot, without a key of a reader) could add a stranger's copy.
    const stranger = recipientOf(operator);
    const added: Envelope = {
      ...stored!,
      keys: [
        ...stored!.keys,
        { to: stranger.fingerprint, epk: stored!.keys[0]!.epk, wk: stored!.keys[0]!.wk },
      ],
    };
    expect(pageFindings(reporter, [added]).unexpected).toEqual([[stranger.fingerprint]]);
    const deputyFp = fingerprintOf(h.deputy.sign.publicKey);
    const removed: Envelope = { ...stored!, keys: stored!.keys.filter((k) => k.to !== deputyFp) };
    const problems = counsellorProblems(await caseDetail(reporter.caseNumber), [removed]);
    expect(problems).toEqual([
      `message 0: the copy for ${displayFingerprint(deputyFp)} was removed from the envelope`,
    ]);
  });

  it('a case written before recipients were signed (payload version 1) still reads; an extra wrapped key is still named', async () => {
    const t = await ticket(h.fetch, { kind: 'case' });
    const caseNumber = t.caseNumber;
    const secret = generateReceiptSecret();
    const keys = deriveReporterKeys({ caseNumber, secret });
    const reporter: ReporterCase = {
      caseNumber,
      secret,
      keys,
      auth: { 'kluis-auth': toBase64(keys.authKey) },
      last: GENESIS_HASH,
      count: 0,
    };
    const report = encodeContent({
      v: 1,
      type: 'report',
      time: '2026-11-28T12:00:00Z',
      text: 'Old report',
      consent: 'ask',
      addressAs: '',
      language: 'nl',
      reporterBox: toBase64(keys.box.publicKey),
      attachments: [],
    });
    const operatorFp = fingerprintOf(operator.sign.publicKey);
    const v1 = sealEnvelope({
      caseNumber,
      seq: 0,
      prev: GENESIS_HASH,
      author: keys.sign,
      content: report,
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients, recipientOf(operator)],
      version: 1,
    }).envelope;
    const response = await h.fetch(
      '/api/v1/cases',
      json({ verifier: toBase64(keys.verifier), report: v1 }, workHeaders(t)),
    );
    expect(response.status).toBe(201);
    expect(pageFindings(reporter, [v1])).toEqual({ intact: false, unexpected: [[operatorFp]] });
    expect(
      counsellorProblems(await caseDetail(caseNumber), [v1]).some((p) =>
        p.includes('UNEXPECTED RECIPIENT'),
      ),
    ).toBe(true);
    // With the operator's copy deleted, a version 1 message cannot show it was ever there: SECURITY.md says so.
    const trimmed: Envelope = { ...v1, keys: v1.keys.filter((k) => k.to !== operatorFp) };
    expect(pageFindings(reporter, [trimmed])).toEqual({ intact: true, unexpected: [[]] });
  });
});

describe('forwarding: an escalation recipient is expected only after a forward with consent', () => {
  async function caseWithConsent(
    consent: 'yes' | 'ask',
  ): Promise<{ reporter: ReporterCase; envelopes: Envelope[] }> {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const escalation: Recipient = recipientOf(h.escalation);
    const envelopes = await served(reporter);
    const write = (
      seq: number,
      author: Identity | ReporterCase,
      content: Parameters<typeof encodeContent>[0],
      extra: Recipient[] = [],
    ) => {
      const sealed = sealEnvelope({
        caseNumber: reporter.caseNumber,
        seq,
        prev: reporter.last,
        author: 'keys' in author ? author.keys.sign : author.sign,
        content: encodeContent(content),
        recipients: [reporterRecipient(reporter), ...h.counsellorRecipients, ...extra],
      });
      reporter.last = sealed.hash;
      envelopes.push(sealed.envelope);
    };
    const time = '2026-11-28T12:00:00Z';
    write(1, reporter, { v: 1, type: 'message', time, text: '', attachments: [], consent });
    write(
      2,
      h.counsellor,
      {
        v: 1,
        type: 'forwarded',
        time,
        to: escalation.fingerprint,
        name: 'Secretary-general',
        text: '',
      },
      [escalation],
    );
    return { reporter, envelopes };
  }

  it('with consent: the forward record and the copies for the recipient are expected', async () => {
    const { reporter, envelopes } = await caseWithConsent('yes');
    expect(pageFindings(reporter, envelopes)).toEqual({ intact: true, unexpected: [[], [], []] });
  });

  it('without consent: the escalation recipient is an unexpected recipient wherever it can read', async () => {
    const { reporter, envelopes } = await caseWithConsent('ask');
    const fp = fingerprintOf(h.escalation.sign.publicKey);
    const found = pageFindings(reporter, envelopes);
    expect(found.intact).toBe(false);
    expect(found.unexpected).toEqual([[], [], [fp]]);
  });
});

describe('private notes', () => {
  it('a note sealed for the reporter as well names the reporter as an unexpected recipient', async () => {
    const reporter = await submitReport(h.fetch, h.counsellorRecipients);
    const note = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 0,
      prev: new Uint8Array(32),
      author: h.counsellor.sign,
      content: encodeContent({ v: 1, type: 'note', time: '2026-11-28T12:00:00Z', text: 'private' }),
      recipients: [...h.counsellorRecipients, reporterRecipient(reporter)],
    }).envelope;
    const read = readNotes(
      [note],
      { ...recipientOf(h.counsellor), boxSecretKey: h.counsellor.box.secretKey },
      {
        caseNumber: reporter.caseNumber,
        counsellors: trusted(),
        escalation: [],
      },
    );
    expect(read.intact).toBe(false);
    expect(read.notes[0]!.ok && read.notes[0]!.recipients.unexpected).toEqual([
      reporter.keys.fingerprint,
    ]);
    // The same note in the conversation is misplaced, whoever reads it.
    const conversation = readConversation(
      [note],
      { ...recipientOf(h.counsellor), boxSecretKey: h.counsellor.box.secretKey },
      {
        caseNumber: reporter.caseNumber,
        counsellors: trusted(),
        escalation: [],
      },
    );
    expect(conversation.messages[0]!.ok).toBe(false);
  });
});
