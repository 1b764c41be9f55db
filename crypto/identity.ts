/**
 * Counsellor and escalation identities: an Ed25519 identity key that signs
 * an X25519 box key, published as a self-signed, versioned bundle.
 * @module
 */

import nacl from 'tweetnacl';
import { fromBase64, toBase64 } from './base64.js';
import { concatBytes, expectBytes, u16be, utf8 } from './bytes.js';
import { BadSignatureError, MalformedError } from './errors.js';
import { fingerprintOf } from './fingerprint.js';
import type { RandomSource } from './random.js';
import { secureRandom } from './random.js';
import type { SignatureVerifier } from './verify.js';
import { sign, verifySignature } from './verify.js';

/** What a bundle's key may do: read reports (counsellor) or only forwarded cases (escalation). */
export type Role = 'counsellor' | 'escalation';

const ROLE_CODES: Record<Role, number> = { counsellor: 1, escalation: 2 };
/** Longest display name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 128;

/** A counsellor's secret keys (never leave their machine). */
export interface Identity {
  readonly role: Role;
  readonly name: string;
  readonly sign: nacl.SignKeyPair;
  readonly box: nacl.BoxKeyPair;
}

/** The public bundle, as JSON on the wire and in bundle files. */
export interface PublicBundle {
  readonly v: 1;
  readonly role: Role;
  readonly name: string;
  /** Ed25519 identity public key, base64 (32 bytes). */
  readonly sign: string;
  /** X25519 box public key, base64 (32 bytes). */
  readonly box: string;
  /** Ed25519 signature of the bundle's signed bytes by `sign`, base64 (64 bytes). */
  readonly sig: string;
}

/** A bundle whose signature has been checked, with its keys decoded. */
export interface VerifiedBundle {
  readonly role: Role;
  readonly name: string;
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly fingerprint: string;
  readonly bundle: PublicBundle;
}

/** Rebuilds an identity from its two 32-byte seeds (signing seed, box secret key). */
export function identityFromSeeds(
  role: Role,
  name: string,
  signSeed: Uint8Array,
  boxSecret: Uint8Array,
): Identity {
  checkName(name);
  if (!(role in ROLE_CODES)) throw new MalformedError('unknown role');
  return {
    role,
    name,
    sign: nacl.sign.keyPair.fromSeed(expectBytes(signSeed, 32, 'signing seed')),
    box: nacl.box.keyPair.fromSecretKey(expectBytes(boxSecret, 32, 'box secret key')),
  };
}

/** Generates a new identity. */
export function generateIdentity(
  role: Role,
  name: string,
  random: RandomSource = secureRandom,
): Identity {
  return identityFromSeeds(role, name, random(32), random(32));
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0)
    throw new MalformedError('name must be a non-empty string');
  if (utf8(name).length > MAX_NAME_BYTES) throw new MalformedError('name is too long');
  if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(name))
    throw new MalformedError('name contains control characters');
  if (name !== name.normalize('NFC')) throw new MalformedError('name must be NFC-normalised');
}

/** The bytes an identity signs to publish its bundle. */
export function bundleSignedBytes(
  role: Role,
  name: string,
  signPublicKey: Uint8Array,
  boxPublicKey: Uint8Array,
): Uint8Array {
  const nameBytes = utf8(name);
  return concatBytes(
    utf8('kluis/v1/bundle'),
    new Uint8Array([0, ROLE_CODES[role]]),
    u16be(nameBytes.length),
    nameBytes,
    expectBytes(signPublicKey, 32, 'signing public key'),
    expectBytes(boxPublicKey, 32, 'box public key'),
  );
}

/** The self-signed public bundle of an identity. */
export function exportBundle(identity: Identity): PublicBundle {
  const signed = bundleSignedBytes(
    identity.role,
    identity.name,
    identity.sign.publicKey,
    identity.box.publicKey,
  );
  return {
    v: 1,
    role: identity.role,
    name: identity.name,
    sign: toBase64(identity.sign.publicKey),
    box: toBase64(identity.box.publicKey),
    sig: toBase64(sign(signed, identity.sign.secretKey)),
  };
}

const BUNDLE_KEYS = ['box', 'name', 'role', 'sig', 'sign', 'v'];

/**
 * Checks a bundle's exact shape (no extra keys) and its self-signature.
 * Throws MalformedError or BadSignatureError.
 */
export function verifyBundle(value: unknown, verifier?: SignatureVerifier): VerifiedBundle {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedError('bundle must be an object');
  }
  const keys = Object.keys(value).sort();
  if (keys.length !== BUNDLE_KEYS.length || keys.some((key, i) => key !== BUNDLE_KEYS[i])) {
    throw new MalformedError('bundle has missing or extra fields');
  }
  const bundle = value as Record<string, unknown>;
  if (bundle.v !== 1) throw new MalformedError('unsupported bundle version');
  if (bundle.role !== 'counsellor' && bundle.role !== 'escalation')
    throw new MalformedError('unknown role');
  checkName(bundle.name);
  const signPublicKey = fromBase64(bundle.sign as string, { expectedLength: 32 });
  const boxPublicKey = fromBase64(bundle.box as string, { expectedLength: 32 });
  const signature = fromBase64(bundle.sig as string, { expectedLength: 64 });
  const signed = bundleSignedBytes(bundle.role, bundle.name, signPublicKey, boxPublicKey);
  if (!verifySignature(signed, signature, signPublicKey, verifier)) {
    throw new BadSignatureError('bundle signature does not verify');
  }
  return {
    role: bundle.role,
    name: bundle.name,
    signPublicKey,
    boxPublicKey,
    fingerprint: fingerprintOf(signPublicKey),
    bundle: bundle as unknown as PublicBundle,
  };
}
