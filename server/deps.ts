/**
 * What every route group needs, passed in by createApp; and the small
 * helpers they share (path parameters, authentication, clock).
 */

import type { Context } from 'hono';
import {
  isBlobId,
  isCaseNumber,
  type RandomSource,
  type SignatureVerifier,
  type VerifiedBundle,
} from '../crypto/index.js';
import type { Store } from './store/index.js';
import {
  authenticateCounsellor,
  authenticateReporter,
  type LoginThrottle,
  precheckCounsellor,
  type SignedRequestPolicy,
} from './auth.js';
import {
  ForbiddenError,
  InvalidCaseNumberError,
  InvalidIdError,
  UnauthorizedError,
} from './errors.js';
import type { StoreQuota } from './quota.js';
import type { CaseRecord, CaseSummary } from './records.js';
import type { TicketLedger } from './spent-tickets.js';
import { hourOf } from './records.js';

/** Server settings the routes act on. */
export interface Settings {
  readonly powBits: number;
  readonly maxFileBytes: number;
  readonly maxCaseBytes: number;
  /** Most bytes all cases together may hold before anonymous writes are refused. */
  readonly maxStoreBytes: number;
  /** Free disk space below which anonymous writes are refused. */
  readonly minFreeBytes: number;
  readonly demo: boolean;
  readonly onion: string | undefined;
  readonly version: string;
  /** Days a closed case is kept before the server deletes it (KLUIS_RETENTION_DAYS), published in /info. */
  readonly retentionDays: number;
  /**
   * The origins counsellors address this server by (KLUIS_ORIGINS, the onion address); a signed
   * request must name one. main.ts may add to it once it knows its port (before it serves).
   */
  readonly origins: readonly string[];
}

/** Dependencies of the route groups. */
export interface Deps {
  readonly store: Store<CaseRecord, CaseSummary>;
  readonly settings: Settings;
  readonly counsellors: readonly VerifiedBundle[];
  readonly escalation: readonly VerifiedBundle[];
  /** Every configured signing key, by fingerprint. */
  readonly keys: ReadonlyMap<string, VerifiedBundle>;
  /** Key of the ticket MACs. */
  readonly secret: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly random: RandomSource;
  readonly verifier: SignatureVerifier | undefined;
  readonly throttle: LoginThrottle;
  /** Origins, start time and nonce memory of signed requests. */
  readonly signed: SignedRequestPolicy;
  readonly spentTickets: TicketLedger;
  readonly quota: StoreQuota;
}

/** Who a request was authenticated as. */
export type Caller =
  | { readonly kind: 'reporter' }
  | { readonly kind: 'counsellor'; readonly bundle: VerifiedBundle }
  | { readonly kind: 'escalation'; readonly bundle: VerifiedBundle };

/** The canonical case number in the path, or 400. */
export function caseParam(c: Context): string {
  const value = c.req.param('case') ?? '';
  if (!isCaseNumber(value)) throw new InvalidCaseNumberError('not a canonical case number');
  return value;
}

/** The upload id in the path, or 400. */
export function idParam(c: Context): string {
  const value = c.req.param('id') ?? '';
  if (!isBlobId(value)) throw new InvalidIdError('not an upload id');
  return value;
}

/** The current hour (the only time the server stores). */
export function currentHour(deps: Deps): number {
  return hourOf(deps.now());
}

function signedPath(c: Context): string {
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/** Authenticates a signed counsellor or escalation request over its exact body. */
export async function counsellorCaller(c: Context, deps: Deps, body: Uint8Array): Promise<Caller> {
  const bundle = await authenticateCounsellor(
    { method: c.req.method, path: signedPath(c), headers: c.req.raw.headers, body },
    deps.keys,
    deps.signed,
    deps.now(),
    deps.verifier,
  );
  return bundle.role === 'counsellor'
    ? { kind: 'counsellor', bundle }
    : { kind: 'escalation', bundle };
}

/** Authenticates the reporter of `caseNumber`, or a counsellor or escalation recipient. */
export async function anyCaller(
  c: Context,
  deps: Deps,
  caseNumber: string,
  body: Uint8Array,
): Promise<Caller> {
  const reporterKey = c.req.header('kluis-auth');
  if (reporterKey !== undefined) {
    authenticateReporter(
      reporterKey,
      caseNumber,
      (await deps.store.records.summary(caseNumber))?.verifier,
      deps.throttle,
      deps.now(),
    );
    return { kind: 'reporter' };
  }
  if (c.req.header('kluis-signature') !== undefined) return counsellorCaller(c, deps, body);
  throw new UnauthorizedError('send Kluis-Auth (reporter) or a signed request (counsellor)');
}

/**
 * Authenticates what the headers can prove before the body is read (the
 * reporter's key entirely; a counsellor's key and time window), so a
 * stranger cannot make the server hold a body. Returns the check that
 * finishes over the body bytes (a counsellor's signature covers them).
 * Without `caseNumber` only counsellors are accepted.
 */
export async function callerBeforeBody(
  c: Context,
  deps: Deps,
  caseNumber?: string,
): Promise<(body: Uint8Array) => Caller | Promise<Caller>> {
  const reporterKey = c.req.header('kluis-auth');
  if (caseNumber !== undefined && reporterKey !== undefined) {
    authenticateReporter(
      reporterKey,
      caseNumber,
      (await deps.store.records.summary(caseNumber))?.verifier,
      deps.throttle,
      deps.now(),
    );
    return () => ({ kind: 'reporter' });
  }
  if (c.req.header('kluis-signature') === undefined) {
    throw new UnauthorizedError(
      caseNumber === undefined
        ? 'send a signed request'
        : 'send Kluis-Auth (reporter) or a signed request (counsellor)',
    );
  }
  precheckCounsellor(c.req.raw.headers, deps.keys, deps.now());
  return (body) => counsellorCaller(c, deps, body);
}

/** Refuses escalation recipients (they may only read what was forwarded to them). */
export function refuseEscalation(
  caller: Caller,
): asserts caller is Exclude<Caller, { kind: 'escalation' }> {
  if (caller.kind === 'escalation')
    throw new ForbiddenError('escalation recipients may only read forwarded cases');
}

/** Refuses an escalation recipient on a case not forwarded to it. */
export function checkForwarded(caller: Caller, forwardedTo: readonly string[]): void {
  if (caller.kind === 'escalation' && !forwardedTo.includes(caller.bundle.fingerprint)) {
    throw new ForbiddenError('this case was not forwarded to you');
  }
}
