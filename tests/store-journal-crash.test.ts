/**
 * Crash safety of the write-ahead journal: a child process runs creates, updates, deletes and
 * marks against a store that checkpoints every few kilobytes (so group commits and the writing
 * of record files are in progress at almost every moment) and is killed with SIGKILL, several
 * times on the same directory. After each kill the store must open with every acknowledged
 * write there, every acknowledged deletion gone, every acknowledged mark either replayed or
 * already handed to its owner, nothing unacknowledged half there, and the journal's files and
 * directory at the store's fixed time.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStoreTime } from '../server/store/coarse-time.js';
import { openFileStore } from '../server/store/index.js';
import {
  type CrashDoc,
  type CrashSummary,
  crashBody,
  summarizeCrashDoc,
} from './helpers/store-crash-workload.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./helpers/journal-crash-child.ts', import.meta.url));
const IN_FLIGHT = 24;

interface Acks {
  created: Set<string>;
  updated: Map<string, number>;
  deleted: Set<string>;
  /** Deletes started: without an acknowledgement either outcome is right. */
  deleting: Set<string>;
  marks: Set<string>;
}

/** Runs the child and kills it after `killAfter` acknowledgement lines. */
function runAndKill(
  dir: string,
  round: number,
  killAfter: number,
  acks: Acks,
): Promise<{ signal: NodeJS.Signals | null; lines: number; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(round)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  let pending = '';
  let stderr = '';
  const onLine = (line: string): void => {
    const [kind, id, value] = line.split(' ');
    if (id === undefined) return;
    if (kind === 'x') {
      acks.deleting.add(id);
      return;
    }
    if (kind === 'c') acks.created.add(id);
    else if (kind === 'u') acks.updated.set(id, Number(value));
    else if (kind === 'd') acks.deleted.add(id);
    else if (kind === 'm') acks.marks.add(id);
    else return;
    if (++lines === killAfter) child.kill('SIGKILL');
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, lines, stderr }));
  });
}

/** Every path under root whose mtime (or, for a file, atime) is not the store's fixed time. */
function preciseTimes(root: string): string[] {
  const found: string[] = [];
  const visit = (path: string): void => {
    const info = statSync(path);
    if (!isStoreTime(info.mtimeMs) || (info.isFile() && !isStoreTime(info.atimeMs)))
      found.push(path);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return found;
}

/** The marks a round's child handed to its owner before it died (20 bytes each). */
function markedBefore(parent: string, round: number): Set<string> {
  const path = join(parent, `marks-${round}.bin`);
  const marks = new Set<string>();
  if (!existsSync(path)) return marks;
  const bytes = readFileSync(path);
  for (let at = 0; at + 20 <= bytes.length; at += 20)
    marks.add(bytes.subarray(at, at + 20).toString('hex'));
  return marks;
}

describe('journal crash safety (kill -9 during group commits and checkpoints)', () => {
  let parent: string;
  let dir: string;
  const acks: Acks = {
    created: new Set(),
    updated: new Map(),
    deleted: new Set(),
    deleting: new Set(),
    marks: new Set(),
  };
  /** Rounds whose kill left sealed segments (a checkpoint was running) or temp record files. */
  let midCheckpoint = 0;
  /** Marks replayed by any reopen so far (the test's owner keeps them only here). */
  const replayed = new Set<string>();

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'kluis-journal-crash-'));
    dir = join(parent, 'data');
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it.each([0, 1, 2, 3, 4, 5].map((round) => [round, 150 + round * 173]))(
    'round %i: killed after %i acknowledgements, every one survives',
    async (round, killAfter) => {
      const result = await runAndKill(dir, round, killAfter, acks);
      expect(result.stderr).toBe('');
      expect(result.signal).toBe('SIGKILL');
      expect(result.lines).toBeGreaterThanOrEqual(killAfter);

      const segments = readdirSync(join(dir, 'journal'));
      const temps = readdirSync(join(dir, 'records'), { recursive: true })
        .map(String)
        .filter((name) => name.endsWith('.tmp'));
      if (segments.length > 1 || temps.length > 0) midCheckpoint += 1;

      const store = await openFileStore<CrashDoc, CrashSummary>({
        dir,
        summarize: summarizeCrashDoc,
        marks: {
          replay: (mark) => replayed.add(Buffer.from(mark).toString('hex')),
          async materialise() {},
        },
      });
      try {
        for (const id of acks.created) {
          if (acks.deleted.has(id)) {
            expect(store.records.has(id), `${id} was deleted`).toBe(false);
            continue;
          }
          if (acks.deleting.has(id) && !store.records.has(id)) continue; // its delete was durable, not yet acknowledged
          expect(store.records.has(id), `${id} was created`).toBe(true);
          const doc = await store.records.get(id);
          expect(doc?.body).toBe(crashBody(id));
          expect(doc?.rev).toBeGreaterThanOrEqual(acks.updated.get(id) ?? 0);
        }
        for (const [id, rev] of acks.updated)
          if (store.records.has(id)) expect((await store.records.get(id))?.rev).toBe(rev);
        // Whatever is there (acknowledged or not) is whole; unacknowledged creates only the ones in flight.
        const summaries = new Map(store.records.summaries());
        for (const [id, summary] of summaries)
          expect(await store.records.get(id)).toEqual({
            id,
            rev: summary.rev,
            body: crashBody(id),
          });
        // (This round's: an earlier round's unacknowledged creates that were durable stay.)
        const unacknowledged = [...summaries.keys()].filter(
          (id) => id.startsWith(`K${round}`) && !acks.created.has(id),
        );
        expect(unacknowledged.length).toBeLessThanOrEqual(IN_FLIGHT);
        // Every acknowledged mark: handed to its owner before the kill, or replayed now.
        const owned = markedBefore(parent, round);
        const earlier = new Set<string>();
        for (let r = 0; r < round; r++)
          for (const mark of markedBefore(parent, r)) earlier.add(mark);
        for (const mark of acks.marks)
          expect(owned.has(mark) || replayed.has(mark) || earlier.has(mark), `mark ${mark}`).toBe(
            true,
          );

        // The replay left one fresh segment, no temp file, and no precise time anywhere.
        expect(readdirSync(join(dir, 'journal'))).toHaveLength(1);
        expect(
          readdirSync(dir, { recursive: true })
            .map(String)
            .filter((name) => name.endsWith('.tmp')),
        ).toEqual([]);
        expect(preciseTimes(dir)).toEqual([]);
      } finally {
        await store.close();
      }
      expect(readdirSync(join(dir, 'journal'))).toEqual([]);
    },
    60_000,
  );

  it('some kills landed in the middle of a checkpoint', () => {
    expect(midCheckpoint).toBeGreaterThan(0);
  });
});
