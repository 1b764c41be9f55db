/** The server's own secret (the ticket MAC key), made once and kept in the data directory. */

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileQuietSync } from './store/coarse-time.js';
import { DirSyncer, writeFileAtomic } from './store/durable-fs.js';

const FILE = 'server-secret';

/** Reads the 32-byte secret from the data directory, creating it (durably, mode 0600) the first time. */
export async function loadOrCreateSecret(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, FILE);
  try {
    const bytes = readFileQuietSync(path);
    if (bytes.length !== 32)
      throw new Error(
        `${path} is damaged (expected 32 bytes); delete it to make a new one (outstanding tickets become invalid)`,
      );
    return new Uint8Array(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = new Uint8Array(randomBytes(32));
  await writeFileAtomic(path, secret, new DirSyncer());
  return secret;
}
