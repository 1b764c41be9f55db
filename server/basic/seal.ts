/**
 * Sealing on the server, for reporters without JavaScript: the same steps, in the same order and
 * the same formats, as the page's send-report.ts and send-reply.ts (receipt code, derived keys,
 * content, envelope, attachments as STREAM), for the same recipients (page-keys.ts,
 * pageParties). The plaintext the server was handed is zeroed as soon as it is sealed, where the
 * bytes are ours; strings (the text) cannot be zeroed in JavaScript and are dropped instead.
 */

import { createHash } from 'node:crypto';
import {
  AttachmentEncryptor,
  type AttachmentRef,
  attachmentCiphertextLength,
  type Consent,
  type Content,
  deriveReporterKeys,
  encodeContent,
  type Envelope,
  envelopeHash,
  GENESIS_HASH,
  generateCaseNumber,
  generateReceiptSecret,
  MAX_CONTENT_BYTES,
  newAttachmentKey,
  parseEnvelope,
  type RandomSource,
  type ReceiptCode,
  type ReporterKeys,
  sealEnvelope,
  toBase64,
  toHex,
  type VerifiedBundle,
} from '../../crypto/index.js';
import { protocolTime, recipientsFor } from '../../client/reporter/src/send.js';
import { protocolName } from '../../client/reporter/src/upload.js';
import { TooLargeError } from '../errors.js';

/** A file as the form carried it (the bytes are zeroed by sealFile). */
export interface PlainFile {
  readonly name: string;
  readonly type: string;
  readonly bytes: Uint8Array;
}

/** A file sealed as an attachment: the ciphertext to store and the reference its message carries. */
export interface SealedFile {
  readonly id: string;
  readonly length: number;
  readonly chunks: readonly Uint8Array[];
  readonly sha256: string;
  readonly ref: AttachmentRef;
}

/** Encrypts one file under a fresh key (PROTOCOL §8) and zeroes its plaintext. */
export function sealFile(file: PlainFile, random: RandomSource): SealedFile {
  const attachment = newAttachmentKey(file.bytes.length, random);
  const encryptor = new AttachmentEncryptor(attachment);
  const chunks = [...encryptor.push(file.bytes), ...encryptor.finish()];
  file.bytes.fill(0);
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  const id = toHex(random(16));
  return {
    id,
    length: attachmentCiphertextLength(attachment.size),
    chunks,
    sha256: hash.digest('hex'),
    ref: {
      name: protocolName(file.name),
      type: file.type.slice(0, 255),
      size: attachment.size,
      blob: id,
      key: attachment.key,
      prefix: attachment.prefix,
    },
  };
}

/** A new reporter: a case number not in use (`taken`), a fresh secret, and the keys of the code. */
export async function newReporter(
  random: RandomSource,
  taken: (caseNumber: string) => boolean | Promise<boolean>,
): Promise<{ code: ReceiptCode; keys: ReporterKeys }> {
  let caseNumber: string;
  do caseNumber = generateCaseNumber(random);
  while (await taken(caseNumber));
  const code = { caseNumber, secret: generateReceiptSecret(random) };
  return { code, keys: deriveReporterKeys(code) };
}

function encoded(content: Content): Uint8Array {
  const bytes = encodeContent(content);
  if (bytes.length > MAX_CONTENT_BYTES) throw new TooLargeError('this text is too long to send');
  return bytes;
}

/** What a reporter wrote in the report form. */
export interface BasicReport {
  readonly text: string;
  readonly consent: Consent;
  readonly addressAs: string;
  readonly language: string;
}

/** Seals message 0 of a new case, marked as sealed by the server (PROTOCOL §7.1). */
export function sealReport(
  report: BasicReport,
  code: ReceiptCode,
  keys: ReporterKeys,
  attachments: readonly AttachmentRef[],
  counsellors: readonly VerifiedBundle[],
  random: RandomSource,
): Envelope {
  const content = encoded({
    v: 1,
    type: 'report',
    time: protocolTime(),
    text: report.text,
    consent: report.consent,
    addressAs: report.addressAs,
    language: report.language,
    reporterBox: toBase64(keys.box.publicKey),
    attachments,
    sealedBy: 'server',
  });
  try {
    return sealEnvelope(
      {
        caseNumber: code.caseNumber,
        seq: 0,
        prev: GENESIS_HASH,
        author: keys.sign,
        content,
        recipients: recipientsFor(keys, counsellors),
      },
      random,
    ).envelope;
  } finally {
    content.fill(0);
  }
}

/** Seals a reply at the end of the stored conversation `stored`, as send-reply.ts does. */
export function sealReply(
  text: string,
  caseNumber: string,
  keys: ReporterKeys,
  stored: readonly unknown[],
  attachments: readonly AttachmentRef[],
  counsellors: readonly VerifiedBundle[],
  random: RandomSource,
): Envelope {
  const last = stored[stored.length - 1];
  let prev: Uint8Array = GENESIS_HASH;
  if (last !== undefined) {
    try {
      prev = envelopeHash(parseEnvelope(last));
    } catch {
      prev = new Uint8Array(32).fill(0xff); // an unhashable predecessor: the readers will see a fork
    }
  }
  const content = encoded({
    v: 1,
    type: 'message',
    time: protocolTime(),
    text,
    attachments,
    sealedBy: 'server',
  });
  try {
    return sealEnvelope(
      {
        caseNumber,
        seq: stored.length,
        prev,
        author: keys.sign,
        content,
        recipients: recipientsFor(keys, counsellors),
      },
      random,
    ).envelope;
  } finally {
    content.fill(0);
  }
}
