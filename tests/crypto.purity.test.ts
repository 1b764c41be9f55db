import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = 'crypto';
const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
const sources = files.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));

describe('crypto/ is pure and isomorphic', () => {
  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(sources)('$name imports nothing but tweetnacl and its own files', ({ text }) => {
    const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)].map(
      (m) => m[1] ?? m[2],
    );
    for (const specifier of specifiers)
      expect(specifier).toMatch(/^(tweetnacl|\.\/[a-z0-9-]+\.js)$/);
  });

  it.each(sources)(
    '$name uses no clock, no ambient randomness, no I/O and no platform globals',
    ({ text }) => {
      // Comments and string literals may name anything; code may not.
      const code = text
        .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
        .replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
      for (const banned of [
        /\bDate\b/,
        /Math\.random/,
        /\bfetch\b/,
        /\bprocess\b/,
        /\bglobalThis\b/,
        /\bwindow\b/,
        /\bdocument\b/,
        /\blocalStorage\b/,
        /\bsetTimeout\b/,
        /\bconsole\b/,
        /\bBuffer\b/,
        /\brequire\(/,
        /\beval\b/,
        /\bnew Function\b/,
      ]) {
        expect(code).not.toMatch(banned);
      }
      // No mutable module state: top-level `let` or `var` would be a global.
      expect(code).not.toMatch(/^(let|var)\s/m);
    },
  );

  it.each(sources)('$name documents every export with TSDoc', ({ text }) => {
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (
        !/^export (const|function|async function|class|abstract class|type|interface)\b/.test(line)
      )
        return;
      let previous = index - 1;
      while (previous >= 0 && lines[previous]!.trim() === '') previous--;
      expect(lines[previous]!.trim(), `undocumented: ${line}`).toMatch(/\*\/$/);
    });
  });
});
