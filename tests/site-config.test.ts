/**
 * The site configuration's texts per language (client/reporter/build/site-config.ts): English
 * required, any page language optional, English shown where a language is not given, older
 * nl/en configurations still valid, and the <noscript> block in every language.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LANGUAGE_LIST } from '../client/reporter/build/catalogues.js';
import {
  loadSiteConfig,
  noscriptHtml,
  siteListIn,
  siteTextIn,
} from '../client/reporter/build/site-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kluis-site-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = JSON.parse(readFileSync('client/reporter/site.config.json', 'utf8')) as Record<
  string,
  Record<string, unknown>
>;

function write(config: unknown): string {
  const path = join(dir, `site-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('site configuration languages', () => {
  it('accepts the old nl/en form, and shows English for a language it does not give', () => {
    const site = loadSiteConfig(
      write({
        supportPoint: { nl: 'Steunpunt', en: 'Support point' },
        organisation: { nl: 'de organisatie', en: 'the organisation' },
        escalation: { nl: 'de directeur', en: 'the director' },
        fingerprintsPublishedAt: { nl: 'onze website', en: 'our website' },
        otherWays: { nl: ['Bel ons.'], en: ['Call us.'] },
      }),
    );
    expect(siteTextIn(site.supportPoint, 'nl')).toBe('Steunpunt');
    expect(siteTextIn(site.supportPoint, 'fr')).toBe('Support point');
    expect(siteListIn(site.otherWays, 'ar')).toEqual(['Call us.']);
  });

  it('takes a text in any page language, and refuses one without English or in an unknown language', () => {
    const site = loadSiteConfig(
      write({ ...base, escalation: { en: 'the director', fr: 'la directrice' } }),
    );
    expect(siteTextIn(site.escalation, 'fr')).toBe('la directrice');
    expect(siteTextIn(site.escalation, 'nl')).toBe('the director');
    expect(() => loadSiteConfig(write({ ...base, escalation: { nl: 'de directeur' } }))).toThrow(
      /escalation\.en is required/,
    );
    expect(() =>
      loadSiteConfig(write({ ...base, escalation: { en: 'the director', xx: 'x' } })),
    ).toThrow(/escalation has unknown keys: xx/);
    expect(() =>
      loadSiteConfig(write({ ...base, otherWays: { en: ['Call us.'], fr: [] } })),
    ).toThrow(/otherWays\.fr must be a list of 1 to 10 strings/);
  });

  it('writes the <noscript> block in every language, each linking to its no-JavaScript page', () => {
    const html = noscriptHtml(loadSiteConfig('client/reporter/site.config.json'));
    for (const { code, dir } of LANGUAGE_LIST) {
      expect(html).toContain(`<section class="noscript" lang="${code}" dir="${dir}">`);
      expect(html).toContain(`href="/basic/?lang=${code}"`);
    }
    expect(html).toContain('Point d’appui externe pour l’intégrité');
  });
});
