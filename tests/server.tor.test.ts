/**
 * What the server does for fewer round trips over Tor (docs/API.md): a new
 * case that announces its report's uploads in the same request, paid for
 * in its case ticket, and upload chunks that may arrive out of order when
 * the page pipelines them, and the page's files served compressed.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  attachmentCiphertextLength,
  deriveReporterKeys,
  generateReceiptSecret,
  toBase64,
} from '../crypto/index.js';
import { ChunkOrder } from '../server/chunk-order.js';
import { loadStaticFiles } from '../server/static.js';
import { json, sealReport, ticket, workHeaders } from './helpers/api-client.js';
import { type Harness, makeHarness } from './helpers/app-harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  expect(h.errors).toEqual([]);
  await h.close();
});

async function expectError(response: Response, status: number, code: string) {
  const body = (await response.json()) as { error: { code: string } } & Record<string, unknown>;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  return body;
}

/** A case ticket with `solutions` nonces, and the reporter keys of its case. */
async function newCase(solutions: number) {
  const t = await ticket(h.fetch, { kind: 'case' }, solutions);
  const keys = deriveReporterKeys({ caseNumber: t.caseNumber, secret: generateReceiptSecret() });
  return {
    t,
    keys,
    caseNumber: t.caseNumber,
    auth: { 'kluis-auth': toBase64(keys.authKey) },
    verifier: toBase64(keys.verifier),
  };
}

function patch(
  c: { caseNumber: string; auth: Record<string, string> },
  id: string,
  offset: number,
  bytes: Uint8Array,
) {
  return h.fetch(`/api/v1/cases/${c.caseNumber}/uploads/${id}`, {
    method: 'PATCH',
    headers: {
      ...c.auth,
      'content-type': 'application/octet-stream',
      'upload-offset': String(offset),
    },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
}

function bytesOf(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 131 + 7) & 0xff);
}

describe('a new case with its uploads', () => {
  it('announces them in the case request, paid for in the case ticket, and they take their bytes', async () => {
    const lengths = [attachmentCiphertextLength(200_000), attachmentCiphertextLength(10)];
    const c = await newCase(3);
    const created = await h.fetch(
      '/api/v1/cases',
      json({ verifier: c.verifier, uploads: lengths }, workHeaders(c.t)),
    );
    expect(created.status).toBe(201);
    const body = (await created.json()) as {
      case: string;
      uploads: { id: string; offset: number }[];
    };
    expect(body.case).toBe(c.caseNumber);
    expect(body.uploads.map((u) => u.offset)).toEqual([0, 0]);
    const view = (await (
      await h.fetch(`/api/v1/cases/${c.caseNumber}`, { headers: c.auth })
    ).json()) as { messages: unknown[]; uploads: { id: string; length: number }[] };
    expect(view.messages).toEqual([]);
    expect(view.uploads.map((u) => [u.id, u.length])).toEqual(
      body.uploads.map((u, i) => [u.id, lengths[i]]),
    );
    const first = body.uploads[0]!.id;
    const answer = await patch(c, first, 0, bytesOf(lengths[0]!));
    expect(await answer.json()).toEqual({ offset: lengths[0], complete: true });
  });

  it('refuses too little work for the uploads (one solution per 16 MiB each) and changes nothing', async () => {
    const c = await newCase(1);
    const refused = await expectError(
      await h.fetch(
        '/api/v1/cases',
        json(
          { verifier: c.verifier, uploads: [attachmentCiphertextLength(1000)] },
          workHeaders(c.t),
        ),
      ),
      400,
      'insufficient-work',
    );
    expect(refused.solutions).toBe(2);
    expect(await h.store.records.get(c.caseNumber)).toBeUndefined();
  });

  it('refuses a report with uploads, an empty or malformed list, and a length no attachment has', async () => {
    const c = await newCase(3);
    const report = sealReport(
      { caseNumber: c.caseNumber, keys: c.keys } as Parameters<typeof sealReport>[0],
      h.counsellorRecipients,
      'Text.',
    );
    const post = (body: unknown) => h.fetch('/api/v1/cases', json(body, workHeaders(c.t)));
    const valid = attachmentCiphertextLength(1000);
    await expectError(
      await post({ verifier: c.verifier, report, uploads: [valid] }),
      400,
      'invalid-body',
    );
    await expectError(await post({ verifier: c.verifier, uploads: [] }), 400, 'invalid-body');
    await expectError(await post({ verifier: c.verifier, uploads: [-1] }), 400, 'invalid-body');
    await expectError(
      await post({ verifier: c.verifier, uploads: [valid + 1] }),
      400,
      'invalid-length',
    );
    expect(await h.store.records.get(c.caseNumber)).toBeUndefined();
    // The refusals gave the ticket back: it still makes the case.
    expect((await post({ verifier: c.verifier, uploads: [valid] })).status).toBe(201);
  });
});

describe('pipelined upload chunks', () => {
  it('a chunk that arrives before the one before it waits for its turn, then both land in order', async () => {
    const length = attachmentCiphertextLength(300_000);
    const c = await newCase(2);
    const created = (await (
      await h.fetch(
        '/api/v1/cases',
        json({ verifier: c.verifier, uploads: [length] }, workHeaders(c.t)),
      )
    ).json()) as { uploads: { id: string }[] };
    const id = created.uploads[0]!.id;
    const bytes = bytesOf(length);
    const cut = 131_104; // two sealed chunks
    const second = patch(c, id, cut, bytes.subarray(cut));
    // Without a turn to wait for, the second would have been refused (offset-mismatch) by now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await patch(c, id, 0, bytes.subarray(0, cut));
    expect(await first.json()).toEqual({ offset: cut, complete: false });
    expect(await (await second).json()).toEqual({ offset: length, complete: true });
    const blob = await h.fetch(`/api/v1/cases/${c.caseNumber}/blobs/${id}`, { headers: c.auth });
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);
  });
});

describe('ChunkOrder', () => {
  it('lets a chunk go once the upload reaches its offset', async () => {
    const order = new ChunkOrder();
    let size = 0;
    const waiting = order.turn('a', 100, async () => size);
    let done = false;
    void waiting.then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(done).toBe(false);
    order.reached('a', 50);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(done).toBe(false);
    size = 100;
    order.reached('a', 100);
    await waiting;
  });

  it('does not hold a chunk whose turn does not come, nor more than its bounds', async () => {
    // Each returns (the route then answers offset-mismatch) without the turn coming.
    await new ChunkOrder({ waitMs: 20 }).turn('a', 100, async () => 0);
    await new ChunkOrder({ maxAheadBytes: 10 }).turn('a', 100, async () => 0);
    const bounded = new ChunkOrder({ maxPerUpload: 1 });
    const first = bounded.turn('a', 100, async () => 0);
    await bounded.turn('a', 200, async () => 0);
    bounded.reached('a', 100);
    await first;
  });
});

describe("the page's files", () => {
  it('are held gzip-compressed too when that makes text smaller, the same bytes once decoded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kluis-static-'));
    try {
      const script = `export const words = "${'woorden '.repeat(500)}";\n`;
      writeFileSync(join(dir, 'page.js'), script);
      writeFileSync(join(dir, 'tiny.txt'), 'a');
      writeFileSync(join(dir, 'icon.png'), new Uint8Array(2000));
      const files = loadStaticFiles(dir);
      const js = files.get('/page.js')!;
      expect(js.gzip!.length).toBeLessThan(js.body.length);
      expect(new TextDecoder().decode(gunzipSync(js.gzip!))).toBe(script);
      expect(files.get('/tiny.txt')!.gzip).toBeUndefined(); // no smaller
      expect(files.get('/icon.png')!.gzip).toBeUndefined(); // not text
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
