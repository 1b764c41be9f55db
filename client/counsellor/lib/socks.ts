/**
 * A small SOCKS5 client (RFC 1928, with RFC 1929 user/password for Tor's
 * stream isolation), enough to reach an onion service through Tor:
 * CONNECT only, the host name resolved by the proxy (`socks5h://`) or
 * locally (`socks5://`). Node has no SOCKS client of its own; this one is
 * small enough to read in one sitting and is tested against a SOCKS server
 * in tests/counsellor-socks.test.ts.
 * @module
 */

import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import { UsageError } from './errors.js';

/** Where the proxy is and how to use it. */
export interface SocksProxy {
  readonly host: string;
  readonly port: number;
  /** True for `socks5h://`: the proxy resolves host names (needed for .onion, and no DNS leak). */
  readonly remoteDns: boolean;
  readonly username?: string;
  readonly password?: string;
}

/** Parses `socks5h://[user:pass@]host:port` or `socks5://…`. Throws UsageError. */
export function parseProxyUrl(text: string): SocksProxy {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--proxy must be a URL such as socks5h://127.0.0.1:9050 (got ${JSON.stringify(text)})`,
    );
  }
  if (url.protocol !== 'socks5h:' && url.protocol !== 'socks5:') {
    throw new UsageError(
      '--proxy must be a socks5h:// (or socks5://) URL, e.g. socks5h://127.0.0.1:9050 for Tor',
    );
  }
  if (url.pathname !== '' && url.pathname !== '/')
    throw new UsageError('--proxy URL must not have a path');
  const port = url.port === '' ? 1080 : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new UsageError('--proxy URL needs a host');
  const proxy: SocksProxy = { host, port, remoteDns: url.protocol === 'socks5h:' };
  if (url.username !== '' || url.password !== '') {
    return {
      ...proxy,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
  }
  return proxy;
}

/** The proxy refused or failed; the message says why in plain words. */
export class SocksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SocksError';
  }
}

const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by the proxy',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
  // Tor's extended errors for onion services, 0xF0 to 0xF7 (SocksPort ExtendedErrors).
  240: 'onion service descriptor cannot be found',
  241: 'onion service descriptor is invalid',
  242: 'onion service introduction failed',
  243: 'onion service rendezvous failed',
  244: 'onion service requires client authorisation',
  245: 'onion service client authorisation is wrong',
  246: 'onion address is invalid',
  247: 'onion service introduction timed out',
};

/** Reads exact byte counts from a socket during the handshake. */
class HandshakeReader {
  #buffer = Buffer.alloc(0);
  #waiting:
    | { length: number; resolve: (b: Buffer) => void; reject: (e: Error) => void }
    | undefined;
  #error: Error | undefined;
  readonly #socket: Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    this.#pump();
  };
  readonly #onEnd = () =>
    this.#fail(new SocksError('the proxy closed the connection during the handshake'));
  readonly #onError = (error: Error) =>
    this.#fail(new SocksError(`cannot talk to the proxy: ${error.message}`));

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
  }

  #fail(error: Error): void {
    this.#error ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(this.#error);
  }

  #pump(): void {
    const waiting = this.#waiting;
    if (waiting && this.#buffer.length >= waiting.length) {
      this.#waiting = undefined;
      const out = this.#buffer.subarray(0, waiting.length);
      this.#buffer = this.#buffer.subarray(waiting.length);
      waiting.resolve(out);
    }
  }

  read(length: number): Promise<Buffer> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiting = { length, resolve, reject };
      this.#pump();
    });
  }

  /** Stops listening; gives back bytes that arrived after the handshake. */
  release(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('error', this.#onError);
    if (this.#buffer.length > 0) this.#socket.unshift(this.#buffer);
  }
}

function addressBytes(host: string): Buffer {
  const family = isIP(host);
  if (family === 4) return Buffer.from([1, ...host.split('.').map(Number)]);
  if (family === 6) {
    const bytes = Buffer.alloc(16);
    const [head = '', tail = ''] = host.split('::');
    const groups = (part: string) =>
      part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16));
    const headGroups = groups(head);
    const tailGroups = host.includes('::') ? groups(tail) : [];
    const all = [
      ...headGroups,
      ...new Array(8 - headGroups.length - tailGroups.length).fill(0),
      ...tailGroups,
    ];
    for (const [i, group] of all.entries()) bytes.writeUInt16BE(group, i * 2);
    return Buffer.concat([Buffer.from([4]), bytes]);
  }
  const name = Buffer.from(host, 'utf8');
  if (name.length === 0 || name.length > 255) throw new SocksError('host name too long for SOCKS5');
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}

async function handshake(
  socket: Socket,
  proxy: SocksProxy,
  host: string,
  port: number,
): Promise<void> {
  const reader = new HandshakeReader(socket);
  try {
    const withAuth = proxy.username !== undefined;
    socket.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
    const [version, method] = await reader.read(2);
    if (version !== 5) throw new SocksError('the proxy is not a SOCKS5 proxy');
    if (method === 2 && withAuth) {
      const user = Buffer.from(proxy.username ?? '', 'utf8');
      const pass = Buffer.from(proxy.password ?? '', 'utf8');
      if (user.length > 255 || pass.length > 255)
        throw new SocksError('proxy user name or password too long');
      socket.write(
        Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]),
      );
      const [, status] = await reader.read(2);
      if (status !== 0) throw new SocksError('the proxy refused the user name and password');
    } else if (method !== 0) {
      throw new SocksError('the proxy accepts none of our authentication methods');
    }
    let target = host;
    if (!proxy.remoteDns && isIP(host) === 0) target = (await lookup(host)).address;
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    socket.write(Buffer.concat([Buffer.from([5, 1, 0]), addressBytes(target), portBytes]));
    const [replyVersion, reply, , type] = await reader.read(4);
    if (replyVersion !== 5) throw new SocksError('the proxy sent a malformed reply');
    if (reply !== 0)
      throw new SocksError(
        `the proxy could not connect to ${host}:${port}: ${REPLIES[reply!] ?? `error ${reply}`}`,
      );
    const rest = type === 1 ? 4 : type === 4 ? 16 : type === 3 ? (await reader.read(1))[0]! : -1;
    if (rest < 0) throw new SocksError('the proxy sent a malformed reply');
    await reader.read(rest + 2);
  } finally {
    reader.release();
  }
}

/** Connects to host:port through the proxy; resolves with a socket ready for the application's bytes. */
export function socksConnect(
  proxy: SocksProxy,
  host: string,
  port: number,
  timeoutMs = 120_000,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new SocksError(
          `no answer from the proxy at ${proxy.host}:${proxy.port} within ${Math.round(timeoutMs / 1000)} s`,
        ),
      );
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        error instanceof SocksError
          ? error
          : new SocksError(
              `cannot reach the proxy at ${proxy.host}:${proxy.port}: ${error.message}`,
            ),
      );
    };
    socket.once('error', fail);
    socket.connect(proxy.port, proxy.host, () => {
      socket.off('error', fail);
      handshake(socket, proxy, host, port).then(() => {
        clearTimeout(timer);
        resolve(socket);
      }, fail);
    });
  });
}
