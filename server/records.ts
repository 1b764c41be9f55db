/**
 * What the server stores per case, and the summary it keeps in memory for
 * the inbox. Only ciphertext and coarse metadata: see docs/API.md, "What
 * the server stores".
 */

import type { CaseStatus, Envelope } from '../crypto/index.js';

/** Who the server authenticated when a message was posted. */
export type Poster = 'reporter' | 'counsellor';

export interface StoredMessage {
  readonly seq: number;
  readonly hour: number;
  readonly author: Poster;
  readonly envelope: Envelope;
}

export interface StoredNote {
  readonly seq: number;
  readonly hour: number;
  readonly envelope: Envelope;
}

export interface StoredUpload {
  readonly id: string;
  /** Ciphertext bytes announced (and checked) at creation. */
  readonly length: number;
  readonly hour: number;
  readonly complete: boolean;
  /** SHA-256 (hex) of the complete ciphertext, recorded when the upload completes, so a store check can find damage. */
  readonly sha256?: string;
}

export interface CaseRecord {
  readonly v: 1;
  readonly case: string;
  readonly createdHour: number;
  /** base64 of H("kluis/v1/auth-verifier", authKey) (PROTOCOL §2). */
  readonly verifier: string;
  readonly status: CaseStatus;
  readonly statusHour: number;
  readonly ackHour: number | null;
  readonly messages: readonly StoredMessage[];
  readonly notes: readonly StoredNote[];
  readonly uploads: readonly StoredUpload[];
  readonly forwardedTo: readonly string[];
}

export interface CaseSummary {
  /** Kept in memory so that reporter authentication costs the same for known and unknown cases. */
  readonly verifier: string;
  readonly createdHour: number;
  readonly reportHour: number | null;
  readonly status: CaseStatus;
  readonly statusHour: number;
  readonly ackHour: number | null;
  readonly messages: number;
  readonly notes: number;
  /** Wrapped keys over every message, and over every message and note: a forward or handover adds some. */
  readonly messageKeys: number;
  readonly keys: number;
  readonly lastHour: number | null;
  readonly lastAuthor: Poster | null;
  /** Hour of the reporter's latest message (the report included): what the counsellors are mailed about (notify.ts). */
  readonly lastReporterHour: number | null;
  readonly uploads: number;
  readonly bytes: number;
  /** Ciphertext bytes of the messages and notes (with `bytes`, what the case counts against the store quota). */
  readonly messageBytes: number;
  readonly incompleteUploads: readonly { readonly id: string; readonly hour: number }[];
  /** Every upload the case names, so retention can tell an orphan blob. */
  readonly uploadIds: readonly string[];
  readonly forwardedTo: readonly string[];
}

// Most cases have no uploads and no forwards: one shared empty list keeps 100,000 summaries small.
const NONE: readonly never[] = Object.freeze([]);
const orNone = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);

/** The in-memory summary of a case (kept by the store's index). */
export function summarize(record: CaseRecord): CaseSummary {
  const last = record.messages.at(-1);
  const messageKeys = record.messages.reduce((sum, m) => sum + m.envelope.keys.length, 0);
  return {
    verifier: record.verifier,
    createdHour: record.createdHour,
    reportHour: record.messages[0]?.hour ?? null,
    status: record.status,
    statusHour: record.statusHour,
    ackHour: record.ackHour,
    messages: record.messages.length,
    notes: record.notes.length,
    messageKeys,
    keys: record.notes.reduce((sum, note) => sum + note.envelope.keys.length, messageKeys),
    lastHour: last?.hour ?? null,
    lastAuthor: last?.author ?? null,
    lastReporterHour: lastReporterHour(record.messages),
    uploads: record.uploads.length,
    bytes: record.uploads.reduce((sum, upload) => sum + upload.length, 0),
    messageBytes: [...record.messages, ...record.notes].reduce(
      (sum, item) => sum + item.envelope.ct.length,
      0,
    ),
    incompleteUploads: orNone(
      record.uploads.filter((u) => !u.complete).map((u) => ({ id: u.id, hour: u.hour })),
    ),
    uploadIds: orNone(record.uploads.map((u) => u.id)),
    forwardedTo: orNone(record.forwardedTo),
  };
}

function lastReporterHour(messages: readonly StoredMessage[]): number | null {
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.author === 'reporter') return messages[i]!.hour;
  return null;
}

/** Whole hours since the Unix epoch: the only time the server stores. */
export function hourOf(milliseconds: number): number {
  return Math.floor(milliseconds / 3_600_000);
}
