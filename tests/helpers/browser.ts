/**
 * Browser tests of the reporter page: Debian's Chromium driven by
 * playwright-core (which downloads no browser), without JIT as Tor
 * Browser runs at its Safer level. Also: building the page, recording
 * every request a page makes, axe-core, and the counsellor's side of a
 * case done with crypto/ directly (signed requests, opening, replying).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { chromium } from 'playwright-core';
import {
  type Content,
  decodeContent,
  deriveReporterKeys,
  type Envelope,
  encodeContent,
  exportBundle,
  fingerprintOf,
  formatReceiptCode,
  fromBase64,
  GENESIS_HASH,
  generateIdentity,
  generateReceiptSecret,
  type Identity,
  openConversation,
  type PublicBundle,
  type Recipient,
  sealEnvelope,
  solvePow,
  toBase64,
} from '../../crypto/index.js';
import { httpFetch, sendSigned } from './api-client.js';
import { browserPath, launchablePath } from './browsers.js';
import { type ServerProcess, startServer } from './server-process.js';

/** Where Debian puts Chromium; KLUIS_CHROMIUM overrides it (tests/helpers/browsers.ts finds or installs it). */
export const CHROMIUM_PATH = browserPath('chromium');

/** Flags for a quiet, offline, JIT-less Chromium (drop the last one for JIT). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--js-flags=--jitless',
];

/** Launches Chromium; `jit: true` leaves the JIT on (the bench compares both). */
export function launchBrowser(options: { jit?: boolean } = {}): Promise<Browser> {
  const args = options.jit
    ? CHROMIUM_ARGS.filter((arg) => arg !== '--js-flags=--jitless')
    : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: launchablePath('chromium'), args });
}

const ROOT = resolve(import.meta.dirname, '../..');

/** What a test page is built with besides the project's site texts. */
export interface PageKeys {
  /** The counsellors' public bundles: the only keys the page seals for. */
  readonly counsellors?: readonly PublicBundle[];
  readonly escalation?: readonly PublicBundle[];
}

/**
 * Builds the reporter page with the project's vite.config.ts into `outDir`
 * (a fresh temporary directory by default) and returns the directory. The
 * site config is the project's, with `keys` built in (as an operator's
 * site config holds its counsellors' bundles). Tests point the server at it
 * with KLUIS_STATIC_DIR, so they never race another suite that reads
 * dist/reporter/.
 */
export async function buildReporter(
  keys: PageKeys = {},
  outDir = mkdtempSync(join(tmpdir(), 'kluis-page-')),
): Promise<string> {
  const site = JSON.parse(
    readFileSync(join(ROOT, 'client/reporter/site.config.json'), 'utf8'),
  ) as Record<string, unknown>;
  const config = join(mkdtempSync(join(tmpdir(), 'kluis-site-')), 'site.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      ...site,
      counsellors: keys.counsellors ?? [],
      escalationRecipients: keys.escalation ?? [],
    }),
  );
  try {
    return await viteBuild(outDir, { KLUIS_SITE_CONFIG: config });
  } finally {
    rmSync(dirname(config), { recursive: true, force: true });
  }
}

/** Builds the generic reporter page (no site step: what a release ships) into `outDir`. */
export function buildGenericReporter(
  outDir = mkdtempSync(join(tmpdir(), 'kluis-generic-')),
): Promise<string> {
  return viteBuild(outDir, { KLUIS_PAGE_GENERIC: '1' });
}

/** Runs vite.config.ts into `outDir` with `env` set for the build's duration. */
async function viteBuild(outDir: string, env: Record<string, string>): Promise<string> {
  const { build } = await import('vite');
  const before = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    await build({
      configFile: join(ROOT, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return outDir;
}

/** One request a page made, with its body. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | null;
}

/** Records every request the page makes from now on (including ones that fail or are routed). */
export function recordRequests(page: Page): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  page.on('request', (request: Request) => {
    requests.push({
      method: request.method(),
      url: request.url(),
      headers: request.headers(),
      body: request.postDataBuffer(),
    });
  });
  return requests;
}

/** Every place in the recorded requests (URL, headers, body) where `needle` occurs. */
export function requestsContaining(
  requests: readonly RecordedRequest[],
  needle: string | Uint8Array,
): string[] {
  const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle);
  const text = bytes.toString('latin1');
  const found: string[] = [];
  for (const r of requests) {
    if (r.url.includes(text) || decodeURIComponent(r.url).includes(text))
      found.push(`${r.method} ${r.url} (url)`);
    if (Object.values(r.headers).some((value) => value.includes(text)))
      found.push(`${r.method} ${r.url} (header)`);
    if (r.body?.includes(bytes)) found.push(`${r.method} ${r.url} (body)`);
  }
  return found;
}

/** An axe violation, reduced to what a failing test should print. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is and
 * returns the serious and critical violations. axe is evaluated through
 * the DevTools protocol, which the page's CSP does not govern, so the page
 * keeps its real policy.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (context: unknown, options: unknown) => Promise<{ violations: unknown[] }> };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
    });
    return result.violations as {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: string[] }[];
    }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
}

/** The counsellor of a test: an identity generated here, its bundle given to the server. */
export interface TestCounsellor {
  readonly identity: Identity;
  readonly fingerprint: string;
  readonly bundle: PublicBundle;
  /** The JSON array for KLUIS_COUNSELLORS. */
  readonly bundlesJson: string;
}

/** Makes a counsellor identity and its bundle file content. */
export function makeCounsellor(name = 'Test counsellor'): TestCounsellor {
  const identity = generateIdentity('counsellor', name);
  return {
    identity,
    fingerprint: fingerprintOf(identity.sign.publicKey),
    bundle: exportBundle(identity),
    bundlesJson: JSON.stringify([exportBundle(identity)]),
  };
}

/** A request signed by the counsellor (PROTOCOL §10), over real HTTP. */
export async function counsellorFetch(
  base: string,
  counsellor: TestCounsellor,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  // Signed for the server's origin; signed again with its time if it has just started.
  const { response } = await sendSigned(
    httpFetch(base),
    counsellor.identity,
    method,
    path,
    body,
    new URL(base).origin,
  );
  return response;
}

/** A message of a case as the counsellor reads it. */
export interface ReadMessage {
  readonly ok: boolean;
  readonly author: 'reporter' | 'counsellor' | undefined;
  readonly content: Content | undefined;
  readonly error: string | undefined;
}

/** What the counsellor knows after reading a case. */
export interface CounsellorView {
  readonly messages: ReadMessage[];
  readonly intact: boolean;
  readonly reporter: Recipient;
  readonly count: number;
  readonly lastHash: Uint8Array;
}

/** Reads and opens a case as the counsellor. */
export async function counsellorRead(
  base: string,
  counsellor: TestCounsellor,
  caseNumber: string,
): Promise<CounsellorView> {
  const response = await counsellorFetch(
    base,
    counsellor,
    'GET',
    `/api/v1/counsellor/cases/${caseNumber}`,
  );
  if (response.status !== 200)
    throw new Error(`counsellor read: ${response.status} ${await response.text()}`);
  const view = (await response.json()) as { messages: { envelope: Envelope }[] };
  const conversation = openConversation(
    view.messages.map((m) => m.envelope),
    {
      fingerprint: counsellor.fingerprint,
      boxPublicKey: counsellor.identity.box.publicKey,
      boxSecretKey: counsellor.identity.box.secretKey,
    },
    { caseNumber, counsellorSignKeys: [counsellor.identity.sign.publicKey] },
  );
  const messages = conversation.entries.map((entry): ReadMessage => {
    if (!entry.ok)
      return { ok: false, author: undefined, content: undefined, error: entry.error.code };
    return {
      ok: true,
      author: entry.author.kind,
      content: decodeContent(entry.opened.content),
      error: undefined,
    };
  });
  const report = messages[0]?.content;
  if (!conversation.reporterSignKey || report?.type !== 'report')
    throw new Error('no readable report');
  const last = conversation.entries[conversation.entries.length - 1]!;
  return {
    messages,
    intact: conversation.intact,
    reporter: {
      fingerprint: fingerprintOf(conversation.reporterSignKey),
      boxPublicKey: fromBase64(report.reporterBox),
    },
    count: conversation.entries.length,
    lastHash: last.ok ? last.opened.hash : last.hash!,
  };
}

/** Seals content as the counsellor, for the reporter and the counsellor, and posts it at the end of the chain. */
export async function counsellorPost(
  base: string,
  counsellor: TestCounsellor,
  caseNumber: string,
  view: CounsellorView,
  content: Content,
  extra: { status?: string; ack?: boolean } = {},
  /** More keys to seal for: a hostile or broken client's extra reader. */
  alsoFor: readonly Recipient[] = [],
): Promise<void> {
  const sealed = sealEnvelope({
    caseNumber,
    seq: view.count,
    prev: view.lastHash,
    author: counsellor.identity.sign,
    content: encodeContent(content),
    recipients: [
      view.reporter,
      { fingerprint: counsellor.fingerprint, boxPublicKey: counsellor.identity.box.publicKey },
      ...alsoFor,
    ],
  });
  const response = await counsellorFetch(
    base,
    counsellor,
    'POST',
    `/api/v1/cases/${caseNumber}/messages`,
    {
      seq: view.count,
      envelope: sealed.envelope,
      ...extra,
    },
  );
  if (response.status !== 201)
    throw new Error(`counsellor post: ${response.status} ${await response.text()}`);
}

/** Downloads an attachment's ciphertext as the counsellor. */
export async function counsellorBlob(
  base: string,
  counsellor: TestCounsellor,
  caseNumber: string,
  id: string,
): Promise<Uint8Array> {
  const response = await counsellorFetch(
    base,
    counsellor,
    'GET',
    `/api/v1/cases/${caseNumber}/blobs/${id}`,
  );
  if (response.status !== 200)
    throw new Error(`counsellor blob: ${response.status} ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Makes a case with a report through the API, as the page would, for tests
 * that start from an existing case. Returns its receipt code.
 */
export async function apiCase(
  base: string,
  counsellor: TestCounsellor,
  text: string,
): Promise<{ code: string; caseNumber: string }> {
  const post = (path: string, body: unknown) =>
    fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const ticket = (await (await post('/api/v1/tickets', { kind: 'case' })).json()) as {
    ticket: string;
    bits: number;
    case: string;
  };
  const code = { caseNumber: ticket.case, secret: generateReceiptSecret() };
  const keys = deriveReporterKeys(code);
  const report = sealEnvelope({
    caseNumber: code.caseNumber,
    seq: 0,
    prev: GENESIS_HASH,
    author: keys.sign,
    content: encodeContent({
      v: 1,
      type: 'report',
      time: '2026-11-28T12:00:00Z',
      text,
      consent: 'no',
      addressAs: '',
      language: 'nl',
      reporterBox: toBase64(keys.box.publicKey),
      attachments: [],
    }),
    recipients: [
      { fingerprint: keys.fingerprint, boxPublicKey: keys.box.publicKey },
      { fingerprint: counsellor.fingerprint, boxPublicKey: counsellor.identity.box.publicKey },
    ],
  });
  const nonce = solvePow(fromBase64(ticket.ticket), ticket.bits)!;
  const response = await fetch(`${base}/api/v1/cases`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'kluis-ticket': ticket.ticket,
      'kluis-work': String(nonce),
    },
    body: JSON.stringify({ verifier: toBase64(keys.verifier), report: report.envelope }),
  });
  if (response.status !== 201)
    throw new Error(`making a case: ${response.status} ${await response.text()}`);
  return { code: formatReceiptCode(code), caseNumber: code.caseNumber };
}

/**
 * Chooses a language in the reporter page's picker (the button named in that language) and
 * waits until the page speaks it: its catalogue is fetched when first chosen.
 */
export async function chooseLanguage(page: Page, name: string): Promise<void> {
  const button = page.getByRole('button', { name, exact: true });
  const code = await button.getAttribute('lang');
  await button.click();
  await page.waitForFunction((lang) => document.documentElement.lang === lang, code);
  await page.locator(`button[lang="${code}"][aria-pressed="true"]`).waitFor();
}

/** A reporter page built for some counsellors, a real server process listing them, and a browser. */
export interface PageRig {
  readonly server: ServerProcess;
  readonly browser: Browser;
  readonly staticDir: string;
  /** Closes the browser, stops the server and removes the built page. */
  close(): Promise<void>;
}

/**
 * The setup the page suites share: the page built with `counsellors`' bundles, served by a server
 * that lists the same bundles (proof of work at 8 bits unless `env` says otherwise), and Chromium.
 */
export async function startPageRig(
  counsellors: readonly TestCounsellor[],
  env: Readonly<Record<string, string>> = {},
): Promise<PageRig> {
  const bundles = counsellors.map((c) => c.bundle);
  const staticDir = await buildReporter({ counsellors: bundles });
  const bundlesFile = join(staticDir, '..', `${basename(staticDir)}-bundles.json`);
  writeFileSync(bundlesFile, JSON.stringify(bundles));
  const server = await startServer({
    env: {
      KLUIS_STATIC_DIR: staticDir,
      KLUIS_COUNSELLORS: bundlesFile,
      KLUIS_POW_BITS: '8',
      ...env,
    },
  });
  const browser = await launchBrowser();
  return {
    server,
    browser,
    staticDir,
    async close() {
      await browser.close();
      await server.stop();
      rmSync(staticDir, { recursive: true, force: true });
      rmSync(bundlesFile, { force: true });
    },
  };
}
