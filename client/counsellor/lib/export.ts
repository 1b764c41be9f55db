/**
 * `export`: a whole case, decrypted, into a new directory, for the file:
 *
 *   conversation.txt    the conversation as `show` prints it
 *   conversation.json   the same, machine-readable (contents as signed)
 *   notes.txt, notes.json   the private notes (counsellors only)
 *   attachments/        every attachment, under its (sanitised) name
 *   encrypted-case.json the server's answer as received (ciphertext), to verify again later
 *   PROBLEMS.txt        only if something did not verify
 *
 * The directory must not exist yet, or be empty. Nothing is overwritten.
 * @module
 */

import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, LocalFileError } from './errors.js';
import { caseJson, displayCase, formatCase } from './format.js';
import { writeNewFile } from './keys.js';
import type { SavedFile } from './attachments.js';
import type { CaseView, CounsellorSession } from './session.js';

export interface ExportResult {
  readonly dir: string;
  readonly view: CaseView;
  readonly files: readonly string[];
  readonly attachments: readonly SavedFile[];
  /** Problems found (the case, or attachments); the export is complete otherwise. */
  readonly problems: readonly string[];
}

async function emptyDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if ((await readdir(dir)).length > 0)
      throw new LocalFileError(`${dir} is not empty; export into a new directory`);
  } catch (error) {
    if (error instanceof LocalFileError) throw error;
    throw new LocalFileError(`cannot use ${dir}: ${(error as Error).message}`);
  }
}

/** Exports a case. Throws IntegrityError after writing everything if something did not verify. */
export async function exportCase(
  session: CounsellorSession,
  caseNumber: string,
  dir: string,
): Promise<ExportResult> {
  const view = await session.openCase(caseNumber);
  await emptyDirectory(dir);
  const files: string[] = [];
  const write = async (name: string, text: string) => {
    await writeNewFile(join(dir, name), text.endsWith('\n') ? text : `${text}\n`);
    files.push(name);
  };
  await write('conversation.txt', formatCase(view, { notes: false }));
  await write('conversation.json', JSON.stringify(caseJson(view, { notes: false }), null, 2));
  if (session.role === 'counsellor') {
    const notes = caseJson(view) as { notes: unknown };
    await write('notes.json', JSON.stringify(notes.notes, null, 2));
    await write(
      'notes.txt',
      view.notes.length === 0
        ? `No private notes for case ${displayCase(caseNumber)}.`
        : view.notes
            .map(
              (n) =>
                `note ${n.index}\n${n.problem ? `!! ${n.problem}\n` : ''}${n.content?.text ?? ''}\n`,
            )
            .join('\n'),
    );
  }
  await write('encrypted-case.json', JSON.stringify(view.detail, null, 2));
  const problems = [...view.problems];
  let attachments: SavedFile[] = [];
  if (view.attachments.length > 0) {
    try {
      attachments = await session.saveAttachments(view, join(dir, 'attachments'));
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0)
    await write(
      'PROBLEMS.txt',
      `Case ${displayCase(caseNumber)} did not verify:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
  await session.markRead(view);
  if (problems.length > 0)
    throw new IntegrityError(
      `case ${caseNumber} was exported to ${dir}, but it does not verify`,
      problems,
    );
  return { dir, view, files, attachments, problems };
}
