/**
 * The no-JavaScript pages through app.request() on the real app and file store: language and
 * direction, the content security policy, a report with a file sealed on the server and opened
 * by a counsellor's key, coming back and replying, bad input refused with nothing stored, and a
 * flood held off by the gate while the rest of the server answers.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AttachmentDecryptor,
  deriveReporterKeys,
  encodeContent,
  envelopeHash,
  generateIdentity,
  parseReceiptCode,
  sealEnvelope,
  type Identity,
  exportBundle,
  fingerprintOf,
  formatReceiptCode,
  readConversation,
  sealedByServer,
  verifyBundle,
} from '../crypto/index.js';
import { compareCatalogues } from '../client/reporter/src/catalogue.js';
import { keysJson } from '../client/reporter/build/site-step.js';
import type { StaticFile } from '../server/static.js';
import { BASIC_FORM_LIMIT } from '../server/basic/form.js';
import type { GateLimits } from '../server/basic/gate.js';
import { BASIC_LANGUAGES } from '../server/basic/texts.js';
import { type Harness, makeHarness, snapshot } from './helpers/app-harness.js';
import { recipientOf, signed } from './helpers/api-client.js';

const CANARY = 'CANARY-7f3a9c1e-basic';
const FILE_CANARY = 'FILECANARY-2b8d41';

function page(keys: { counsellors: Identity[]; escalation: Identity[] }): Map<string, StaticFile> {
  const site = {
    supportPoint: {
      nl: 'Extern steunpunt',
      en: 'External support point',
      fr: 'Point d’appui externe',
    },
    escalation: { nl: 'de secretaris-generaal', en: 'the secretary-general' },
    otherWays: { nl: ['Bel ons.'], en: ['Call us.'] },
  };
  const html = `<!doctype html><title>Kluis</title><script type="application/json" id="kluis-site">${JSON.stringify(site)}</script>`;
  const keysFile = keysJson({
    counsellors: keys.counsellors.map(exportBundle),
    escalationRecipients: keys.escalation.map(exportBundle),
  });
  const text = (body: string, type: string): StaticFile => ({
    body: new TextEncoder().encode(body),
    type,
  });
  return new Map([
    ['/index.html', text(html, 'text/html; charset=utf-8')],
    ['/keys.json', text(keysFile, 'application/json')],
  ]);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(basicLimits?: GateLimits): Promise<Harness> {
  h = await makeHarness({}, { page, ...(basicLimits ? { basicLimits } : {}) });
  return h;
}

function reportForm(fields: Record<string, string>, files: { name: string; bytes: string }[] = []) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files)
    form.append('files', new File([file.bytes], file.name, { type: 'text/plain' }));
  return form;
}

async function post(path: string, form: FormData | URLSearchParams, lang = 'fr') {
  return h!.fetch(path, { method: 'POST', body: form, headers: { 'accept-language': lang } });
}

function receiptCode(html: string): string {
  const match = /id="receipt-code">([0-9A-Z-]+)</.exec(html);
  if (!match) throw new Error(`no receipt code in ${html.slice(0, 500)}`);
  return match[1]!;
}

function asReader(identity: Identity) {
  return {
    fingerprint: fingerprintOf(identity.sign.publicKey),
    boxPublicKey: identity.box.publicKey,
    boxSecretKey: identity.box.secretKey,
  };
}

/** The case as the counsellor reads it, by the protocol's rules. */
async function counsellorReads(caseNumber: string) {
  const record = await h!.store.records.get(caseNumber);
  if (!record) throw new Error('no such case');
  const read = readConversation(
    record.messages.map((m) => m.envelope),
    asReader(h!.counsellor),
    {
      caseNumber,
      counsellors: [h!.counsellor, h!.deputy].map((i) => verifyBundle(exportBundle(i))),
      escalation: [fingerprintOf(h!.escalation.sign.publicKey)],
    },
  );
  return { record, read };
}

async function decryptBlob(id: string, ref: { key: string; prefix: string; size: number }) {
  const decryptor = new AttachmentDecryptor(ref);
  const out: Uint8Array[] = [];
  for await (const piece of h!.store.blobs.read(id)) out.push(...decryptor.push(piece));
  out.push(...decryptor.finish());
  return Buffer.concat(out).toString('utf8');
}

/** Every byte under the data directory, for looking for a canary. */
function everyFile(dir: string): string {
  let all = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    all += statSync(path).isDirectory() ? everyFile(path) : readFileSync(path).toString('latin1');
  }
  return all;
}

describe('the no-JavaScript pages', () => {
  it('answer in the language the browser asks for, right to left in Arabic', async () => {
    await harness();
    const fr = await h!.fetch('/basic/', {
      headers: { 'accept-language': 'fr-CH, fr;q=0.9, en;q=0.5' },
    });
    expect(fr.status).toBe(200);
    const frHtml = await fr.text();
    expect(frHtml).toMatch(/^<!doctype html><html lang="fr" dir="ltr">/);
    expect(frHtml).toContain('Point d’appui externe'); // the site's own French name
    const ar = await (await h!.fetch('/basic/', { headers: { 'accept-language': 'ar' } })).text();
    expect(ar).toMatch(/<html lang="ar" dir="rtl">/);
    expect(ar).toContain('External support point'); // no Arabic name in the site: English
    // ?lang= wins over the header; an unknown language falls back to the site's default (nl).
    expect(
      await (await h!.fetch('/basic/?lang=es', { headers: { 'accept-language': 'ar' } })).text(),
    ).toMatch(/<html lang="es" dir="ltr">/);
    expect(
      await (await h!.fetch('/basic/', { headers: { 'accept-language': 'de, ja' } })).text(),
    ).toMatch(/<html lang="nl"/);
    // The procedure is explained before anything is sent (no case yet, so no step is current).
    expect(frHtml).toContain('Ce qui se passe avec votre signalement');
    expect(frHtml).not.toContain('aria-current="step"');
    // The honest warning comes before the form.
    expect(frHtml.indexOf('class="weaker"')).toBeLessThan(frHtml.indexOf('<form'));
  });

  it('allow a same-origin form action on these pages only, with no script, cache or cookie', async () => {
    await harness();
    for (const path of ['/basic/', '/basic/return', '/basic/basic.css']) {
      const response = await h!.fetch(path);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("form-action 'self'");
      expect(csp).toContain("script-src 'none'");
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('set-cookie')).toBeNull();
    }
    const html = await (await h!.fetch('/basic/')).text();
    expect(html).not.toMatch(/<script|\son[a-z]+=|https?:\/\//i);
    for (const path of ['/', '/api/v1/health']) {
      const csp = (await h!.fetch(path)).headers.get('content-security-policy')!;
      expect(csp).toContain("form-action 'none'");
    }
  });

  it('seal a French report with a file for the counsellors, and let the reporter come back and reply', async () => {
    await harness();
    const response = await post(
      '/basic/report?lang=fr',
      reportForm({ text: `Bonjour, ${CANARY}`, consent: 'ask', addressAs: 'Camille' }, [
        { name: 'preuve.txt', bytes: `contenu ${FILE_CANARY}` },
      ]),
    );
    expect(response.status).toBe(201);
    const html = await response.text();
    expect(html).toContain('lang="fr"');
    const code = receiptCode(html);
    const caseNumber = code.replaceAll('-', '').slice(0, 8);

    const { read, record } = await counsellorReads(caseNumber);
    expect(read.intact).toBe(true);
    const report = read.report!;
    expect(report.text).toBe(`Bonjour, ${CANARY}`);
    expect(report.language).toBe('fr');
    expect(report.consent).toBe('ask');
    expect(report.addressAs).toBe('Camille');
    expect(sealedByServer(report)).toBe(true);
    expect(report.attachments).toHaveLength(1);
    const ref = report.attachments[0]!;
    expect(record.uploads).toEqual([expect.objectContaining({ id: ref.blob, complete: true })]);
    expect(await decryptBlob(ref.blob, ref)).toBe(`contenu ${FILE_CANARY}`);
    await h!.store.checkpoint?.();
    const stored = everyFile(h!.dir);
    expect(stored).not.toContain(CANARY);
    expect(stored).not.toContain(FILE_CANARY);
    expect(stored).not.toContain(code);
    expect(h!.errors).toEqual([]);

    // Coming back: the report, the file behind a POST form, the reply form.
    const opened = await post('/basic/case?lang=fr', new URLSearchParams({ code }));
    expect(opened.status).toBe(200);
    const caseHtml = await opened.text();
    expect(caseHtml).toContain(CANARY);
    expect(caseHtml).toContain('preuve.txt');
    // The procedure's steps, and where this case stands on them: received, not yet acknowledged.
    expect(caseHtml.match(/aria-current="step"/g)).toHaveLength(1);
    expect(caseHtml).toMatch(
      /<li class="current" aria-current="step">Reçu :[^<]*\(votre signalement en est là\)<\/li>/,
    );
    expect(caseHtml).toContain('seulement si vous êtes d’accord');
    const download = await post(
      '/basic/download?lang=fr',
      new URLSearchParams({ code, blob: ref.blob }),
    );
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain("filename*=UTF-8''preuve.txt");
    expect(await download.text()).toBe(`contenu ${FILE_CANARY}`);

    const reply = await post(
      '/basic/reply?lang=fr',
      reportForm({ code, text: 'Merci, encore une chose.' }),
    );
    expect(reply.status).toBe(201);
    expect(await reply.text()).toContain('Merci, encore une chose.');
    const after = await counsellorReads(caseNumber);
    expect(after.read.intact).toBe(true);
    const message = after.read.messages[1]!;
    expect(
      message.ok && message.content.type === 'message' && sealedByServer(message.content),
    ).toBe(true);
  });

  it('name a forged message and a reader the reporter did not choose', async () => {
    await harness();
    const response = await post(
      '/basic/report?lang=en',
      reportForm({ text: 'x', consent: 'no' }),
      'en',
    );
    const code = receiptCode(await response.text());
    const keys = deriveReporterKeys(parseReceiptCode(code));
    const caseNumber = code.replaceAll('-', '').slice(0, 8);
    const record = (await h!.store.records.get(caseNumber))!;
    const stranger = generateIdentity('counsellor', 'Stranger');
    // A counsellor's reply also sealed for a key the reporter never chose.
    const reply = sealEnvelope({
      caseNumber,
      seq: 1,
      prev: envelopeHash(record.messages[0]!.envelope),
      author: h!.counsellor.sign,
      content: encodeContent({
        v: 1,
        type: 'message',
        time: '2026-11-28T12:00:00Z',
        text: 'Hello',
        attachments: [],
      }),
      recipients: [
        { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
        recipientOf(h!.counsellor),
        recipientOf(stranger),
      ],
    });
    // And a third message the server made up: it does not open.
    const forged = {
      ...reply.envelope,
      ct: (reply.envelope.ct[0] === 'A' ? 'B' : 'A') + reply.envelope.ct.slice(1),
    };
    await h!.store.records.update(caseNumber, (r) => ({
      ...r,
      messages: [
        ...r.messages,
        { seq: 1, hour: r.createdHour, author: 'counsellor', envelope: reply.envelope },
        { seq: 2, hour: r.createdHour, author: 'counsellor', envelope: forged },
      ],
    }));
    const html = await (
      await post('/basic/case?lang=en', new URLSearchParams({ code }), 'en')
    ).text();
    expect(html).toContain('Counsellor wrote');
    expect(html).toContain('someone you do not know can also read this message (one unknown key)');
    expect(html).toMatch(/This message could not be checked \([a-z-]+\)/);
  });

  it('refuse bad input with a clear page in the reporter’s language, storing nothing', async () => {
    await harness();
    const before = snapshot(h!.dir);
    const cases: [FormData | URLSearchParams | string, string, number, string][] = [
      [reportForm({ text: '   ', consent: 'ask' }), '/basic/report', 400, 'invalid-body'],
      [reportForm({ text: 'x', consent: 'maybe' }), '/basic/report', 400, 'invalid-body'],
      [
        reportForm(
          { text: 'x', consent: 'no' },
          Array.from({ length: 6 }, (_, i) => ({ name: `${i}.txt`, bytes: 'x' })),
        ),
        '/basic/report',
        400,
        'invalid-body',
      ],
      ['{"text":"x"}', '/basic/report', 415, 'unsupported-media-type'],
      [new URLSearchParams({ code: 'not a code' }), '/basic/case', 400, 'invalid-body'],
      [
        new URLSearchParams({ code: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA' }),
        '/basic/case',
        400,
        'invalid-body',
      ],
    ];
    for (const [body, path, status, code] of cases) {
      const response = await h!.fetch(path, {
        method: 'POST',
        body,
        headers: {
          'accept-language': 'fr',
          ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}),
        },
      });
      expect(response.status, `${path} ${code}`).toBe(status);
      const html = await response.text();
      expect(html).toContain('lang="fr"');
      expect(html).toContain(`<code>${code}</code>`);
    }
    // Too large, by its declared length: refused before a byte is read.
    const big = await h!.fetch('/basic/report', {
      method: 'POST',
      headers: {
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': String(BASIC_FORM_LIMIT + 1),
      },
      body: 'x',
    });
    expect(big.status).toBe(413);
    expect(snapshot(h!.dir)).toEqual(before);
    expect(h!.errors).toEqual([]);
  });

  it('tell a code that is not one from a code that does not open the case', async () => {
    await harness();
    const response = await post('/basic/report', reportForm({ text: 'x', consent: 'no' }));
    const code = receiptCode(await response.text());
    const caseNumber = code.replaceAll('-', '').slice(0, 8);
    // A changed symbol fails the check group: not a receipt code at all.
    const typo = code.slice(0, -1) + (code.endsWith('0') ? '1' : '0');
    const notACode = await post('/basic/case', new URLSearchParams({ code: typo }));
    expect(notACode.status).toBe(400);
    // The same case with another secret: a well-formed code that does not open it.
    const other = formatReceiptCode({ caseNumber, secret: new Uint8Array(10).fill(7) });
    const wrong = await post('/basic/case', new URLSearchParams({ code: other }));
    expect(wrong.status).toBe(401);
    const html = await wrong.text();
    expect(html).toContain('<code>unauthorized</code>');
    expect(html).not.toContain(other);
  });

  it('hold off a flood: a global budget per hour and a queue, the rest of the server unaffected', async () => {
    await harness({ perHour: 3, concurrent: 1, queue: 0 });
    const send = () => post('/basic/report', reportForm({ text: 'flood', consent: 'no' }));
    // A form refused for what it held costs the reporter nothing of the budget.
    const empty = await post('/basic/report', reportForm({ text: ' ', consent: 'no' }));
    expect(empty.status).toBe(400);
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(201);
    const before = snapshot(h!.dir);
    const refused = await send();
    expect(refused.status).toBe(503);
    const html = await refused.text();
    expect(html).toContain('lang="fr"');
    expect(html).toContain('<code>busy</code>');
    expect(snapshot(h!.dir)).toEqual(before);
    // The API, the page with JavaScript and the counsellors are not behind this gate.
    expect((await h!.fetch('/api/v1/health')).status).toBe(200);
    const ticket = await h!.fetch('/api/v1/tickets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'case' }),
    });
    expect(ticket.status).toBe(201);
    const list = await h!.fetch(
      '/api/v1/counsellor/cases',
      signed(h!.counsellor, 'GET', '/api/v1/counsellor/cases', undefined, h!.seconds()),
    );
    expect(list.status).toBe(200);
    expect(((await list.json()) as { cases: unknown[] }).cases).toHaveLength(3);
    // The next hour has a new budget.
    h!.clock.ms += 3_600_000;
    expect((await send()).status).toBe(201);
  });

  it('queue at most the declared number of submissions, refusing the next before reading it', async () => {
    await harness({ perHour: 100, concurrent: 1, queue: 0 });
    // A submission whose body is still arriving holds the one turn.
    let finish!: () => void;
    const form = new Response(reportForm({ text: 'slow', consent: 'no' }));
    const bytes = new Uint8Array(await form.arrayBuffer());
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(bytes.subarray(0, 10));
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    });
    const slow = h!.fetch('/basic/report', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': form.headers.get('content-type')! },
      duplex: 'half',
    } as RequestInit);
    await new Promise((resolve) => setImmediate(resolve));
    const second = await post('/basic/report', reportForm({ text: 'second', consent: 'no' }));
    expect(second.status).toBe(503);
    finish();
    expect((await slow).status).toBe(201);
    expect((await post('/basic/report', reportForm({ text: 'third', consent: 'no' }))).status).toBe(
      201,
    );
  });

  it('has every message in every language, with the same placeholders', async () => {
    const en = JSON.parse(readFileSync('client/reporter/locales/en.json', 'utf8')) as Record<
      string,
      string
    >;
    for (const lang of BASIC_LANGUAGES) {
      const catalogue = JSON.parse(
        readFileSync(`client/reporter/locales/${lang}.json`, 'utf8'),
      ) as Record<string, string>;
      const basic = Object.fromEntries(
        Object.entries(catalogue).filter(([k]) => k.startsWith('basic')),
      );
      const source = Object.fromEntries(Object.entries(en).filter(([k]) => k.startsWith('basic')));
      expect(compareCatalogues(source, basic, lang), lang).toEqual([]);
    }
  });
});
