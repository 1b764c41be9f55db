/** The build-time site configuration, checked and served by vite.config.ts (see ../README.md). */
declare module 'virtual:kluis-site' {
  interface Localised {
    readonly nl: string;
    readonly en: string;
  }
  const site: {
    readonly supportPoint: Localised;
    readonly organisation: Localised;
    readonly escalation: Localised;
    readonly fingerprintsPublishedAt: Localised;
    readonly otherWays: { readonly nl: readonly string[]; readonly en: readonly string[] };
    /** Public bundles, checked at build time; the page verifies them again before use. */
    readonly counsellors: readonly unknown[];
    readonly escalationRecipients: readonly unknown[];
  };
  export default site;
}
