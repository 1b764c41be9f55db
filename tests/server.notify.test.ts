/**
 * Content-free notices to the counsellors (server/notify.ts), against a real SMTP server on
 * loopback (smtp-server, from the nodemailer project) that this test starts, with the app's
 * clock moved by the test rather than waited for.
 */

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeContent, sealEnvelope } from '../crypto/index.js';
import { ConfigError, notifyFromEnv } from '../server/config.js';
import { Notifier } from '../server/notify.js';
import { NOTICE_TEXTS, smtpMailer } from '../server/notify-mail.js';
import { reporterRecipient, signed, submitReport } from './helpers/api-client.js';
import { type Harness, makeHarness, START_MS } from './helpers/app-harness.js';

const HOUR = 3_600_000;
const PASSWORD = 'pw-9f3b7c1e-never-logged';
const TO = ['vp@example.org', 'plaatsvervanger@example.org'];

interface Received {
  readonly to: string[];
  readonly helo: string;
  readonly raw: string;
}

/** A real SMTP server on 127.0.0.1 (or another loopback address) that takes mail from one user. */
async function startSmtp(host = '127.0.0.1') {
  const received: Received[] = [];
  const logins: string[] = [];
  const state = { refuse: false };
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? '');
      if (!state.refuse && auth.username === 'kluis@example.org' && auth.password === PASSWORD)
        callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          helo: session.hostNameAppearsAs,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    received,
    logins,
    state,
    url: `smtp://kluis%40example.org:${PASSWORD}@${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let h: Harness;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let logs: string[];
beforeEach(async () => {
  h = await makeHarness();
  smtp = await startSmtp();
  logs = [];
});
afterEach(async () => {
  await smtp.close();
  await h.close();
});

function notifier(url = smtp.url): Notifier {
  const config = notifyFromEnv({ KLUIS_SMTP_URL: url, KLUIS_NOTIFY_TO: TO.join(', ') })!;
  return new Notifier({
    summaries: () => h.store.records.summaries(),
    mailer: smtpMailer(config),
    from: config.from,
    to: config.to,
    now: () => h.clock.ms,
    log: (line) => logs.push(line),
  });
}

const at = (hours: number, minutes = 0) => {
  h.clock.ms = START_MS + hours * HOUR + minutes * 60_000;
};

describe('notices on the full hour', () => {
  it('mails each address once, on the hour after a report, saying nothing of it; then nothing until a reporter writes again', async () => {
    const n = notifier(); // started at 12:00
    at(0, 20);
    const reporter = await submitReport(h.fetch, h.counsellorRecipients, 'Mijn leidinggevende…');
    at(0, 40);
    expect(await n.tick()).toEqual({ slot: null, sent: 0, failed: 0 });
    expect(smtp.received).toEqual([]);

    at(1, 0);
    h.clock.ms += 1000; // 13:00:01
    expect((await n.tick()).sent).toBe(2);
    expect(smtp.received.map((m) => m.to)).toEqual([[TO[0]], [TO[1]]]);
    for (const mail of smtp.received) {
      // The Date header is the full hour, not the second the mail left.
      expect(mail.raw).toMatch(/^Date: Sat, 28 Nov 2026 13:00:00 \+0000\r?$/m);
      expect(mail.raw).toContain(`Subject: ${NOTICE_TEXTS.nl.subject}`);
      expect(mail.raw).toContain(NOTICE_TEXTS.en.body[0]);
      // Nothing of the case: not its number, not its text; one address per mail; no software banner.
      expect(mail.raw).not.toContain(reporter.caseNumber);
      expect(mail.raw.replace(/-/g, '')).not.toContain(reporter.caseNumber.replace(/-/g, ''));
      expect(mail.raw).not.toContain('leidinggevende');
      expect(mail.raw).not.toMatch(/^X-Mailer:/im);
      expect(mail.raw).not.toContain(TO[mail.to[0] === TO[0] ? 1 : 0]!);
      // The greeting names no machine.
      expect(mail.helo).toBe('[127.0.0.1]');
    }

    // At most once in an hour, and nothing when nothing is new.
    at(1, 30);
    expect(await n.tick()).toEqual({ slot: null, sent: 0, failed: 0 });
    at(2, 0);
    expect(await n.tick()).toEqual({ slot: h.clock.ms / HOUR, sent: 0, failed: 0 });

    // A counsellor's own message is no news to the counsellors.
    at(2, 10);
    const path = `/api/v1/cases/${reporter.caseNumber}/messages`;
    const envelope = sealEnvelope({
      caseNumber: reporter.caseNumber,
      seq: 1,
      prev: reporter.last,
      author: h.counsellor.sign,
      content: encodeContent({
        v: 1,
        type: 'status',
        time: '2026-11-28T14:10:00Z',
        status: 'in-conversation',
        text: 'Ontvangen.',
      }),
      recipients: [reporterRecipient(reporter), ...h.counsellorRecipients],
    }).envelope;
    const posted = await h.fetch(
      path,
      signed(
        h.counsellor,
        'POST',
        path,
        { seq: 1, envelope, status: 'in-conversation' },
        h.seconds(),
      ),
    );
    expect(posted.status).toBe(201);
    at(3, 0);
    expect((await n.tick()).sent).toBe(0);
    expect(smtp.received).toHaveLength(2);
    expect(logs).toEqual([]);
  });

  it('logs a refused send without the password or the address, and sends it at the next full hour', async () => {
    const n = notifier();
    at(0, 5);
    await submitReport(h.fetch, h.counsellorRecipients);
    smtp.state.refuse = true;
    at(1, 0);
    expect(await n.tick()).toMatchObject({ sent: 0, failed: 2 });
    expect(smtp.received).toEqual([]);
    expect(logs).toHaveLength(2);
    for (const line of logs) {
      expect(line).toMatch(/^notice mail to KLUIS_NOTIFY_TO address [12] of 2 failed: EAUTH/);
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain('example.org');
    }
    smtp.state.refuse = false;
    at(1, 59);
    expect((await n.tick()).sent).toBe(0);
    at(2, 0);
    expect(await n.tick()).toMatchObject({ sent: 2, failed: 0 });
    expect(smtp.received).toHaveLength(2);
  });

  it('a new process covers the hour before it started (a mail twice rather than none)', async () => {
    at(0, 50);
    await submitReport(h.fetch, h.counsellorRecipients);
    at(1, 10); // the server restarts at 13:10, after a 13:00 slot it may have missed
    const n = notifier();
    at(2, 0);
    expect((await n.tick()).sent).toBe(2);
  });

  it('refuses to send the password to a mail server off loopback that does not offer STARTTLS', async () => {
    const plain = await startSmtp('127.0.0.2');
    try {
      const n = notifier(plain.url);
      at(0, 5);
      await submitReport(h.fetch, h.counsellorRecipients);
      at(1, 0);
      expect(await n.tick()).toMatchObject({ sent: 0, failed: 2 });
      expect(plain.logins).toEqual([]);
      expect(plain.received).toEqual([]);
      expect(logs[0]).toMatch(/failed: ETLS/);
    } finally {
      await plain.close();
    }
  });
});

describe('KLUIS_SMTP_URL, KLUIS_NOTIFY_TO, KLUIS_NOTIFY_FROM', () => {
  const bad = (env: NodeJS.ProcessEnv) => {
    try {
      notifyFromEnv(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('are both set or neither, and say which is wrong in one line without repeating a password', () => {
    expect(notifyFromEnv({})).toBeUndefined();
    expect(bad({ KLUIS_SMTP_URL: 'smtps://a%40b.org:x@mail.example.org' })).toMatch(
      /KLUIS_NOTIFY_TO is not/,
    );
    expect(bad({ KLUIS_NOTIFY_TO: 'a@b.org' })).toMatch(/KLUIS_SMTP_URL is not/);
    const message = bad({
      KLUIS_SMTP_URL: `https://user:${PASSWORD}@mail.example.org`,
      KLUIS_NOTIFY_TO: 'a@b.org',
    });
    expect(message).toMatch(/^KLUIS_SMTP_URL must be smtps:/);
    expect(message).not.toContain(PASSWORD);
    expect(
      bad({
        KLUIS_SMTP_URL: 'smtps://mail.example.org',
        KLUIS_NOTIFY_TO: 'a@b.org\r\nBcc: x@y.org',
      }),
    ).toMatch(/^KLUIS_NOTIFY_TO must list e-mail addresses/);
    expect(
      bad({ KLUIS_SMTP_URL: 'smtps://relay:pw@mail.example.org', KLUIS_NOTIFY_TO: 'a@b.org' }),
    ).toMatch(/^KLUIS_NOTIFY_FROM must be set/);
    expect(bad({ KLUIS_NOTIFY_FROM: 'kluis@example.org' })).toMatch(/^KLUIS_NOTIFY_FROM is set/);
    const ok = notifyFromEnv({
      KLUIS_SMTP_URL: 'smtps://relay:pw@mail.example.org',
      KLUIS_NOTIFY_TO: 'a@b.org, c@d.org a@b.org',
      KLUIS_NOTIFY_FROM: 'kluis@example.org',
    });
    expect(ok?.to).toEqual(['a@b.org', 'c@d.org']);
    expect(ok?.from).toBe('kluis@example.org');
  });
});
