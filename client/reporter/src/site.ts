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

/** A text per language: English always (the fallback for a language the site does not give), others as the site gives them. */
type Localised = { readonly en: string } & { readonly [lang: string]: string | undefined };
/** A list of texts per language, English always. */
type LocalisedList = { readonly en: readonly string[] } & {
  readonly [lang: string]: readonly string[] | undefined;
};

/** The site configuration, as the build checked it (see ../README.md). */
export interface Site {
  readonly supportPoint: Localised;
  readonly organisation: Localised;
  readonly escalation: Localised;
  readonly fingerprintsPublishedAt: Localised;
  readonly otherWays: LocalisedList;
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
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.en === 'string' &&
    Object.values(v).every((text) => typeof text === 'string')
  );
}

function isLocalisedList(value: unknown): value is LocalisedList {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.en) &&
    Object.values(v).every(
      (list) => Array.isArray(list) && list.every((t) => typeof t === 'string'),
    )
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
    if (!texts.every(isLocalised) || !isLocalisedList(value.otherWays)) return NONE;
    if (!Array.isArray(value.counsellors) || !Array.isArray(value.escalationRecipients))
      return NONE;
    return value;
  } catch {
    return NONE;
  }
}

/** This page's site configuration. */
export const site: Site = readSite(typeof document === 'undefined' ? undefined : document);
