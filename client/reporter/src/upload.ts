/**
 * Encrypting and uploading one attachment (PROTOCOL §8, API uploads).
 *
 * The file is read in slices (`file.slice(a, b).arrayBuffer()`), never
 * whole. Its plaintext stream is the file followed by zero bytes up to
 * `paddedLength(size)`, cut into 64 KiB chunks and sealed one by one with
 * `encryptChunk` (the same bytes `AttachmentEncryptor` makes). Because the
 * encryption is deterministic given key and prefix, a broken upload
 * resumes at whatever offset the server has, even in the middle of a
 * chunk: the page asks for the offset, re-encrypts from that chunk and
 * sends the rest. It never sends a chunk whose bytes differ from the first
 * time it was sealed (see `UploadJob.tags`).
 * @module
 */

import type { AttachmentKey } from '../../../crypto/index.js';
import {
  attachmentCiphertextLength,
  fromBase64,
  newAttachmentKey,
  paddedLength,
  STREAM_CHUNK_BYTES,
  STREAM_SEALED_CHUNK_BYTES,
  SECRETBOX_OVERHEAD,
  streamChunkCount,
  toBase64,
} from '../../../crypto/index.js';
import type { Ticket, UploadState, Work } from './api.js';
import { ApiError, appendUpload, createUpload, getTicket, getUpload } from './api.js';
import { FileChangedError, FileReadError, isTransient } from './problems.js';
import type { ChunkSealer } from './workers.js';
import { sealChunk, solveWorkMany } from './workers.js';
import { isTicketErrorCode } from '../../../api/contract.js';

/**
 * Sealed chunks per request. The API allows at most 1 MiB per PATCH; 15
 * sealed chunks (983,280 bytes) stay under it (16 would be 1,048,832).
 */
export const CHUNKS_PER_REQUEST = 15;
/**
 * Ciphertext bytes one proof-of-work solution pays for when an upload is
 * announced (the server's figure, docs/API.md); a server that asks for more
 * says how many solutions in its `insufficient-work` answer.
 */
export const UPLOAD_BYTES_PER_SOLUTION = 16 * 1024 * 1024;
/** Solutions announcing `length` ciphertext bytes costs (docs/API.md, "The price"). */
export function solutionsFor(length: number): number {
  return Math.max(1, Math.ceil(length / UPLOAD_BYTES_PER_SOLUTION));
}
/**
 * PATCH requests of one upload in flight at once. Over Tor a round trip
 * costs about a second: the next chunk leaves before the answer to the one
 * before comes back (the server lets a chunk that arrives early wait for
 * its turn, docs/API.md).
 */
export const PIPELINE = 3;
/** Most ciphertext the page holds sealed ahead of Send, over all files (about three requests). */
export const AHEAD_BYTES = 3 * CHUNKS_PER_REQUEST * STREAM_SEALED_CHUNK_BYTES;
let aheadHeld = 0;
/** Automatic resumptions in a row without progress before the page asks the reporter. */
export const MAX_RESUMES = 4;

/** One attachment on its way to the server; kept across retries so nothing is sent twice. */
export interface UploadJob {
  readonly file: File;
  readonly name: string;
  readonly type: string;
  readonly attachment: AttachmentKey;
  /** Ciphertext bytes the server will hold. */
  readonly length: number;
  id: string | undefined;
  offset: number;
  complete: boolean;
  /** True when the last request broke: ask the server for its offset before sending more. */
  stale: boolean;
  /**
   * The Poly1305 tag of every chunk sealed so far, by chunk index. A resumed upload seals
   * chunks again under the same key and nonces; if the file changed meanwhile (and the server
   * asks for an earlier offset than it holds), that would be two plaintexts under one
   * keystream. A chunk whose tag differs from its first sealing is never sent.
   */
  readonly tags: Map<number, string>;
  /** The upload ticket and its solutions, kept until the upload is announced (a retry reuses them). */
  work: { readonly ticket: Ticket; readonly nonces: readonly number[] } | undefined;
  /** Solutions the server asked for, when more than this page's own count. */
  solutions: number | undefined;
  /** The payment being made (one at a time: the page may start it ahead of Send). */
  paying: Promise<Work> | undefined;
  /** Where the payment's progress goes while a send waits for it. */
  onWork: ((fraction: number) => void) | undefined;
  /** The first requests' ciphertext, sealed while the reporter writes (kept in memory, never sent before Send). */
  readonly ahead: Map<number, { readonly end: number; readonly bytes: Promise<Uint8Array> }>;
}

/** Longest file name the protocol allows, in UTF-8 bytes. */
const MAX_NAME_BYTES = 255;

/** A file name the protocol accepts: non-empty, at most 255 UTF-8 bytes (shortened, keeping the extension). */
export function protocolName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose
  let clean = name.replace(/[\u0000-\u001f\u007f]/g, '').trim() || 'file';
  const encoder = new TextEncoder();
  if (encoder.encode(clean).length <= MAX_NAME_BYTES) return clean;
  const dot = clean.lastIndexOf('.');
  const extension = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
  const stem = Array.from(clean.slice(0, clean.length - extension.length));
  while (stem.length > 0 && encoder.encode(stem.join('') + extension).length > MAX_NAME_BYTES)
    stem.pop();
  clean = stem.join('') + extension;
  return clean || 'file';
}

/** A new job for a chosen file: a fresh key and prefix. */
export function newUploadJob(file: File): UploadJob {
  const attachment = newAttachmentKey(file.size);
  return {
    file,
    name: protocolName(file.name),
    type: file.type.slice(0, 255),
    attachment,
    length: attachmentCiphertextLength(file.size),
    id: undefined,
    offset: 0,
    complete: false,
    stale: false,
    tags: new Map(),
    work: undefined,
    solutions: undefined,
    paying: undefined,
    onWork: undefined,
    ahead: new Map(),
  };
}

/** Ciphertext bytes of an attachment of `size` bytes (what counts against the server's limits). */
export function ciphertextBytes(size: number): number {
  return attachmentCiphertextLength(size);
}

async function readSlice(job: UploadJob, start: number, end: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await job.file.slice(start, end).arrayBuffer());
  } catch {
    throw new FileReadError(job.name);
  }
}

/** The ciphertext bytes [start, end) of the job, sealing the chunks they fall in (exported for tests). */
export async function ciphertextRange(
  job: UploadJob,
  start: number,
  end: number,
  seal: ChunkSealer = sealChunk,
): Promise<Uint8Array> {
  const key = fromBase64(job.attachment.key, { expectedLength: 32 });
  const prefix = fromBase64(job.attachment.prefix);
  const size = job.attachment.size;
  const padded = paddedLength(size);
  const chunks = streamChunkCount(padded);
  const first = Math.floor(start / STREAM_SEALED_CHUNK_BYTES);
  const last = Math.floor((end - 1) / STREAM_SEALED_CHUNK_BYTES);
  const plainStart = first * STREAM_CHUNK_BYTES;
  const plainEnd = Math.min(padded, (last + 1) * STREAM_CHUNK_BYTES);
  const plain = new Uint8Array(plainEnd - plainStart); // zero beyond the file: the padding
  if (plainStart < size) {
    const bytes = await readSlice(job, plainStart, Math.min(size, plainEnd));
    if (bytes.length !== Math.min(size, plainEnd) - plainStart) throw new FileReadError(job.name);
    plain.set(bytes);
  }
  const sealing: Promise<Uint8Array>[] = [];
  for (let index = first; index <= last; index++) {
    const offset = (index - first) * STREAM_CHUNK_BYTES;
    const chunk = plain.subarray(offset, Math.min(plain.length, offset + STREAM_CHUNK_BYTES));
    sealing.push(seal(key, prefix, index, chunk, index === chunks - 1));
  }
  const out = new Uint8Array((last - first + 1) * STREAM_SEALED_CHUNK_BYTES);
  let written = 0;
  let index = first;
  for (const sealed of await Promise.all(sealing)) {
    checkTag(job, index++, sealed);
    out.set(sealed, written);
    written += sealed.length;
  }
  const base = first * STREAM_SEALED_CHUNK_BYTES;
  return out.subarray(start - base, end - base);
}

/** Records a sealed chunk's tag, or throws FileChangedError if the chunk was sealed before with other bytes. */
function checkTag(job: UploadJob, index: number, sealed: Uint8Array): void {
  const tag = toBase64(sealed.subarray(0, SECRETBOX_OVERHEAD));
  const before = job.tags.get(index);
  if (before === undefined) job.tags.set(index, tag);
  else if (before !== tag) throw new FileChangedError(job.name);
}

/** The end of the request that starts at `start`: at most CHUNKS_PER_REQUEST chunk boundaries further. */
function requestEnd(job: UploadJob, start: number): number {
  const first = Math.floor(start / STREAM_SEALED_CHUNK_BYTES);
  return Math.min(job.length, (first + CHUNKS_PER_REQUEST) * STREAM_SEALED_CHUNK_BYTES);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What an upload tells its screen. */
export interface UploadEvents {
  /** Bytes the server holds, of `length`. */
  readonly onProgress: (sent: number, length: number) => void;
  /** The connection broke; the page is about to ask for the offset and resume. */
  readonly onResume: () => void;
  /** Proof of work for announcing the upload, 0 to 1. */
  readonly onWork: (fraction: number) => void;
}

/** Tickets are good for an hour; one with less than two minutes left is not started on. */
const TICKET_MARGIN_S = 120;

/** Pays for announcing `job`: an upload ticket and one solution per UPLOAD_BYTES_PER_SOLUTION. */
function payFor(caseNumber: string, job: UploadJob, events: UploadEvents): Promise<Work> {
  job.onWork = events.onWork;
  job.paying ??= pay(caseNumber, job).finally(() => {
    job.paying = undefined;
  });
  return job.paying;
}

async function pay(caseNumber: string, job: UploadJob): Promise<Work> {
  if (!job.work || job.work.ticket.expires - TICKET_MARGIN_S <= Date.now() / 1000) {
    const ticket = await getTicket({ kind: 'upload', case: caseNumber });
    const count = Math.max(job.solutions ?? 0, solutionsFor(job.length));
    job.onWork?.(0);
    const nonces = await solveWorkMany(fromBase64(ticket.ticket), ticket.bits, count, (f) =>
      job.onWork?.(f),
    );
    job.work = { ticket, nonces };
  }
  return { ticket: job.work.ticket.ticket, nonces: job.work.nonces };
}

/**
 * Pays for announcing `job` ahead of Send (a reply's file, while the
 * reporter writes): a ticket request, nothing of the file. A failure is
 * left for the send to meet again.
 */
export function prepay(caseNumber: string, job: UploadJob): void {
  if (job.id !== undefined) return;
  job.paying ??= pay(caseNumber, job).finally(() => {
    job.paying = undefined;
  });
  job.paying.catch(() => {});
}

/**
 * Seals the first requests of `job` (up to PIPELINE, within AHEAD_BYTES
 * over all files) while the reporter writes, on the workers, so the first
 * PATCH leaves as soon as the upload exists: without a JIT, sealing a
 * request takes seconds. They stay in memory; nothing is sent before Send.
 */
export function sealAhead(job: UploadJob): void {
  if (job.ahead.size > 0 || job.id !== undefined) return;
  const sealing: Promise<Uint8Array>[] = [];
  for (let start = 0, n = 0; start < job.length && n < PIPELINE; n++) {
    const end = requestEnd(job, start);
    if (aheadHeld + (end - start) > AHEAD_BYTES) break;
    aheadHeld += end - start;
    const bytes = ciphertextRange(job, start, end);
    bytes.catch(() => {}); // met (or sealed again) when it is sent
    sealing.push(bytes);
    job.ahead.set(start, { end, bytes });
    start = end;
  }
  // A User Timing mark (page-local), as in prepaid.ts: `npm run bench -- tor` waits for it.
  Promise.all(sealing).then(
    () => performance.mark?.('kluis:sealed'),
    () => {},
  );
}

/** Forgets what `job` sealed ahead (sent, or the file was removed). */
export function dropAhead(job: UploadJob): void {
  for (const [start, { end }] of job.ahead) aheadHeld -= end - start;
  job.ahead.clear();
}

/** The ciphertext [start, end): sealed ahead if it was, else now. */
function requestBytes(job: UploadJob, start: number, end: number): Promise<Uint8Array> {
  const ahead = job.ahead.get(start);
  if (ahead) {
    job.ahead.delete(start);
    aheadHeld -= ahead.end - start;
    if (ahead.end === end) return ahead.bytes.catch(() => ciphertextRange(job, start, end));
  }
  return ciphertextRange(job, start, end);
}

/**
 * Sends one job until the server holds all of it. Encrypts the next
 * request while the current one travels. Resumes by itself after a lost
 * connection (up to MAX_RESUMES times in a row without progress), then
 * throws; calling it again resumes where the server stands.
 */
export async function uploadJob(
  caseNumber: string,
  authKey: Uint8Array,
  job: UploadJob,
  events: UploadEvents,
): Promise<void> {
  let failures = 0;
  for (;;) {
    try {
      if (job.id === undefined) {
        const work = await payFor(caseNumber, job, events);
        let created: Awaited<ReturnType<typeof createUpload>>;
        try {
          created = await createUpload(caseNumber, authKey, job.length, work);
        } catch (error) {
          if (
            error instanceof ApiError &&
            isTicketErrorCode(error.code) &&
            failures < MAX_RESUMES
          ) {
            // A spent or stale ticket (an answer lost on the way), or a server that asks more: pay again.
            const asked = error.body.solutions;
            if (
              typeof asked === 'number' &&
              Number.isSafeInteger(asked) &&
              asked > 0 &&
              asked <= 4096
            )
              job.solutions = asked;
            job.work = undefined;
            failures++;
            continue;
          }
          throw error;
        }
        job.work = undefined;
        job.id = created.id;
        job.offset = created.offset;
        job.stale = false;
      }
      if (job.stale) {
        const state = await getUpload(caseNumber, authKey, job.id);
        job.offset = state.offset;
        job.complete = state.complete || state.offset === job.length;
        job.stale = false;
      }
      events.onProgress(job.offset, job.length);
      if (job.complete) return;
      await pump(caseNumber, authKey, job, events, () => {
        failures = 0;
      });
      return;
    } catch (error) {
      if (
        error instanceof ApiError &&
        error.status === 404 &&
        job.id !== undefined &&
        failures < MAX_RESUMES
      ) {
        // The server no longer has this upload (an unfinished upload is removed after a while): start it again.
        failures++;
        job.id = undefined;
        job.offset = 0;
        job.stale = false;
        continue;
      }
      const mismatch = error instanceof ApiError && error.code === 'offset-mismatch';
      if (!(isTransient(error) || mismatch) || failures >= MAX_RESUMES) {
        if (job.id !== undefined) job.stale = true;
        throw error;
      }
      failures++;
      if (job.id !== undefined) job.stale = true;
      events.onResume();
      if (!mismatch) await delay(500 * 2 ** (failures - 1));
    }
  }
}

async function pump(
  caseNumber: string,
  authKey: Uint8Array,
  job: UploadJob,
  events: UploadEvents,
  onAdvance: () => void,
): Promise<void> {
  const id = job.id!;
  const inFlight: { start: number; end: number; answer: Promise<UploadState> }[] = [];
  let next = job.offset;
  try {
    for (;;) {
      // Keep PIPELINE requests on the way; each is sealed while the ones before it travel.
      while (inFlight.length < PIPELINE && next < job.length) {
        const start = next;
        const end = requestEnd(job, start);
        const bytes = await requestBytes(job, start, end);
        const answer = appendUpload(caseNumber, authKey, id, start, bytes);
        answer.catch(() => {}); // met where it is awaited, or dropped after an earlier failure
        inFlight.push({ start, end, answer });
        next = end;
      }
      const head = inFlight.shift();
      if (!head) return;
      const state = await head.answer;
      if (state.offset <= head.start || state.offset > job.length)
        throw new ApiError(0, 'bad-response:offset');
      job.offset = Math.max(job.offset, state.offset);
      job.complete = state.complete || job.offset === job.length;
      onAdvance();
      events.onProgress(job.offset, job.length);
      if (job.complete) {
        dropAhead(job);
        return;
      }
      if (state.offset !== head.end) {
        // The server holds other bytes than this page counted on: let the rest settle, go on from its offset.
        await Promise.allSettled(inFlight.map((r) => r.answer));
        inFlight.length = 0;
        next = job.offset;
      }
    }
  } finally {
    if (inFlight.length > 0) job.stale = true;
  }
}
