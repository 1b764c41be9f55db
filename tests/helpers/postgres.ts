/**
 * A real PostgreSQL server for tests: Debian's PostgreSQL 15, started in a temporary directory
 * owned by the `postgres` user (PostgreSQL refuses to run as root), listening only on a Unix
 * socket in that directory, with fsync on (the tests check durability). Stopped and removed by
 * `stop()`.
 *
 * Tests skip ONLY when the binaries are absent (`POSTGRES_BIN` is undefined; `.ci/run` installs
 * them); any other failure to start is a failure.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where Debian's PostgreSQL 15 lives, or undefined if it is not installed. */
export const POSTGRES_BIN: string | undefined = ['/usr/lib/postgresql/15/bin'].find((dir) =>
  existsSync(join(dir, 'postgres')),
);

/** Why the PostgreSQL tests are skipped, for `describe.skipIf(...)` titles. */
export const POSTGRES_SKIP_REASON =
  'PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin): apt-get install postgresql, as .ci/run does';

export interface TestPostgres {
  /** The directory of the socket (and the cluster). */
  readonly dir: string;
  /** A connection URL for a fresh database named `name` (created by `createDatabase`). */
  url(name: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs pg_dump of a database as plain SQL and returns it. */
  dump(name: string): Buffer;
  /** Kills the server with SIGKILL and starts it again on the same cluster (crash recovery). */
  crash(): Promise<void>;
  /** Stops the server and removes everything. */
  stop(): Promise<void>;
}

let databases = 0;

function asPostgres(command: string, args: readonly string[]): string[] {
  // runuser exists on Debian; when the tests do not run as root, run the binaries directly.
  return process.getuid?.() === 0
    ? ['runuser', '-u', 'postgres', '--', command, ...args]
    : [command, ...args];
}

/** Starts a PostgreSQL server in a new temporary directory. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = POSTGRES_BIN;
  if (bin === undefined) throw new Error(POSTGRES_SKIP_REASON);
  const dir = await mkdtemp(join(tmpdir(), 'kluis-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
  }
  await chmod(dir, 0o700);
  const [initCmd, ...initArgs] = asPostgres(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'kluis',
    '--auth=trust',
    '--encoding=UTF8',
    '--no-instructions',
  ]);
  try {
    execFileSync(initCmd!, initArgs, { stdio: 'pipe' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const [cmd, ...args] = asPostgres(join(bin, 'postgres'), [
      '-D',
      data,
      '-k',
      dir,
      '-c',
      'listen_addresses=',
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'max_connections=60',
      '-c',
      'shared_buffers=16MB',
    ]);
    const started = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    child = started;
    // Ready once a connection succeeds.
    for (let attempt = 0; ; attempt++) {
      if (started.exitCode !== null)
        throw new Error(`postgres exited with ${started.exitCode}: ${log}`);
      const client = new pg.Client({ host: dir, user: 'kluis', database: 'postgres' });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => {});
        if (attempt > 300) throw new Error(`postgres did not start: ${String(error)}\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    // runuser forwards signals; SIGKILL cannot be forwarded, so kill the postmaster by its pid.
    const pidFile = join(data, 'postmaster.pid');
    let pid: number | undefined;
    try {
      pid = Number(execFileSync('head', ['-n1', pidFile]).toString().trim());
    } catch {
      pid = undefined;
    }
    if (pid !== undefined && Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, signal);
      } catch {}
    } else running.kill(signal);
    await exited;
    if (signal === 'SIGKILL') {
      // The postmaster's children notice it has gone and exit; wait until the socket is free.
      for (let i = 0; i < 100 && existsSync(join(dir, '.s.PGSQL.5432.lock')); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    await start();
  } catch (error) {
    await halt('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const url = (name: string) =>
    `postgresql://kluis@/${encodeURIComponent(name)}?host=${encodeURIComponent(dir)}`;
  return {
    dir,
    url,
    async createDatabase(name = `kluis_${process.pid}_${++databases}`) {
      const client = new pg.Client({ host: dir, user: 'kluis', database: 'postgres' });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    dump(name) {
      return execFileSync(join(bin, 'pg_dump'), ['-h', dir, '-U', 'kluis', name], {
        maxBuffer: 512 * 1024 * 1024,
      });
    },
    async crash() {
      await halt('SIGKILL');
      await start();
    },
    async stop() {
      await halt('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
