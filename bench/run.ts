/**
 * `npm run bench -- <suite>`: runs one bench suite. Each prints a readable
 * table and, as its last line, one JSON object with its figures, every
 * ratio measured against a baseline in the same run.
 */

const suites: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  crypto: () => import('./crypto.js'),
  server: () => import('./server.js'),
  counsellor: () => import('./counsellor.js'),
  page: () => import('./page.js'),
  tor: () => import('./tor.js'),
};

const name = process.argv[2];
const load = name ? suites[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <suite>   (suites: ${Object.keys(suites).join(', ')})`);
  process.exit(2);
}
await (await load()).run();
