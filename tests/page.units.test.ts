/**
 * Pieces of the reporter page that need no browser: the chunk-wise
 * encryption that lets an upload resume anywhere (it must give exactly the
 * bytes of crypto's AttachmentEncryptor), file names, and safe download names.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttachmentEncryptor, concatBytes, utf8 } from '../crypto/index.js';
import { safeFileName } from '../client/reporter/src/files.js';
import { ciphertextRange, newUploadJob, protocolName } from '../client/reporter/src/upload.js';

function bytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 255;
  return out;
}

/** Byte equality without vitest's slow deep comparison of large typed arrays. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
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
      fc.asyncProperty(fc.nat({ max: job.length - 1 }), fc.nat({ max: job.length - 1 }), async (a, b) => {
        const start = Math.min(a, b);
        const end = Math.max(a, b) + 1;
        expect(same(await ciphertextRange(job, start, end), expected.subarray(start, end))).toBe(true);
      }),
      { numRuns: 20 },
    );
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
