/**
 * Node-native speed-ups that give exactly crypto/'s answers. tweetnacl signs
 * about 70 times a second and computes about 1,500 X25519 keys a second on
 * a small laptop; a counsellor's inbox of 1,000 cases signs 1,000 requests
 * and unwraps 4,000 content keys. OpenSSL (through node:crypto) does both
 * hundreds of times faster. Ed25519 signatures are deterministic, so the
 * native signer's output is byte-for-byte crypto's `signRequest`; the native
 * unwrap is crypto_box_open (X25519, HSalsa20, XSalsa20-Poly1305) with the
 * X25519 step in OpenSSL, falling back to tweetnacl wherever OpenSSL refuses
 * a point, so it accepts and refuses exactly what crypto/ does (the tests
 * check both side by side, tampered inputs included).
 * @module
 */

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  randomBytes,
  sign as nodeSign,
} from 'node:crypto';
import nacl from 'tweetnacl';
import {
  AuthenticationError,
  canonicalRequest,
  type Envelope,
  fingerprintOf,
  fromBase64,
  type RecipientKey,
  type SignedRequestHeaders,
  toBase64,
  WrongKeyError,
} from '../../../crypto/index.js';

const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * A raw 32-byte public key as a KeyObject. Through JWK, not DER: OpenSSL 3's
 * DER decoder costs about 80 µs a key here, the JWK import about 10 µs,
 * and the inbox imports one ephemeral key per message.
 */
function rawPublicKey(crv: 'X25519' | 'Ed25519', bytes: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv, x: Buffer.from(bytes).toString('base64url') },
    format: 'jwk',
  });
}

/** What a signed request covers, minus the nonce (drawn here). */
export interface RequestToSign {
  /** The server's origin as this client addresses it (`new URL(server).origin`). */
  readonly origin: string;
  readonly method: string;
  readonly path: string;
  readonly time: number;
  readonly body: Uint8Array;
}

/** Signs counsellor requests (PROTOCOL §10); returns the four headers. */
export type RequestSigner = (request: RequestToSign, nonce?: string) => SignedRequestHeaders;

/** 16-byte request nonces from the CSPRNG, drawn 4 KiB at a time (one system call per 256 requests). */
function nonceSource(): () => string {
  let pool = Buffer.alloc(0);
  return () => {
    if (pool.length < 16) pool = randomBytes(4096);
    const nonce = pool.subarray(0, 16).toString('base64');
    pool.fill(0, 0, 16);
    pool = pool.subarray(16);
    return nonce;
  };
}

/** A request signer over OpenSSL's Ed25519, for a tweetnacl 64-byte signing secret key. */
export function createNativeRequestSigner(signSecretKey: Uint8Array): RequestSigner {
  if (signSecretKey.length !== 64) throw new TypeError('signing secret key must be 64 bytes');
  const key = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8, signSecretKey.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  const fingerprint = fingerprintOf(signSecretKey.subarray(32));
  const nextNonce = nonceSource();
  return (request, nonce = nextNonce()) => {
    const signature = nodeSign(null, canonicalRequest({ ...request, nonce }), key);
    return {
      'kluis-key': fingerprint,
      'kluis-time': String(request.time),
      'kluis-nonce': nonce,
      'kluis-signature': toBase64(signature),
    };
  };
}

const WRAP_NONCE_LABEL = Buffer.from('kluis/v1/wrap-nonce\0', 'latin1');

/** H("kluis/v1/wrap-nonce", 24, epk || pk) (PROTOCOL §5.3) with OpenSSL's SHA-512. */
function wrapNonce(ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha512')
      .update(WRAP_NONCE_LABEL)
      .update(ephemeral)
      .update(recipient)
      .digest()
      .subarray(0, 24),
  );
}

const SIGMA = new Uint8Array([
  101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107,
]); // "expand 32-byte k"
const ZERO16 = new Uint8Array(16);
const lowlevel = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20: (o: Uint8Array, i: Uint8Array, k: Uint8Array, c: Uint8Array) => void;
    };
  }
).lowlevel;

/** crypto_box_beforenm: HSalsa20 of the X25519 shared point. */
function boxKey(shared: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(out, ZERO16, shared, SIGMA);
  return out;
}

/** Recovers an envelope's content key for one recipient (as crypto's unwrapContentKey). */
export type Unwrapper = (envelope: Envelope) => Uint8Array;

/** unwrapContentKey with the X25519 step in OpenSSL. */
export function createNativeUnwrapper(key: RecipientKey): Unwrapper {
  const privateKey: KeyObject = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8, key.boxSecretKey]),
    format: 'der',
    type: 'pkcs8',
  });
  return (envelope) => {
    const entry = envelope.keys.find((k) => k.to === key.fingerprint);
    if (!entry) throw new WrongKeyError('envelope is not addressed to this key');
    const ephemeral = fromBase64(entry.epk, { expectedLength: 32 });
    const wrapped = fromBase64(entry.wk, { expectedLength: 48 });
    const nonce = wrapNonce(ephemeral, key.boxPublicKey);
    let shared: Uint8Array;
    try {
      shared = diffieHellman({ privateKey, publicKey: rawPublicKey('X25519', ephemeral) });
    } catch {
      // OpenSSL refuses low-order points (an all-zero shared secret); tweetnacl does not. Ask it.
      shared = nacl.scalarMult(key.boxSecretKey, ephemeral);
    }
    const contentKey = nacl.secretbox.open(wrapped, nonce, boxKey(shared));
    if (!contentKey) throw new AuthenticationError('wrapped key does not open');
    return contentKey;
  };
}
