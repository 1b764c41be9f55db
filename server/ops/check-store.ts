/**
 * The store check: reads the data directory from outside the store
 * (read-only, safe while the server runs) and reports damage clearly
 * instead of crashing (docs/DEPLOY.md, "Checking the store").
 *
 * Records are read as the server acknowledged them: the journal first,
 * then the record files (record-view.ts). Per case: the record parses, has the shape the server writes
 * (record-check.ts) and names the case of its file. Per attachment a case
 * names: a complete upload's file exists with exactly the announced length
 * and, with `hashes` and where the record keeps one, the SHA-256 recorded
 * when the upload completed; an upload in progress has at most its
 * length. Attachments no case names are orphans (not damage: a crash
 * between two writes leaves them, retention removes them).
 *
 * Without a recorded hash a flipped byte inside an attachment cannot be
 * seen: it is ciphertext the server cannot authenticate. The counsellor's
 * client finds it (the stream does not open).
 *
 * With `times`, it also lists every file and directory whose time is not
 * the store's fixed time (store-times.ts). It reads files without
 * updating their atime where the kernel allows it.
 */

import { statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileQuiet, readFileQuietSync } from '../store/coarse-time.js';
import { isErrno, isTempName } from '../store/durable-fs.js';
import { FORMAT_FILE, FORMAT_VERSION, parseFormatVersion } from '../store/index.js';
import {
  blobPath,
  DEMO_DIR,
  JOURNAL_DIR,
  listBlobs,
  MAX_RECORD_BYTES,
  RECORDS_DIR,
  BLOBS_DIR,
  recordPath,
  SECRET_BYTES,
  SECRET_FILE,
  SPENT_TICKETS_DIR,
  type Strays,
} from './layout.js';
import { RecordView } from './record-view.js';
import { blobIdsIn, checkRecordText, describeProblems } from './record-check.js';
import type { StoredUpload } from '../records.js';
import { checkUpload, isMediaError, sizeOf } from './check-uploads.js';
import { findPreciseTimes, type PreciseTime } from './store-times.js';

export interface CheckOptions {
  /** Also read every complete attachment and compare it with its recorded SHA-256 (reads every byte). */
  readonly hashes?: boolean;
  /**
   * The records as the server's open just read and validated them (at start, with nothing else
   * writing): the check then does not read them again, only the attachments.
   */
  readonly loaded?: LoadedRecords;
  /** Also list files and directories whose times are not the store's fixed time (store-times.ts). */
  readonly times?: boolean;
}

/** What opening the store found (see CheckOptions.loaded). */
export interface LoadedRecords {
  /** Healthy cases loaded. */
  readonly cases: number;
  /** The uploads of each healthy case that has any. */
  readonly uploads: ReadonlyMap<string, readonly StoredUpload[]>;
  /** Records set aside, with why, and the blob ids their text names. */
  readonly damaged: Iterable<{
    readonly id: string;
    readonly problems: readonly string[];
    readonly blobIds: readonly string[];
  }>;
}

/** One damaged case. */
export interface DamagedCase {
  readonly case: string;
  /** The record file, relative to the data directory. */
  readonly path: string;
  /**
   * 'record': the record itself is damaged; the server sets it aside (does not serve it).
   * 'attachments': the record is sound but an attachment is missing, cut or altered; the case
   * is served, that attachment does not download or does not open.
   */
  readonly kind: 'record' | 'attachments';
  readonly problems: readonly string[];
}

export interface StoreCheckReport {
  readonly dir: string;
  /** The FORMAT version found, if any. */
  readonly format: number | undefined;
  /** Whether the records and attachments were checked (only in the current format). */
  readonly checked: boolean;
  readonly cases: number;
  readonly damaged: readonly DamagedCase[];
  /** Complete attachments checked. */
  readonly attachments: number;
  /** Attachments whose bytes were compared with their recorded SHA-256. */
  readonly hashed: number;
  /** Complete attachments without a recorded SHA-256 (completed before Kluis kept one). */
  readonly unhashed: number;
  readonly blobFiles: number;
  readonly blobBytes: number;
  /** Blob files no case names. */
  readonly orphans: readonly string[];
  /** Damage to the store as a whole (FORMAT, server-secret). */
  readonly problems: readonly string[];
  /** Worth knowing, not damage (files that do not belong, fields this version does not know). */
  readonly notes: readonly string[];
  /** Files and directories with a precise time (only with CheckOptions.times; else empty). */
  readonly preciseTimes: readonly PreciseTime[];
}

/** True if the check found damage of any kind. */
export function hasDamage(report: StoreCheckReport): boolean {
  return report.damaged.length > 0 || report.problems.length > 0;
}

// Small files are read synchronously: for thousands of records that is several times faster than
// fs.promises (as the store's own open does), and the check yields to the event loop now and then.
const YIELD_EVERY = 500;

function readText(
  view: RecordView,
  dir: string,
  id: string,
): { text?: string; tooLarge?: number; unreadable?: string } | undefined {
  const journalled = view.fromJournal(id);
  if (journalled !== undefined) return journalled === null ? undefined : { text: journalled };
  const path = join(dir, recordPath(id));
  try {
    const size = statSync(path).size;
    if (size > MAX_RECORD_BYTES) return { tooLarge: size };
    return { text: readFileQuietSync(path).toString('utf8') };
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    if (isMediaError(error)) return { unreadable: (error as NodeJS.ErrnoException).code ?? 'EIO' };
    throw error;
  }
}

/** Checks the store in `dir`; reports damage (an I/O error reading a file included), throws only when it cannot look (EACCES). */
export async function checkStore(
  dir: string,
  options: CheckOptions = {},
): Promise<StoreCheckReport> {
  const hashes = options.hashes === true;
  const problems: string[] = [];
  const notes: string[] = [];
  const empty = {
    dir,
    checked: false,
    cases: 0,
    damaged: [],
    attachments: 0,
    hashed: 0,
    unhashed: 0,
    blobFiles: 0,
    blobBytes: 0,
    orphans: [],
    notes,
    preciseTimes: [],
  };

  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    return { ...empty, format: undefined, problems: [`${dir} does not exist`] };
  }
  if (!info.isDirectory())
    return { ...empty, format: undefined, problems: [`${dir} is not a directory`] };

  let format: number | undefined;
  try {
    const text = await readFileQuiet(join(dir, FORMAT_FILE));
    format = parseFormatVersion(text);
    if (format === undefined)
      problems.push(`${FORMAT_FILE} is damaged: it holds no version number`);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    problems.push(
      `${FORMAT_FILE} is missing: this is not a Kluis data directory, or its FORMAT file was lost (a store in format ${FORMAT_VERSION} has records/ and blobs/)`,
    );
  }
  if (format !== undefined && format !== FORMAT_VERSION) {
    problems.push(
      format > FORMAT_VERSION
        ? `store format ${format} was written by a newer Kluis than this one (format ${FORMAT_VERSION}); check it with that Kluis`
        : `store format ${format} is older than ${FORMAT_VERSION}: start this Kluis once to migrate it (it writes a backup first)`,
    );
    return { ...empty, format, problems };
  }

  try {
    const secret = readFileQuietSync(join(dir, SECRET_FILE));
    if (secret.length !== SECRET_BYTES) {
      problems.push(
        `${SECRET_FILE} has ${secret.length} bytes instead of ${SECRET_BYTES}: delete it and restart (a new one is made; tickets handed out in the last hour stop working)`,
      );
    }
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  for (const name of await readdir(dir)) {
    if (
      ![
        FORMAT_FILE,
        SECRET_FILE,
        RECORDS_DIR,
        BLOBS_DIR,
        JOURNAL_DIR,
        DEMO_DIR,
        SPENT_TICKETS_DIR,
        'lost+found',
      ].includes(name) &&
      !isTempName(name)
    ) {
      notes.push(`${name} does not belong to a Kluis store (left alone)`);
    }
  }

  const strays: Strays = { strays: [] };
  const damaged: DamagedCase[] = [];
  const named = new Set<string>();
  const counts = { hashed: 0, unhashed: 0 };
  let cases = 0;
  let attachments = 0;
  let sinceYield = 0;
  const breathe = async () => {
    if (++sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  if (options.loaded) {
    cases = options.loaded.cases;
    for (const damage of options.loaded.damaged) {
      cases += 1;
      damaged.push({
        case: damage.id,
        path: recordPath(damage.id),
        kind: 'record',
        problems: [...damage.problems],
      });
      for (const blobId of damage.blobIds) named.add(blobId);
    }
    for (const [id, uploads] of options.loaded.uploads) {
      await breathe();
      const found: string[] = [];
      for (const upload of uploads) {
        named.add(upload.id);
        if (upload.complete) attachments += 1;
        found.push(...(await checkUpload(dir, upload, hashes, counts)));
      }
      if (found.length > 0)
        damaged.push({ case: id, path: recordPath(id), kind: 'attachments', problems: found });
    }
  }
  // With `loaded` the server has just replayed the journal into the files; else read it first.
  const view = options.loaded ? undefined : await RecordView.take(dir);
  if (view) {
    problems.push(...view.findings.problems);
    notes.push(...view.findings.notes);
  }
  for (const id of view ? await view.ids(strays) : []) {
    await breathe();
    const path = recordPath(id);
    // A record names its attachments only once it is on disk, and a complete one never changes: read the
    // record, then look at the files. If one is missing or short, the case may have been deleted or changed
    // meanwhile (the server runs): read the record again before calling it damage.
    for (let attempt = 0; attempt < 3; attempt++) {
      // A second attempt takes a new view: the case may have changed or gone since the first.
      const read = readText(attempt === 0 ? view! : await RecordView.take(dir), dir, id);
      if (read === undefined) break;
      if (read.text === undefined) {
        cases += 1;
        const problem = read.unreadable
          ? `the file cannot be read (${read.unreadable}: is the disk failing?)`
          : `the file has ${read.tooLarge} bytes, more than any case can have`;
        damaged.push({ case: id, path, kind: 'record', problems: [problem] });
        break;
      }
      const checked = checkRecordText(read.text, id);
      for (const note of checked.notes) notes.push(`case ${id}: ${note}`);
      if (!checked.record) {
        cases += 1;
        damaged.push({ case: id, path, kind: 'record', problems: checked.problems });
        for (const blobId of blobIdsIn(read.text)) named.add(blobId);
        break;
      }
      const found: string[] = [];
      const before = { ...counts };
      let complete = 0;
      for (const upload of checked.record.uploads) {
        if (upload.complete) complete += 1;
        found.push(...(await checkUpload(dir, upload, hashes, counts)));
      }
      if (found.length > 0 && attempt < 2) {
        const again = readText(await RecordView.take(dir), dir, id);
        if (again?.text !== read.text) {
          Object.assign(counts, before);
          continue;
        }
      }
      cases += 1;
      attachments += complete;
      for (const upload of checked.record.uploads) named.add(upload.id);
      if (found.length > 0) damaged.push({ case: id, path, kind: 'attachments', problems: found });
      break;
    }
  }

  let blobFiles = 0;
  let blobBytes = 0;
  const orphans: string[] = [];
  for await (const id of listBlobs(dir, strays)) {
    await breathe();
    const size = sizeOf(join(dir, blobPath(id)));
    if (size === undefined) continue;
    blobFiles += 1;
    blobBytes += size;
    if (!named.has(id)) orphans.push(id);
  }
  for (const stray of strays.strays)
    notes.push(`${stray} does not belong to a Kluis store (left alone)`);
  const preciseTimes = options.times === true ? await findPreciseTimes(dir) : [];
  return {
    dir,
    format,
    checked: true,
    cases,
    damaged,
    attachments,
    hashed: counts.hashed,
    unhashed: counts.unhashed,
    blobFiles,
    blobBytes,
    orphans,
    problems,
    notes,
    preciseTimes,
  };
}

/** "1 case", "2 cases". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function megabytes(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${Math.ceil(bytes / 1024)} KB`
    : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** One line: what was checked and whether there is damage. */
export function summaryLine(report: StoreCheckReport): string {
  if (!report.checked) return `store check: ${report.problems.join('; ')}`;
  const what = `${count(report.cases, 'case')}, ${count(report.attachments, 'attachment')} (${megabytes(report.blobBytes)} in ${count(report.blobFiles, 'file')})`;
  const hashed = report.hashed > 0 ? `, ${report.hashed} compared with their SHA-256` : '';
  if (!hasDamage(report)) return `store check: ${what}${hashed}: no damage found`;
  const parts = [];
  if (report.problems.length > 0) parts.push(report.problems.join('; '));
  if (report.damaged.length > 0) parts.push(`${count(report.damaged.length, 'damaged case')}`);
  return `store check: ${what}${hashed}: DAMAGE: ${parts.join('; ')}`;
}

/** One line per damaged case, saying whether the server serves it. */
export function damageLines(report: StoreCheckReport): string[] {
  return report.damaged.map((d) =>
    d.kind === 'record'
      ? `damaged case ${d.case} (${d.path}): ${describeProblems(d.problems)}. Not served until repaired.`
      : `damaged case ${d.case}: ${describeProblems(d.problems)}. The case is served; this attachment will not open.`,
  );
}
