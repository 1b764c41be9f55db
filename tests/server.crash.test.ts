import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { exportBundle, generateIdentity, type Envelope } from '../crypto/index.js';
import { createCase, httpFetch, json, recipientOf, sealReport } from './helpers/api-client.js';
import { startServer } from './helpers/server-process.js';

it('kill -9 in the middle of 1,000 concurrent submissions loses none that were acknowledged', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kluis-crash-'));
  const bundleFile = join(dataDir, '..', `${dataDir.split('/').pop()}-bundles.json`);
  const counsellor = generateIdentity('counsellor', 'Crash test');
  writeFileSync(bundleFile, JSON.stringify([exportBundle(counsellor)]));
  const env = { KLUIS_POW_BITS: '0', KLUIS_COUNSELLORS: bundleFile };
  try {
    const server = await startServer({ dataDir, env, cleanup: false });
    const fetcher = httpFetch(server.url);
    const acknowledged = new Map<string, { auth: Record<string, string>; envelope: Envelope }>();
    let started = 0;
    let killed = false;
    const worker = async () => {
      while (started < 1000 && !killed) {
        started++;
        try {
          const reporter = await createCase(fetcher);
          const envelope = sealReport(reporter, [recipientOf(counsellor)], `report ${started}`);
          const response = await fetcher(
            `/api/v1/cases/${reporter.caseNumber}/messages`,
            json({ seq: 0, envelope }, reporter.auth),
          );
          if (response.status === 201)
            acknowledged.set(reporter.caseNumber, { auth: reporter.auth, envelope });
        } catch {
          // Requests in flight when the server dies fail; they were never acknowledged.
        }
        if (acknowledged.size >= 300 && !killed) {
          killed = true;
          await server.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: 40 }, worker));
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(300);

    const restarted = await startServer({ dataDir, env, cleanup: false });
    try {
      const again = httpFetch(restarted.url);
      for (const [caseNumber, { auth, envelope }] of acknowledged) {
        const response = await again(`/api/v1/cases/${caseNumber}`, { headers: auth });
        expect(response.status, caseNumber).toBe(200);
        const view = (await response.json()) as { messages: Array<{ envelope: Envelope }> };
        expect(view.messages[0]!.envelope).toEqual(envelope);
      }
    } finally {
      await restarted.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(bundleFile, { force: true });
  }
});
