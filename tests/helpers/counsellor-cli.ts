/**
 * Runs the counsellor CLI as a child process, as a person would (like age's
 * script tests): `node --import tsx client/counsellor/cli.ts …`, with the
 * passphrase on file descriptor 3 (KLUIS_PASSPHRASE_FD) and optional stdin.
 */

import { spawn } from 'node:child_process';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Written to fd 3; with `passphrase` set, KLUIS_PASSPHRASE_FD=3. */
  readonly passphrase?: string;
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs `kluis-counsellor <args>`; resolves when it exits. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'client/counsellor/cli.ts', ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          ...(options.passphrase !== undefined ? { KLUIS_PASSPHRASE_FD: '3' } : {}),
          ...options.env,
        },
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const fd3 = child.stdio[3] as NodeJS.WritableStream;
    fd3.on('error', () => {}); // the CLI may exit before reading it
    fd3.end(options.passphrase !== undefined ? `${options.passphrase}\n` : '');
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.stdin ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `kluis-counsellor ${args.join(' ')} did not finish within 60 s\n${stdout}\n${stderr}`,
        ),
      );
    }, 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
