/**
 * A reporter at Tor Browser's Safest level: Firefox ESR with JavaScript off (tests/helpers/
 * firefox.ts, SAFEST_PREFS) and French as its language, against the real server process. A report
 * in French with a file through the no-JavaScript pages; the counsellor reads it with the CLI,
 * sees it was sent without JavaScript, and replies with a file; the reporter comes back with the
 * receipt code, reads the reply and answers. A canary in every text and file the reporter sends
 * appears nowhere in the data directory or the server's output. Puppeteer drives the browser from
 * outside (WebDriver BiDi); the page itself runs no script.
 */

import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBasicPage } from './helpers/basic-page.js';
import { runCli } from './helpers/counsellor-cli.js';
import { launchFirefox, profilePrefs, SAFEST_PREFS } from './helpers/firefox.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

const PASS = 'correct horse battery staple';
const CANARY = 'CANARI-5e1d7a-rapport';
const FILE_CANARY = 'CANARI-FICHIER-93b2c4';
const ANSWER_CANARY = 'CANARI-REPONSE-0c6f88';

let dir: string;
let key: string;
let server: ServerProcess;
let browser: Browser;
let stopped = false;

const cli = (args: string[], stdin?: string) =>
  runCli([...args, '--key', key, '--server', server.url], {
    passphrase: PASS,
    ...(stdin !== undefined ? { stdin } : {}),
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kluis-basic-ff-'));
  key = join(dir, 'a', 'key.json');
  const init = await runCli(['init', '--name', 'A. de Vries (test)', '--key', key], {
    passphrase: PASS,
  });
  expect(init.code, init.stderr).toBe(0);
  const bundle = JSON.parse(readFileSync(join(dir, 'a', 'bundle.json'), 'utf8'));
  writeFileSync(join(dir, 'counsellors.json'), JSON.stringify([bundle]));
  const page = writeBasicPage(join(dir, 'page'), [bundle]);
  const data = join(dir, 'data');
  mkdirSync(data);
  server = await startServer({
    dataDir: data,
    env: { KLUIS_COUNSELLORS: join(dir, 'counsellors.json'), KLUIS_STATIC_DIR: page },
  });
  browser = await launchFirefox({ ...SAFEST_PREFS, 'intl.accept_languages': 'fr' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (!stopped) await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The page's HTML once it holds `text` (the page runs no script, so the test looks from outside). */
async function pageWith(page: Page, text: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const html = await page.content().catch(() => '');
    if (html.includes(text)) return html;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the page never showed ${text}: ${(await page.content()).slice(0, 2000)}`);
}

/** Submits a form as a person would without a mouse: Enter on its button. */
async function submit(page: Page, button: string): Promise<void> {
  const handle = await page.$(button);
  if (!handle) throw new Error(`no ${button}`);
  await handle.press('Enter');
}

function everyFile(folder: string): string {
  let all = '';
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    all += statSync(path).isDirectory() ? everyFile(path) : readFileSync(path).toString('latin1');
  }
  return all;
}

describe('reporting with JavaScript off (Tor Browser at Safest)', () => {
  it('reports in French with a file, reads the counsellor’s reply and answers; nothing in the clear on the server', async () => {
    expect(profilePrefs(browser)['javascript.enabled']).toBe(false);
    const context = await browser.createBrowserContext();
    const page = await context.newPage();

    // The browser asks for French; the pages answer in French and say first what is weaker here.
    await page.goto(`${server.url}/basic/`);
    const start = await pageWith(page, 'Signaler sans JavaScript');
    expect(start).toMatch(/<html lang="fr" dir="ltr">/);
    expect(start.indexOf('cette voie est moins sûre')).toBeLessThan(start.indexOf('<form'));
    expect(start).toContain('Plus sûr');

    await page.type('#text', `On m’a menacé au guichet. ${CANARY}`);
    await page.type('#addressAs', 'Camille');
    const file = join(dir, 'preuve.txt');
    writeFileSync(file, `Capture du message : ${FILE_CANARY}\n`);
    const input = await page.$('input#files');
    await input!.uploadFile(file);
    await submit(page, 'form button[type=submit]');
    const receipt = await pageWith(page, 'id="receipt-code"');
    expect(receipt).toContain('Votre signalement a été envoyé');
    const code = /id="receipt-code">([0-9A-Z-]+)</.exec(receipt)![1]!;
    const caseNumber = code.replaceAll('-', '').slice(0, 8);
    expect(page.url()).not.toContain(code);

    // The counsellor reads it with the CLI: the French report, its file, and how it came.
    const show = await cli(['show', caseNumber]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(CANARY);
    expect(show.stdout).toContain('language: fr');
    expect(show.stdout).toContain('sent without JavaScript');
    expect(show.stdout).toContain('preuve.txt');
    const saved = join(dir, 'saved');
    const save = await cli(['save', caseNumber, saved]);
    expect(save.code, save.stderr).toBe(0);
    const savedFiles = readdirSync(saved, { recursive: true }).map(String);
    const savedFile = savedFiles.find((name) => name.endsWith('preuve.txt'));
    expect(readFileSync(join(saved, savedFile!), 'utf8')).toBe(
      `Capture du message : ${FILE_CANARY}\n`,
    );
    const attachment = join(dir, 'reponse.txt');
    writeFileSync(attachment, 'Voici la procédure.\n');
    const answered = await cli(
      ['reply', caseNumber, '--attach', attachment],
      'Merci pour votre signalement. Pouvez-vous préciser la date ?\n',
    );
    expect(answered.code, answered.stderr).toBe(0);

    // The reporter comes back with the code (typed into a POST form, never in a URL).
    await page.goto(`${server.url}/basic/return`);
    await pageWith(page, 'Revenir à votre signalement');
    await page.type('#code', code);
    await submit(page, 'form button[type=submit]');
    const conversation = await pageWith(page, 'Pouvez-vous préciser la date ?');
    expect(conversation).toContain(CANARY);
    expect(conversation).toContain('A. de Vries (test) a écrit');
    expect(conversation).toContain('Télécharger reponse.txt');
    expect(conversation).not.toContain('role="alert"');
    expect(page.url()).not.toContain(code);

    await page.type('#text', `Le 3 novembre, vers midi. ${ANSWER_CANARY}`);
    await submit(page, 'form[enctype="multipart/form-data"] button[type=submit]');
    await pageWith(page, 'Votre réponse a été envoyée.');

    const later = await cli(['show', caseNumber]);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toContain(ANSWER_CANARY);
    await context.close();

    // Nothing the reporter wrote, nor the receipt code, is on the server's disk or in its output.
    await server.stop();
    stopped = true;
    const disk = everyFile(server.dataDir);
    const output = server.output();
    for (const secret of [CANARY, FILE_CANARY, ANSWER_CANARY, code, code.replaceAll('-', '')]) {
      expect(disk, secret).not.toContain(secret);
      expect(output, secret).not.toContain(secret);
    }
  }, 240_000);
});
