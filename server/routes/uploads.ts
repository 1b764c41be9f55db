/**
 * Resumable attachment uploads (docs/API.md, "Uploads"): announce a
 * ciphertext of a given length, append it at offsets, ask where it stands
 * after a broken connection, and read it back once complete.
 */

import { createHash } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { isValidAttachmentLength, toHex } from '../../crypto/index.js';
import { exactObject, expectContentType, int, parseJson, readBody } from '../body.js';
import {
  anyCaller,
  callerBeforeBody,
  caseParam,
  checkForwarded,
  currentHour,
  idParam,
  refuseEscalation,
  type Deps,
} from '../deps.js';
import {
  InvalidBodyError,
  InvalidLengthError,
  InvalidTicketError,
  NotFoundError,
  OffsetMismatchError,
  TooLargeError,
} from '../errors.js';
import { ChunkOrder } from '../chunk-order.js';
import { proofFromHeaders, solutionsFor } from '../proof.js';
import type { StoredUpload } from '../records.js';
import {
  BlobExistsError,
  BlobNotFoundError,
  OffsetMismatchError as StoreOffsetMismatch,
  RecordNotFoundError,
} from '../store/index.js';
import { loadCase } from './cases.js';
import type {
  UploadAnswer,
  UploadAppendedAnswer,
  UploadCreatedAnswer,
} from '../../api/contract.js';

/** Most bytes in one PATCH: 16 sealed chunks of 65,552 bytes. */
export const CHUNK_BODY_LIMIT = 16 * (64 * 1024 + 16);
/** Most uploads in one case. */
export const MAX_UPLOADS = 200;

function findUpload(uploads: readonly StoredUpload[], id: string): StoredUpload {
  const upload = uploads.find((u) => u.id === id);
  if (!upload) throw new NotFoundError('no such upload in this case');
  return upload;
}

/** Appends at `offset`; a wrong offset becomes a 409 that tells the client where to resume. */
async function append(deps: Deps, id: string, offset: number, bytes: Uint8Array): Promise<number> {
  try {
    return await deps.store.blobs.append(id, offset, bytes);
  } catch (error) {
    if (error instanceof StoreOffsetMismatch)
      throw new OffsetMismatchError(`the upload stands at ${error.currentSize}`, {
        offset: error.currentSize,
      });
    throw error;
  }
}

export function uploadRoutes(deps: Deps): Hono {
  const app = new Hono();
  // A pipelined chunk that arrives before the one before it waits for its turn (chunk-order.ts).
  const order = new ChunkOrder();

  app.post('/cases/:case/uploads', async (c) => {
    const caseNumber = caseParam(c);
    expectContentType(c.req.raw, 'application/json');
    const authenticate = await callerBeforeBody(c, deps, caseNumber);
    // A reporter pays for the bytes announced: one solution per UPLOAD_BYTES_PER_SOLUTION (proof.ts).
    const reporter = c.req.header('kluis-auth') !== undefined;
    const proof = reporter
      ? await proofFromHeaders(deps, c.req.raw.headers, 'upload', caseNumber)
      : undefined;
    if (reporter && !proof)
      throw new InvalidTicketError(
        'an upload needs an upload ticket (Kluis-Ticket) and its proof of work (Kluis-Work)',
      );
    try {
      const raw = await readBody(c.req.raw, 1024);
      refuseEscalation(await authenticate(raw));
      const body = exactObject(parseJson(raw), { length: int(1, Number.MAX_SAFE_INTEGER) });
      const length = body.length as number;
      if (!isValidAttachmentLength(length))
        throw new InvalidLengthError('no attachment has this ciphertext length');
      if (length > deps.settings.maxFileBytes)
        throw new TooLargeError(
          `a file may be at most ${deps.settings.maxFileBytes} bytes encrypted`,
        );
      proof?.require(solutionsFor(length));
      // The announced length counts against the quota from now on, and must fit on the disk above its floor.
      if (reporter) await deps.quota.check(length, length);
      const id = toHex(deps.random(16));
      const hour = currentHour(deps);
      try {
        // The record names the upload before the blob exists, so a blob without a record entry is
        // always an orphan that retention may delete.
        await deps.store.records.update(caseNumber, (record) => {
          if (record.uploads.length >= MAX_UPLOADS)
            throw new TooLargeError(`a case may have at most ${MAX_UPLOADS} uploads`);
          const total = record.uploads.reduce((sum, u) => sum + u.length, 0);
          if (total + length > deps.settings.maxCaseBytes)
            throw new TooLargeError(
              `a case may hold at most ${deps.settings.maxCaseBytes} bytes of attachments`,
            );
          return { ...record, uploads: [...record.uploads, { id, length, hour, complete: false }] };
        });
      } catch (error) {
        if (error instanceof RecordNotFoundError) throw new NotFoundError('no such case');
        throw error;
      }
      deps.quota.wrote(length, 0);
      await deps.store.blobs.create(id);
      return c.json({ id, offset: 0 } satisfies UploadCreatedAnswer, 201);
    } catch (error) {
      await proof?.refund();
      throw error;
    }
  });

  app.patch('/cases/:case/uploads/:id', async (c) => {
    const caseNumber = caseParam(c);
    const id = idParam(c);
    expectContentType(c.req.raw, 'application/octet-stream');
    const offsetHeader = c.req.header('upload-offset') ?? '';
    if (!/^(0|[1-9]\d{0,15})$/.test(offsetHeader))
      throw new InvalidBodyError('Upload-Offset must be a whole number');
    const offset = Number(offsetHeader);
    const authenticate = await callerBeforeBody(c, deps, caseNumber);
    // The bytes were counted against the quota when the upload was announced; the disk floor is checked now.
    if (c.req.header('kluis-auth') !== undefined) await deps.quota.check(0, CHUNK_BODY_LIMIT);
    const bytes = await readBody(c.req.raw, CHUNK_BODY_LIMIT);
    refuseEscalation(await authenticate(bytes));
    if (bytes.length === 0) throw new InvalidBodyError('empty chunk');
    const record = await loadCase(deps, caseNumber);
    const upload = findUpload(record.uploads, id);
    if (upload.complete)
      throw new OffsetMismatchError('this upload is complete', { offset: upload.length });
    if (offset + bytes.length > upload.length)
      throw new TooLargeError('these bytes go past the announced length');
    if (offset > 0) await order.turn(id, offset, () => deps.store.blobs.size(id));
    let size: number;
    try {
      size = await append(deps, id, offset, bytes);
    } catch (error) {
      if (!(error instanceof BlobNotFoundError)) throw error;
      // The record named the upload but the blob was never made (a crash between the two): make it now.
      await deps.store.blobs.create(id).catch((e: unknown) => {
        if (!(e instanceof BlobExistsError)) throw e;
      });
      size = await append(deps, id, offset, bytes);
    }
    deps.quota.wrote(0, bytes.length);
    order.reached(id, size);
    const complete = size === upload.length;
    if (complete) {
      // The hash is over the bytes as stored (read back), so a later store check can tell damage on disk.
      const hash = createHash('sha256');
      for await (const piece of deps.store.blobs.read(id)) hash.update(piece);
      const sha256 = hash.digest('hex');
      await deps.store.records.update(caseNumber, (current) => ({
        ...current,
        uploads: current.uploads.map((u) => (u.id === id ? { ...u, complete: true, sha256 } : u)),
      }));
    }
    return c.json({ offset: size, complete } satisfies UploadAppendedAnswer);
  });

  /** The upload a GET names, after checking who may read its case. */
  const readableUpload = async (c: Context): Promise<StoredUpload> => {
    const caseNumber = caseParam(c);
    const caller = await anyCaller(c, deps, caseNumber, new Uint8Array(0));
    const record = await loadCase(deps, caseNumber);
    checkForwarded(caller, record.forwardedTo);
    return findUpload(record.uploads, idParam(c));
  };

  app.get('/cases/:case/uploads/:id', async (c) => {
    const upload = await readableUpload(c);
    const id = upload.id;
    const offset = upload.complete ? upload.length : ((await deps.store.blobs.size(id)) ?? 0);
    return c.json({ ...upload, offset } satisfies UploadAnswer);
  });

  app.get('/cases/:case/blobs/:id', async (c) => {
    const upload = await readableUpload(c);
    const id = upload.id;
    if (!upload.complete) throw new NotFoundError('this upload is not complete');
    const chunks = deps.store.blobs.read(id)[Symbol.asyncIterator]();
    // Read the first piece before answering, so a missing blob is a 404 rather than a broken stream.
    let pending: IteratorResult<Uint8Array> | undefined;
    try {
      pending = await chunks.next();
    } catch (error) {
      if (error instanceof BlobNotFoundError)
        throw new NotFoundError('the upload’s bytes are missing');
      throw error;
    }
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = pending ?? (await chunks.next());
        pending = undefined;
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await chunks.return?.();
      },
    });
    return new Response(stream, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(upload.length),
      },
    });
  });

  return app;
}
