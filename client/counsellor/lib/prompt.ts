/**
 * Asking the person at the keyboard: a passphrase (never echoed, never an
 * argument), a confirmation, a text from $EDITOR. For scripts and tests
 * the passphrase can also come from
 * - a file: `KLUIS_PASSPHRASE_FILE=~/.kluis-pp kluis-counsellor inbox`
 *   (like restic's RESTIC_PASSWORD_FILE); works everywhere, also through
 *   `npm run counsellor`;
 * - a file descriptor: `KLUIS_PASSPHRASE_FD=3 kluis-counsellor inbox 3<file`;
 *   works with the bin or `tsx client/counsellor/cli.ts`, not through
 *   `npm run` (npm passes only descriptors 0 to 2 on).
 * The first line is the passphrase; for `init`, a second line, if present,
 * must repeat it.
 * @module
 */

import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream, WriteStream } from 'node:tty';
import { UsageError } from './errors.js';

let fdLines: string[] | undefined;

/** Where scripts can give the passphrase, for the help texts. */
export const PASSPHRASE_SCRIPT_HELP = `For scripts, give the passphrase in a file readable only by you:
  KLUIS_PASSPHRASE_FILE=passphrase.txt kluis-counsellor inbox      (also through npm run counsellor)
or on a file descriptor (the bin or tsx only: npm run does not pass descriptor 3 on):
  KLUIS_PASSPHRASE_FD=3 kluis-counsellor inbox 3<passphrase.txt
The first line is the passphrase; for init an optional second line must repeat it.`;

function linesFromFile(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/);
  } catch (error) {
    throw new UsageError(
      `cannot read the passphrase from KLUIS_PASSPHRASE_FILE (${path}): ${(error as Error).message}`,
    );
  }
}

function linesFromFd(env: NodeJS.ProcessEnv): string[] | undefined {
  const file = env.KLUIS_PASSPHRASE_FILE;
  const raw = env.KLUIS_PASSPHRASE_FD;
  if (file !== undefined && file !== '') {
    if (raw !== undefined && raw !== '')
      throw new UsageError('set KLUIS_PASSPHRASE_FILE or KLUIS_PASSPHRASE_FD, not both');
    fdLines ??= linesFromFile(file);
    return fdLines;
  }
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 3)
    throw new UsageError('KLUIS_PASSPHRASE_FD must be a file descriptor number of 3 or more');
  if (fdLines === undefined) {
    let text: string;
    try {
      text = readFileSync(Number(raw), 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read the passphrase from file descriptor ${raw}: ${(error as Error).message}` +
          ' (through npm run, use KLUIS_PASSPHRASE_FILE instead: npm passes only descriptors 0 to 2 on)',
      );
    }
    fdLines = text.split(/\r?\n/);
  }
  return fdLines;
}

/** Opens the controlling terminal, or undefined if there is none. */
function openTerminal(): { input: ReadStream; output: WriteStream; close: () => void } | undefined {
  if (process.stdin.isTTY && process.stderr.isTTY) {
    return {
      input: process.stdin as ReadStream,
      output: process.stderr as WriteStream,
      close: () => {},
    };
  }
  try {
    const fd = openSync('/dev/tty', 'r+');
    const input = new ReadStream(fd);
    const output = new WriteStream(fd);
    return {
      input,
      output,
      close: () => {
        input.destroy();
        try {
          closeSync(fd);
        } catch {
          // already closed with the stream
        }
      },
    };
  } catch {
    return undefined;
  }
}

/** Reads one line from the terminal without echo. */
async function readHidden(prompt: string): Promise<string> {
  const terminal = openTerminal();
  if (!terminal) {
    throw new UsageError(
      'no terminal to ask for the passphrase; for scripts, name a file with it: KLUIS_PASSPHRASE_FILE=file (or KLUIS_PASSPHRASE_FD=3 … 3<file)',
    );
  }
  const { input, output } = terminal;
  output.write(prompt);
  input.setRawMode(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') {
            input.off('data', onData);
            output.write('\n');
            resolve(value);
            return;
          }
          if (char === '\u0003' || char === '\u0004') {
            input.off('data', onData);
            output.write('\n');
            reject(new UsageError('cancelled'));
            return;
          }
          if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
          else if (char === '\u0015') value = '';
          else if (char >= ' ') value += char;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    terminal.close();
  }
}

/** Asks for the passphrase of an existing key file. */
export async function askPassphrase(
  prompt: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const lines = linesFromFd(env);
  if (lines) {
    const first = lines[0] ?? '';
    if (first === '') throw new UsageError('KLUIS_PASSPHRASE_FILE or _FD gave an empty passphrase');
    return first;
  }
  return readHidden(prompt);
}

/** Asks for a new passphrase twice (or once from the descriptor, with an optional repeat line). */
export async function askNewPassphrase(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const lines = linesFromFd(env);
  if (lines) {
    const [first = '', second = ''] = lines;
    if (first === '') throw new UsageError('KLUIS_PASSPHRASE_FILE or _FD gave an empty passphrase');
    if (second !== '' && second !== first) throw new UsageError('the two passphrases differ');
    return first;
  }
  const first = await readHidden(
    'New passphrase (at least 12 characters; a few unrelated words are best): ',
  );
  const second = await readHidden('The same passphrase again: ');
  if (first !== second) throw new UsageError('the two passphrases differ; nothing was written');
  return first;
}

/** Asks a yes/no-style question on the terminal; the answer must equal `expected`. */
export async function confirm(prompt: string, expected: string): Promise<boolean> {
  const terminal = openTerminal();
  if (!terminal)
    throw new UsageError('no terminal to confirm on; add --yes to go ahead without asking');
  const { input, output } = terminal;
  output.write(prompt);
  try {
    const answer = await new Promise<string>((resolve) => {
      let buffer = '';
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const newline = buffer.indexOf('\n');
        if (newline >= 0) {
          input.off('data', onData);
          resolve(buffer.slice(0, newline).replace(/\r$/, ''));
        }
      };
      input.on('data', onData);
      input.resume();
    });
    return (
      answer.trim().toUpperCase().replace(/-/g, '') === expected.toUpperCase().replace(/-/g, '')
    );
  } finally {
    input.pause();
    terminal.close();
  }
}

/** Reads all of stdin as UTF-8. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Lets the counsellor write a text in $VISUAL or $EDITOR (a private temporary file, removed afterwards). */
export async function editText(
  env: NodeJS.ProcessEnv = process.env,
  template = '',
): Promise<string> {
  const editor = env.VISUAL || env.EDITOR;
  if (!editor)
    throw new UsageError('set $EDITOR, or give the text with --file, or pipe it on stdin');
  const dir = await mkdtemp(join(tmpdir(), 'kluis-'));
  const file = join(dir, 'message.txt');
  try {
    await writeFile(file, template, { mode: 0o600 });
    const result = spawnSync(`${editor} "$KLUIS_EDIT_FILE"`, {
      shell: true,
      stdio: 'inherit',
      env: { ...env, KLUIS_EDIT_FILE: file },
    });
    if (result.status !== 0)
      throw new UsageError(
        `the editor exited with status ${result.status ?? result.signal}; nothing was sent`,
      );
    return await readFile(file, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
