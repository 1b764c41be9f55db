/**
 * Store format migrations: a newer Kluis moves an older data directory
 * forward, one format at a time, before it opens the store.
 *
 * - FORMAT says which format the directory is in. A migration from format
 *   n to n + 1 changes files; only when all its changes are durable is
 *   FORMAT set to n + 1 (atomically). A crash midway leaves FORMAT at n and
 *   the next start runs the same migration again, so every migration must
 *   be safe to re-run on its own half-done work.
 * - Before the first step a complete copy of the directory is written (the
 *   caller's `backup`), so an upgrade can always be undone by restoring it
 *   with the older Kluis.
 * - A directory in a newer format than this code knows is refused
 *   (UnsupportedFormatError): never guess at a layout.
 *
 * Format 2 adds the write-ahead journal (journal/, journal-format.ts): a
 * format-1 Kluis would not read it and would lose the writes a crash left
 * there, hence the new number. Kluis 0.1 wrote format 1, the first
 * released format. The migration in
 * MIGRATIONS from "format 0" (the pre-sharded layout, every record and blob
 * in one directory, as the store was before sharding) exists so that the
 * mechanism is exercised by tests (tests/fixtures/store-v0/); no released
 * Kluis wrote format 0.
 */

import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { readFileQuiet } from './coarse-time.js';
import { join } from 'node:path';
import {
  DirSyncer,
  isErrno,
  isTempName,
  settlePath,
  unlinkDurable,
  writeFileAtomic,
} from './durable-fs.js';
import { CorruptStoreError, UnsupportedFormatError } from './errors.js';
import { FORMAT_FILE, FORMAT_VERSION, parseFormatVersion } from './format.js';
import { JOURNAL_DIR } from './journal-format.js';
import { BLOB_ID, RECORD_ID } from './types.js';

/** One step: from format `from` to `from + 1`. */
export interface Migration {
  readonly from: number;
  /** What it changes, in a few words (printed when it runs). */
  readonly description: string;
  /** Changes the files; must be safe to run again on its own half-done work. Does not touch FORMAT. */
  run(dir: string): Promise<void>;
}

/** Renames root/name to root/shard/name, making the shard directory if needed. */
async function moveIntoShard(
  root: string,
  name: string,
  shard: string,
  made: Set<string>,
): Promise<void> {
  const shardDir = join(root, shard);
  if (!made.has(shardDir)) {
    try {
      await mkdir(shardDir, { mode: 0o700 });
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    made.add(shardDir);
  }
  const target = join(shardDir, name);
  try {
    await stat(target);
    throw new CorruptStoreError(
      join(root, name),
      `it is also at ${target}; keep the right one and remove the other`,
    );
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  await rename(join(root, name), target);
}

/** Format 0 to 1: records/ID.json to records/XX/ID.json and blobs/id to blobs/xx/id. */
async function shardRecordsAndBlobs(dir: string): Promise<void> {
  const syncer = new DirSyncer();
  for (const [sub, isName, shardOf] of [
    [
      'records',
      (name: string) => name.endsWith('.json') && RECORD_ID.test(name.slice(0, -5)),
      (name: string) => name.slice(0, 2),
    ],
    ['blobs', (name: string) => BLOB_ID.test(name), (name: string) => name.slice(0, 2)],
  ] as const) {
    const root = join(dir, sub);
    let names: string[];
    try {
      names = await readdir(root);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await mkdir(root, { mode: 0o700 });
      names = [];
    }
    const made = new Set<string>();
    for (const name of names) {
      // A temp file was never acknowledged: the old code would have removed it on open too.
      if (isTempName(name)) await unlinkDurable(join(root, name), syncer);
      else if (isName(name)) await moveIntoShard(root, name, shardOf(name), made);
    }
    // The renames are durable once the shards and their parent are fsynced (and stamped: coarse-time.ts).
    for (const shard of made) await settlePath(shard);
    await settlePath(root);
  }
  await settlePath(dir);
}

/** Format 1 to 2: an empty journal directory (every format-1 write is in its record file). */
async function addJournal(dir: string): Promise<void> {
  const journal = join(dir, JOURNAL_DIR);
  try {
    await mkdir(journal, { mode: 0o700 });
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  await settlePath(journal);
  await settlePath(dir);
}

/** Every migration this Kluis knows, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    from: 0,
    description: 'records and blobs into shard directories (records/XX/, blobs/xx/)',
    run: shardRecordsAndBlobs,
  },
  { from: 1, description: 'a write-ahead journal for record writes (journal/)', run: addJournal },
];

export interface MigrateOptions {
  /**
   * Writes a complete copy of the directory as it is and returns where it went; called once,
   * before anything changes. If it throws, nothing is migrated.
   */
  backup(dir: string, format: number): Promise<string>;
  /** Progress lines. */
  log?(line: string): void;
  /** For tests: other migrations and target format. */
  migrations?: readonly Migration[];
  target?: number;
}

export interface MigrationReport {
  readonly from: number;
  readonly to: number;
  readonly backup: string;
}

/** The store's FORMAT version; undefined if there is no FORMAT file (new, or not a store) or it holds no number. */
export async function readFormat(dir: string): Promise<number | undefined> {
  try {
    return parseFormatVersion(await readFileQuiet(join(dir, FORMAT_FILE)));
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
    throw error;
  }
}

/**
 * Brings the store in `dir` to format `target` (FORMAT_VERSION): nothing to do for a new
 * store, one in the target format, or one without a readable FORMAT (openFileStore reports
 * those). Refuses a newer format (UnsupportedFormatError) and a gap no migration covers
 * (CorruptStoreError), both before writing anything.
 */
export async function migrateStore(
  dir: string,
  options: MigrateOptions,
): Promise<MigrationReport | undefined> {
  const target = options.target ?? FORMAT_VERSION;
  const migrations = options.migrations ?? MIGRATIONS;
  const from = await readFormat(dir);
  if (from === undefined || from === target) return undefined;
  if (from > target) throw new UnsupportedFormatError(from, target);
  const steps: Migration[] = [];
  for (let version = from; version < target; version++) {
    const step = migrations.find((m) => m.from === version);
    if (!step) {
      throw new CorruptStoreError(
        join(dir, FORMAT_FILE),
        `no migration from store format ${version} to ${version + 1} in this Kluis: upgrade through an intermediate release (see docs/DEPLOY.md, "Upgrades")`,
      );
    }
    steps.push(step);
  }
  const backup = await options.backup(dir, from);
  options.log?.(`store format ${from} is older than ${target}: a copy is in ${backup}; migrating`);
  const syncer = new DirSyncer();
  for (const step of steps) {
    options.log?.(`  format ${step.from} to ${step.from + 1}: ${step.description}`);
    await step.run(dir);
    await writeFileAtomic(join(dir, FORMAT_FILE), `${step.from + 1}\n`, syncer);
  }
  return { from, to: target, backup };
}
