import { describe, expect, it } from 'vitest';
import { compareCatalogues, message, placeholders } from '../client/reporter/src/catalogue.js';

const en = {
  hello: 'Hello {{name}}',
  files_one: 'one file',
  files_other: '{{count}} files',
  plain: 'Plain',
};

describe('message catalogues (i18next JSON v4)', () => {
  it('fills placeholders and picks the plural form by the language rules', () => {
    expect(message(en, 'en', 'hello', { name: 'Ana' })).toBe('Hello Ana');
    expect(message(en, 'en', 'files', { count: 1 })).toBe('one file');
    expect(message(en, 'en', 'files', { count: 3 })).toBe('3 files');
    const ar = {
      files_zero: 'z',
      files_one: 'o',
      files_two: 't',
      files_few: 'f{{count}}',
      files_many: 'm',
      files_other: 'x',
    };
    expect([0, 1, 2, 3, 11, 100].map((count) => message(ar, 'ar', 'files', { count }))).toEqual([
      'z',
      'o',
      't',
      'f3',
      'm',
      'x',
    ]);
  });

  it('falls back to the source catalogue, then to the key; never runs a value as a placeholder', () => {
    expect(message({}, 'fr', 'plain', {}, en)).toBe('Plain');
    expect(message({}, 'fr', 'nowhere', {}, en)).toBe('nowhere');
    expect(message(en, 'en', 'hello', { name: '{{name}}' })).toBe('Hello {{name}}');
    expect(message(en, 'en', 'hello')).toBe('Hello {{name}}');
  });

  it('names every missing message, missing plural form, extra key and placeholder change', () => {
    expect(compareCatalogues(en, en, 'en')).toEqual([]);
    expect(placeholders('{{b}} {{ a }} {{b}}')).toEqual(['a', 'b']);
    const fr = { hello: 'Bonjour {{nom}}', files_one: 'un fichier', files_other: '', extra: 'x' };
    expect(compareCatalogues(en, fr, 'fr')).toEqual(
      expect.arrayContaining([
        { kind: 'placeholders', key: 'hello' },
        { kind: 'missing', key: 'files_other' },
        { kind: 'missing', key: 'plain' },
        { kind: 'extra', key: 'extra' },
      ]),
    );
    const ar = { hello: 'مرحبا {{name}}', plain: 'x', files_one: 'a', files_other: 'b' };
    const problems = compareCatalogues(en, ar, 'ar');
    expect(problems.map((p) => p.key).sort()).toEqual([
      'files_few',
      'files_many',
      'files_two',
      'files_zero',
    ]);
  });
});
