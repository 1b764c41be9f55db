/**
 * What the server does with its data directory before it serves
 * (server/main.ts; docs/DEPLOY.md, "What happens at start"):
 *
 * 1. Preflight: the directory (or the nearest existing parent, for a new
 *    one) is a directory this user can write. Otherwise one clear line and
 *    exit 1, before anything is written.
 * 2. Migration: a store in an older format is copied whole into a backup
 *    file (beside the data directory, or in KLUIS_BACKUP_DIR) and then
 *    moved forward. A newer format is refused with what to do.
 * 3. Open and check: the store is opened with damaged records set aside
 *    (not served, files untouched) and checked (records, attachment
 *    lengths, orphans). Damage is reported case by case; the server still
 *    starts and serves every healthy case, because one damaged record must
 *    not close the support point. While there is damage, orphan
 *    attachments are kept from retention (one may be a damaged case's).
 */

import { constants } from 'node:fs';
import { access, open, stat, unlink } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { CaseRecord, CaseSummary, StoredUpload } from '../records.js';
import { summarize } from '../records.js';
import { isErrno } from '../store/durable-fs.js';
import {
  CorruptRecordError,
  type FileStore,
  FORMAT_VERSION,
  type MarkSink,
  type MigrationReport,
  migrateStore,
  openFileStore,
  UnsupportedFormatError,
} from '../store/index.js';
import { writeRawCopy } from './backup.js';
import {
  checkStore,
  count,
  damageLines,
  hasDamage,
  type StoreCheckReport,
  summaryLine,
} from './check-store.js';
import { assertCaseRecord, DamagedRecordError } from './record-check.js';

/** The data directory cannot be used; the message is one line saying why and what to do. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

function whoAmI(): string {
  const uid = process.getuid?.();
  try {
    return `user ${userInfo().username}${uid === undefined ? '' : ` (uid ${uid})`}`;
  } catch {
    return uid === undefined ? 'this user' : `uid ${uid}`;
  }
}

function explain(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `is not writable by ${whoAmI()}: give that user the directory (chown -R) or point KLUIS_DATA_DIR elsewhere`;
    case 'EROFS':
      return 'is on a read-only file system (with systemd, list it in ReadWritePaths=)';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'is on a full disk (or over quota): make room first';
    default:
      return `cannot be written (${code ?? 'error'})`;
  }
}

/**
 * Checks, before anything is written, that `dir` is (or can be created as) a directory this
 * process can write. Creates nothing: openFileStore creates a new directory durably.
 */
export async function preflightDataDir(dir: string): Promise<void> {
  const where = `data directory ${dir} (KLUIS_DATA_DIR)`;
  let existing = dir;
  for (;;) {
    try {
      const info = await stat(existing);
      if (!info.isDirectory()) {
        throw new DataDirError(
          existing === dir
            ? `${where} is a file, not a directory: point KLUIS_DATA_DIR at a directory`
            : `${where} cannot be made: ${existing} is a file, not a directory`,
        );
      }
      break;
    } catch (error) {
      if (error instanceof DataDirError) throw error;
      if (isErrno(error, 'ENOTDIR')) {
        existing = dirname(existing);
        continue;
      }
      if (isErrno(error, 'EACCES'))
        throw new DataDirError(
          `${where} cannot be reached by ${whoAmI()}: a directory on its path is closed to that user`,
        );
      if (!isErrno(error, 'ENOENT')) throw error;
      if (dirname(existing) === existing) throw error;
      existing = dirname(existing);
    }
  }
  if (existing !== dir) {
    try {
      await access(existing, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new DataDirError(
        `${where} does not exist and cannot be made: ${existing} ${explain((error as NodeJS.ErrnoException).code)}`,
      );
    }
    return;
  }
  // An existing directory: write (and remove) a file, as the store will. The name is a temp
  // name, which the store removes on open should this process die in between.
  const probe = join(dir, `.kluis-write-check.${process.pid}.tmp`);
  try {
    const handle = await open(probe, 'wx', 0o600);
    try {
      await handle.writeFile('x');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await unlink(probe);
  } catch (error) {
    await unlink(probe).catch(() => {});
    throw new DataDirError(`${where} ${explain((error as NodeJS.ErrnoException).code)}`);
  }
}

/** Where start-up migration backups go: KLUIS_BACKUP_DIR, else the data directory's parent. */
export function migrationBackupDir(env: NodeJS.ProcessEnv, dataDir: string): string {
  const configured = env.KLUIS_BACKUP_DIR?.trim();
  return configured ? resolve(configured) : dirname(resolve(dataDir));
}

/** True if `path` is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A new file name for the copy kept before migrating from `format`. */
async function freshName(dir: string, format: number): Promise<string> {
  const day = new Date().toISOString().slice(0, 10);
  for (let n = 1; ; n++) {
    const path = join(
      dir,
      `kluis-format-${format}-before-upgrade-${day}${n === 1 ? '' : `-${n}`}.kluis-backup`,
    );
    try {
      await stat(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return path;
      throw error;
    }
  }
}

/** Migrates an older store after writing a raw copy of it; refuses a newer one with what to do. */
export async function migrateOnStart(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  version: string,
  log: (line: string) => void,
): Promise<MigrationReport | undefined> {
  const backupDir = migrationBackupDir(env, dataDir);
  if (isInside(backupDir, dataDir))
    throw new DataDirError(
      `KLUIS_BACKUP_DIR (${backupDir}) must not be inside the data directory ${dataDir}`,
    );
  try {
    return await migrateStore(dataDir, {
      log,
      backup: async (dir, format) => {
        let path: string;
        try {
          path = await freshName(backupDir, format);
          await writeRawCopy(dir, path, { version, storeFormat: format });
        } catch (error) {
          throw new DataDirError(
            `the store in ${dataDir} is in the older format ${format} and must be migrated, but the copy kept before migrating cannot be written in ${backupDir} (${error instanceof Error ? error.message : String(error)}): make that directory writable for this user, or set KLUIS_BACKUP_DIR. Nothing was changed`,
          );
        }
        return path;
      },
    });
  } catch (error) {
    if (error instanceof UnsupportedFormatError) {
      throw new DataDirError(
        `the store in ${dataDir} is in format ${error.found}, written by a newer Kluis than this one (${version}, format ${FORMAT_VERSION}). Nothing was changed. Run that newer release again; to go back to this one, restore a backup taken before the upgrade into an empty directory (docs/DEPLOY.md, "Upgrades")`,
      );
    }
    throw error;
  }
}

/** The opened store and what the check found. */
export interface CheckedStore {
  readonly store: FileStore<CaseRecord, CaseSummary>;
  readonly report: StoreCheckReport;
  /** Lines to print: the summary first, then one per damaged case and about kept orphans. */
  readonly lines: readonly string[];
  readonly damage: boolean;
}

/**
 * Opens the store with damaged records set aside (and `marks`, the spent tickets whose marks
 * ride in its journal, and where to report a failed background checkpoint, if given), checks it (without reading every attachment
 * byte: `npm run check-store` does that), and keeps orphans from retention while there is damage.
 */
export async function openCheckedStore(
  dataDir: string,
  marks?: MarkSink,
  onCheckpointError?: (error: unknown) => void,
): Promise<CheckedStore> {
  // The open reads and validates every record once; the check then looks only at the attachments.
  const uploads = new Map<string, readonly StoredUpload[]>();
  const store = await openFileStore<CaseRecord, CaseSummary>({
    dir: dataDir,
    summarize,
    ...(marks === undefined ? {} : { marks }),
    ...(onCheckpointError === undefined ? {} : { onCheckpointError }),
    validate: (doc, id) => {
      assertCaseRecord(doc, id);
      if (doc.uploads.length > 0) uploads.set(id, doc.uploads);
    },
    onDamaged: (damage) => uploads.delete(damage.id),
  });
  try {
    const damaged = [...store.damaged.values()].map((damage) => ({
      id: damage.id,
      blobIds: damage.blobIds,
      problems:
        damage.error instanceof DamagedRecordError
          ? damage.error.problems
          : damage.error instanceof CorruptRecordError
            ? ['not valid JSON (damaged or cut short)']
            : [damage.reason],
    }));
    const report = await checkStore(store.dir, {
      hashes: false,
      loaded: { cases: store.records.size, uploads, damaged },
    });
    const damage = hasDamage(report);
    const lines = [summaryLine(report), ...damageLines(report)];
    if (damage && report.orphans.length > 0) {
      store.keepBlobs(report.orphans);
      lines.push(
        `${count(report.orphans.length, 'attachment file')} that no case names ${report.orphans.length === 1 ? 'is' : 'are'} kept (not deleted by retention) while the store has damage: one may belong to a damaged case`,
      );
    }
    return { store, report, lines, damage };
  } catch (error) {
    await store.close();
    throw error;
  }
}
