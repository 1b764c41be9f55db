/**
 * Handover (PROTOCOL §7, `handover`) against a real server over HTTP: a
 * colleague joins after cases were sealed without their key; a counsellor
 * who reads the cases hands them over (record first, then every message's
 * and note's key), the colleague reads everything, the reporter's rules
 * accept it where the page trusts the colleague and name the key where it
 * does not, the server refuses a key it does not list, and the CLI hands
 * over every open case at once.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerRefusedError } from '../client/counsellor/lib/errors.js';
import { createKeyFile } from '../client/counsellor/lib/keys.js';
import { CounsellorSession } from '../client/counsellor/lib/session.js';
import {
  exportBundle,
  fingerprintOf,
  generateIdentity,
  readConversation,
  verifyBundle,
} from '../crypto/index.js';
import { runCli } from './helpers/counsellor-cli.js';
import { type ReporterCase, submitReport } from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const leaving = generateIdentity('counsellor', 'Leaving counsellor');
const joining = generateIdentity('counsellor', 'Joining counsellor');
const stranger = generateIdentity('counsellor', 'Not configured');
const fpJoining = fingerprintOf(joining.sign.publicKey);
const dir = mkdtempSync(join(tmpdir(), 'kluis-handover-'));
const dataDir = mkdtempSync(join(tmpdir(), 'kluis-handover-data-'));
const PASS = 'correct horse battery staple';
let server: ServerProcess;
let first: ReporterCase;
let second: ReporterCase;
let closed: ReporterCase;

const session = (identity: typeof leaving, name: string) =>
  CounsellorSession.open({
    identity,
    server: server.url,
    stateDir: join(dir, name),
    workers: 0,
  });

beforeAll(async () => {
  // Before the colleague joins: the server and the page know only the leaving counsellor.
  const before = join(dir, 'before.json');
  writeFileSync(before, JSON.stringify([exportBundle(leaving)]));
  server = await startServer({ dataDir, env: { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: before } });
  first = await submitReport(server.url, { text: 'First report' });
  second = await submitReport(server.url, { text: 'Second report' });
  closed = await submitReport(server.url, { text: 'Closed report' });
  const s = await session(leaving, 'leaving-before');
  try {
    await s.reply(first.caseNumber, 'A reply before the colleague joined.');
    await s.addNote(first.caseNumber, 'A private note before the colleague joined.');
    await s.setStatus(closed.caseNumber, 'closed');
  } finally {
    s.close();
  }
  await server.stop();
  // The colleague joins: the operator adds their bundle and restarts (DEPLOY.md, "A deputy counsellor").
  const after = join(dir, 'after.json');
  writeFileSync(after, JSON.stringify([exportBundle(leaving), exportBundle(joining)]));
  server = await startServer({ dataDir, env: { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: after } });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('handover to a colleague who joined', () => {
  it('the colleague cannot read the earlier cases before the handover', async () => {
    const s = await session(joining, 'joining');
    try {
      const view = await s.openCase(first.caseNumber);
      expect(view.intact).toBe(false);
      expect(view.problems.join('\n')).toContain('not addressed to your key');
    } finally {
      s.close();
    }
  });

  it('refuses a key the server does not list, in the client and on the server', async () => {
    const s = await session(leaving, 'leaving');
    try {
      await expect(
        s.handover(first.caseNumber, fingerprintOf(stranger.sign.publicKey)),
      ).rejects.toThrow(/not a counsellor this server lists/);
      const refused = await s.api
        .handover(first.caseNumber, fingerprintOf(stranger.sign.publicKey), [], [])
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ServerRefusedError);
      expect((refused as ServerRefusedError).code).toBe('invalid-body');
      // Keys that do not cover every message the colleague cannot read: a conflict, nothing changed.
      const short = await s.api.handover(first.caseNumber, fpJoining, [], []).catch((e) => e);
      expect((short as ServerRefusedError).code).toBe('forward-conflict');
    } finally {
      s.close();
    }
  });

  it('hands a case over: recorded in the conversation, every message and note readable by the colleague', async () => {
    const s = await session(leaving, 'leaving');
    try {
      const result = await s.handover(first.caseNumber, fpJoining, 'My colleague takes over.');
      expect(result.seq).toBe(2);
      expect(result.keys).toBe(2); // the report and the reply; the record itself was sealed for them
      expect(result.noteKeys).toBe(1);
      // Again: nothing to add, no second record.
      const again = await s.handover(first.caseNumber, fpJoining);
      expect(again).toMatchObject({ seq: undefined, keys: 0, noteKeys: 0 });
    } finally {
      s.close();
    }
    const j = await session(joining, 'joining');
    try {
      const view = await j.openCase(first.caseNumber);
      expect(view.problems).toEqual([]);
      expect(view.intact).toBe(true);
      expect(view.handedTo).toEqual([fpJoining]);
      expect(view.messages.map((m) => m.content?.type)).toEqual(['report', 'message', 'handover']);
      expect(view.notes[0]?.content?.text).toBe('A private note before the colleague joined.');
      // The colleague can write in the case now.
      await j.reply(first.caseNumber, 'I read your case now.');
    } finally {
      j.close();
    }
  });

  it('the reporter’s rules accept it where the page trusts the colleague, and name the key where it does not', async () => {
    const s = await session(leaving, 'leaving');
    let envelopes: unknown[];
    try {
      envelopes = (await s.api.getCase(first.caseNumber)).messages.map((m) => m.envelope);
    } finally {
      s.close();
    }
    const reader = {
      fingerprint: first.keys.fingerprint,
      boxPublicKey: first.keys.box.publicKey,
      boxSecretKey: first.keys.box.secretKey,
    };
    const trusted = (identities: (typeof leaving)[]) =>
      identities.map((i) => verifyBundle(exportBundle(i)));
    const rebuilt = readConversation(envelopes, reader, {
      caseNumber: first.caseNumber,
      counsellors: trusted([leaving, joining]),
      escalation: [],
      reporterSignKey: first.keys.sign.publicKey,
    });
    expect(rebuilt.intact).toBe(true);
    expect(rebuilt.handedTo).toEqual([fpJoining]);
    // A page still built with the old bundles only: the colleague's key is a foreign reader.
    const stale = readConversation(envelopes, reader, {
      caseNumber: first.caseNumber,
      counsellors: trusted([leaving]),
      escalation: [],
      reporterSignKey: first.keys.sign.publicKey,
    });
    expect(stale.intact).toBe(false);
    const handover = stale.messages[2]!;
    expect(handover.ok && handover.recipients.unexpected).toContain(fpJoining);
  });

  it('the CLI hands every open case over at once, after confirmation, and skips closed ones', async () => {
    const keyPath = join(dir, 'cli', 'key.json');
    await createKeyFile(keyPath, leaving, PASS);
    const args = [
      '--key',
      keyPath,
      '--server',
      server.url,
      'handover',
      '--open',
      '--to',
      fpJoining,
    ];
    const unconfirmed = await runCli(args, { passphrase: PASS });
    expect(unconfirmed.code).not.toBe(0);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    const run = await runCli([...args, '--yes'], { passphrase: PASS });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/handed to Joining counsellor .* already; nothing to add/);
    expect(run.stdout).toMatch(
      /handed to Joining counsellor .*, recorded as message 1; 1 message key/,
    );
    expect(run.stdout).not.toContain(closed.caseNumber.slice(0, 4));
    const j = await session(joining, 'joining');
    try {
      expect((await j.openCase(second.caseNumber)).intact).toBe(true);
      expect((await j.openCase(closed.caseNumber)).intact).toBe(false);
    } finally {
      j.close();
    }
  });
});
