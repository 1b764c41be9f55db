/**
 * The counsellor CLI end to end, like age's script tests: a real server
 * process, the CLI as a child process, a reporter through crypto/ as the
 * page does it. The counsellor reaches the server through a small
 * man-in-the-middle proxy that passes everything through unchanged, until
 * a test tells it to drop a message from a case.
 */

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentDecryptor, generateIdentity, toBase64 } from '../crypto/index.js';
import { createKeyFile } from '../client/counsellor/lib/keys.js';
import { runCli } from './helpers/counsellor-cli.js';
import {
  readAsReporter,
  type ReporterCase,
  sendAsReporter,
  submitReport,
} from './helpers/counsellor-reporter.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const PASS = 'correct horse battery staple';
const SG_PASS = 'secretary general office key';

type Mode =
  | {
      case: string;
      drop?: 'middle' | 'last';
      /** Flip a ciphertext character of this message, as a server that altered it would. */
      alter?: number;
      conflicts?: number;
      posts?: number;
      breakPatches?: number;
    }
  | undefined;

/** A transparent HTTP proxy that can drop or alter a message of one case's counsellor view. */
async function startMitm(upstream: () => string): Promise<{
  url: string;
  setMode: (mode: Mode) => void;
  mode: () => Mode;
  close: () => Promise<void>;
}> {
  let mode: Mode;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (
        typeof value === 'string' &&
        !['host', 'connection', 'content-length', 'transfer-encoding'].includes(key)
      )
        headers[key] = value;
    }
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    if (mode && req.method === 'POST' && req.url === `/api/v1/cases/${mode.case}/messages`) {
      mode.posts = (mode.posts ?? 0) + 1;
      if ((mode.conflicts ?? 0) > 0) {
        mode.conflicts!--;
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'seq-conflict', message: 're-read it' }, expected: 99 }),
        );
        return;
      }
    }
    const response = await fetch(upstream() + req.url, {
      method: req.method!,
      headers,
      ...(body ? { body } : {}),
    });
    if (
      mode &&
      (mode.breakPatches ?? 0) > 0 &&
      req.method === 'PATCH' &&
      req.url?.startsWith(`/api/v1/cases/${mode.case}/uploads/`)
    ) {
      // The bytes reached the server, but the answer never reaches the client: a broken circuit.
      mode.breakPatches!--;
      await response.arrayBuffer();
      req.socket.destroy();
      return;
    }
    let bytes = Buffer.from(await response.arrayBuffer());
    const tamper = (messages: unknown[]) => {
      if (mode?.drop === 'middle') messages.splice(1, 1);
      else if (mode?.drop === 'last') messages.pop();
      const altered =
        mode?.alter === undefined
          ? undefined
          : (messages[mode.alter] as { envelope: { ct: string } } | undefined);
      if (altered)
        altered.envelope.ct =
          (altered.envelope.ct[0] === 'A' ? 'B' : 'A') + altered.envelope.ct.slice(1);
    };
    if (
      (mode?.drop || mode?.alter !== undefined) &&
      req.method === 'GET' &&
      req.url === `/api/v1/counsellor/cases/${mode.case}` &&
      response.status === 200
    ) {
      const view = JSON.parse(bytes.toString('utf8')) as { messages: unknown[] };
      tamper(view.messages);
      bytes = Buffer.from(JSON.stringify(view));
    }
    if (
      (mode?.drop || mode?.alter !== undefined) &&
      req.method === 'GET' &&
      req.url?.startsWith('/api/v1/counsellor/case-details') &&
      response.status === 200
    ) {
      // The same drop in the inbox's pages of whole cases.
      const page = JSON.parse(bytes.toString('utf8')) as {
        cases: { case: string; messages: unknown[] }[];
      };
      for (const view of page.cases) if (view.case === mode.case) tamper(view.messages);
      bytes = Buffer.from(JSON.stringify(page));
    }
    res.writeHead(response.status, {
      'content-type': response.headers.get('content-type') ?? 'application/octet-stream',
    });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setMode: (m) => {
      mode = m;
    },
    mode: () => mode,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let dir: string;
let server: ServerProcess;
let mitm: Awaited<ReturnType<typeof startMitm>>;
let keyA: string;
let keySg: string;
let keyOther: string;
let pageDir: string;
let report: ReporterCase;

const cli = (args: string[], options: { passphrase?: string; stdin?: string; key?: string } = {}) =>
  runCli([...args, '--key', options.key ?? keyA, '--server', mitm.url], {
    passphrase: options.passphrase ?? PASS,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
const sg = (args: string[]) => cli(args, { key: keySg, passphrase: SG_PASS });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kluis-counsellor-'));
  keyA = join(dir, 'a', 'key.json');
  keySg = join(dir, 'sg', 'key.json');
  keyOther = join(dir, 'other', 'key.json');
  const [a, s] = await Promise.all([
    runCli(['init', '--name', 'Extern steunpunt — A. de Vries', '--key', keyA], {
      passphrase: PASS,
    }),
    runCli(['init', '--name', 'Secretaris-generaal', '--role', 'escalation', '--key', keySg], {
      passphrase: `${SG_PASS}\n${SG_PASS}`,
    }),
    createKeyFile(
      keyOther,
      generateIdentity('counsellor', 'Not configured'),
      'another passphrase here',
    ),
  ]);
  expect(a.code, a.stderr).toBe(0);
  expect(s.code, s.stderr).toBe(0);
  writeFileSync(
    join(dir, 'counsellors.json'),
    JSON.stringify([JSON.parse(readFileSync(join(dir, 'a', 'bundle.json'), 'utf8'))]),
  );
  writeFileSync(
    join(dir, 'escalation.json'),
    JSON.stringify([JSON.parse(readFileSync(join(dir, 'sg', 'bundle.json'), 'utf8'))]),
  );
  pageDir = join(dir, 'page');
  mkdirSync(join(pageDir, 'assets'), { recursive: true });
  writeFileSync(
    join(pageDir, 'index.html'),
    '<!doctype html><link rel="stylesheet" href="./assets/page.css"><script type="module" src="./assets/page.js"></script><a href="https://example.org/">elsewhere</a>',
  );
  writeFileSync(join(pageDir, 'assets', 'page.js'), 'console.log("page");\n');
  writeFileSync(join(pageDir, 'assets', 'page.css'), 'body { color: black }\n');
  // The CLI talks to the server through the layer in between, as through a reverse proxy: the
  // server accepts requests signed for that address (KLUIS_ORIGINS), which is what the CLI knows.
  mitm = await startMitm(() => server.url);
  server = await startServer({
    env: {
      KLUIS_COUNSELLORS: join(dir, 'counsellors.json'),
      KLUIS_ESCALATION: join(dir, 'escalation.json'),
      KLUIS_STATIC_DIR: pageDir,
      KLUIS_ORIGINS: mitm.url,
    },
  });
});

afterAll(async () => {
  await mitm?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kluis-counsellor', () => {
  it('init wrote a private key file and a bundle, and refuses to overwrite or to take a bad passphrase', async () => {
    expect(readFileSync(keyA, 'utf8')).toContain('"kluis-key-file"');
    const again = await runCli(['init', '--name', 'X', '--key', keyA], { passphrase: PASS });
    expect(again.code).toBe(9);
    expect(again.stderr).toContain('refusing to overwrite');
    const short = await runCli(['init', '--name', 'X', '--key', join(dir, 'x', 'key.json')], {
      passphrase: 'short',
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    const differ = await runCli(['init', '--name', 'X', '--key', join(dir, 'y', 'key.json')], {
      passphrase: `${PASS}\nsomething else entirely`,
    });
    expect(differ.code).toBe(2);
    expect(differ.stderr).toContain('differ');
    expect(existsSync(join(dir, 'y', 'key.json'))).toBe(false);
  });

  it('prints the fingerprint and the bundle without the passphrase', async () => {
    const fingerprint = await runCli(['fingerprint', '--key', keyA]);
    expect(fingerprint.code).toBe(0);
    expect(fingerprint.stdout).toMatch(
      /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5} {2}counsellor {2}Extern steunpunt — A\. de Vries/,
    );
    const bundle = await runCli(['export-bundle', '--key', keyA]);
    expect(JSON.parse(bundle.stdout)).toEqual(
      JSON.parse(readFileSync(join(dir, 'a', 'bundle.json'), 'utf8')),
    );
  });

  it('lists a new report in the inbox, unread, with its acknowledgement deadline', async () => {
    report = await submitReport(server.url, {
      text: 'Tijdens de bespreking \u001b[2J\u001b]0;pwned\u0007 maakte hij opmerkingen.\r\nTweede regel \u202e.',
      consent: 'ask',
      addressAs: 'M.',
      language: 'nl',
      attachments: [
        {
          name: '../../evil\u001b[31m.txt',
          type: 'text/plain',
          bytes: new TextEncoder().encode('bewijs'),
        },
      ],
    });
    const inbox = await cli(['inbox', '--json']);
    expect(inbox.code, inbox.stderr).toBe(0);
    expect(inbox.stderr).toContain('First contact');
    const row = (JSON.parse(inbox.stdout) as { cases: Record<string, unknown>[] }).cases.find(
      (c) => c.case === report.caseNumber,
    )!;
    expect(row).toMatchObject({
      status: 'received',
      messages: 1,
      unread: 1,
      acknowledged: false,
      acknowledgeOverdue: false,
      consent: 'ask',
      intact: true,
    });
    const dueMs = Date.parse(row.acknowledgeDue as string) - Date.now();
    expect(dueMs).toBeGreaterThan(6 * 86_400_000);
    expect(dueMs).toBeLessThanOrEqual(7 * 86_400_000);
    const table = await cli(['inbox']);
    expect(table.stdout).toContain(
      `${report.caseNumber.slice(0, 4)}-${report.caseNumber.slice(4)}`,
    );
    expect(table.stdout).toContain('ack due');
  });

  it('shows the decrypted report with every escape sequence neutralised, and marks it read', async () => {
    const show = await cli(['show', report.caseNumber]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('maakte hij opmerkingen.');
    expect(show.stdout).toContain('Verified: every signature checked');
    const controls = [...show.stdout].filter(
      (ch) => (/\p{Cc}/u.test(ch) && ch !== '\n' && ch !== '\t') || ch === '\u202e',
    );
    expect(controls).toEqual([]);
    expect(show.stdout).toContain('\u241b[2J');
    expect(show.stdout).toContain('<U+202E>');
    const inbox = JSON.parse((await cli(['inbox', '--json'])).stdout) as {
      cases: { case: string; unread: number }[];
    };
    expect(inbox.cases.find((c) => c.case === report.caseNumber)!.unread).toBe(0);
  });

  it('acknowledges receipt with the report hash, which the reporter can check', async () => {
    const ack = await cli(['ack', report.caseNumber]);
    expect(ack.code, ack.stderr).toBe(0);
    const view = await readAsReporter(report);
    expect(view.conversation.intact).toBe(true);
    const content = view.contents[1]!;
    expect(content.type).toBe('ack');
    const entry0 = view.conversation.entries[0]!;
    expect(
      entry0.ok && content.type === 'ack' && content.reportHash === toBase64(entry0.opened.hash),
    ).toBe(true);
    expect(content.type === 'ack' && content.text).toContain('ontvangen'); // the report's language
    const again = await cli(['ack', report.caseNumber]);
    expect(again.code).toBe(7);
    expect(again.stderr).toContain('acknowledged already');
  });

  it('replies with an attachment; the reporter reads and decrypts both', async () => {
    const file = join(dir, 'uitleg.txt');
    writeFileSync(file, 'Zo werkt het verder.\n'.repeat(5000)); // ~105 kB: two stream chunks
    const reply = await cli(['reply', report.caseNumber, '--attach', file], {
      stdin: 'Dank voor uw melding. Kunnen we bellen?\n',
    });
    expect(reply.code, reply.stderr).toBe(0);
    expect(reply.stdout).toContain('with 1 attachment');
    const view = await readAsReporter(report);
    expect(view.conversation.intact).toBe(true);
    const message = view.contents[2]!;
    expect(message.type === 'message' && message.text).toBe(
      'Dank voor uw melding. Kunnen we bellen?',
    );
    expect(view.conversation.entries[2]!.ok && view.conversation.entries[2]!.author.kind).toBe(
      'counsellor',
    );
    const ref = message.type === 'message' ? message.attachments[0]! : undefined;
    expect(ref?.name).toBe('uitleg.txt');
    const blob = await fetch(`${server.url}/api/v1/cases/${report.caseNumber}/blobs/${ref!.blob}`, {
      headers: { 'kluis-auth': toBase64(report.keys.authKey) },
    });
    const decryptor = new AttachmentDecryptor(ref!);
    const plain = Buffer.concat([
      ...decryptor.push(new Uint8Array(await blob.arrayBuffer())),
      ...decryptor.finish(),
    ]);
    expect(plain.equals(readFileSync(file))).toBe(true);
  });

  it('sets a status the reporter sees, and keeps private notes from the reporter', async () => {
    const status = await cli([
      'status',
      report.caseNumber,
      'in-conversation',
      '--message',
      'We zijn in gesprek.',
    ]);
    expect(status.code, status.stderr).toBe(0);
    const bad = await cli(['status', report.caseNumber, 'investigating']);
    expect(bad.code).toBe(2);
    const note = await cli(['note', report.caseNumber], { stdin: 'Eerste indruk: serieus.' });
    expect(note.code, note.stderr).toBe(0);
    const view = await readAsReporter(report);
    expect(view.status).toBe('in-conversation');
    expect(view.contents.at(-1)).toMatchObject({
      type: 'status',
      status: 'in-conversation',
      text: 'We zijn in gesprek.',
    });
    expect(view.contents.some((c) => c?.type === 'note')).toBe(false);
    const show = JSON.parse((await cli(['show', report.caseNumber, '--json'])).stdout) as {
      notes: { content: { text: string } }[];
    };
    expect(show.notes[0]!.content.text).toBe('Eerste indruk: serieus.');
  });

  it('saves attachments under safe names, never overwriting and never through a symlink', async () => {
    const target = join(dir, 'saved');
    mkdirSync(target);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(target, 'evil_[31m.txt'));
    const save = await cli(['save', report.caseNumber, target]);
    expect(save.code, save.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readdirSync(target).sort()).toEqual([
      'evil_[31m (2).txt',
      'evil_[31m.txt',
      'uitleg.txt',
    ]);
    expect(readFileSync(join(target, 'evil_[31m (2).txt'), 'utf8')).toBe('bewijs');
    expect(existsSync(join(dir, 'evil.txt'))).toBe(false);
    const again = await cli(['save', report.caseNumber, target]);
    expect(again.code).toBe(0);
    expect(readdirSync(target)).toContain('uitleg (2).txt');
  });

  it('refuses to forward without the reporter’s consent, and forwards once they say yes', async () => {
    const sgBundle = join(dir, 'sg', 'bundle.json');
    const refused = await cli(['forward', report.caseNumber, '--to', sgBundle]);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('asked to be asked first');
    const wrongBundle = await cli([
      'forward',
      report.caseNumber,
      '--to',
      join(dir, 'a', 'bundle.json'),
    ]);
    expect(wrongBundle.code).toBe(2);
    expect((await sg(['inbox', '--json'])).stdout).toContain('"cases": []');

    await sendAsReporter(report, {
      text: 'Ja, breng het naar de secretaris-generaal.',
      consent: 'yes',
    });
    const forward = await cli([
      'forward',
      report.caseNumber,
      '--to',
      sgBundle,
      '--message',
      'Doorgestuurd met toestemming.',
    ]);
    expect(forward.code, forward.stderr).toBe(0);
    const view = await readAsReporter(report);
    expect(view.conversation.intact).toBe(true);
    expect(view.contents.at(-1)).toMatchObject({
      type: 'forwarded',
      name: 'Secretaris-generaal',
      text: 'Doorgestuurd met toestemming.',
    });
    expect(view.status).toBe('forwarded');

    const inbox = JSON.parse((await sg(['inbox', '--json'])).stdout) as {
      cases: { case: string }[];
    };
    expect(inbox.cases.map((c) => c.case)).toEqual([report.caseNumber]);
    const show = await sg(['show', report.caseNumber]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('maakte hij opmerkingen.');
    expect(show.stdout).toContain('Doorgestuurd met toestemming.');
    expect(show.stdout).not.toContain('Eerste indruk'); // no notes for escalation
    const reply = await sg(['reply', report.caseNumber]);
    expect(reply.code).toBe(7);

    // Later messages are not shared with the escalation recipient; that is not an integrity problem.
    expect((await cli(['reply', report.caseNumber], { stdin: 'Nog een vraag.' })).code).toBe(0);
    const later = await sg(['show', report.caseNumber]);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toContain('(not forwarded to you)');
    expect(later.stdout).not.toContain('Nog een vraag.');
  });

  it('refuses a wrong passphrase, a file that is not a key file, and a key the server does not know', async () => {
    const wrong = await cli(['inbox'], { passphrase: 'not the passphrase' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('wrong passphrase');
    const notKey = await cli(['inbox'], { key: join(dir, 'a', 'bundle.json') });
    expect(notKey.code).toBe(3);
    expect(notKey.stderr).toContain('not a valid Kluis key file');
    const missing = await cli(['inbox'], { key: join(dir, 'nowhere', 'key.json') });
    expect(missing.code).toBe(3);
    const other = await cli(['inbox'], { key: keyOther, passphrase: 'another passphrase here' });
    expect(other.code).toBe(5);
    expect(other.stderr).toContain('does not list your key');
  });

  it('reports a tampered message loudly and exits non-zero', async () => {
    const victim = await submitReport(server.url, { text: 'Te wijzigen melding.', consent: 'no' });
    expect((await cli(['reply', victim.caseNumber], { stdin: 'Ontvangen.' })).code).toBe(0);
    // The server alters the stored reply (here the layer in front of it, so the test does not depend on the store's layout).
    mitm.setMode({ case: victim.caseNumber, alter: 1 });
    const show = await cli(['show', victim.caseNumber]);
    expect(show.code).toBe(6);
    expect(show.stdout).toContain('THIS CASE DOES NOT VERIFY');
    expect(show.stderr).toContain('message 1: does not decrypt');
    const inbox = await cli(['inbox']);
    expect(inbox.code).toBe(6);
    expect(inbox.stdout).toContain('DOES NOT VERIFY');
    const reply = await cli(['reply', victim.caseNumber], { stdin: 'Nog iets.' });
    expect(reply.code).toBe(6);
    expect(reply.stderr).toContain('refusing to write on top of it');
    mitm.setMode(undefined);
    expect((await cli(['delete', victim.caseNumber, '--yes'])).code).toBe(0);
  });

  it('catches a server that drops a message, in the middle or at the end', async () => {
    const c = await submitReport(server.url, { text: 'Drie berichten.', consent: 'no' });
    expect((await cli(['ack', c.caseNumber])).code).toBe(0);
    expect((await cli(['reply', c.caseNumber], { stdin: 'Antwoord.' })).code).toBe(0);
    expect((await cli(['show', c.caseNumber])).code).toBe(0);

    mitm.setMode({ case: c.caseNumber, drop: 'middle' });
    const middle = await cli(['show', c.caseNumber]);
    expect(middle.code).toBe(6);
    expect(middle.stderr).toContain('gap: messages before it are missing');

    mitm.setMode({ case: c.caseNumber, drop: 'last' });
    const last = await cli(['show', c.caseNumber]);
    expect(last.code).toBe(6);
    expect(last.stderr).toContain('rollback');
    const inbox = await cli(['inbox']);
    expect(inbox.code).toBe(6);

    mitm.setMode(undefined);
    expect((await cli(['show', c.caseNumber])).code).toBe(0);
  });

  it('retries on a seq conflict when two writes race', async () => {
    const c = await submitReport(server.url, { text: 'Twee antwoorden tegelijk.', consent: 'no' });
    const results = await Promise.all([
      cli(['reply', c.caseNumber], { stdin: 'Eerste.' }),
      cli(['reply', c.caseNumber], { stdin: 'Tweede.' }),
      cli(['status', c.caseNumber, 'in-conversation']),
    ]);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    mitm.setMode({ case: c.caseNumber, conflicts: 2 });
    const retried = await cli(['reply', c.caseNumber], { stdin: 'Na twee conflicten.' });
    expect(retried.code, retried.stderr).toBe(0);
    expect(mitm.mode()?.posts).toBe(3);
    mitm.setMode(undefined);
    const view = await readAsReporter(c);
    expect(view.conversation.intact).toBe(true);
    expect(
      view.contents
        .slice(1)
        .map((content) => (content?.type === 'message' ? content.text : content?.type))
        .sort(),
    ).toEqual(['Eerste.', 'Na twee conflicten.', 'Tweede.', 'status']);
  });

  it('resumes an upload after the connection broke', async () => {
    const c = await submitReport(server.url, { text: 'Groot bestand.', consent: 'no' });
    const file = join(dir, 'groot.bin');
    const bytes = Buffer.alloc(2_500_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
    writeFileSync(file, bytes);
    const mode = { case: c.caseNumber, breakPatches: 1 };
    mitm.setMode(mode);
    const reply = await cli(['reply', c.caseNumber, '--attach', file], { stdin: 'Hierbij.' });
    mitm.setMode(undefined);
    expect(reply.code, reply.stderr).toBe(0);
    expect(mode.breakPatches).toBe(0);
    const view = await readAsReporter(c);
    const message = view.contents[1]!;
    const ref = message.type === 'message' ? message.attachments[0]! : undefined;
    const blob = await fetch(`${server.url}/api/v1/cases/${c.caseNumber}/blobs/${ref!.blob}`, {
      headers: { 'kluis-auth': toBase64(c.keys.authKey) },
    });
    const decryptor = new AttachmentDecryptor(ref!);
    const plain = Buffer.concat([
      ...decryptor.push(new Uint8Array(await blob.arrayBuffer())),
      ...decryptor.finish(),
    ]);
    expect(plain.equals(bytes)).toBe(true);
  });

  it('exports a whole case, decrypted, into a new directory', async () => {
    const out = join(dir, 'export');
    const result = await cli(['export', report.caseNumber, out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'attachments',
      'conversation.json',
      'conversation.txt',
      'encrypted-case.json',
      'notes.json',
      'notes.txt',
    ]);
    expect(readFileSync(join(out, 'conversation.txt'), 'utf8')).toContain('Dank voor uw melding.');
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toContain('Eerste indruk');
    expect(readdirSync(join(out, 'attachments')).sort()).toEqual(['evil_[31m.txt', 'uitleg.txt']);
    const json = JSON.parse(readFileSync(join(out, 'conversation.json'), 'utf8')) as {
      intact: boolean;
      messages: unknown[];
    };
    expect(json.intact).toBe(true);
    const again = await cli(['export', report.caseNumber, out]);
    expect(again.code).toBe(9);
  });

  it('compares the live page with the local build', async () => {
    const same = await runCli(['verify-page', `${server.url}/`, '--build', pageDir]);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toContain('matches the local build (3 files)');
    const build = join(dir, 'build');
    mkdirSync(join(build, 'assets'), { recursive: true });
    writeFileSync(join(build, 'index.html'), readFileSync(join(pageDir, 'index.html')));
    writeFileSync(join(build, 'assets', 'page.js'), 'console.log("the build I trust");\n');
    writeFileSync(
      join(build, 'assets', 'page.css'),
      readFileSync(join(pageDir, 'assets', 'page.css')),
    );
    const differs = await runCli(['verify-page', `${server.url}/`, '--build', build]);
    expect(differs.code).toBe(8);
    expect(differs.stdout).toMatch(/!! {2}different +assets\/page\.js/);
  });

  it('watches the live page at random intervals, and stops with an alarm when it differs', async () => {
    const quick = ['--min-minutes', '0', '--max-minutes', '0.02'];
    const same = await runCli([
      'watch-page',
      `${server.url}/`,
      '--build',
      pageDir,
      ...quick,
      '--checks',
      '3',
    ]);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout.match(/^check \d: the page matches your build \(3 files\)$/gm)).toHaveLength(
      3,
    );
    const build = join(dir, 'watched-build');
    mkdirSync(join(build, 'assets'), { recursive: true });
    writeFileSync(join(build, 'index.html'), readFileSync(join(pageDir, 'index.html')));
    writeFileSync(
      join(build, 'assets', 'page.js'),
      'console.log("the page the counsellors published");\n',
    );
    writeFileSync(
      join(build, 'assets', 'page.css'),
      readFileSync(join(pageDir, 'assets', 'page.css')),
    );
    const differs = await runCli([
      'watch-page',
      `${server.url}/`,
      '--build',
      build,
      ...quick,
      '--checks',
      '5',
    ]);
    expect(differs.code).toBe(8);
    expect(differs.stdout).toContain('ALARM: check 1: the page at');
    expect(differs.stdout).toContain('different: assets/page.js');
    const bad = await runCli([
      'watch-page',
      `${server.url}/`,
      '--build',
      pageDir,
      '--min-minutes',
      '5',
      '--max-minutes',
      '1',
    ]);
    expect(bad.code).toBe(2);
  });

  it('deletes a case', async () => {
    const c = await submitReport(server.url, { text: 'Weg ermee.', consent: 'no' });
    const del = await cli(['delete', c.caseNumber, '--yes']);
    expect(del.code, del.stderr).toBe(0);
    const show = await cli(['show', c.caseNumber]);
    expect(show.code).toBe(5);
    expect(show.stderr).toContain('not-found');
  });

  it('gives usage errors exit code 2', async () => {
    expect((await runCli(['show', 'not-a-case', '--key', keyA])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const help = await runCli(['forward', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
  });
});
