/**
 * The reporter's side for the counsellor client's tests, done as the page
 * does it through crypto/ over real HTTP: a case ticket and its proof of
 * work, the verifier of a fresh receipt code, attachments uploaded as
 * streams, the report sealed for the reporter and every counsellor as
 * message 0; later, reading the conversation with the receipt code's keys
 * and answering with a message ticket.
 */

import {
  AttachmentEncryptor,
  type AttachmentRef,
  attachmentCiphertextLength,
  type Consent,
  type Content,
  type Conversation,
  decodeContent,
  deriveReporterKeys,
  encodeContent,
  formatReceiptCode,
  fromBase64,
  GENESIS_HASH,
  generateReceiptSecret,
  newAttachmentKey,
  openConversation,
  type Recipient,
  type ReporterKeys,
  sealEnvelope,
  solvePow,
  toBase64,
  verifyBundle,
} from '../../crypto/index.js';
import { createNativeVerifier } from '../../crypto-node/verify.js';

const verifier = createNativeVerifier();

/** A case as its reporter knows it: the receipt code and what it derives. */
export interface ReporterCase {
  readonly base: string;
  readonly caseNumber: string;
  readonly receiptCode: string;
  readonly keys: ReporterKeys;
}

async function call(
  base: string,
  path: string,
  init: RequestInit & { expect?: number } = {},
): Promise<unknown> {
  const response = await fetch(base + path, init);
  const text = await response.text();
  if (
    response.status !== (init.expect ?? 200) &&
    !(init.expect === undefined && response.status === 201)
  ) {
    throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`);
  }
  return text === '' ? undefined : JSON.parse(text);
}

const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const auth = (c: ReporterCase) => ({ 'kluis-auth': toBase64(c.keys.authKey) });

/** The counsellors (verified bundles) the page would seal for. */
export async function counsellorRecipients(
  base: string,
): Promise<(Recipient & { signPublicKey: Uint8Array })[]> {
  const info = (await call(base, '/api/v1/info')) as { counsellors: unknown[] };
  return info.counsellors.map((value) => {
    const b = verifyBundle(value, verifier);
    return {
      fingerprint: b.fingerprint,
      boxPublicKey: b.boxPublicKey,
      signPublicKey: b.signPublicKey,
    };
  });
}

async function solvedTicket(
  base: string,
  request: { kind: 'case' } | { kind: 'message' | 'upload'; case: string },
  solutions = 1,
) {
  const body = (await call(base, '/api/v1/tickets', post(request))) as {
    ticket: string;
    bits: number;
    case: string;
  };
  const nonces: number[] = [];
  while (nonces.length < solutions) {
    nonces.push(solvePow(fromBase64(body.ticket), body.bits, (nonces.at(-1) ?? -1) + 1)!);
  }
  // The ticket and its proof of work travel in headers (docs/API.md).
  return {
    work: { 'kluis-ticket': body.ticket, 'kluis-work': nonces.join(',') },
    caseNumber: body.case,
  };
}

/** Uploads one file as the page does; returns its reference for the message. */
export async function uploadAsReporter(
  c: ReporterCase,
  file: { name: string; type: string; bytes: Uint8Array },
): Promise<AttachmentRef> {
  const key = newAttachmentKey(file.bytes.length);
  const length = attachmentCiphertextLength(file.bytes.length);
  const { work } = await solvedTicket(
    c.base,
    { kind: 'upload', case: c.caseNumber },
    Math.ceil(length / (16 * 1024 * 1024)),
  );
  const { id } = (await call(
    c.base,
    `/api/v1/cases/${c.caseNumber}/uploads`,
    post({ length }, { ...auth(c), ...work }),
  )) as { id: string };
  const encryptor = new AttachmentEncryptor(key);
  const ciphertext = Buffer.concat([...encryptor.push(file.bytes), ...encryptor.finish()]);
  for (let offset = 0; offset < ciphertext.length; ) {
    const slice = ciphertext.subarray(offset, offset + 15 * 65552);
    const result = (await call(c.base, `/api/v1/cases/${c.caseNumber}/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'upload-offset': String(offset),
        ...auth(c),
      },
      body: slice,
    })) as { offset: number };
    offset = result.offset;
  }
  return {
    name: file.name,
    type: file.type,
    size: file.bytes.length,
    blob: id,
    key: key.key,
    prefix: key.prefix,
  };
}

export interface ReportInput {
  readonly text: string;
  readonly consent?: Consent;
  readonly addressAs?: string;
  readonly language?: 'nl' | 'en';
  readonly attachments?: readonly { name: string; type: string; bytes: Uint8Array }[];
}

/** Submits a report as the page does; returns what the reporter keeps. */
export async function submitReport(base: string, input: ReportInput): Promise<ReporterCase> {
  const counsellors = await counsellorRecipients(base);
  const { work, caseNumber } = await solvedTicket(base, { kind: 'case' });
  const secret = generateReceiptSecret();
  const keys = deriveReporterKeys({ caseNumber, secret });
  await call(base, '/api/v1/cases', {
    ...post({ verifier: toBase64(keys.verifier) }, work),
    expect: 201,
  });
  const reporterCase: ReporterCase = {
    base,
    caseNumber,
    receiptCode: formatReceiptCode({ caseNumber, secret }),
    keys,
  };
  const attachments: AttachmentRef[] = [];
  for (const file of input.attachments ?? [])
    attachments.push(await uploadAsReporter(reporterCase, file));
  const content: Content = {
    v: 1,
    type: 'report',
    time: `${new Date().toISOString().slice(0, 19)}Z`,
    text: input.text,
    consent: input.consent ?? 'ask',
    addressAs: input.addressAs ?? '',
    language: input.language ?? 'en',
    reporterBox: toBase64(keys.box.publicKey),
    attachments,
  };
  const sealed = sealEnvelope({
    caseNumber,
    seq: 0,
    prev: GENESIS_HASH,
    author: keys.sign,
    content: encodeContent(content),
    recipients: [
      { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
      ...counsellors,
    ],
  });
  await call(base, `/api/v1/cases/${caseNumber}/messages`, {
    ...post({ seq: 0, envelope: sealed.envelope }, auth(reporterCase)),
    expect: 201,
  });
  return reporterCase;
}

/** What the reporter sees of the conversation. */
export interface ReporterView {
  readonly conversation: Conversation;
  readonly contents: (Content | undefined)[];
  readonly status: string;
}

/** Reads the case with the receipt code's keys, as the page does. */
export async function readAsReporter(c: ReporterCase): Promise<ReporterView> {
  const counsellors = await counsellorRecipients(c.base);
  const view = (await call(c.base, `/api/v1/cases/${c.caseNumber}`, { headers: auth(c) })) as {
    status: string;
    messages: { envelope: unknown }[];
  };
  const conversation = openConversation(
    view.messages.map((m) => m.envelope),
    {
      fingerprint: c.keys.fingerprint,
      boxPublicKey: c.keys.box.publicKey,
      boxSecretKey: c.keys.box.secretKey,
    },
    {
      caseNumber: c.caseNumber,
      counsellorSignKeys: counsellors.map((r) => r.signPublicKey),
      reporterSignKey: c.keys.sign.publicKey,
      verifier,
    },
  );
  const contents = conversation.entries.map((e) =>
    e.ok ? decodeContent(e.opened.content) : undefined,
  );
  return { conversation, contents, status: view.status };
}

/** The reporter writes a message (message ticket and proof of work), e.g. to give consent. */
export async function sendAsReporter(
  c: ReporterCase,
  input: { text: string; consent?: Consent },
): Promise<number> {
  const { conversation } = await readAsReporter(c);
  const counsellors = await counsellorRecipients(c.base);
  const last = conversation.entries.at(-1)!;
  const prev = last.ok ? last.opened.hash : last.hash!;
  const seq = conversation.entries.length;
  const content: Content = {
    v: 1,
    type: 'message',
    time: `${new Date().toISOString().slice(0, 19)}Z`,
    text: input.text,
    attachments: [],
    ...(input.consent ? { consent: input.consent } : {}),
  };
  const sealed = sealEnvelope({
    caseNumber: c.caseNumber,
    seq,
    prev,
    author: c.keys.sign,
    content: encodeContent(content),
    recipients: [
      { fingerprint: c.keys.fingerprint, boxPublicKey: c.keys.box.publicKey },
      ...counsellors,
    ],
  });
  const { work } = await solvedTicket(c.base, { kind: 'message', case: c.caseNumber });
  await call(c.base, `/api/v1/cases/${c.caseNumber}/messages`, {
    ...post({ seq, envelope: sealed.envelope }, { ...auth(c), ...work }),
    expect: 201,
  });
  return seq;
}
