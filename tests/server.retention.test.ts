import { afterEach, beforeEach, expect, it } from 'vitest';
import { attachmentCiphertextLength, encodeContent, sealEnvelope, toHex } from '../crypto/index.js';
import { sweep } from '../server/retention.js';
import {
  createCase,
  createUpload,
  type ReporterCase,
  reporterRecipient,
  signed,
  submitReport,
} from './helpers/api-client.js';
import { type Harness, makeHarness, snapshot } from './helpers/app-harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

const HOUR = 3_600_000;
const files = () => Object.keys(snapshot(h.dir));

it('deletes abandoned cases, stale uploads, orphan blobs, and closed cases after the retention period, and nothing else', async () => {
  const abandoned = await createCase(h.fetch);
  const open = await submitReport(h.fetch, h.counsellorRecipients);
  const closed = await submitReport(h.fetch, h.counsellorRecipients);
  const length = attachmentCiphertextLength(100);
  const upload = async (reporter: ReporterCase) =>
    ((await (await createUpload(h.fetch, reporter, length)).json()) as { id: string }).id;
  const stale = await upload(open);
  const orphan = toHex(new Uint8Array(16).fill(7));
  await h.store.blobs.create(orphan);

  // The counsellor closes one case.
  const statusPath = `/api/v1/cases/${closed.caseNumber}/messages`;
  const envelope = sealEnvelope({
    caseNumber: closed.caseNumber,
    seq: 1,
    prev: closed.last,
    author: h.counsellor.sign,
    content: encodeContent({
      v: 1,
      type: 'status',
      time: '2026-11-28T12:00:00Z',
      status: 'closed',
      text: 'Closed.',
    }),
    recipients: [reporterRecipient(closed), ...h.counsellorRecipients],
  }).envelope;
  expect(
    (
      await h.fetch(
        statusPath,
        signed(
          h.counsellor,
          'POST',
          statusPath,
          { seq: 1, envelope, status: 'closed' },
          h.seconds(),
        ),
      )
    ).status,
  ).toBe(201);

  // Right away nothing but the orphan goes.
  expect(await sweep(h.store, 30, h.clock.ms)).toEqual({
    closedCases: 0,
    abandonedCases: 0,
    incompleteUploads: 0,
    orphanBlobs: 1,
  });
  expect(files().some((f) => f.includes(orphan))).toBe(false);

  // A day later: the abandoned case and the stale upload.
  expect(await sweep(h.store, 30, h.clock.ms + 24 * HOUR)).toEqual({
    closedCases: 0,
    abandonedCases: 1,
    incompleteUploads: 1,
    orphanBlobs: 0,
  });
  expect(h.store.records.has(abandoned.caseNumber)).toBe(false);
  expect(files().some((f) => f.includes(stale))).toBe(false);
  expect((await h.store.records.get(open.caseNumber))!.uploads).toEqual([]);

  // 29 days after closing the closed case is still there; at 30 days it is gone, with its files.
  expect((await sweep(h.store, 30, h.clock.ms + 29 * 24 * HOUR)).closedCases).toBe(0);
  expect(await sweep(h.store, 30, h.clock.ms + 30 * 24 * HOUR + HOUR)).toEqual({
    closedCases: 1,
    abandonedCases: 0,
    incompleteUploads: 0,
    orphanBlobs: 0,
  });
  expect(files().some((f) => f.includes(closed.caseNumber))).toBe(false);
  expect(h.store.records.has(open.caseNumber)).toBe(true);
});
