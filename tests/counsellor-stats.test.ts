/**
 * The counsellor's statistics and the inbox's filters, pure, on made-up
 * inbox entries; and end to end through `npm run counsellor`: `stats`
 * (table, --json, --csv) with the passphrase from KLUIS_PASSPHRASE_FILE,
 * which works through npm where KLUIS_PASSPHRASE_FD cannot, and the inbox
 * table's verification column.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxEntryJson } from '../client/counsellor/app/views.js';
import { filterInbox, NO_FILTER, statusCounts } from '../client/counsellor/app/ui/inbox-filter.js';
import { caseDeadlines } from '../client/counsellor/lib/deadlines.js';
import type { InboxEntry } from '../client/counsellor/lib/inbox.js';
import { createKeyFile } from '../client/counsellor/lib/keys.js';
import { computeStatistics, statisticsCsv } from '../client/counsellor/lib/stats.js';
import { cleanLabels } from '../client/counsellor/lib/state.js';
import { generateIdentity } from '../crypto/index.js';
import { submitReport } from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const DAY = 24;
const NOW = new Date('2026-06-30T12:00:00Z');
const hourOf = (iso: string) => Date.parse(iso) / 3_600_000;

function entry(
  day: string,
  options: {
    ack?: number;
    reply?: number;
    feedback?: number;
    status?: InboxEntry['status'];
    forwarded?: boolean;
  } = {},
): InboxEntry {
  const reportHour = hourOf(`${day}T09:00:00Z`);
  const ackHour = options.ack === undefined ? null : reportHour + options.ack * DAY;
  const status = options.status ?? 'received';
  const feedbackHour = options.feedback === undefined ? null : reportHour + options.feedback * DAY;
  return {
    caseNumber: `C${day}`,
    listing: {
      case: `C${day}`,
      createdHour: reportHour,
      reportHour,
      status,
      statusHour: reportHour,
      ackHour,
      messages: 1,
      notes: 0,
      keys: 2,
      lastHour: null,
      lastAuthor: null,
      uploads: 0,
      bytes: 0,
      forwardedTo: options.forwarded ? ['X'] : [],
    },
    status,
    receivedDay: day,
    messages: 1,
    unread: 0,
    sinceVisit: 0,
    newSinceVisit: false,
    deadlines: caseDeadlines(
      { reportHour, ackHour, feedbackGiven: feedbackHour !== null, closed: status === 'closed' },
      NOW,
    ),
    intact: true,
    problems: [],
    facts: {
      language: 'nl',
      ackHour,
      firstReplyHour: options.reply === undefined ? null : reportHour + options.reply * DAY,
      feedbackHour,
      forwarded: options.forwarded ?? false,
      assignee: null,
    },
    searchText: 'never counted',
  };
}

describe('statistics (pure)', () => {
  const entries = [
    entry('2026-01-10', { ack: 2, reply: 3, feedback: 20, status: 'closed' }),
    entry('2026-01-20', { ack: 9, reply: 10, feedback: 200, forwarded: true, status: 'forwarded' }),
    entry('2026-06-28'),
    entry('2026-03-01'), // never acknowledged, long overdue
    entry('2025-12-31', { ack: 1 }),
  ];
  it('counts per month and status, days to acknowledgement and reply, deadlines missed', () => {
    const s = computeStatistics(entries, { year: 2026 });
    expect(s.total).toBe(4);
    expect(s.perMonth).toEqual([
      { month: '2026-01', reports: 2 },
      { month: '2026-03', reports: 1 },
      { month: '2026-06', reports: 1 },
    ]);
    expect(s.perStatus).toEqual({ received: 2, 'in-conversation': 0, forwarded: 1, closed: 1 });
    expect(s.daysToAcknowledge).toEqual({ count: 2, median: 5.5, mean: 5.5, max: 9 });
    expect(s.daysToFirstReply).toEqual({ count: 2, median: 6.5, mean: 6.5, max: 10 });
    expect(s.acknowledgeMissed).toBe(2); // 9 days, and none after 4 months
    expect(s.feedbackMissed).toBe(2); // 200 days, and none at all
    expect(s.forwarded).toBe(1);
    const csv = statisticsCsv(s);
    expect(csv.split('\n')[0]).toBe('section,key,value');
    expect(csv).toContain('deadlines missed,acknowledge (7 days),2\n');
    expect(csv).not.toContain('never counted');
    expect(computeStatistics(entries).total).toBe(5);
  });
});

describe('the inbox filters (pure)', () => {
  const json = (e: InboxEntry, extra: Partial<InboxEntryJson> = {}): InboxEntryJson => ({
    case: e.caseNumber,
    display: e.caseNumber,
    received: e.receivedDay,
    status: e.status,
    messages: 1,
    unread: 0,
    sinceVisit: 0,
    newSinceVisit: false,
    consent: null,
    addressAs: null,
    acknowledge: { ...e.deadlines.acknowledge, due: e.deadlines.acknowledge.due.toISOString() },
    feedback: { ...e.deadlines.feedback, due: e.deadlines.feedback.due.toISOString() },
    intact: true,
    problems: [],
    language: 'nl',
    forwarded: e.facts.forwarded,
    labels: [],
    deletion: null,
    assignee: null,
    ...extra,
  });
  const rows = [
    json(entry('2026-06-28'), { unread: 2, language: 'en' }),
    json(entry('2026-03-01'), { labels: ['fraude'], sinceVisit: 1 }),
    json(entry('2026-01-10', { ack: 2, feedback: 20, status: 'closed' })),
    json(entry('2026-06-20'), { intact: false }),
  ];
  it('puts what does not verify first, then overdue, then the nearest deadline', () => {
    expect(filterInbox(rows, NO_FILTER, 'urgent').map((e) => e.received)).toEqual([
      '2026-06-20',
      '2026-03-01',
      '2026-06-28',
      '2026-01-10',
    ]);
    expect(filterInbox(rows, NO_FILTER, 'newest')[0]!.received).toBe('2026-06-28');
  });
  it('filters by status, overdue, unread, new since the last visit, language, label and search matches', () => {
    const ids = (f: Partial<typeof NO_FILTER>) =>
      filterInbox(rows, { ...NO_FILTER, ...f }, 'oldest').map((e) => e.received);
    expect(ids({ status: 'closed' })).toEqual(['2026-01-10']);
    expect(ids({ overdue: true })).toEqual(['2026-03-01', '2026-06-20']);
    expect(ids({ unread: true })).toEqual(['2026-06-28']);
    expect(ids({ sinceVisit: true })).toEqual(['2026-03-01']);
    expect(ids({ language: 'en' })).toEqual(['2026-06-28']);
    expect(ids({ label: 'fraude' })).toEqual(['2026-03-01']);
    expect(ids({ matches: new Set(['C2026-01-10']) })).toEqual(['2026-01-10']);
    expect(statusCounts(rows)).toEqual({
      received: 3,
      'in-conversation': 0,
      forwarded: 0,
      closed: 1,
    });
  });
  it('cleans labels', () => {
    expect(cleanLabels([' HR ', 'fraude', 'HR', '', 'a\u0000b', 'x'.repeat(41)])).toEqual([
      'ab',
      'fraude',
      'HR',
    ]);
  });
});

/** `npm run -s counsellor -- <args>`, as a script would call it. */
function npmCounsellor(args: string[], env: Record<string, string>, fd3?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('npm', ['run', '-s', 'counsellor', '--', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const pipe = child.stdio[3] as NodeJS.WritableStream;
    pipe.on('error', () => {});
    pipe.end(fd3 ?? '');
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('through npm run counsellor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kluis-stats-'));
  const keyPath = join(dir, 'key.json');
  const passFile = join(dir, 'passphrase.txt');
  let server: ServerProcess;
  let first: { caseNumber: string };
  beforeAll(async () => {
    const { bundlePath } = await createKeyFile(
      keyPath,
      generateIdentity('counsellor', 'Stats'),
      'correct horse battery staple',
    );
    writeFileSync(join(dir, 'counsellors.json'), `[${readFileSync(bundlePath, 'utf8')}]`);
    writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
    // An old config.json's retentionDays is ignored: the day shown is the server's (GET /info).
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ retentionDays: 99 }));
    server = await startServer({
      env: {
        KLUIS_POW_BITS: '0',
        KLUIS_COUNSELLORS: join(dir, 'counsellors.json'),
        KLUIS_RETENTION_DAYS: '3',
      },
    });
    first = await submitReport(server.url, { text: 'Een melding.', language: 'nl' });
    await submitReport(server.url, { text: 'A report.', language: 'en' });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the passphrase from KLUIS_PASSPHRASE_FILE; prints stats as CSV and JSON; the inbox has a verified column', async () => {
    const base = ['--key', keyPath, '--server', server.url];
    const env = { KLUIS_PASSPHRASE_FILE: passFile };
    const csv = await npmCounsellor([...base, 'stats', '--csv'], env);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toMatch(/^section,key,value\ntotal,all,2\n/);
    expect(csv.stdout).toContain('language,nl,1');
    const json = await npmCounsellor([...base, 'stats', '--json', '--year', '2020'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ year: 2020, total: 0 });
    const table = await npmCounsellor([...base, 'inbox'], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/feedback\s+verified$/);
    expect(table.stdout).toMatch(/\syes\n/);
    // KLUIS_PASSPHRASE_FD cannot work through npm; the error says what does.
    const fd = await npmCounsellor([...base, 'inbox'], { KLUIS_PASSPHRASE_FD: '3' }, 'x\n');
    expect(fd.code).toBe(2);
    expect(fd.stderr).toContain('KLUIS_PASSPHRASE_FILE');
    // Assignment: a signed private note; the inbox names the assignee.
    const assign = await npmCounsellor([...base, 'assign', first.caseNumber, 'me'], env);
    expect(assign.code, assign.stderr).toBe(0);
    const listed = JSON.parse((await npmCounsellor([...base, 'inbox', '--json'], env)).stdout) as {
      cases: { case: string; assignee: string | null }[];
    };
    const me = listed.cases.find((c) => c.case === first.caseNumber);
    expect(me?.assignee).toMatch(/^[0-9A-Z]{24}$/);
    expect(listed.cases.filter((c) => c.assignee === null)).toHaveLength(1);
    // Retention: a closed case is listed a week before the server deletes it.
    const close = await npmCounsellor([...base, 'status', first.caseNumber, 'closed'], env);
    expect(close.code, close.stderr).toBe(0);
    const reminded = await npmCounsellor([...base, 'inbox'], env);
    expect(reminded.stdout).toContain(
      'Closed case(s) the server deletes within a week (retention 3 days)',
    );
    expect(reminded.stdout).toMatch(/deleted on \d{4}-\d\d-\d\d/);
    const help = await npmCounsellor(['--help'], {});
    expect(help.stdout).toContain('KLUIS_PASSPHRASE_FILE=passphrase.txt');
    // Nine runs of npm, each starting tsx: on a loaded two-core machine that can take minutes.
  }, 240_000);
});
