/**
 * Assigning a case to one counsellor (e.g. to the deputy during holidays):
 * a private note, signed by the counsellor who assigns and sealed for the
 * counsellors only like every note, whose first line is
 * `kluis:assign <fingerprint>` (or `kluis:assign none`), followed by the
 * same in words for anyone reading the notes elsewhere (`show`). The
 * latest such note that verifies decides. No new content type: the note
 * is an ordinary note (PROTOCOL §7), so every client reads it.
 * @module
 */

import { UsageError } from './errors.js';
import type { CaseView } from './open-case.js';
import type { CounsellorSession } from './session.js';

const MARKER = /^kluis:assign ([0-9A-HJKMNP-TV-Z]{24}|none)$/;

/** Who a case is assigned to, by the latest verified assignment note. */
export interface Assignment {
  /** The counsellor's fingerprint, or null: unassigned (explicitly, or never assigned). */
  readonly to: string | null;
  /** The note that decided, and who wrote it. */
  readonly note: number | null;
  readonly by: string | null;
}

/** The text of an assignment note. */
export function assignmentText(to: { fingerprint: string; name: string } | null): string {
  return to === null
    ? 'kluis:assign none\nNo longer assigned to anyone.'
    : `kluis:assign ${to.fingerprint}\nAssigned to ${to.name}.`;
}

/** The fingerprint an assignment note names (null for none); undefined if the text is not one. */
export function parseAssignment(text: string): string | null | undefined {
  const match = MARKER.exec(text.split('\n', 1)[0] ?? '');
  if (!match) return undefined;
  return match[1] === 'none' ? null : match[1]!;
}

/** The case's assignment: the latest note that verified and is an assignment. */
export function caseAssignment(view: CaseView): Assignment {
  for (let i = view.notes.length - 1; i >= 0; i--) {
    const note = view.notes[i]!;
    if (note.problem !== undefined || !note.content || note.author?.kind !== 'counsellor') continue;
    const to = parseAssignment(note.content.text);
    if (to !== undefined) return { to, note: note.index, by: note.author.fingerprint };
  }
  return { to: null, note: null, by: null };
}

/**
 * Assigns a case to a counsellor the server lists and this client trusts
 * (or to no one): writes the assignment note. The caller's session must be
 * a counsellor's (notes are).
 */
export async function assignCase(
  session: CounsellorSession,
  caseNumber: string,
  to: string | null,
): Promise<{ seq: number; hour: number }> {
  const info = await session.serverInfo();
  let target: { fingerprint: string; name: string } | null = null;
  if (to !== null) {
    const bundle = info.counsellors.find((b) => b.fingerprint === to);
    if (!bundle)
      throw new UsageError(
        'assign to a counsellor the server lists (give the fingerprint)',
        'assign-unknown',
      );
    target = { fingerprint: bundle.fingerprint, name: bundle.name };
  }
  return session.addNote(caseNumber, assignmentText(target));
}
