/**
 * The app's one unlocked session and everything that must be forgotten
 * with it: the search words of the last inbox (decrypted, in memory
 * only) and the one-time download links. Locks itself after a period
 * without activity (the idle lock): the session is closed, its secret
 * keys overwritten, and the page asks for the passphrase again.
 * @module
 */

import { randomBytes } from 'node:crypto';
import type { CounsellorSession } from '../lib/session.js';
import { HttpError } from './http.js';

/** What a one-time download link gives. */
export type Download =
  | {
      readonly kind: 'attachment';
      readonly case: string;
      readonly message: number;
      readonly n: number;
    }
  | { readonly kind: 'export'; readonly case: string };

/** How long a download link may wait for the browser to follow it. */
const DOWNLOAD_TTL_MS = 60_000;

/** Holds the one unlocked session of the app. */
export interface SessionHolder {
  current(): CounsellorSession | undefined;
  /** The session, or 401 locked. */
  require(): CounsellorSession;
  /** Replaces the session (forgetting the one before); undefined locks. */
  set(session: CounsellorSession | undefined): void;
  /** The counsellor did something: the idle lock starts over. */
  touch(): void;
  /** Why the app is locked, if it locked itself ('idle'); cleared by the next unlock. */
  readonly lockedBecause: 'idle' | null;
  /** Minutes without activity before the app locks itself. */
  readonly idleMinutes: number;
  /** The decrypted words per case of the last inbox (facts.ts searchText); forgotten on lock. */
  searchIndex: ReadonlyMap<string, string>;
  /** A one-time link (path) for a download; valid for a minute, forgotten on lock. */
  downloadLink(download: Download): string;
  /** Takes (and so invalidates) a download link's ticket. */
  takeDownload(ticket: string): Download | undefined;
  /** Stops the idle timer and forgets the session (the process ends). */
  close(): void;
}

/** A session holder with an idle lock after `idleMinutes`. */
export function createSessionHolder(options: { idleMinutes: number }): SessionHolder {
  const idleMs = options.idleMinutes * 60_000;
  let session: CounsellorSession | undefined;
  let lastActivity = Date.now();
  let lockedBecause: 'idle' | null = null;
  let searchIndex: ReadonlyMap<string, string> = new Map();
  const downloads = new Map<string, { download: Download; expires: number }>();
  const forget = () => {
    session?.forget();
    session = undefined;
    searchIndex = new Map();
    downloads.clear();
  };
  const timer = setInterval(
    () => {
      if (session && Date.now() - lastActivity >= idleMs) {
        forget();
        lockedBecause = 'idle';
      }
    },
    Math.max(250, Math.min(idleMs / 4, 15_000)),
  );
  timer.unref();
  return {
    current: () => session,
    require: () => {
      if (!session) throw new HttpError(401, 'locked', 'unlock the key file first');
      return session;
    },
    set: (next) => {
      forget();
      session = next;
      lastActivity = Date.now();
      if (next) lockedBecause = null;
    },
    touch: () => {
      lastActivity = Date.now();
    },
    get lockedBecause() {
      return lockedBecause;
    },
    idleMinutes: options.idleMinutes,
    get searchIndex() {
      return searchIndex;
    },
    set searchIndex(index) {
      if (session) searchIndex = index;
    },
    downloadLink: (download) => {
      const now = Date.now();
      for (const [t, d] of downloads) if (d.expires < now) downloads.delete(t);
      const ticket = randomBytes(24).toString('base64url');
      downloads.set(ticket, { download, expires: now + DOWNLOAD_TTL_MS });
      return `/download/${ticket}`;
    },
    takeDownload: (ticket) => {
      const entry = downloads.get(ticket);
      downloads.delete(ticket);
      return entry && entry.expires >= Date.now() ? entry.download : undefined;
    },
    close: () => {
      clearInterval(timer);
      forget();
    },
  };
}
