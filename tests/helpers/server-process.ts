/**
 * Starts the real server (`node --import tsx server/main.ts`) as a child
 * process on a free port with its own data directory, for tests that go
 * over HTTP. Resolves once it prints its "listening" line.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a data directory (e.g. after a crash); a fresh temp dir otherwise. */
  readonly dataDir?: string;
  /** Extra KLUIS_* variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Remove the data directory when stopped (default: only a fresh temp dir). */
  readonly cleanup?: boolean;
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kluis-server-'));
  const cleanup = options.cleanup ?? options.dataDir === undefined;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      KLUIS_DATA_DIR: dataDir,
      KLUIS_PORT: '0',
      KLUIS_POW_BITS: '4',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /Kluis listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (data: Buffer) => {
      output += data.toString();
    });
    exited.then((code) =>
      reject(new Error(`server exited with ${code} before listening:\n${output}`)),
    );
    setTimeout(
      () => reject(new Error(`server did not start within 60 s:\n${output}`)),
      60_000,
    ).unref();
  });
  const finish = () => {
    if (cleanup) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    url,
    dataDir,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      finish();
      return code;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
