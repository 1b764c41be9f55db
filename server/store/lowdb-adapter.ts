/**
 * A lowdb adapter for one small JSON file that is written atomically AND durably.
 *
 * What lowdb does in this store, exactly: its Adapter interface (read() / write(data) of one
 * JSON document) is the shape of every record file, and this class implements it. The record
 * store reads a record file through read(); it does not write through write(): a record write
 * goes to the journal (journal.ts) as the same text (serialiseRecord), and a checkpoint
 * (checkpoint.ts) writes that text into the file. lowdb's Low is not used: Low keeps one
 * document in memory and rewrites it whole on each write, which is what a one-file database
 * wants, while this store keeps only summaries in memory (a Low per record would hold every
 * case's ciphertext) and indexes, locks and journals records itself. The record files stay
 * readable by lowdb's own JSONFile (compact JSON and a newline), e.g. for a one-off script.
 *
 * lowdb's own JSONFile writes through steno, which renames a temp file into place but never
 * calls fsync: after a power loss the file can be empty or missing. This adapter writes a temp
 * file in the same directory, fsyncs it, renames it over the target and fsyncs the directory
 * (group-committed through the shared DirSyncer): what write() does, for a caller that writes
 * one record file outside the journal.
 */
import type { Adapter } from 'lowdb';
import { readFileQuiet } from './coarse-time.js';
import { type DirSyncer, isErrno, writeFileAtomic } from './durable-fs.js';
import { CorruptRecordError } from './errors.js';

export class DurableJsonFile<T> implements Adapter<T> {
  readonly #path: string;
  readonly #dirs: DirSyncer;

  constructor(path: string, dirs: DirSyncer) {
    this.#path = path;
    this.#dirs = dirs;
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      // Without touching atime: a read is a reporter or counsellor coming back.
      text = await readFileQuiet(this.#path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
    return parseRecord<T>(text, this.#path);
  }

  async write(data: T): Promise<void> {
    await writeFileAtomic(this.#path, serialiseRecord(data), this.#dirs);
  }
}

/** The on-disk form of a record: compact JSON and a newline. */
export const serialiseRecord = (data: unknown): string => `${JSON.stringify(data)}\n`;

export function parseRecord<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CorruptRecordError(path, { cause: error });
  }
}
