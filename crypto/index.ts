/**
 * Kluis protocol core: pure and isomorphic (browser and Node), bytes in,
 * bytes out, over tweetnacl only. See docs/PROTOCOL.md for the wire format.
 * @module
 */

export * from './attachment.js';
export * from './base32.js';
export * from './base64.js';
export * from './bytes.js';
export * from './chain.js';
export * from './content.js';
export * from './conversation.js';
export * from './envelope.js';
export * from './errors.js';
export * from './fingerprint.js';
export * from './hash.js';
export * from './identity.js';
export * from './keyfile.js';
export * from './padding.js';
export * from './pow.js';
export * from './random.js';
export * from './receipt.js';
export * from './request.js';
export * from './secretbox.js';
export * from './stream.js';
export * from './verify.js';
