/**
 * Pieces of the reporter page that need no browser: the chunk-wise
 * encryption that lets an upload resume anywhere (it must give exactly the
 * bytes of crypto's AttachmentEncryptor), file names, and safe download names.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AttachmentEncryptor, concatBytes, utf8 } from '../crypto/index.js';
import { safeFileName } from '../client/reporter/src/files.js';
import { FileChangedError } from '../client/reporter/src/problems.js';
import {
  ciphertextRange,
  newUploadJob,
  protocolName,
  uploadJob,
} from '../client/reporter/src/upload.js';

function bytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 255;
  return out;
}

/** Byte equality without vitest's slow deep comparison of large typed arrays. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}

function reference(job: ReturnType<typeof newUploadJob>, data: Uint8Array): Uint8Array {
  const encryptor = new AttachmentEncryptor(job.attachment);
  return concatBytes(...encryptor.push(data), ...encryptor.finish());
}

describe('resumable attachment encryption', () => {
  it.each([0, 1, 511, 512, 65_535, 65_536, 65_537, 200_000, 1_100_000])(
    'gives the bytes of AttachmentEncryptor for a %i-byte file',
    async (size) => {
      const data = bytes(size);
      const job = newUploadJob(new File([data], 'f.bin'));
      const expected = reference(job, data);
      expect(job.length).toBe(expected.length);
      expect(same(await ciphertextRange(job, 0, job.length), expected)).toBe(true);
    },
  );

  it('gives the same bytes for any range, so an upload can resume at any offset', async () => {
    const data = bytes(300_000);
    const job = newUploadJob(new File([data], 'f.bin'));
    const expected = reference(job, data);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: job.length - 1 }),
        fc.nat({ max: job.length - 1 }),
        async (a, b) => {
          const start = Math.min(a, b);
          const end = Math.max(a, b) + 1;
          expect(same(await ciphertextRange(job, start, end), expected.subarray(start, end))).toBe(
            true,
          );
        },
      ),
      { numRuns: 20 },
    );
  });
});

/** A File whose contents the test can change under it, as a file on disk changes under a File. */
function mutableFile(initial: Uint8Array<ArrayBuffer>): {
  file: File;
  contents: { bytes: Uint8Array<ArrayBuffer> };
} {
  const contents = { bytes: initial };
  const file = {
    name: 'f.bin',
    type: 'application/octet-stream',
    size: initial.length,
    slice: (start: number, end: number) => new Blob([contents.bytes.slice(start, end)]),
  } as unknown as File;
  return { file, contents };
}

/**
 * A lying server for one upload: it keeps every PATCH body by offset, refuses the PATCH after
 * `acceptFirst` of them (as a broken request would end), and later claims to hold nothing.
 */
function lyingServer(acceptFirst: number) {
  const received: { offset: number; bytes: Uint8Array }[] = [];
  let held = 0;
  let accepted = 0;
  let claim: number | undefined;
  const reply = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = async (url: string, init: RequestInit) => {
    // An upload is announced with a ticket and its work (difficulty 0 here), then created.
    if (init.method === 'POST' && url.endsWith('tickets'))
      return reply(201, {
        ticket: 'A'.repeat(64),
        bits: 0,
        case: 'K7P49QXM',
        expires: 4_000_000_000,
      });
    if (init.method === 'POST') return reply(201, { id: 'ab'.repeat(16), offset: 0 });
    if (init.method === 'GET') {
      const offset = claim ?? held;
      claim = undefined;
      return reply(200, {
        id: 'ab'.repeat(16),
        length: 2_000_000,
        offset,
        complete: false,
        hour: 493_417,
      });
    }
    const offset = Number((init.headers as Record<string, string>)['Upload-Offset']);
    const bytes = new Uint8Array(init.body as Uint8Array);
    received.push({ offset, bytes }); // refused or not, it went over the wire
    if (accepted >= acceptFirst)
      return reply(400, { error: { code: 'invalid-body', message: 'refused for the test' } });
    accepted++;
    held = offset + bytes.length;
    return reply(200, { offset: held, complete: false });
  };
  return {
    fetch,
    received,
    /** From now on claims to hold `offset` bytes and accepts `more` requests. */
    lie(offset: number, more = 0) {
      claim = offset;
      accepted -= more;
    },
  };
}

describe('resumed uploads', () => {
  afterEach(() => vi.unstubAllGlobals());
  const events = { onProgress: () => {}, onResume: () => {}, onWork: () => {} };

  it('never send other bytes under the same key and nonces when the file changed and the server asks for an earlier offset', async () => {
    const data = bytes(2_000_000); // three requests of 15 chunks
    const { file, contents } = mutableFile(data);
    const job = newUploadJob(file);
    const server = lyingServer(1);
    vi.stubGlobal('fetch', server.fetch);
    await expect(uploadJob('K7P49QXM', new Uint8Array(32), job, events)).rejects.toMatchObject({
      code: 'invalid-body',
    });
    // Pipelined (upload.ts PIPELINE): all three went before the first answer came back.
    expect(server.received.map((r) => r.offset)).toEqual([0, 983_280, 1_966_560]);

    // The file changes on disk; the server says it holds nothing, to have chunk 0 sealed again.
    const changed = data.slice();
    changed[10] = changed[10]! ^ 1;
    contents.bytes = changed;
    server.lie(0);
    await expect(uploadJob('K7P49QXM', new Uint8Array(32), job, events)).rejects.toBeInstanceOf(
      FileChangedError,
    );
    // Nothing at all was sent again, least of all other bytes at offset 0 (keystream over two plaintexts).
    expect(server.received.map((r) => r.offset)).toEqual([0, 983_280, 1_966_560]);
  });

  it('resume from an earlier offset when the file is unchanged (the same ciphertext again)', async () => {
    const data = bytes(2_000_000);
    const { file } = mutableFile(data);
    const job = newUploadJob(file);
    const server = lyingServer(1);
    vi.stubGlobal('fetch', server.fetch);
    await expect(uploadJob('K7P49QXM', new Uint8Array(32), job, events)).rejects.toMatchObject({
      code: 'invalid-body',
    });
    server.lie(0, 10);
    await uploadJob('K7P49QXM', new Uint8Array(32), job, events);
    expect(job.complete).toBe(true);
    // Chunk 0 onwards went again, byte for byte the same: nothing new under the same nonces.
    expect(server.received.map((r) => r.offset)).toEqual([
      0, 983_280, 1_966_560, 0, 983_280, 1_966_560,
    ]);
    for (let i = 0; i < 3; i++)
      expect(same(server.received[i]!.bytes, server.received[i + 3]!.bytes)).toBe(true);
    const sent = concatBytes(...server.received.slice(3).map((r) => r.bytes));
    expect(same(sent, reference(job, data))).toBe(true);
  });
});

describe('file names', () => {
  it('keeps names within 255 UTF-8 bytes, keeping the extension', () => {
    const long = `${'ë'.repeat(300)}.pdf`;
    const name = protocolName(long);
    expect(utf8(name).length).toBeLessThanOrEqual(255);
    expect(name.endsWith('.pdf')).toBe(true);
    expect(protocolName('  ')).toBe('file');
    expect(protocolName('a\u0000b.txt')).toBe('ab.txt');
  });

  it('offers decrypted files for saving without a path or a hidden name', () => {
    expect(safeFileName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(safeFileName('C:\\Users\\x.doc')).toBe('C__Users_x.doc');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('')).toBe('attachment');
  });
});
