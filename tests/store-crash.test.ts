/**
 * Crash safety of the file store: a child process runs a concurrent workload (creates,
 * updates, blob appends) and prints each acknowledgement; it is killed with SIGKILL midway,
 * several times on the same directory. After each kill the store must open cleanly, with every
 * acknowledged operation intact, no half-written record visible and no temp file left.
 *
 * (A process kill leaves the kernel's page cache in place; power loss is not simulated here.
 * The fsync discipline that covers power loss is in server/store/durable-fs.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_VERSION, openFileStore } from '../server/store/index.js';
import {
  type CrashDoc,
  type CrashSummary,
  crashBlobByte,
  crashBlobId,
  crashBody,
  crashRecordId,
  summarizeCrashDoc,
} from './helpers/store-crash-workload.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./helpers/store-crash-child.ts', import.meta.url));
/** Upper bound only: the child is killed long before it gets there. */
const COUNT = 5000;
const CONCURRENCY = 50;

interface Acks {
  created: Set<string>;
  updated: Map<string, number>;
  blobSizes: Map<string, number>;
}

interface RunResult {
  signal: NodeJS.Signals | null;
  code: number | null;
  createdThisRound: number;
  sawDone: boolean;
  stderr: string;
}

/** Runs the child for one round and kills it after killAfter acknowledged creates. */
function runAndKill(dir: string, round: number, killAfter: number, acks: Acks): Promise<RunResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, dir, String(round), String(COUNT), String(CONCURRENCY)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let createdThisRound = 0;
  let sawDone = false;
  let pending = '';
  let stderr = '';
  const onLine = (line: string): void => {
    const [kind, id, value] = line.split(' ');
    if (kind === 'c' && id !== undefined) {
      acks.created.add(id);
      createdThisRound += 1;
      if (createdThisRound === killAfter) child.kill('SIGKILL');
    } else if (kind === 'u' && id !== undefined) {
      acks.updated.set(id, Number(value));
    } else if (kind === 'b' && id !== undefined) {
      acks.blobSizes.set(id, Math.max(acks.blobSizes.get(id) ?? 0, Number(value)));
    } else if (kind === 'done') {
      sawDone = true;
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      // A line cut off by the kill was never fully written: it is not an acknowledgement.
      resolve({ signal, code, createdThisRound, sawDone, stderr });
    });
  });
}

async function listTree(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).map(String);
}

describe('file store crash safety (kill -9 mid-workload)', () => {
  let dir: string;
  const acks: Acks = { created: new Set(), updated: new Map(), blobSizes: new Map() };

  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'kluis-store-crash-')), 'data');
  });

  afterAll(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it.each([
    [0, 150],
    [1, 400],
    [2, 700],
  ])(
    'round %i: killed after %i acknowledged creates, every acknowledgement survives',
    async (round, killAfter) => {
      const result = await runAndKill(dir, round, killAfter, acks);
      expect(result.stderr).toBe('');
      expect(result.signal).toBe('SIGKILL');
      expect(result.sawDone).toBe(false);
      expect(result.createdThisRound).toBeGreaterThanOrEqual(killAfter);
      expect(result.createdThisRound).toBeLessThan(COUNT);

      const store = await openFileStore<CrashDoc, CrashSummary>({
        dir,
        summarize: summarizeCrashDoc,
      });
      try {
        // Every acknowledged create (this round and earlier rounds) is present and intact.
        for (const id of acks.created) {
          expect(store.records.has(id)).toBe(true);
          const doc = await store.records.get(id);
          expect(doc?.id).toBe(id);
          expect(doc?.body).toBe(crashBody(id));
          expect(doc?.rev).toBeGreaterThanOrEqual(acks.updated.get(id) ?? 0);
        }
        // Every acknowledged update is visible.
        for (const [id, rev] of acks.updated) expect((await store.records.get(id))?.rev).toBe(rev);

        // Every record present (acknowledged or not) is whole, and its summary matches.
        const summaries = new Map(store.records.summaries());
        for (const [id, summary] of summaries) {
          const doc = await store.records.get(id);
          expect(doc).toEqual({ id, rev: summary.rev, body: crashBody(id) });
        }
        // Unacknowledged creates that survived can only be ones in flight at the kill.
        const thisRound = [...summaries.keys()].filter((id) => id.startsWith(`K${round}`));
        expect(thisRound.length).toBeLessThanOrEqual(result.createdThisRound + CONCURRENCY);

        // Blobs: at least the acknowledged size, and every byte present is the right one.
        for (const [id, acked] of acks.blobSizes) {
          const size = await store.blobs.size(id);
          expect(size).toBeGreaterThanOrEqual(acked);
          const r = [0, 1, 2].find((candidate) => crashBlobId(candidate) === id) as number;
          let position = 0;
          let wrong = 0;
          for await (const chunk of store.blobs.read(id)) {
            for (let i = 0; i < chunk.length; i++)
              if (chunk[i] !== crashBlobByte(r, position + i)) wrong++;
            position += chunk.length;
          }
          expect(position).toBe(size);
          expect(wrong).toBe(0);
        }

        // Open cleaned up after the crash and left a well-formed directory.
        expect((await listTree(dir)).filter((path) => path.endsWith('.tmp'))).toEqual([]);
        expect(await readFile(join(dir, 'FORMAT'), 'utf8')).toBe(`${FORMAT_VERSION}\n`);

        // And the store is usable: a fresh record in this round's namespace beyond the workload.
        const extra = crashRecordId(round, COUNT + 1);
        await store.records.create(extra, { id: extra, rev: 0, body: crashBody(extra) });
        acks.created.add(extra);
      } finally {
        await store.close();
      }
    },
  );
});
