/**
 * The site configuration this page was built with: written into index.html
 * by the site step (client/reporter/build/site-step.ts) as an inert data
 * block, `<script type="application/json" id="kluis-site">`, and read here
 * once at start. The JavaScript itself holds nothing site-specific, so one
 * generic build serves every deployment (`kluis-server build-page`).
 *
 * A page without the block (the generic page served as it is, or a block
 * that does not parse) gets neutral names and no keys: it sends nothing,
 * and says that it has no counsellor keys.
 * @module
 */

interface Localised {
  readonly nl: string;
  readonly en: string;
}

/** The site configuration, as the build checked it (see ../README.md). */
export interface Site {
  readonly supportPoint: Localised;
  readonly organisation: Localised;
  readonly escalation: Localised;
  readonly fingerprintsPublishedAt: Localised;
  readonly otherWays: { readonly nl: readonly string[]; readonly en: readonly string[] };
  /** Public bundles, checked by the build; the page verifies them again before use (keys.ts). */
  readonly counsellors: readonly unknown[];
  readonly escalationRecipients: readonly unknown[];
}

const NONE: Site = {
  supportPoint: { nl: 'meldpunt', en: 'reporting point' },
  organisation: { nl: 'de organisatie', en: 'the organisation' },
  escalation: { nl: 'de leiding van de organisatie', en: 'the head of the organisation' },
  fingerprintsPublishedAt: {
    nl: 'de website van de organisatie',
    en: 'the organisation’s website',
  },
  otherWays: { nl: [], en: [] },
  counsellors: [],
  escalationRecipients: [],
};

function isLocalised(value: unknown): value is Localised {
  const v = value as Localised | null;
  return (
    typeof v === 'object' && v !== null && typeof v.nl === 'string' && typeof v.en === 'string'
  );
}

/** Reads the data block (exported for tests); NONE when it is missing or malformed. */
export function readSite(
  doc: { getElementById(id: string): { textContent: string | null } | null } | undefined,
): Site {
  const text = doc?.getElementById('kluis-site')?.textContent;
  if (!text) return NONE;
  try {
    const value = JSON.parse(text) as Site;
    const texts = [
      value.supportPoint,
      value.organisation,
      value.escalation,
      value.fingerprintsPublishedAt,
    ];
    const lists = value.otherWays;
    if (!texts.every(isLocalised) || !Array.isArray(lists?.nl) || !Array.isArray(lists.en))
      return NONE;
    if (!Array.isArray(value.counsellors) || !Array.isArray(value.escalationRecipients))
      return NONE;
    return value;
  } catch {
    return NONE;
  }
}

/** This page's site configuration. */
export const site: Site = readSite(typeof document === 'undefined' ? undefined : document);
