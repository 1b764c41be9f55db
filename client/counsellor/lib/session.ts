/**
 * The counsellor's case operations, for the CLI and a later local web app:
 * one session = one unlocked identity talking to one server. Every read
 * opens and checks every message (signatures, authors, chain, and against
 * what this client saw before); every write re-reads the case, refuses to
 * build on a history that does not verify, seals for the reporter and every
 * trusted counsellor at seq = message count, prev = hash of the last
 * message, and retries on 409 seq-conflict.
 * @module
 */

import { createNativeVerifier } from '../../../crypto-node/verify.js';
import {
  type AttachmentRef,
  type CaseStatus,
  type Consent,
  type Content,
  encodeContent,
  fingerprintOf,
  GENESIS_HASH,
  type Identity,
  KluisError,
  MAX_TEXT_LENGTH,
  parseEnvelope,
  type Recipient,
  type RecipientKey,
  type SignatureVerifier,
  sealEnvelope,
  toBase64,
  type VerifiedBundle,
  verifyBundle,
  wrapContentKey,
} from '../../../crypto/index.js';
import {
  type CaseDetail,
  type CaseDetailsPage,
  type CaseListing,
  CounsellorApi,
  MAX_CASE_DETAILS,
  type ServerInfo,
} from './api.js';
import { prepareDirectory, type SavedFile, saveAttachment, uploadFile } from './attachments.js';
import { caseDeadlines, dayOfHour, type Deadline } from './deadlines.js';
import {
  CounsellorError,
  EXIT,
  IntegrityError,
  NetworkError,
  PolicyError,
  ServerRefusedError,
  UsageError,
} from './errors.js';
import type { Transport } from './http.js';
import {
  createNativeRequestSigner,
  createNativeUnwrapper,
  type Unwrapper,
} from './native.js';
import { type CaseView, type OpenContext, openCaseDetail } from './open-case.js';
import { defaultWorkerCount, OpenPool } from './open-pool.js';
import { StateStore, type TrustedKey } from './state.js';

export type { CaseView, MessageAuthor, MessageView, NoteView } from './open-case.js';

/** One row of the inbox. */
export interface InboxEntry {
  readonly caseNumber: string;
  readonly listing: CaseListing;
  readonly status: CaseStatus;
  readonly receivedDay: string;
  readonly messages: number;
  readonly unread: number;
  readonly consent?: Consent;
  readonly addressAs?: string;
  readonly deadlines: { readonly acknowledge: Deadline; readonly feedback: Deadline };
  readonly intact: boolean;
  readonly problems: readonly string[];
}

/** The inbox and what it noticed beside the cases. */
export interface Inbox {
  readonly entries: readonly InboxEntry[];
  /** Cases this client knew that the server no longer lists (deleted by a colleague, or dropped). */
  readonly vanished: readonly string[];
}

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

/** Below this many cases the inbox opens them in place: starting workers costs more than it saves. */
const MIN_CASES_FOR_WORKERS = 64;

const ISO_SECOND = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;
const MAX_WRITE_ATTEMPTS = 6;

const DEFAULT_ACK_TEXT: Record<'nl' | 'en', string> = {
  nl: 'Wij hebben uw melding ontvangen. Deze ontvangstbevestiging is ondertekend en noemt de datum van ontvangst. Binnen drie maanden hoort u van ons wat er met uw melding gebeurt.',
  en: 'We have received your report. This acknowledgement of receipt is signed and states the date we received it. Within three months you will hear from us what is done with your report.',
};

/** Runs `work` over `items` with at most `limit` in flight, keeping order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  });
  await Promise.all(runners);
  return results;
}

/** An unlocked identity talking to one server. */
export class CounsellorSession {
  readonly identity: Identity;
  readonly fingerprint: string;
  readonly api: CounsellorApi;
  readonly state: StateStore;
  readonly verifier: SignatureVerifier = createNativeVerifier();
  readonly #key: RecipientKey;
  readonly #unwrap: Unwrapper;
  readonly #now: () => Date;
  readonly #concurrency: number;
  readonly #workers: number;
  #info: VerifiedInfo | undefined;

  private constructor(options: SessionOptions, state: StateStore, api: CounsellorApi) {
    this.identity = options.identity;
    this.fingerprint = fingerprintOf(options.identity.sign.publicKey);
    this.state = state;
    this.api = api;
    this.#key = {
      fingerprint: this.fingerprint,
      boxPublicKey: options.identity.box.publicKey,
      boxSecretKey: options.identity.box.secretKey,
    };
    this.#unwrap = createNativeUnwrapper(this.#key);
    this.#now = options.now ?? (() => new Date());
    this.#concurrency = options.concurrency ?? 8;
    this.#workers = options.workers ?? defaultWorkerCount();
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
            );
          throw error;
        }
        if (bundle.role !== role)
          throw new IntegrityError(
            `the server lists a bundle with role ${bundle.role} among the ${role} keys`,
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
      unwrap: this.#unwrap,
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
    await this.#remember(view, false);
    return view;
  }

  async #remember(view: CaseView, read: boolean, save = true): Promise<void> {
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
    await this.#remember(view, true);
  }

  /**
   * The inbox: every case listed, fetched, opened and checked. The cases
   * come in pages of whole cases (GET …/case-details, a few signed requests
   * instead of one per case; the next page is fetched while this one is
   * opened); a listed case missing from the pages (it changed in between),
   * or a server without that route, falls back to one request per case.
   * With many cases, opening runs in worker threads (`workers`, default:
   * one fewer than the cores, see open-pool.ts).
   */
  async inbox(options: { workers?: number; pageSize?: number } = {}): Promise<Inbox> {
    const info = await this.serverInfo();
    const listing = await this.api.listCases();
    const size = listing.length >= MIN_CASES_FOR_WORKERS ? (options.workers ?? this.#workers) : 0;
    let pool: OpenPool | undefined;
    try {
      pool = OpenPool.create(
        {
          role: this.role,
          fingerprint: this.fingerprint,
          boxPublicKey: this.identity.box.publicKey,
          boxSecretKey: this.identity.box.secretKey,
        },
        size,
      );
    } catch {
      pool = undefined; // no worker threads here: open in place
    }
    try {
      const now = this.#now();
      const open = async (detail: CaseDetail): Promise<CaseView> => {
        const context = this.openContext(info, detail.case);
        if (pool && !pool.broken) {
          try {
            return await pool.open(detail, context);
          } catch {
            // a worker failed (e.g. cannot load): open here instead
          }
        }
        return openCaseDetail(detail, context);
      };
      const listed = new Set(listing.map((item) => item.case));
      const views = new Map<string, Promise<CaseView>>();
      if (listing.length > 0) {
        for await (const page of this.#detailPages(listing.length, options.pageSize)) {
          for (const detail of page) {
            // Cases that arrived after the listing wait for the next inbox.
            if (!listed.has(detail.case)) continue;
            const view = open(detail);
            view.catch(() => {}); // awaited below
            views.set(detail.case, view);
          }
        }
      }
      const entries = await mapConcurrent(
        listing,
        pool ? 2 * this.#concurrency : this.#concurrency,
        async (item): Promise<InboxEntry> => {
          const view = await (views.get(item.case) ?? open(await this.api.getCase(item.case)));
          await this.#remember(view, false, false);
          const closed = item.status === 'closed';
          return {
            caseNumber: item.case,
            listing: item,
            status: item.status,
            receivedDay: dayOfHour(item.reportHour),
            messages: view.messages.length,
            unread: view.unread,
            ...(view.consent ? { consent: view.consent } : {}),
            ...(view.report ? { addressAs: view.report.addressAs } : {}),
            deadlines: caseDeadlines(
              {
                reportHour: item.reportHour,
                ackHour: item.ackHour ?? view.ack?.hour ?? null,
                feedbackGiven: view.feedbackGiven,
                closed,
              },
              now,
            ),
            intact: view.intact,
            problems: view.problems,
          };
        },
      );
      return await this.#finishInbox(listing, entries);
    } finally {
      await pool?.close();
    }
  }

  /**
   * Whole cases, page by page, the following page requested as soon as this
   * one arrived. Ends early (the caller falls back to one request per case)
   * when the server does not have the case-details route. At most enough
   * pages for `expected` cases and a margin: a server cannot keep the
   * client paging for ever.
   */
  async *#detailPages(
    expected: number,
    pageSize = MAX_CASE_DETAILS,
  ): AsyncGenerator<readonly CaseDetail[]> {
    const maxPages = Math.ceil(expected / pageSize) + 16;
    const fetchPage = (after: string | undefined) => {
      const promise = this.api.caseDetails(after, pageSize);
      promise.catch(() => {}); // awaited below; not an unhandled rejection if the caller stops early
      return promise;
    };
    let pending = fetchPage(undefined);
    for (let pages = 1; ; pages++) {
      let page: CaseDetailsPage;
      try {
        page = await pending;
      } catch (error) {
        // An older server without the route: 404 (not-found) or 405 on the first page.
        if (
          pages === 1 &&
          error instanceof ServerRefusedError &&
          (error.status === 404 || error.status === 405)
        )
          return;
        throw error;
      }
      const next = page.next !== null && pages < maxPages ? page.next : null;
      if (next !== null) {
        pending = fetchPage(next);
        // Let the request go out before this page is opened (in place, that keeps this thread busy).
        await new Promise((resolve) => setImmediate(resolve));
      }
      yield page.cases;
      if (next === null) return;
    }
  }

  async #finishInbox(listing: readonly CaseListing[], entries: InboxEntry[]): Promise<Inbox> {
    const listed = new Set(listing.map((item) => item.case));
    const vanished = this.state.cases().filter((c) => !listed.has(c));
    for (const c of vanished) this.state.forget(c);
    await this.state.save();
    return { entries, vanished };
  }

  #recipients(view: CaseView, info: VerifiedInfo, extra: readonly Recipient[] = []): Recipient[] {
    if (!view.reporter)
      throw new IntegrityError(
        `case ${view.caseNumber} has no readable report: cannot tell whom to seal for`,
      );
    const all = [
      view.reporter,
      ...info.counsellors.map((b) => ({
        fingerprint: b.fingerprint,
        boxPublicKey: b.boxPublicKey,
      })),
      ...extra,
    ];
    return all.filter((r, i) => all.findIndex((s) => s.fingerprint === r.fingerprint) === i);
  }

  #requireCounsellor(what: string): void {
    if (this.role !== 'counsellor')
      throw new PolicyError(`an escalation key cannot ${what}: only counsellors write in a case`);
  }

  /**
   * Appends one message to the conversation. `build` sees the freshly
   * opened case (and may refuse); on a seq-conflict the case is re-read and
   * the message re-sealed.
   */
  async append(
    caseNumber: string,
    build: (view: CaseView) => {
      content: Content;
      status?: CaseStatus;
      ack?: true;
      extraRecipients?: readonly Recipient[];
    },
  ): Promise<{ seq: number; hour: number; view: CaseView }> {
    this.#requireCounsellor('write in a case');
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const info = await this.serverInfo();
      const view = await this.openCase(caseNumber);
      if (!view.intact) {
        throw new IntegrityError(
          `case ${caseNumber} does not verify; refusing to write on top of it`,
          view.problems,
        );
      }
      const { content, status, ack, extraRecipients } = build(view);
      const seq = view.messages.length;
      const sealed = sealEnvelope({
        caseNumber,
        seq,
        prev: view.lastHash ?? GENESIS_HASH,
        author: this.identity.sign,
        content: encodeContent(content),
        recipients: this.#recipients(view, info, extraRecipients),
      });
      try {
        const result = await this.api.postMessage(caseNumber, {
          seq,
          envelope: sealed.envelope,
          ...(status ? { status } : {}),
          ...(ack ? { ack } : {}),
        });
        const before = this.state.memory(caseNumber);
        this.state.remember(caseNumber, {
          count: seq + 1,
          lastHash: toBase64(sealed.hash),
          seen: before?.seen ?? 0,
        });
        await this.state.save();
        return { ...result, view };
      } catch (error) {
        if (
          error instanceof ServerRefusedError &&
          error.code === 'seq-conflict' &&
          attempt < MAX_WRITE_ATTEMPTS
        )
          continue;
        throw error;
      }
    }
    throw new NetworkError(`case ${caseNumber} kept changing while writing; try again`);
  }

  #now8601(): string {
    return ISO_SECOND(this.#now());
  }

  /** Replies to the reporter, with optional attachments (uploaded first). */
  async reply(
    caseNumber: string,
    text: string,
    files: readonly string[] = [],
  ): Promise<{ seq: number; hour: number; attachments: AttachmentRef[] }> {
    this.#requireCounsellor('reply');
    checkText(text, files.length > 0);
    const info = await this.serverInfo();
    await this.openCase(caseNumber); // fail early (unknown case, broken history) before uploading anything
    const attachments: AttachmentRef[] = [];
    for (const file of files)
      attachments.push(
        await uploadFile(this.api, caseNumber, file, { maxFileBytes: info.raw.maxFileBytes }),
      );
    const result = await this.append(caseNumber, () => ({
      content: { v: 1, type: 'message', time: this.#now8601(), text, attachments },
    }));
    return { seq: result.seq, hour: result.hour, attachments };
  }

  /** Records a status the reporter sees, and the server's coarse status. */
  async setStatus(
    caseNumber: string,
    status: CaseStatus,
    text = '',
  ): Promise<{ seq: number; hour: number }> {
    checkText(text, true);
    return this.append(caseNumber, () => ({
      content: { v: 1, type: 'status', time: this.#now8601(), status, text },
      status,
    }));
  }

  /** Sends the signed acknowledgement of receipt (once). */
  async acknowledge(
    caseNumber: string,
    text?: string,
  ): Promise<{ seq: number; hour: number; receivedDate: string }> {
    if (text !== undefined) checkText(text, true);
    let receivedDate = '';
    const result = await this.append(caseNumber, (view) => {
      if (view.ack) {
        throw new PolicyError(
          `case ${caseNumber} was acknowledged already (message ${view.ack.index}, ${view.ack.content.receivedDate})`,
        );
      }
      receivedDate = dayOfHour(view.detail.messages[0]!.hour);
      const language = view.report?.language ?? 'en';
      return {
        content: {
          v: 1,
          type: 'ack',
          time: this.#now8601(),
          reportHash: view.messages[0]!.hash!,
          receivedDate,
          text: text ?? DEFAULT_ACK_TEXT[language],
        },
        ack: true,
      };
    });
    return { seq: result.seq, hour: result.hour, receivedDate };
  }

  /** Adds a private note, sealed for the counsellors only. */
  async addNote(caseNumber: string, text: string): Promise<{ seq: number; hour: number }> {
    this.#requireCounsellor('write notes');
    checkText(text, false);
    const info = await this.serverInfo();
    const view = await this.openCase(caseNumber);
    const noteProblems = view.problems.filter((p) => p.startsWith('note '));
    if (noteProblems.length > 0)
      throw new IntegrityError(
        `the notes of case ${caseNumber} do not verify; refusing to add one`,
        noteProblems,
      );
    const sealed = sealEnvelope({
      caseNumber,
      seq: view.detail.notes.length,
      prev: view.lastNoteHash ?? GENESIS_HASH,
      author: this.identity.sign,
      content: encodeContent({ v: 1, type: 'note', time: this.#now8601(), text }),
      recipients: info.counsellors.map((b) => ({
        fingerprint: b.fingerprint,
        boxPublicKey: b.boxPublicKey,
      })),
    });
    return this.api.postNote(caseNumber, sealed.envelope);
  }

  /**
   * Forwards a case to an escalation recipient, only with the reporter's
   * consent: wraps every message's content key for it, then records the
   * forward in the conversation (sealed for it too).
   */
  async forward(
    caseNumber: string,
    bundleValue: unknown,
    text = '',
  ): Promise<{ to: VerifiedBundle; forwardedTo: readonly string[]; seq: number }> {
    this.#requireCounsellor('forward a case');
    checkText(text, true);
    let recipient: VerifiedBundle;
    try {
      recipient = verifyBundle(bundleValue, this.verifier);
    } catch (error) {
      if (error instanceof KluisError)
        throw new UsageError(`the --to bundle is not a valid Kluis bundle: ${error.message}`);
      throw error;
    }
    if (recipient.role !== 'escalation')
      throw new UsageError(
        `the --to bundle is a ${recipient.role} bundle, not an escalation recipient's`,
      );
    const info = await this.serverInfo();
    if (!info.escalation.some((b) => b.fingerprint === recipient.fingerprint)) {
      throw new PolicyError(
        `the server does not list ${recipient.fingerprint} (${recipient.name}) as an escalation recipient; ask the operator to configure it`,
      );
    }
    const target = { fingerprint: recipient.fingerprint, boxPublicKey: recipient.boxPublicKey };
    // The record comes first: a key wrapped for the recipient before the conversation says the
    // case was forwarded with consent would be an unexpected recipient to every reader.
    let seq: number | undefined;
    const before = await this.openCase(caseNumber);
    if (!before.forwardedTo.includes(recipient.fingerprint)) {
      const result = await this.append(caseNumber, (view) => {
        requireConsent(view);
        return {
          content: {
            v: 1,
            type: 'forwarded',
            time: this.#now8601(),
            to: recipient.fingerprint,
            name: recipient.name,
            text,
          },
          status: 'forwarded',
          extraRecipients: [target],
        };
      });
      seq = result.seq;
    }
    let forwardedTo: readonly string[] = [];
    for (let attempt = 1; ; attempt++) {
      const view = await this.openCase(caseNumber);
      if (!view.intact)
        throw new IntegrityError(
          `case ${caseNumber} does not verify; refusing to forward it`,
          view.problems,
        );
      requireConsent(view);
      // Only messages not yet addressed to the recipient (a second forward brings it up to date).
      const keys = view.contentKeys.flatMap((contentKey, index) =>
        parseEnvelope(view.detail.messages[index]!.envelope).keys.some(
          (k) => k.to === recipient.fingerprint,
        )
          ? []
          : [{ seq: index, key: wrapContentKey(contentKey!, target) }],
      );
      if (keys.length === 0) {
        if (seq !== undefined) break;
        throw new PolicyError(
          `case ${caseNumber} was forwarded to ${recipient.fingerprint} (${recipient.name}) already, with every message`,
        );
      }
      try {
        forwardedTo = await this.api.forward(caseNumber, recipient.fingerprint, keys);
        break;
      } catch (error) {
        // A message arrived in between: the key count no longer matches. Re-read and re-wrap.
        if (
          error instanceof ServerRefusedError &&
          attempt < MAX_WRITE_ATTEMPTS &&
          (error.status === 409 || error.code === 'invalid-body')
        )
          continue;
        throw error;
      }
    }
    seq ??= before.messages.findIndex(
      (m) => m.ok && m.content?.type === 'forwarded' && m.content.to === recipient.fingerprint,
    );
    return { to: recipient, forwardedTo, seq };
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
      );
    return saved;
  }

  /** Deletes a case on the server and forgets it here. */
  async deleteCase(caseNumber: string): Promise<void> {
    this.#requireCounsellor('delete a case');
    await this.api.deleteCase(caseNumber);
    this.state.forget(caseNumber);
    await this.state.save();
  }
}

function checkText(text: string, emptyAllowed: boolean): void {
  if (text.length > MAX_TEXT_LENGTH)
    throw new UsageError(
      `the text is too long (${text.length} characters; at most ${MAX_TEXT_LENGTH})`,
    );
  if (!emptyAllowed && text.trim().length === 0)
    throw new UsageError('the text is empty; nothing was sent');
}

/** Refuses unless the reporter's latest word on forwarding is yes. */
export function requireConsent(view: CaseView): void {
  switch (view.consent) {
    case 'yes':
      return;
    case 'ask':
      throw new PolicyError(
        `the reporter of case ${view.caseNumber} asked to be asked first (consent: ask). Ask them in a reply; once they answer with consent "yes", forward again.`,
      );
    case 'no':
      throw new PolicyError(
        `the reporter of case ${view.caseNumber} did not consent to forwarding (consent: no). The case stays with you.`,
      );
    default:
      throw new PolicyError(
        `case ${view.caseNumber} has no readable consent from the reporter; not forwarding`,
      );
  }
}

/** Exit code for an error, for callers that are not the CLI. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CounsellorError ? error.exitCode : EXIT.failure;
}
