/**
 * Retention: what the server deletes on its own, so that nothing is kept
 * longer than it must be (docs/API.md and README.md say the same):
 * - a closed case, `retentionDays` after it was closed;
 * - a case without a report, 24 hours after it was made (an abandoned send);
 * - an upload still incomplete 24 hours after it was announced;
 * - a blob no case names (left by a crash between two writes).
 */

import type { CaseRecord, CaseSummary } from './records.js';
import { hourOf } from './records.js';
import type { Store } from './store/index.js';
import { RecordNotFoundError } from './store/index.js';

/** Hours an unreported case or an incomplete upload is kept. */
export const ABANDONED_HOURS = 24;

/** What one sweep removed. */
export interface SweepReport {
  readonly closedCases: number;
  readonly abandonedCases: number;
  readonly incompleteUploads: number;
  readonly orphanBlobs: number;
}

/** Runs one retention sweep at time `nowMs`. */
export async function sweep(
  store: Store<CaseRecord, CaseSummary>,
  retentionDays: number,
  nowMs: number,
): Promise<SweepReport> {
  const hour = hourOf(nowMs);
  const closed: string[] = [];
  const abandoned: string[] = [];
  const stale: Array<[string, string[]]> = [];
  for await (const [caseNumber, summary] of store.records.summaries()) {
    if (summary.status === 'closed' && summary.statusHour + retentionDays * 24 <= hour)
      closed.push(caseNumber);
    else if (summary.reportHour === null && summary.createdHour + ABANDONED_HOURS <= hour)
      abandoned.push(caseNumber);
    else {
      const old = summary.incompleteUploads
        .filter((u) => u.hour + ABANDONED_HOURS <= hour)
        .map((u) => u.id);
      if (old.length > 0) stale.push([caseNumber, old]);
    }
  }
  let incompleteUploads = 0;
  for (const caseNumber of [...closed, ...abandoned]) {
    const record = await store.records.get(caseNumber);
    if (!record) continue;
    await store.records.delete(caseNumber);
    for (const upload of record.uploads) await store.blobs.delete(upload.id);
  }
  for (const [caseNumber, ids] of stale) {
    try {
      await store.records.update(caseNumber, (record) => ({
        ...record,
        uploads: record.uploads.filter((u) => !ids.includes(u.id) || u.complete),
      }));
    } catch (error) {
      if (!(error instanceof RecordNotFoundError)) throw error;
    }
    for (const id of ids) if (await store.blobs.delete(id)) incompleteUploads++;
  }
  // Orphans: blobs no case names. Collect the names first, so an upload announced meanwhile
  // (its record entry is written before its blob) is never mistaken for one.
  const named = new Set<string>();
  for await (const [, summary] of store.records.summaries())
    for (const id of summary.uploadIds) named.add(id);
  let orphanBlobs = 0;
  for await (const id of store.blobs.ids()) {
    if (!named.has(id) && !(await isNamedNow(store, id))) {
      if (await store.blobs.delete(id)) orphanBlobs++;
    }
  }
  return {
    closedCases: closed.length,
    abandonedCases: abandoned.length,
    incompleteUploads,
    orphanBlobs,
  };
}

async function isNamedNow(store: Store<CaseRecord, CaseSummary>, id: string): Promise<boolean> {
  for await (const [, summary] of store.records.summaries())
    if (summary.uploadIds.includes(id)) return true;
  return false;
}
