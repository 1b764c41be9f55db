/**
 * HTTP for the counsellor client: node:http/https with keep-alive, optionally
 * through a SOCKS5 proxy (Tor). Responses are streams, so an attachment of
 * 100 MB is never whole in memory.
 * @module
 */

import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { NetworkError } from './errors.js';
import { parseProxyUrl, type SocksProxy, socksConnect } from './socks.js';

/** One request. */
export interface HttpRequest {
  readonly method: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: Uint8Array;
}

/** Something that sends requests: the default over node:http, or a test double. */
export interface Transport {
  request(url: URL, request: HttpRequest): Promise<IncomingMessage>;
  close(): void;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

class SocksHttpAgent extends http.Agent {
  readonly #proxy: SocksProxy;
  constructor(proxy: SocksProxy, options: http.AgentOptions) {
    super(options);
    this.#proxy = proxy;
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname ?? 'localhost').replace(
      /^\[(.*)\]$/,
      '$1',
    );
    socksConnect(this.#proxy, host, Number(options.port ?? 80)).then(
      (socket) => callback?.(null, socket),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

class SocksHttpsAgent extends https.Agent {
  readonly #proxy: SocksProxy;
  constructor(proxy: SocksProxy, options: https.AgentOptions) {
    super(options);
    this.#proxy = proxy;
  }
  override createConnection(
    options: https.RequestOptions,
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname ?? 'localhost').replace(
      /^\[(.*)\]$/,
      '$1',
    );
    socksConnect(this.#proxy, host, Number(options.port ?? 443)).then(
      (socket) => {
        const secure = tls.connect({
          socket,
          servername: options.servername ?? host,
          ...(options.ca ? { ca: options.ca } : {}),
        });
        secure.once('secureConnect', () => callback?.(null, secure));
        secure.once('error', (error) => callback?.(error, undefined as unknown as Duplex));
      },
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** Options of the default transport. */
export interface NodeTransportOptions {
  /** `socks5h://host:port` to go through Tor or another SOCKS5 proxy. */
  readonly proxy?: string | undefined;
  /** Gives up on a request that sends nothing for this long (default 60 s; 180 s through a proxy). */
  readonly timeoutMs?: number;
  /** Parallel connections per host (default 8). */
  readonly maxSockets?: number;
}

/** The default transport: node:http(s), keep-alive, optional SOCKS5. */
export function createNodeTransport(options: NodeTransportOptions = {}): Transport {
  const proxy = options.proxy ? parseProxyUrl(options.proxy) : undefined;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 8 };
  const httpAgent = proxy ? new SocksHttpAgent(proxy, agentOptions) : new http.Agent(agentOptions);
  const httpsAgent = proxy
    ? new SocksHttpsAgent(proxy, agentOptions)
    : new https.Agent(agentOptions);
  const timeoutMs = options.timeoutMs ?? (proxy ? 180_000 : 60_000);
  const via = proxy ? ` through the proxy ${proxy.host}:${proxy.port}` : '';
  return {
    request(url, request) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return Promise.reject(
          new NetworkError(`unsupported URL scheme ${url.protocol} (use http: or https:)`),
        );
      }
      const secure = url.protocol === 'https:';
      const send = (retry: boolean): Promise<IncomingMessage> =>
        new Promise((resolve, reject) => {
          const headers: OutgoingHttpHeaders = { ...request.headers };
          if (request.body) headers['content-length'] = String(request.body.length);
          const req = (secure ? https : http).request(url, {
            method: request.method,
            headers,
            agent: secure ? httpsAgent : httpAgent,
            timeout: timeoutMs,
          });
          req.once('response', resolve);
          req.once('timeout', () =>
            req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)),
          );
          req.once('error', (error: Error) => {
            // A kept-alive connection the server closed while idle (its keep-alive timeout, e.g.
            // while a large inbox was being opened here): a GET goes once more on a new connection
            // (as Node's documentation advises for idempotent requests). Never a write: it may
            // have reached the server (a connection broken mid-upload), and the caller decides.
            if (
              retry &&
              request.method === 'GET' &&
              req.reusedSocket &&
              (error as NodeJS.ErrnoException).code === 'ECONNRESET'
            ) {
              send(false).then(resolve, reject);
              return;
            }
            const reason =
              error.name === 'SocksError'
                ? error.message
                : `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`.trim();
            reject(
              new NetworkError(`cannot reach ${url.origin}${via}: ${reason}`, 'server-unreachable'),
            );
          });
          req.end(
            request.body
              ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength)
              : undefined,
          );
        });
      return send(true);
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** Reads a whole (small) response body, refusing more than `limit` bytes. */
export async function readBody(
  response: IncomingMessage,
  limit = 64 * 1024 * 1024,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > limit) {
        response.destroy();
        throw new NetworkError(`the server's answer is larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof NetworkError) throw error;
    throw new NetworkError(
      `the connection broke while reading the server's answer: ${(error as Error).message}`,
    );
  }
  return Buffer.concat(chunks);
}
