/**
 * The counsellor's case operations, for the CLI and the local app: one
 * session = one unlocked identity talking to one server. Here: the server's
 * keys and the trust in them, opening a case (every message checked:
 * signatures, authors, recipients, chain, and against what this client saw
 * before), files, deletion. The inbox is inbox.ts, every write writing.ts;
 * the session's methods lead there.
 * @module
 */

import { createNativeVerifier } from '../../../crypto-node/verify.js';
import {
  type CaseStatus,
  fingerprintOf,
  type Identity,
  KluisError,
  type RecipientKey,
  type SignatureVerifier,
  toBase64,
  type VerifiedBundle,
  verifyBundle,
} from '../../../crypto/index.js';
import { type CaseDetail, CounsellorApi, type ServerInfo } from './api.js';
import {
  type MemoryFile,
  prepareDirectory,
  type SavedFile,
  saveAttachment,
} from './attachments.js';
import { IntegrityError, ServerRefusedError } from './errors.js';
import type { Transport } from './http.js';
import { type HandoverResult, handover } from './handover.js';
import { type Inbox, readInbox } from './inbox.js';
import { InboxCache } from './inbox-cache.js';
import { createNativeRequestSigner, createNativeUnwrapper, type Unwrapper } from './native.js';
import { type CaseView, type OpenContext, openCaseDetail } from './open-case.js';
import { defaultWorkerCount } from './open-pool.js';
import { StateStore, type TrustedKey } from './state.js';
import {
  acknowledge,
  addNote,
  append,
  forward,
  reply,
  requireCounsellor,
  setStatus,
} from './writing.js';

export type { CaseView, MessageAuthor, MessageView, NoteView } from './open-case.js';
export type { Inbox, InboxEntry } from './inbox.js';
export { mapConcurrent } from './inbox.js';
export { requireConsent } from './writing.js';

/** The server's keys after verification and the trust check. */
export interface VerifiedInfo {
  readonly raw: ServerInfo;
  readonly counsellors: readonly VerifiedBundle[];
  readonly escalation: readonly VerifiedBundle[];
  /** Keys first trusted just now (first contact with this server). */
  readonly newlyTrusted: readonly TrustedKey[];
}

/** How to open a session. */
export interface SessionOptions {
  readonly identity: Identity;
  readonly server: string;
  /** The directory beside the key file: state is kept under it. */
  readonly stateDir: string;
  readonly proxy?: string | undefined;
  readonly transport?: Transport;
  readonly now?: () => Date;
  /** Parallel case fetches for the inbox (default 8). */
  readonly concurrency?: number;
  /** Worker threads that open cases for the inbox (default: see open-pool.ts; 0 = none). */
  readonly workers?: number;
}

/** An unlocked identity talking to one server. */
export class CounsellorSession {
  readonly identity: Identity;
  readonly fingerprint: string;
  readonly api: CounsellorApi;
  readonly state: StateStore;
  readonly verifier: SignatureVerifier = createNativeVerifier();
  readonly #key: RecipientKey;
  /** Opens content keys with the native X25519 (native.ts). */
  readonly unwrap: Unwrapper;
  /** The clock (tests move it). */
  readonly now: () => Date;
  /** Parallel case fetches for the inbox. */
  readonly concurrency: number;
  /** Worker threads for opening cases in the inbox. */
  readonly workers: number;
  #info: VerifiedInfo | undefined;
  /**
   * "Since the last visit": per case, the messages this client had verified when this session
   * began (the state file as the previous session, app or CLI, left it). A case missing here
   * was not known then. Kept in memory; the state file is the only thing on disk.
   */
  readonly knownAtStart: ReadonlyMap<string, number>;
  #cache: Promise<InboxCache> | undefined;

  private constructor(options: SessionOptions, state: StateStore, api: CounsellorApi) {
    this.identity = options.identity;
    this.fingerprint = fingerprintOf(options.identity.sign.publicKey);
    this.state = state;
    this.knownAtStart = new Map(state.cases().map((c) => [c, state.memory(c)!.count]));
    this.api = api;
    this.#key = {
      fingerprint: this.fingerprint,
      boxPublicKey: options.identity.box.publicKey,
      boxSecretKey: options.identity.box.secretKey,
    };
    this.unwrap = createNativeUnwrapper(this.#key);
    this.now = options.now ?? (() => new Date());
    this.concurrency = options.concurrency ?? 8;
    this.workers = options.workers ?? defaultWorkerCount();
  }

  /** Opens a session (no request is made yet). */
  static async open(options: SessionOptions): Promise<CounsellorSession> {
    const api = new CounsellorApi({
      server: options.server,
      signer: createNativeRequestSigner(options.identity.sign.secretKey),
      proxy: options.proxy,
      ...(options.transport ? { transport: options.transport } : {}),
    });
    const server = api.base.href.replace(/\/$/, '');
    const state = await StateStore.load(
      options.stateDir,
      fingerprintOf(options.identity.sign.publicKey),
      server,
    );
    return new CounsellorSession(options, state, api);
  }

  get role(): 'counsellor' | 'escalation' {
    return this.identity.role;
  }

  close(): void {
    this.api.close();
  }

  /**
   * Closes the session and overwrites the unlocked secret keys in memory
   * (the app's lock and idle lock): this session cannot be used again.
   */
  forget(): void {
    this.close();
    this.identity.box.secretKey.fill(0);
    this.identity.sign.secretKey.fill(0);
    this.#info = undefined;
    this.#cache?.then(
      (cache) => cache.forget(),
      () => {},
    );
    this.#cache = undefined;
  }

  /** The encrypted inbox cache of this key on this server (inbox-cache.ts), loaded once. */
  inboxCache(): Promise<InboxCache> {
    if (!this.#cache) {
      this.#cache = InboxCache.load(this.state.path, this.identity.box.secretKey);
      this.#cache.catch(() => {
        this.#cache = undefined;
      });
    }
    return this.#cache;
  }

  /**
   * The server's published keys, each signature verified, checked against
   * the keys this client trusted before. Throws IntegrityError if the
   * server now publishes a key not yet trusted.
   */
  async serverInfo(): Promise<VerifiedInfo> {
    if (this.#info) return this.#info;
    const raw = await this.api.info();
    const verify = (list: readonly unknown[], role: 'counsellor' | 'escalation') =>
      list.map((value, i) => {
        let bundle: VerifiedBundle;
        try {
          bundle = verifyBundle(value, this.verifier);
        } catch (error) {
          if (error instanceof KluisError)
            throw new IntegrityError(
              `the server publishes a ${role} bundle (#${i + 1}) that does not verify: ${error.message}`,
              [],
              'bad-server-bundle',
            );
          throw error;
        }
        if (bundle.role !== role)
          throw new IntegrityError(
            `the server lists a bundle with role ${bundle.role} among the ${role} keys`,
            [],
            'bad-server-bundle',
          );
        return bundle;
      });
    const counsellors = verify(raw.counsellors, 'counsellor');
    const escalation = verify(raw.escalation, 'escalation');
    const mine = (this.role === 'counsellor' ? counsellors : escalation).some(
      (b) => b.fingerprint === this.fingerprint,
    );
    if (!mine) {
      throw new ServerRefusedError(
        0,
        'key-not-configured',
        `${this.api.base.origin} does not list your key (${this.fingerprint}) among its ${this.role} keys: give the operator your bundle (export-bundle)`,
        undefined,
      );
    }
    const current: TrustedKey[] = [...counsellors, ...escalation].map((b) => ({
      fingerprint: b.fingerprint,
      role: b.role,
      name: b.name,
    }));
    let newlyTrusted: TrustedKey[] = [];
    const trusted = this.state.trusted;
    if (trusted === null) {
      this.state.setTrusted(current);
      await this.state.save();
      newlyTrusted = current;
    } else {
      const unknown = current.filter(
        (k) => !trusted.some((t) => t.fingerprint === k.fingerprint && t.role === k.role),
      );
      if (unknown.length > 0) {
        throw new IntegrityError(
          'the server publishes keys you have not trusted yet; every reply would be sealed to them. Compare their fingerprints with the ones your organisation publishes, then run `kluis-counsellor trust`',
          unknown.map((k) => `${k.role} ${k.fingerprint} ${k.name}`),
          'untrusted-keys',
        );
      }
    }
    this.#info = { raw, counsellors, escalation, newlyTrusted };
    return this.#info;
  }

  /** Accepts the keys the server publishes now (after the counsellor compared fingerprints). */
  async trustServerKeys(): Promise<{
    added: TrustedKey[];
    removed: TrustedKey[];
    all: TrustedKey[];
  }> {
    const before = this.state.trusted ?? [];
    this.state.setTrusted([]); // verify without the trust check
    this.#info = undefined;
    try {
      const raw = await this.api.info();
      const all = [...raw.counsellors, ...raw.escalation].map((value) => {
        try {
          const b = verifyBundle(value, this.verifier);
          return { fingerprint: b.fingerprint, role: b.role, name: b.name };
        } catch (error) {
          if (error instanceof KluisError)
            throw new IntegrityError(
              `the server publishes a bundle that does not verify: ${error.message}`,
              [],
              'bad-server-bundle',
            );
          throw error;
        }
      });
      const added = all.filter(
        (k) => !before.some((t) => t.fingerprint === k.fingerprint && t.role === k.role),
      );
      const removed = before.filter(
        (t) => !all.some((k) => t.fingerprint === k.fingerprint && t.role === k.role),
      );
      this.state.setTrusted(all);
      await this.state.save();
      return { added, removed, all };
    } catch (error) {
      this.state.setTrusted(before);
      throw error;
    }
  }

  /** What opening a case of this session needs (see open-case.ts). */
  openContext(info: VerifiedInfo, caseNumber: string): OpenContext {
    return {
      role: this.role,
      fingerprint: this.fingerprint,
      unwrap: this.unwrap,
      verifier: this.verifier,
      counsellors: info.counsellors.map((b) => ({
        fingerprint: b.fingerprint,
        signPublicKey: b.signPublicKey,
      })),
      escalation: info.escalation.map((b) => b.fingerprint),
      names: [...info.counsellors, ...info.escalation].map((b) => [b.fingerprint, b.name] as const),
      memory: this.state.memory(caseNumber),
    };
  }

  /** Opens and checks a case the server returned. Pure with respect to the network. */
  openDetail(detail: CaseDetail, info: VerifiedInfo): CaseView {
    return openCaseDetail(detail, this.openContext(info, detail.case));
  }

  /** Fetches, opens and checks one case; remembers what verified. */
  async openCase(caseNumber: string): Promise<CaseView> {
    const info = await this.serverInfo();
    const view = this.openDetail(await this.api.getCase(caseNumber), info);
    await this.remember(view, false);
    return view;
  }

  /** Remembers what verified of a case (rollback detection, unread count); `read` marks it all read. */
  async remember(view: CaseView, read: boolean, save = true): Promise<void> {
    if (!view.intact || !view.lastHash) return;
    const before = this.state.memory(view.caseNumber);
    const count = view.messages.length;
    const seen = read ? count : Math.min(before?.seen ?? 0, count);
    if (before && before.count === count && before.seen === seen) return;
    this.state.remember(view.caseNumber, { count, lastHash: toBase64(view.lastHash), seen });
    if (save) await this.state.save();
  }

  /** Marks every message of a case as read (after showing or exporting it). */
  async markRead(view: CaseView): Promise<void> {
    await this.remember(view, true);
  }

  /** The inbox: see inbox.ts (`full`: open every case again, not only the ones that changed). */
  inbox(options: { workers?: number; pageSize?: number; full?: boolean } = {}): Promise<Inbox> {
    return readInbox(this, options);
  }

  /** Appends one message to the conversation: see writing.ts. */
  append(caseNumber: string, build: Parameters<typeof append>[2]): ReturnType<typeof append> {
    return append(this, caseNumber, build);
  }

  /** Replies to the reporter, with optional attachments (uploaded first). */
  reply(
    caseNumber: string,
    text: string,
    files: readonly (string | MemoryFile)[] = [],
  ): ReturnType<typeof reply> {
    return reply(this, caseNumber, text, files);
  }

  /** Records a status the reporter sees, and the server's coarse status. */
  setStatus(caseNumber: string, status: CaseStatus, text = ''): ReturnType<typeof setStatus> {
    return setStatus(this, caseNumber, status, text);
  }

  /** Sends the signed acknowledgement of receipt (once). */
  acknowledge(caseNumber: string, text?: string): ReturnType<typeof acknowledge> {
    return acknowledge(this, caseNumber, text);
  }

  /** Adds a private note, sealed for the counsellors only. */
  addNote(caseNumber: string, text: string): ReturnType<typeof addNote> {
    return addNote(this, caseNumber, text);
  }

  /** Forwards a case to an escalation recipient, only with the reporter's consent. */
  forward(caseNumber: string, bundleValue: unknown, text = ''): ReturnType<typeof forward> {
    return forward(this, caseNumber, bundleValue, text);
  }

  /** Hands a case to a trusted colleague's key (fingerprint): see handover.ts. */
  handover(caseNumber: string, to: string, text = ''): Promise<HandoverResult> {
    return handover(this, caseNumber, to, text);
  }

  /** Saves the attachments of a case (or of one message) into `dir`. */
  async saveAttachments(
    view: CaseView,
    dir: string,
    options: { index?: number } = {},
  ): Promise<SavedFile[]> {
    const real = await prepareDirectory(dir);
    const saved: SavedFile[] = [];
    const failures: string[] = [];
    for (const { index, ref } of view.attachments) {
      if (options.index !== undefined && index !== options.index) continue;
      try {
        saved.push(await saveAttachment(this.api, view.caseNumber, ref, real));
      } catch (error) {
        if (error instanceof IntegrityError)
          failures.push(...error.problems.map((p) => `message ${index}, ${p}`));
        else throw error;
      }
    }
    if (failures.length > 0)
      throw new IntegrityError(
        `${failures.length} attachment(s) of case ${view.caseNumber} did not verify`,
        failures,
        'attachment-not-verified',
      );
    return saved;
  }

  /** Deletes a case on the server and forgets it here. */
  async deleteCase(caseNumber: string): Promise<void> {
    requireCounsellor(this, 'delete a case');
    await this.api.deleteCase(caseNumber);
    this.state.forget(caseNumber);
    await this.state.save();
  }
}
