/**
 * Demo mode: with no KLUIS_COUNSELLORS, the server makes (once) a demo
 * counsellor key file in the data directory and publishes its bundle, so
 * that `npm start` on a fresh clone shows the whole flow. The page shows a
 * demo banner. Never for production: the operator holds the key.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportBundle,
  generateIdentity,
  sealKeyFile,
  verifyBundle,
  type VerifiedBundle,
} from '../crypto/index.js';
import { nodeScrypt } from '../crypto-node/scrypt.js';
import { readFileQuietSync } from './store/coarse-time.js';
import { DirSyncer, DurableDirs, writeFileAtomic } from './store/durable-fs.js';

/** Where the demo key lives and how to open it. */
export interface DemoCounsellor {
  readonly keyFile: string;
  readonly passphrase: string;
  readonly bundle: VerifiedBundle;
}

/** Loads the demo counsellor from `<dataDir>/demo/`, creating it the first time. */
export async function demoCounsellor(dataDir: string): Promise<DemoCounsellor> {
  const dir = join(dataDir, 'demo');
  const keyFile = join(dir, 'counsellor.key.json');
  const passphraseFile = join(dir, 'PASSPHRASE.txt');
  if (!existsSync(keyFile)) {
    const syncer = new DirSyncer();
    // Made, stamped and made durable like the store's own directories (coarse-time.ts).
    await new DurableDirs(syncer).ensure(dir);
    const passphrase = randomBytes(12).toString('base64url');
    const identity = generateIdentity('counsellor', 'Demo counsellor (not for real reports)');
    const file = await sealKeyFile(identity, passphrase, nodeScrypt);
    await writeFileAtomic(passphraseFile, `${passphrase}\n`, syncer);
    await writeFileAtomic(
      join(dir, 'counsellors.json'),
      `${JSON.stringify([exportBundle(identity)], null, 2)}\n`,
      syncer,
    );
    await writeFileAtomic(keyFile, `${JSON.stringify(file, null, 2)}\n`, syncer);
  }
  const file = JSON.parse(readFileQuietSync(keyFile).toString('utf8')) as { bundle: unknown };
  return {
    keyFile,
    passphrase: readFileQuietSync(passphraseFile).toString('utf8').trim(),
    bundle: verifyBundle(file.bundle),
  };
}
