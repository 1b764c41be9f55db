/**
 * Reading a case as its reporter: fetch the messages, open each with the
 * keys derived from the receipt code, check every signature, author and
 * link of the chain (PROTOCOL §6), and keep every problem to show it.
 * Nothing that fails a check is hidden or silently dropped.
 * @module
 */

import type {
  ChainProblem,
  Consent,
  ConversationContent,
  ReporterKeys,
  VerifiedBundle,
} from '../../../crypto/index.js';
import { readConversation as readByRules } from '../../../crypto/index.js';
import type { CaseView } from './api.js';
import { getCase } from './api.js';

/** A reporter who holds a receipt code, in memory only. */
export interface Session {
  readonly caseNumber: string;
  readonly keys: ReporterKeys;
}

/** Who wrote a message, as the signature proves. */
export type ItemAuthor =
  | { readonly kind: 'reporter' }
  | { readonly kind: 'counsellor'; readonly name: string; readonly fingerprint: string };

/** Content types a conversation shows. */
export type ShownContent = ConversationContent;

/** One message as the page shows it. */
export type Item =
  | {
      readonly index: number;
      readonly ok: true;
      readonly author: ItemAuthor;
      readonly content: ShownContent;
      /** For an `ack`: whether it names the hash of this report. */
      readonly ackMatches?: boolean;
      /** For `forwarded`: the reporter's latest word before it was not `yes`. */
      readonly withoutConsent?: boolean;
      /** For `handover`: the name this page knows the colleague by, if it trusts the key (else the key is an unexpected recipient). */
      readonly handedTo?: { readonly name: string; readonly trusted: boolean };
      /** Keys that can read this message but are not yours, a counsellor's of this page, or one you agreed to forward to. */
      readonly unexpectedRecipients: readonly string[];
      /** Keys the author sealed for whose copy was removed. */
      readonly removedRecipients: readonly string[];
      readonly problems: readonly ChainProblem[];
    }
  | {
      readonly index: number;
      readonly ok: false;
      /** The protocol error code (`auth-failure`, `bad-signature`, `wrong-key`, `malformed`, `misplaced`, …). */
      readonly error: string;
      readonly problems: readonly ChainProblem[];
    };

/** A case opened and checked. */
export interface CaseData {
  readonly caseNumber: string;
  readonly items: readonly Item[];
  readonly problems: readonly ChainProblem[];
  /** Every message opened, every author and recipient allowed, the chain whole. */
  readonly intact: boolean;
  /** From the latest signed status update, or else the server's word (`signed: false`). */
  readonly status: { readonly value: string; readonly signed: boolean };
  /** The reporter's latest word on forwarding. */
  readonly consent: Consent;
  /** The hour (since the epoch) the server closed the case, if it holds it closed: retention counts from it. */
  readonly closedHour?: number;
  /** The envelopes as stored, in order: a reply is sealed after the last (send-reply.ts). */
  readonly envelopes: readonly unknown[];
}

/**
 * Opens and checks a list of stored envelopes by the protocol's rules
 * (crypto/conversation.ts): the counsellors and escalation recipients are
 * the ones this page was built with. Pure: no request.
 */
export function readConversation(
  caseNumber: string,
  keys: ReporterKeys,
  parties: {
    readonly counsellors: readonly VerifiedBundle[];
    readonly escalation: readonly VerifiedBundle[];
  },
  envelopes: readonly unknown[],
  serverStatus: string,
): CaseData {
  const { counsellors } = parties;
  const read = readByRules(
    envelopes,
    {
      fingerprint: keys.fingerprint,
      boxPublicKey: keys.box.publicKey,
      boxSecretKey: keys.box.secretKey,
    },
    {
      caseNumber,
      counsellors,
      escalation: parties.escalation.map((b) => b.fingerprint),
      reporterSignKey: keys.sign.publicKey,
    },
  );
  const problemsAt = (index: number) => read.problems.filter((p) => p.index === index);
  const items = read.messages.map((message): Item => {
    const problems = problemsAt(message.index);
    if (!message.ok)
      return { index: message.index, ok: false, error: message.error.code, problems };
    let author: ItemAuthor = { kind: 'reporter' };
    if (message.author.kind === 'counsellor') {
      const fingerprint = message.author.fingerprint;
      const bundle = counsellors.find((c) => c.fingerprint === fingerprint);
      author = { kind: 'counsellor', fingerprint, name: bundle?.name ?? fingerprint };
    }
    const content = message.content;
    // The page's own name for a colleague it trusts, never the name inside the message alone.
    const colleague =
      content.type === 'handover'
        ? counsellors.find((c) => c.fingerprint === content.to)
        : undefined;
    return {
      index: message.index,
      ok: true,
      author,
      content,
      ...(content.type === 'handover'
        ? {
            handedTo: colleague
              ? { name: colleague.name, trusted: true }
              : { name: content.name, trusted: false },
          }
        : {}),
      ...(message.ackMatches !== undefined ? { ackMatches: message.ackMatches } : {}),
      ...(message.withoutConsent !== undefined ? { withoutConsent: message.withoutConsent } : {}),
      unexpectedRecipients: message.recipients.unexpected,
      removedRecipients: message.recipients.removed,
      problems,
    };
  });
  return {
    caseNumber,
    items,
    problems: read.problems,
    intact: read.intact,
    status: read.status
      ? { value: read.status, signed: true }
      : { value: serverStatus, signed: false },
    consent: read.consent,
    envelopes,
  };
}

/** Fetches (or takes the answer already asked for, `asked`) and reads the session's case. */
export async function loadCase(
  session: Session,
  parties: {
    readonly counsellors: readonly VerifiedBundle[];
    readonly escalation: readonly VerifiedBundle[];
  },
  asked: Promise<CaseView> = getCase(session.caseNumber, session.keys.authKey),
): Promise<CaseData> {
  const view = await asked;
  const data = readConversation(
    session.caseNumber,
    session.keys,
    parties,
    view.messages.map((m) => m.envelope),
    view.status,
  );
  return view.status === 'closed' ? { ...data, closedHour: view.statusHour } : data;
}
