/**
 * Every field that can hold text on the reporter page and in the counsellor
 * app turns off autocomplete and spell-check (review #10, finding 7): a
 * browser's spell-check service, or a form history synced to an account,
 * sends typed text off the machine. Read from the JSX sources with the
 * TypeScript parser, so it runs in Node without a browser.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOTS = ['client/reporter/src', 'client/counsellor/app/ui'];
/** Input types that hold no typed text (password fields are never spell-checked or remembered as text). */
const NOT_TEXT = new Set([
  'radio',
  'checkbox',
  'file',
  'hidden',
  'submit',
  'button',
  'reset',
  'password',
  'range',
  'color',
]);

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsxFiles(join(dir, entry.name))
      : entry.name.endsWith('.tsx')
        ? [join(dir, entry.name)]
        : [],
  );
}

interface Field {
  readonly where: string;
  readonly tag: string;
  /** Attribute name (lower case) to its literal value: a string, `false`/`true`, or '?' for any other expression. */
  readonly attributes: ReadonlyMap<string, string | boolean>;
}

function literal(initializer: ts.JsxAttributeValue | undefined): string | boolean {
  if (initializer === undefined) return true;
  if (ts.isStringLiteral(initializer)) return initializer.text;
  if (ts.isJsxExpression(initializer) && initializer.expression) {
    const e = initializer.expression;
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (ts.isStringLiteral(e)) return e.text;
  }
  return '?';
}

/** The textarea and input elements of a source file. */
function textFields(path: string): Field[] {
  const source = ts.createSourceFile(
    path,
    readFileSync(path, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TSX,
  );
  const fields: Field[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isJsxSelfClosingElement(node) || ts.isJsxOpeningElement(node)) {
      const tag = node.tagName.getText(source);
      if (tag === 'textarea' || tag === 'input') {
        const attributes = new Map<string, string | boolean>();
        for (const attribute of node.attributes.properties) {
          if (ts.isJsxAttribute(attribute))
            attributes.set(
              attribute.name.getText(source).toLowerCase(),
              literal(attribute.initializer),
            );
          else attributes.set('...', '?'); // a spread could set anything: the checks below then fail on purpose
        }
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        fields.push({ where: `${path}:${line + 1}`, tag, attributes });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return fields;
}

function holdsText(field: Field): boolean {
  if (field.tag === 'textarea') return true;
  const type = field.attributes.get('type');
  return type === undefined || typeof type !== 'string' || !NOT_TEXT.has(type);
}

describe('text fields', () => {
  const fields = ROOTS.flatMap(tsxFiles).flatMap(textFields).filter(holdsText);

  it('are found (the reply and report fields at least)', () => {
    expect(fields.filter((f) => f.tag === 'textarea').length).toBeGreaterThanOrEqual(3);
  });

  it.each(ROOTS)('in %s have autocomplete="off" and spellcheck={false}', (root) => {
    const missing = fields
      .filter((f) => f.where.startsWith(root))
      .filter(
        (f) =>
          f.attributes.get('autocomplete') !== 'off' || f.attributes.get('spellcheck') !== false,
      )
      .map((f) => f.where);
    expect(missing).toEqual([]);
  });
});
