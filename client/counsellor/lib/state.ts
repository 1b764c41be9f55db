/**
 * What this client remembers per server and key, in a small file beside
 * the key file (`<dir>/state/<fingerprint>-<server hash>.json`, mode 0600):
 *
 * - per case, how many messages it has verified and the hash of the last
 *   one (so a server that rolls a case back, or swaps its history, is
 *   caught: PROTOCOL §6), and how many the counsellor has read (unread
 *   counts);
 * - the counsellor and escalation keys the server published when this
 *   client first met it (trust on first use): a key the server adds later
 *   is refused until the counsellor has compared its fingerprint and runs
 *   `trust`, because every reply is sealed to every counsellor key;
 * - per case, the labels the counsellor gave it in the app (their own
 *   words for sorting their work, e.g. "fraud" or "wait for HR"). These
 *   are the counsellor's metadata, kept here like the rest, in plain JSON
 *   readable only by this user (0600 in a 0700 directory): not encrypted,
 *   so a label should not say more than the counsellor would write on a
 *   folder's spine.
 *
 * No message text, no ciphertext: counts, hashes, fingerprints, labels.
 * @module
 */

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { LocalFileError } from './errors.js';

/** What is remembered of one case. */
export interface CaseMemory {
  /** Messages verified so far. */
  readonly count: number;
  /** base64 hash of message count-1. */
  readonly lastHash: string;
  /** Messages the counsellor has read (shown or exported). */
  readonly seen: number;
}

/** A key the counsellor has accepted. */
export interface TrustedKey {
  readonly fingerprint: string;
  readonly role: 'counsellor' | 'escalation';
  readonly name: string;
}

export interface ServerState {
  readonly v: 1;
  readonly server: string;
  readonly trusted: readonly TrustedKey[] | null;
  readonly cases: Readonly<Record<string, CaseMemory>>;
  /** The counsellor's labels per case (absent in files written before labels existed). */
  readonly labels?: Readonly<Record<string, readonly string[]>>;
}

/** Longest label, and most labels on one case. */
export const MAX_LABEL_LENGTH = 40;
export const MAX_LABELS = 20;

/** Labels as the counsellor typed them: trimmed, no control characters, no duplicates, sorted. */
export function cleanLabels(labels: readonly string[]): string[] {
  const clean = labels
    .map((l) =>
      l
        .normalize('NFC')
        .replace(/[\p{Cc}\p{Cf}]/gu, '')
        .trim(),
    )
    .filter((l) => l !== '' && l.length <= MAX_LABEL_LENGTH);
  return [...new Set(clean)].sort((a, b) => a.localeCompare(b)).slice(0, MAX_LABELS);
}

function isLabels(value: unknown): boolean {
  return (
    value === undefined ||
    (typeof value === 'object' &&
      value !== null &&
      Object.values(value).every((v) => Array.isArray(v) && v.every((l) => typeof l === 'string')))
  );
}

function isMemory(value: unknown): value is CaseMemory {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(m.count) &&
    Number.isSafeInteger(m.seen) &&
    typeof m.lastHash === 'string' &&
    (m.count as number) >= 0 &&
    (m.seen as number) >= 0
  );
}

function isTrusted(value: unknown): value is TrustedKey {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t.fingerprint === 'string' &&
    (t.role === 'counsellor' || t.role === 'escalation') &&
    typeof t.name === 'string'
  );
}

/** The state file of one key on one server. */
export class StateStore {
  readonly path: string;
  readonly server: string;
  #state: ServerState;

  private constructor(path: string, server: string, state: ServerState) {
    this.path = path;
    this.server = server;
    this.#state = state;
  }

  /** Where the state of `fingerprint` on `server` lives. */
  static pathFor(dir: string, fingerprint: string, server: string): string {
    const tag = createHash('sha256').update(server).digest('hex').slice(0, 16);
    return join(dir, 'state', `${fingerprint}-${tag}.json`);
  }

  /** Loads (or starts) the state. Throws LocalFileError if the file is damaged. */
  static async load(dir: string, fingerprint: string, server: string): Promise<StateStore> {
    const path = StateStore.pathFor(dir, fingerprint, server);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new LocalFileError(`cannot read ${path}: ${(error as Error).message}`);
    }
    if (text === undefined)
      return new StateStore(path, server, {
        v: 1,
        server,
        trusted: null,
        cases: Object.create(null),
      });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const record = value as Record<string, unknown> | undefined;
    const cases = record?.cases as Record<string, unknown> | undefined;
    if (
      record?.v !== 1 ||
      record.server !== server ||
      typeof cases !== 'object' ||
      cases === null ||
      !Object.values(cases).every(isMemory) ||
      !isLabels(record.labels) ||
      !(
        record.trusted === null ||
        (Array.isArray(record.trusted) && record.trusted.every(isTrusted))
      )
    ) {
      throw new LocalFileError(
        `the state file ${path} is damaged; remove it to start over (this client then forgets what it saw, and cannot tell whether the server rolled a case back)`,
        'state-file',
      );
    }
    return new StateStore(path, server, {
      ...(value as ServerState),
      cases: Object.assign(Object.create(null), cases),
      labels: Object.assign(Object.create(null), record.labels ?? {}),
    });
  }

  get trusted(): readonly TrustedKey[] | null {
    return this.#state.trusted;
  }

  setTrusted(keys: readonly TrustedKey[]): void {
    this.#state = { ...this.#state, trusted: [...keys] };
  }

  memory(caseNumber: string): CaseMemory | undefined {
    return Object.hasOwn(this.#state.cases, caseNumber) ? this.#state.cases[caseNumber] : undefined;
  }

  cases(): string[] {
    return Object.keys(this.#state.cases);
  }

  remember(caseNumber: string, memory: CaseMemory): void {
    (this.#state.cases as Record<string, CaseMemory>)[caseNumber] = memory;
  }

  forget(caseNumber: string): void {
    delete (this.#state.cases as Record<string, CaseMemory>)[caseNumber];
    if (this.#state.labels) delete (this.#state.labels as Record<string, string[]>)[caseNumber];
  }

  /** The counsellor's labels of a case. */
  labels(caseNumber: string): readonly string[] {
    const all = this.#state.labels;
    return all && Object.hasOwn(all, caseNumber) ? all[caseNumber]! : [];
  }

  /** Every label in use, sorted. */
  allLabels(): string[] {
    return cleanLabels(Object.values(this.#state.labels ?? {}).flat());
  }

  /** Sets the labels of a case (cleaned, see cleanLabels); save() writes them. */
  setLabels(caseNumber: string, labels: readonly string[]): readonly string[] {
    const clean = cleanLabels(labels);
    const all: Record<string, readonly string[]> = Object.assign(
      Object.create(null),
      this.#state.labels ?? {},
    );
    if (clean.length === 0) delete all[caseNumber];
    else all[caseNumber] = clean;
    this.#state = { ...this.#state, labels: all };
    return clean;
  }

  /** Writes the state atomically (a new file, fsynced, then renamed over the old one). */
  async save(): Promise<void> {
    const dir = join(this.path, '..');
    const temp = `${this.path}.${Buffer.from(nacl.randomBytes(6)).toString('hex')}.tmp`;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        await handle.writeFile(`${JSON.stringify(this.#state, null, 1)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw new LocalFileError(`cannot write ${this.path}: ${(error as Error).message}`);
    }
  }
}
