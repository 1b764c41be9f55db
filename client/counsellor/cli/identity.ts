/**
 * The CLI's commands for the counsellor's own identity and the server's
 * keys: init, fingerprint, export-bundle, trust.
 * @module
 */

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import {
  DEFAULT_SCRYPT_PARAMS,
  displayFingerprint,
  fingerprintOf,
  fromBase64,
  generateIdentity,
  KluisError,
  verifyBundle,
} from '../../../crypto/index.js';
import { CounsellorError, EXIT, UsageError } from '../lib/errors.js';
import { createKeyFile, readKeyFile, writeNewFile } from '../lib/keys.js';
import { askNewPassphrase, confirm } from '../lib/prompt.js';
import { safeLine } from '../lib/sanitize.js';
import { type GlobalOptions, keyPathOf, note, out, withSession } from './context.js';

/** Adds `init`, `fingerprint`, `export-bundle`, `trust` to the program. */
export function addIdentityCommands(program: Command): void {
  program
    .command('init')
    .description(
      'create your identity: a passphrase-protected key file and the public bundle for the operator',
    )
    .requiredOption(
      '--name <name>',
      'your name as reporters and colleagues see it, e.g. "Extern steunpunt integriteit — A. de Vries"',
    )
    .addOption(
      new Option('--role <role>', 'counsellor, or escalation for the secretary-general’s office')
        .choices(['counsellor', 'escalation'])
        .default('counsellor'),
    )
    .option(
      '--bundle-out <path>',
      'where to write the public bundle (default: bundle.json beside the key file)',
    )
    .addOption(
      new Option(
        '--kdf-cost <logN>',
        'scrypt cost as log2(N), 17 to 22 (default 17: 128 MiB)',
      ).argParser((v) => Number(v)),
    )
    .action(
      async (
        options: {
          name: string;
          role: 'counsellor' | 'escalation';
          bundleOut?: string;
          kdfCost?: number;
        },
        command: Command,
      ) => {
        const keyPath = keyPathOf(command);
        const globals = command.optsWithGlobals<GlobalOptions>();
        const cost = options.kdfCost ?? Math.log2(DEFAULT_SCRYPT_PARAMS.N);
        if (!Number.isInteger(cost) || cost < 17 || cost > 22)
          throw new UsageError('--kdf-cost must be a whole number from 17 to 22');
        let identity: ReturnType<typeof generateIdentity>;
        try {
          identity = generateIdentity(options.role, options.name.normalize('NFC'));
        } catch (error) {
          if (error instanceof KluisError)
            throw new UsageError(
              `--name: ${error.message} (1 to 128 bytes, no control characters)`,
            );
          throw error;
        }
        if (existsSync(keyPath)) {
          throw new CounsellorError(
            EXIT.localFile,
            `${keyPath} exists already; refusing to overwrite a key file (move it away, or choose another --key)`,
          );
        }
        const passphrase = await askNewPassphrase();
        const { keyFile, bundlePath } = await createKeyFile(keyPath, identity, passphrase, {
          params: { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** cost },
          ...(options.bundleOut ? { bundlePath: resolve(options.bundleOut) } : {}),
        });
        if (globals.server || globals.proxy) {
          const config = {
            ...(globals.server ? { server: globals.server } : {}),
            ...(globals.proxy ? { proxy: globals.proxy } : {}),
          };
          await writeNewFile(
            resolve(dirname(keyPath), 'config.json'),
            `${JSON.stringify(config, null, 2)}\n`,
          ).catch(() => {
            note('config.json exists already beside the key file; it was left as it is.');
          });
        }
        const fingerprint = displayFingerprint(fingerprintOf(identity.sign.publicKey));
        out(`Key file:      ${keyPath}  (keep it and its passphrase safe; there is no recovery)`);
        out(`Public bundle: ${bundlePath}  (give this to the operator)`);
        out(`Role:          ${keyFile.bundle.role}`);
        out(`Fingerprint:   ${fingerprint}`);
        out(
          'Publish the fingerprint through your organisation, so reporters can compare it with the one on the page.',
        );
      },
    );

  program
    .command('fingerprint')
    .description('print the fingerprint of your key (no passphrase needed)')
    .action(async (_options: unknown, command: Command) => {
      const keyFile = await readKeyFile(keyPathOf(command));
      out(
        `${displayFingerprint(fingerprintOf(fromBase64(keyFile.bundle.sign)))}  ${keyFile.bundle.role}  ${safeLine(keyFile.bundle.name)}`,
      );
    });

  program
    .command('export-bundle')
    .description('print your public bundle (for the operator) as JSON, or write it with --out')
    .option('--out <path>', 'write to this new file instead of stdout')
    .action(async (options: { out?: string }, command: Command) => {
      const keyFile = await readKeyFile(keyPathOf(command));
      const text = `${JSON.stringify(keyFile.bundle, null, 2)}\n`;
      if (options.out) {
        await writeNewFile(resolve(options.out), text, 0o644);
        note(`Wrote ${resolve(options.out)}`);
      } else out(text);
    });

  program
    .command('trust')
    .description(
      'accept the counsellor and escalation keys the server publishes now (after comparing fingerprints)',
    )
    .option('--yes', 'do not ask for confirmation')
    .action(async (options: { yes?: boolean }, command: Command) => {
      await withSession(
        command,
        async (session) => {
          const raw = await session.api.info();
          out(`Keys published by ${session.api.base.origin}:`);
          for (const value of [...raw.counsellors, ...raw.escalation]) {
            try {
              const b = verifyBundle(value, session.verifier);
              out(
                `  ${b.role.padEnd(10)} ${displayFingerprint(b.fingerprint)}  ${safeLine(b.name)}`,
              );
            } catch {
              out('  (a bundle that does not verify)');
            }
          }
          if (
            !options.yes &&
            !(await confirm(
              'Do these match the fingerprints your organisation publishes? Type yes: ',
              'yes',
            ))
          ) {
            throw new UsageError('not confirmed; nothing changed');
          }
          const { added, removed } = await session.trustServerKeys();
          out(`Trusted. ${added.length} key(s) added, ${removed.length} removed.`);
        },
        { checkKeys: false },
      );
    });
}
