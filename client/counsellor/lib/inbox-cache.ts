/**
 * The inbox cache: what the inbox verified of each case, kept on disk
 * encrypted under a key derived from the counsellor's own secret key, so
 * that a refresh fetches and opens only the cases whose listing row changed
 * (docs/API.md, `GET /counsellor/cases`). Beside the state file
 * (`<dir>/state/<fingerprint>-<server hash>.inbox`, mode 0600).
 *
 * What it holds is decrypted content (each case's words for the local
 * search, the name the reporter gave, facts), so it is never written in the
 * clear: ChaCha20-Poly1305 (node:crypto) with a random nonce per write and
 * the file's own path tag as associated data; a key derived with
 * `labelledHash("kluis/v1/inbox-cache", …)` from the X25519 secret key,
 * which exists only while the key file is unlocked. A file that does not
 * open (another key, damage, an older format) is ignored and rewritten: the
 * cache only saves work, it is never the authority. Only cases that
 * verified are kept; rollback detection stays with the state file (its
 * count and last hash per case), and a case whose row changed is opened in
 * full against it.
 * @module
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { labelledHash } from '../../../crypto/index.js';
import type { CaseListing } from './api.js';
import { LocalFileError } from './errors.js';
import type { CaseFacts } from './facts.js';

/** What the inbox keeps of a case it verified, besides its listing row. */
export interface CachedCase {
  /** The listing row the case was opened at: any change and it is opened again. */
  readonly listing: CaseListing;
  readonly messages: number;
  /** Indexes of the messages this counsellor wrote (not unread for them). */
  readonly mine: readonly number[];
  readonly consent?: string;
  readonly addressAs?: string;
  /** Hour of the signed acknowledgement as opened, if any. */
  readonly viewAckHour: number | null;
  readonly feedbackGiven: boolean;
  readonly facts: CaseFacts;
  readonly searchText: string;
}

interface CacheFile {
  readonly v: 1;
  readonly cases: Record<string, CachedCase>;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAGIC = Buffer.from('KLUISIC1');

/** The encrypted inbox cache of one key on one server. */
export class InboxCache {
  readonly path: string;
  readonly #key: Buffer;
  readonly #aad: Buffer;
  #cases: Map<string, CachedCase>;
  #dirty = false;

  private constructor(path: string, key: Buffer, cases: Map<string, CachedCase>) {
    this.path = path;
    this.#key = key;
    this.#aad = Buffer.from(path);
    this.#cases = cases;
  }

  /** Where the cache lives, beside the state file `statePath`. */
  static pathFor(statePath: string): string {
    return statePath.replace(/\.json$/, '.inbox');
  }

  /** Loads the cache (empty if there is none, or it does not open with this key). */
  static async load(statePath: string, boxSecretKey: Uint8Array): Promise<InboxCache> {
    const path = InboxCache.pathFor(statePath);
    const key = Buffer.from(labelledHash('kluis/v1/inbox-cache', 32, boxSecretKey));
    const cache = new InboxCache(path, key, new Map());
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return cache;
      throw new LocalFileError(`cannot read ${path}: ${(error as Error).message}`);
    }
    const cases = cache.#open(bytes);
    if (cases) cache.#cases = cases;
    else cache.#dirty = true; // rewritten at the next save
    return cache;
  }

  #open(bytes: Buffer): Map<string, CachedCase> | undefined {
    if (bytes.length < MAGIC.length + NONCE_BYTES + TAG_BYTES) return undefined;
    if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const nonce = bytes.subarray(MAGIC.length, MAGIC.length + NONCE_BYTES);
    const body = bytes.subarray(MAGIC.length + NONCE_BYTES, bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('chacha20-poly1305', this.#key, nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(this.#aad, { plaintextLength: body.length });
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      const file = JSON.parse(plain.toString('utf8')) as CacheFile;
      if (file?.v !== 1 || typeof file.cases !== 'object' || file.cases === null) return undefined;
      return new Map(Object.entries(file.cases));
    } catch {
      return undefined;
    }
  }

  /** The cached case if its listing row is exactly `row`, else undefined. */
  fresh(row: CaseListing): CachedCase | undefined {
    const cached = this.#cases.get(row.case);
    return cached && sameRow(cached.listing, row) ? cached : undefined;
  }

  /** Remembers a case that verified (save() writes it). */
  put(entry: CachedCase): void {
    this.#cases.set(entry.listing.case, entry);
    this.#dirty = true;
  }

  /** Forgets a case (it changed and no longer verifies, or is gone). */
  drop(caseNumber: string): void {
    if (this.#cases.delete(caseNumber)) this.#dirty = true;
  }

  /** Keeps only the listed cases. */
  keepOnly(listed: ReadonlySet<string>): void {
    for (const caseNumber of [...this.#cases.keys()])
      if (!listed.has(caseNumber)) this.drop(caseNumber);
  }

  /** Overwrites the derived key in memory (the app's lock): this cache cannot be used again. */
  forget(): void {
    this.#key.fill(0);
    this.#cases.clear();
  }

  get size(): number {
    return this.#cases.size;
  }

  /** Writes the cache if it changed: encrypted, a new file fsynced, then renamed over the old one. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('chacha20-poly1305', this.#key, nonce, {
      authTagLength: TAG_BYTES,
    });
    const plain = Buffer.from(
      JSON.stringify({ v: 1, cases: Object.fromEntries(this.#cases) } satisfies CacheFile),
    );
    cipher.setAAD(this.#aad, { plaintextLength: plain.length });
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    const bytes = Buffer.concat([MAGIC, nonce, body, cipher.getAuthTag()]);
    const dir = join(this.path, '..');
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
      this.#dirty = false;
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw new LocalFileError(`cannot write ${this.path}: ${(error as Error).message}`);
    }
  }
}

/** Whether two listing rows say the same (every field; forwardedTo in order). */
function sameRow(a: CaseListing, b: CaseListing): boolean {
  return (
    a.case === b.case &&
    a.createdHour === b.createdHour &&
    a.reportHour === b.reportHour &&
    a.status === b.status &&
    a.statusHour === b.statusHour &&
    a.ackHour === b.ackHour &&
    a.messages === b.messages &&
    a.notes === b.notes &&
    a.keys === b.keys &&
    a.lastHour === b.lastHour &&
    a.lastAuthor === b.lastAuthor &&
    a.uploads === b.uploads &&
    a.bytes === b.bytes &&
    a.forwardedTo.length === b.forwardedTo.length &&
    a.forwardedTo.every((f, i) => f === b.forwardedTo[i])
  );
}
