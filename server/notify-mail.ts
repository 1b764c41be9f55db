/**
 * The notice mail itself: its words (Dutch and English in one mail, since the server does not
 * know a counsellor's language) and the SMTP transport, through nodemailer.
 *
 * The text says only that something is new: not what (a report or a message), not how many, not
 * which case. Whoever reads the counsellor's mailbox (the counsellor's own employer's IT, the mail
 * provider, a relay) learns that something arrived in the hour before the mail, which the store's
 * coarse hours already say to whoever holds the server, and nothing else (SECURITY.md).
 */

import nodemailer from 'nodemailer';
import { isLoopbackHost, type NotifyConfig } from './config.js';

/** One notice to one address. */
export interface NoticeMail {
  readonly from: string;
  readonly to: string;
  /** The slot's full hour, as the Date header (never the second the mail left). */
  readonly date: Date;
}

/** Sends a notice; rejects when the mail server did not take it. */
export type Mailer = (mail: NoticeMail) => Promise<void>;

/** The notice's words. Every word a counsellor reads comes from here. */
export const NOTICE_TEXTS = {
  nl: {
    subject: 'Kluis: er is iets nieuws',
    body: [
      'Er is iets nieuws in Kluis: een nieuwe melding, of een nieuw bericht in een zaak.',
      'Open de Kluis-app om het te lezen. Een nieuwe melding bevestigt u binnen 7 dagen.',
      '',
      'Deze e-mail zegt met opzet niet wat, hoeveel of in welke zaak: wie deze mailbox leest, leert daar niets uit.',
    ],
  },
  en: {
    subject: 'Kluis: something new',
    body: [
      'There is something new in Kluis: a new report, or a new message in a case.',
      'Open the Kluis app to read it. Acknowledge a new report within 7 days.',
      '',
      'This e-mail does not say what, how many or which case, on purpose: whoever reads this mailbox learns nothing from it.',
    ],
  },
} as const;

/** The subject and plain-text body of a notice. */
export function noticeContent(): { subject: string; text: string } {
  return {
    subject: `${NOTICE_TEXTS.nl.subject} / ${NOTICE_TEXTS.en.subject}`,
    text: `${[...NOTICE_TEXTS.nl.body, '', '---', '', ...NOTICE_TEXTS.en.body].join('\n')}\n`,
  };
}

/** Seconds the mail server gets to answer at each step; the next slot tries again. */
const SMTP_TIMEOUT_MS = 60_000;

/** A mailer over the operator's SMTP server (KLUIS_SMTP_URL). */
export function smtpMailer(config: NotifyConfig): Mailer {
  const url = config.smtpUrl;
  const secure = url.protocol === 'smtps:';
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const transport = nodemailer.createTransport({
    host: hostname,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    // smtp:// must upgrade with STARTTLS: the password and the addresses never cross a network in
    // the clear. Only a mail server on this machine may be spoken to without TLS.
    requireTLS: !secure && !isLoopbackHost(url.hostname),
    ...(url.username
      ? {
          auth: {
            user: decodeURIComponent(url.username),
            pass: decodeURIComponent(url.password),
          },
        }
      : {}),
    // The greeting names no machine (nodemailer's default is this host's name).
    name: '[127.0.0.1]',
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  const { subject, text } = noticeContent();
  return async (mail) => {
    await transport.sendMail({ from: mail.from, to: mail.to, subject, text, date: mail.date });
  };
}

/**
 * What may be logged of a failed send: nodemailer's error code and the SMTP reply code, never
 * its message (a server's reply may quote the user name or the address).
 */
export function describeMailFailure(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown } | undefined;
  const code = typeof e?.code === 'string' && /^[A-Z_]{2,32}$/.test(e.code) ? e.code : 'error';
  const reply = typeof e?.responseCode === 'number' ? ` (SMTP ${e.responseCode})` : '';
  return `${code}${reply}`;
}
