/**
 * `npm run release [-- --out <dir>] [-- --no-sea]`: builds what is installed
 * elsewhere into release/ (or --out):
 *
 * - `kluis-server-<version>.tgz`: the server as an npm package, plain
 *   JavaScript (server/, crypto/, crypto-node/, the operator scripts and
 *   the page's site step, each file compiled by esbuild on its own, in the
 *   checkout's layout), the generic reporter page (`page/`), and the
 *   `kluis-server` command (server/cli.ts); dependencies: only what it
 *   imports at run time.
 * - `kluis-counsellor-<version>.tgz`: the counsellor client the same way,
 *   with the local app's built UI and the generic page (`build-page`).
 * - `kluis-counsellor-<version>-linux-x64`: the counsellor client as a
 *   single executable (Node's single executable applications: this Node
 *   binary with one CommonJS bundle and the UI and page as assets).
 * - `SHA256SUMS` (`sha256sum -c SHA256SUMS`).
 *
 * Reproducible: the same sources, lock file and Node binary give the same
 * bytes (npm pack writes fixed times and sorted entries; nothing here
 * writes a time or an absolute path). See docs/DEPLOY.md, "Releases".
 * @module
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
};
const VERSION = rootPackage.version;
/** The fuse Node's single executable applications look for (Node 20). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const { values } = parseArgs({
  options: { out: { type: 'string' }, 'no-sea': { type: 'boolean', default: false } },
});
const OUT = resolve(values.out ?? join(ROOT, 'release'));
const STAGE = join(OUT, '.stage');

function step(text: string): void {
  console.log(`release: ${text}`);
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  return result.stdout;
}

function vite(args: string[], env: NodeJS.ProcessEnv = {}): void {
  run(
    process.execPath,
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--logLevel',
      'warn',
      '--emptyOutDir',
      ...args,
    ],
    { env },
  );
}

/** Every file under `dir`, relative, with `/`, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) =>
      entry.isDirectory()
        ? listFiles(dir, join(prefix, entry.name))
        : [join(prefix, entry.name).split(sep).join('/')],
    );
}

const isBuiltin = (name: string) => name.startsWith('node:') || builtinModules.includes(name);
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * Compiles the sources `entries` import (statically, transitively) into
 * `outDir`, each file on its own, keeping the checkout's layout (so every
 * `new URL('…', import.meta.url)` still finds its file). Returns the npm
 * packages they import, each with the version the checkout pins.
 */
async function compile(entries: string[], outDir: string): Promise<Record<string, string>> {
  const probe = await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: join(STAGE, 'probe'),
    logLevel: 'silent',
  });
  const meta: Metafile = probe.metafile;
  const sources = Object.keys(meta.inputs)
    .filter((path) => !path.startsWith('node_modules/'))
    .sort();
  const packages = new Set<string>();
  for (const input of Object.values(meta.inputs)) {
    for (const imported of input.imports)
      if (imported.external && !isBuiltin(imported.path)) packages.add(packageOf(imported.path));
  }
  // JSON (the reporter page's message catalogues and language list) is data, imported with
  // `with { type: 'json' }`: copied as it is, not compiled into a .js module of another name.
  for (const path of sources.filter((p) => p.endsWith('.json'))) {
    mkdirSync(resolve(outDir, path, '..'), { recursive: true });
    copyFileSync(join(ROOT, path), join(outDir, path));
  }
  await build({
    absWorkingDir: ROOT,
    entryPoints: sources.filter((p) => !p.endsWith('.json')),
    bundle: false,
    // Node 20.10+ reads `with { type: 'json' }`; esbuild's node20 target would drop the attribute.
    supported: { 'import-attributes': true },
    outdir: outDir,
    outbase: ROOT,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    charset: 'utf8',
    legalComments: 'inline',
    logLevel: 'warning',
  });
  const dependencies: Record<string, string> = {};
  for (const name of [...packages].sort()) {
    const pinned = rootPackage.dependencies[name];
    if (!pinned)
      throw new Error(
        `${entries.join(', ')} import ${name} at run time, which package.json does not list under dependencies`,
      );
    dependencies[name] = pinned;
  }
  return dependencies;
}

function writePackage(
  dir: string,
  fields: {
    name: string;
    description: string;
    bin: Record<string, string>;
    dependencies: Record<string, string>;
  },
  readme: string,
): void {
  const manifest = {
    name: fields.name,
    version: VERSION,
    description: fields.description,
    license: rootPackage.license,
    type: 'module',
    engines: rootPackage.engines,
    bin: fields.bin,
    dependencies: fields.dependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'README.md'), readme);
}

function writeBin(path: string, body: string): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  writeFileSync(path, `#!/usr/bin/env node\n${body}`);
  chmodSync(path, 0o755);
}

function pack(dir: string): string {
  const output = run('npm', ['pack', '--silent', '--pack-destination', OUT], {
    cwd: dir,
    env: { npm_config_ignore_scripts: 'true' },
  });
  return output.trim().split('\n').pop()!;
}

async function serverPackage(): Promise<string> {
  const dir = join(STAGE, 'kluis-server');
  const dependencies = await compile(
    [
      'server/cli.ts',
      'server/main.ts',
      'scripts/backup.ts',
      'scripts/restore.ts',
      'scripts/ops-check-store.ts',
      'scripts/to-postgres.ts',
    ],
    dir,
  );
  vite(['--outDir', join(dir, 'page')], { KLUIS_PAGE_GENERIC: '1' });
  // The message catalogues the no-JavaScript pages read at start (server/basic/texts.ts), in the
  // checkout's layout beside the compiled server.
  cpSync(join(ROOT, 'client/reporter/locales'), join(dir, 'client/reporter/locales'), {
    recursive: true,
  });
  writeBin(
    join(dir, 'bin/kluis-server.js'),
    "import { run } from '../server/cli.js';\n\nawait run(process.argv.slice(2));\n",
  );
  // The operator's starting point for /etc/kluis/site.json (docs/DEPLOY.md).
  copyFileSync(join(ROOT, 'client/reporter/site.config.json'), join(dir, 'site.example.json'));
  writePackage(
    dir,
    {
      name: 'kluis-server',
      description: 'Kluis drop box server: the API and the reporter page (plain JavaScript)',
      bin: { 'kluis-server': 'bin/kluis-server.js' },
      dependencies,
    },
    `# kluis-server ${VERSION}\n\nThe Kluis drop-box server, compiled to plain JavaScript. \`kluis-server --help\`;\ninstalling, configuring and running it: docs/DEPLOY.md in the Kluis sources.\n\n\`page/\` is the generic reporter page: \`kluis-server build-page --site <site.json>\`\nwrites the page for one site (its texts and counsellors' keys); \`site.example.json\` is one to start from.\n`,
  );
  return pack(dir);
}

async function counsellorPackage(): Promise<string> {
  const dir = join(STAGE, 'kluis-counsellor');
  // open-worker.ts is started by path (lib/open-pool.ts), not imported: an entry of its own.
  const dependencies = await compile(
    ['client/counsellor/cli.ts', 'client/counsellor/lib/open-worker.ts'],
    dir,
  );
  vite(['-c', 'vite.counsellor.config.ts', '--outDir', join(dir, 'dist/counsellor-app')]);
  vite(['--outDir', join(dir, 'page')], { KLUIS_PAGE_GENERIC: '1' });
  writeBin(
    join(dir, 'bin/kluis-counsellor.js'),
    "import { main } from '../client/counsellor/cli.js';\n\nprocess.exitCode = await main(process.argv);\n",
  );
  writePackage(
    dir,
    {
      name: 'kluis-counsellor',
      description: 'Kluis counsellor client: read and answer reports on your own machine',
      bin: { 'kluis-counsellor': 'bin/kluis-counsellor.js' },
      dependencies,
    },
    `# kluis-counsellor ${VERSION}\n\nThe Kluis counsellor client: \`kluis-counsellor --help\`, and \`kluis-counsellor app\` for the\nlocal app in your browser. See client/counsellor/README.md in the Kluis sources.\n`,
  );
  return pack(dir);
}

/** The single executable: this Node binary, one CommonJS bundle, the app's UI and the generic page as assets. */
async function counsellorExecutable(): Promise<string> {
  const dir = join(STAGE, 'sea');
  mkdirSync(dir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['client/counsellor/sea.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(dir, 'kluis-counsellor.cjs'),
    // Module paths in the bundle as the checkout names them (node_modules/…), even when node_modules is a link.
    preserveSymlinks: true,
    charset: 'utf8',
    legalComments: 'inline',
    // Never reached in the executable (the UI is built in, not built by Vite at run time).
    external: ['vite'],
    // No file behind the bundle: a URL that names none (cli.ts then knows it is not run as a script).
    define: { 'import.meta.url': '"file:///kluis-counsellor-executable/bundle.js"' },
    logLevel: 'warning',
  });
  const counsellorDir = join(STAGE, 'kluis-counsellor');
  const assets: Record<string, string> = {};
  for (const [prefix, from] of [
    ['app', join(counsellorDir, 'dist/counsellor-app')],
    ['page', join(counsellorDir, 'page')],
  ] as const) {
    for (const name of listFiles(from))
      assets[`${prefix}/${name}`] = relative(dir, join(from, name)).split(sep).join('/');
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(Object.keys(assets)));
  assets['index.json'] = 'index.json';
  const config = {
    main: 'kluis-counsellor.cjs',
    output: 'sea.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets,
  };
  writeFileSync(join(dir, 'sea-config.json'), `${JSON.stringify(config, null, 2)}\n`);
  run(process.execPath, ['--experimental-sea-config', 'sea-config.json'], { cwd: dir });
  const name = `kluis-counsellor-${VERSION}-linux-x64`;
  const target = join(OUT, name);
  copyFileSync(process.execPath, target);
  chmodSync(target, 0o755);
  run(process.execPath, [
    join(ROOT, 'node_modules/postject/dist/cli.js'),
    target,
    'NODE_SEA_BLOB',
    join(dir, 'sea.blob'),
    '--sentinel-fuse',
    SEA_FUSE,
  ]);
  return name;
}

if (process.platform !== 'linux' || process.arch !== 'x64')
  throw new Error('the release is built on Linux x64 (its executable is this Node binary)');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
const made: string[] = [];
step(`Kluis ${VERSION}, Node ${process.version}, into ${OUT}`);
made.push(await serverPackage());
step(`${made.at(-1)}`);
made.push(await counsellorPackage());
step(`${made.at(-1)}`);
if (!values['no-sea']) {
  made.push(await counsellorExecutable());
  step(`${made.at(-1)}`);
}
// KLUIS_RELEASE_KEEP_STAGE=1 keeps it: the bundle and assets to build the executable for Windows or macOS from (docs/DEPLOY.md).
if (process.env.KLUIS_RELEASE_KEEP_STAGE !== '1') rmSync(STAGE, { recursive: true, force: true });
const sums = made
  .sort()
  .map(
    (name) =>
      `${createHash('sha256')
        .update(readFileSync(join(OUT, name)))
        .digest('hex')}  ${name}\n`,
  )
  .join('');
writeFileSync(join(OUT, 'SHA256SUMS'), sums);
process.stdout.write(sums);
