/**
 * Files leaving the page towards the reporter's own disk: decrypted
 * attachments and the receipt code as a text file. Both are Blob
 * downloads made in the page: no request leaves it for them (the
 * attachment's ciphertext comes from this page's own server).
 * @module
 */

import type { AttachmentRef } from '../../../crypto/index.js';
import { AttachmentDecryptor } from '../../../crypto/index.js';
import { ApiError, getBlob, NetworkError } from './api.js';
import type { Session } from './conversation.js';
import { yieldToBrowser } from './work.js';

/** A file name that is safe to offer for saving: no path, no control characters, not hidden. */
export function safeFileName(name: string): string {
  const clean = name
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return clean || 'attachment';
}

/** Offers `blob` for saving under `name`, then forgets the object URL. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = safeFileName(name);
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Fetches an attachment's ciphertext and decrypts it as it arrives; throws on any tampering. */
export async function fetchAttachment(session: Session, ref: AttachmentRef): Promise<Blob> {
  const response = await getBlob(session.caseNumber, session.keys.authKey, ref.blob);
  const decryptor = new AttachmentDecryptor({ key: ref.key, prefix: ref.prefix, size: ref.size });
  const parts: Uint8Array<ArrayBuffer>[] = [];
  const keep = (chunks: Uint8Array[]) => {
    for (const chunk of chunks) parts.push(chunk.slice());
  };
  if (!response.body) throw new ApiError(0, 'bad-response:body');
  const reader = response.body.getReader();
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch {
      throw new NetworkError();
    }
    if (result.done) break;
    keep(decryptor.push(result.value));
    await yieldToBrowser();
  }
  keep(decryptor.finish());
  return new Blob(parts, { type: 'application/octet-stream' });
}
