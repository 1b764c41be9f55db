/**
 * The counsellor's key file: the two secret seeds sealed (secretbox) under
 * a key derived from a passphrase by a memory-hard KDF (scrypt, N ≥ 2^17,
 * r = 8, p = 1, per OWASP). The KDF itself is passed in, because the
 * fastest scrypt is the platform's (Node's `crypto.scrypt`, see
 * crypto-node/), and crypto/ does no I/O of its own.
 * @module
 */

import { fromBase64, toBase64 } from './base64.js';
import { concatBytes, expectBytes, utf8 } from './bytes.js';
import { AuthenticationError, MalformedError } from './errors.js';
import type { Identity, PublicBundle } from './identity.js';
import { exportBundle, identityFromSeeds, verifyBundle } from './identity.js';
import type { RandomSource } from './random.js';
import { openSecretbox, SECRETBOX_OVERHEAD, sealSecretbox } from './secretbox.js';
import { secureRandom } from './random.js';

/** scrypt cost parameters. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Derives `length` key bytes from a passphrase with scrypt. */
export type ScryptKdf = (
  passphrase: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  length: number,
) => Promise<Uint8Array>;

/** Default cost: N = 2^17, r = 8, p = 1 (128 MiB). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
const MIN_LOG_N = 17;
const MAX_LOG_N = 22;

/** The key file, as JSON on disk. */
export interface KeyFile {
  readonly v: 1;
  readonly type: 'kluis-key-file';
  readonly kdf: {
    readonly name: 'scrypt';
    readonly N: number;
    readonly r: number;
    readonly p: number;
    readonly salt: string;
  };
  /** secretbox nonce, base64 (24 bytes). */
  readonly nonce: string;
  /** secretbox of signSeed || boxSecretKey, base64 (80 bytes). */
  readonly ct: string;
  /** The identity's public bundle, so the file says whose it is without the passphrase. */
  readonly bundle: PublicBundle;
}

function passphraseBytes(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0)
    throw new MalformedError('passphrase must not be empty');
  return utf8(passphrase.normalize('NFC'));
}

function checkParams(params: ScryptParams): void {
  const logN = Math.log2(params.N);
  if (
    !Number.isInteger(logN) ||
    logN < MIN_LOG_N ||
    logN > MAX_LOG_N ||
    params.r !== 8 ||
    params.p !== 1
  ) {
    throw new MalformedError('scrypt parameters out of the accepted range');
  }
}

/** Seals an identity's secret keys under a passphrase. */
export async function sealKeyFile(
  identity: Identity,
  passphrase: string,
  kdf: ScryptKdf,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
  random: RandomSource = secureRandom,
): Promise<KeyFile> {
  checkParams(params);
  const salt = expectBytes(random(16), 16, 'random').slice();
  const nonce = expectBytes(random(24), 24, 'random').slice();
  const key = expectBytes(
    await kdf(passphraseBytes(passphrase), salt, params, 32),
    32,
    'derived key',
  );
  const seeds = concatBytes(identity.sign.secretKey.subarray(0, 32), identity.box.secretKey);
  return {
    v: 1,
    type: 'kluis-key-file',
    kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: toBase64(salt) },
    nonce: toBase64(nonce),
    ct: toBase64(sealSecretbox(key, nonce, seeds)),
    bundle: exportBundle(identity),
  };
}

const FILE_KEYS = ['bundle', 'ct', 'kdf', 'nonce', 'type', 'v'];
const KDF_KEYS = ['N', 'name', 'p', 'r', 'salt'];

function exactKeys(value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const actual = Object.keys(value).sort();
  return actual.length === keys.length && actual.every((key, i) => key === keys[i]);
}

/** Checks a key file's exact shape and its bundle's signature, without the passphrase. Throws MalformedError or BadSignatureError. */
export function parseKeyFile(value: unknown): KeyFile {
  if (!exactKeys(value, FILE_KEYS) || value.v !== 1 || value.type !== 'kluis-key-file') {
    throw new MalformedError('not a Kluis key file');
  }
  const kdf = value.kdf;
  if (!exactKeys(kdf, KDF_KEYS) || kdf.name !== 'scrypt')
    throw new MalformedError('unsupported key derivation');
  checkParams({ N: kdf.N as number, r: kdf.r as number, p: kdf.p as number });
  fromBase64(kdf.salt as string, { expectedLength: 16 });
  fromBase64(value.nonce as string, { expectedLength: 24 });
  fromBase64(value.ct as string, { expectedLength: 64 + SECRETBOX_OVERHEAD });
  verifyBundle(value.bundle);
  return value as unknown as KeyFile;
}

/**
 * Opens a key file. AuthenticationError means the passphrase is wrong (or
 * the file was altered); MalformedError that the file is not a key file or
 * its keys do not match its bundle.
 */
export async function openKeyFile(
  value: unknown,
  passphrase: string,
  kdf: ScryptKdf,
): Promise<Identity> {
  const file = parseKeyFile(value);
  const key = expectBytes(
    await kdf(
      passphraseBytes(passphrase),
      fromBase64(file.kdf.salt),
      { N: file.kdf.N, r: file.kdf.r, p: file.kdf.p },
      32,
    ),
    32,
    'derived key',
  );
  let seeds: Uint8Array;
  try {
    seeds = openSecretbox(key, fromBase64(file.nonce), fromBase64(file.ct));
  } catch {
    throw new AuthenticationError('wrong passphrase, or the key file was altered');
  }
  const identity = identityFromSeeds(
    file.bundle.role,
    file.bundle.name,
    seeds.slice(0, 32),
    seeds.slice(32),
  );
  const bundle = exportBundle(identity);
  if (bundle.sign !== file.bundle.sign || bundle.box !== file.bundle.box) {
    throw new MalformedError('key file keys do not match its bundle');
  }
  return identity;
}
