/**
 * A served page for the no-JavaScript pages' tests: what the site step writes that they read (the
 * site configuration's data block in index.html, and keys.json), without building the page's
 * JavaScript, which these pages never use.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SiteConfig } from '../../client/reporter/build/site-config.js';
import { keysJson, siteDataBlock } from '../../client/reporter/build/site-step.js';
import type { PublicBundle } from '../../crypto/index.js';

/** Writes the page into `dir` (created) with the project's site texts and `counsellors`; returns `dir`. */
export function writeBasicPage(dir: string, counsellors: readonly PublicBundle[]): string {
  const site = {
    ...JSON.parse(readFileSync('client/reporter/site.config.json', 'utf8')),
    counsellors,
    escalationRecipients: [],
  } as SiteConfig;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><title>Kluis</title>${siteDataBlock(site)}`,
  );
  writeFileSync(join(dir, 'keys.json'), keysJson(site));
  return dir;
}
