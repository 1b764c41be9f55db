/**
 * Making untrusted text safe to show and to use as a file name. Anything a
 * reporter wrote (text, names, file names) may carry terminal escape
 * sequences, carriage returns that overwrite a line, bidirectional
 * overrides that reorder what is shown ("Trojan Source"), or path tricks.
 * @module
 */

// Cc (C0 controls, DEL, C1 controls); bidi embeddings, overrides, isolates and marks; line/paragraph separators.
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function visible(char: string): string {
  const code = char.codePointAt(0)!;
  if (code < 0x20) return String.fromCodePoint(0x2400 + code); // Control Pictures: ␛ for ESC, ␍ for CR
  if (code === 0x7f) return '\u2421'; // ␡
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * Text safe to print on a terminal: every control character, escape
 * sequence introducer and bidi control is replaced by a visible stand-in.
 * With `multiline`, line feeds (and tabs) are kept; U+2028/U+2029 become
 * line feeds; CR LF becomes LF.
 */
export function safeText(text: string, options: { multiline?: boolean } = {}): string {
  let value = text.replace(LONE_SURROGATE, '\ufffd');
  if (options.multiline) value = value.replace(/\r\n/g, '\n').replace(/[\u2028\u2029]/g, '\n');
  return value.replace(UNSAFE, (char) => {
    if (options.multiline && (char === '\n' || char === '\t')) return char;
    return visible(char);
  });
}

/** A single-line field (a name, a file name) safe to print. */
export function safeLine(text: string): string {
  return safeText(text, { multiline: false });
}

/** Indents every line of (already safe) text. */
export function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((line) => (line.length > 0 ? prefix + line : line))
    .join('\n');
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
const MAX_NAME_BYTES = 200;

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  for (const char of text) {
    if (utf8Length(out + char) > maxBytes) break;
    out += char;
  }
  return out;
}

/**
 * A file name made from an untrusted one, safe to create in a directory of
 * our choosing: the last path component only (no `/`, `\`, `..`), no
 * control or bidi characters, none of the characters Windows reserves, no
 * leading dot (no hidden files), no trailing dot or space, not a reserved
 * device name, at most 200 UTF-8 bytes (keeping the extension), never empty.
 */
export function safeFileName(name: string, fallback = 'attachment'): string {
  let value = name.replace(LONE_SURROGATE, '\ufffd').normalize('NFC');
  value = value.split(/[/\\]/).pop() ?? '';
  value = value.replace(UNSAFE, '_').replace(/[<>:"|?*]/g, '_');
  value = value.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (WINDOWS_RESERVED.test(value)) value = `_${value}`;
  if (utf8Length(value) > MAX_NAME_BYTES) {
    const dot = value.lastIndexOf('.');
    const extension = dot > 0 && utf8Length(value.slice(dot)) <= 20 ? value.slice(dot) : '';
    value =
      truncateUtf8(
        value.slice(0, value.length - extension.length),
        MAX_NAME_BYTES - utf8Length(extension),
      ) + extension;
  }
  return value.length > 0 ? value : fallback;
}

/** "name (2).ext" for the n-th alternative of a taken name. */
export function alternativeName(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
