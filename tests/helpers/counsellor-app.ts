/**
 * Starts the counsellor's local app (`client/counsellor/app/main.ts`) as a
 * child process, as `npm run counsellor:app` does, and resolves with the
 * URL it prints. Also: raw HTTP requests with any Host and Origin (fetch
 * does not let a test set Host).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';

export interface AppProcess {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startAppProcess(options: {
  keyPath: string;
  server: string;
  appDir: string;
  /** The counsellor's own reporter-page build, checked on every unlock. */
  pageBuild?: string;
  /** More arguments, e.g. ['--idle-minutes', '0.05']. */
  args?: readonly string[];
}): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'client/counsellor/app/main.ts',
      '--key',
      options.keyPath,
      '--server',
      options.server,
      ...(options.pageBuild ? ['--page-build', options.pageBuild] : []),
      ...(options.args ?? []),
    ],
    {
      env: { PATH: process.env.PATH ?? '', KLUIS_COUNSELLOR_APP_DIR: options.appDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on('data', (data: Buffer) => {
      output += data.toString();
    });
    exited.then(() => reject(new Error(`the app exited before printing its URL:\n${output}`)));
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.hash.replace('#token=', ''),
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One raw request to 127.0.0.1:<port> with exactly these headers. */
export function rawRequest(
  origin: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(url.port), path, method, headers, setHost: false },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
