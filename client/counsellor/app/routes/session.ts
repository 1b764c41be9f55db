/**
 * The local app's routes for the session: its state, unlocking (with the
 * page check on every unlock), locking, and the server's keys and trust.
 * @module
 */

import { join } from 'node:path';
import { Hono } from 'hono';
import { displayFingerprint, verifyBundle } from '../../../../crypto/index.js';
import { IntegrityError } from '../../lib/errors.js';
import { readKeyFile, unlockKeyFile } from '../../lib/keys.js';
import { safeLine } from '../../lib/sanitize.js';
import { CounsellorSession } from '../../lib/session.js';
import { checkPageOnUnlock } from '../../lib/verify-page.js';
import { jsonBody, safePageCheck, stringField } from '../http.js';
import type { AppDeps } from '../server.js';

const fingerprintOf = (session: CounsellorSession | undefined) =>
  session ? displayFingerprint(session.fingerprint) : null;

/** The /api routes of the session, built from the app's options and its session holder. */
export function sessionRoutes({ options, sessions }: AppDeps): Hono {
  const app = new Hono();
  app.get('/api/state', async (c) => {
    const keyFile = await readKeyFile(options.keyPath);
    return c.json({
      unlocked: sessions.current() !== undefined,
      keyPath: options.keyPath,
      server: options.server,
      role: keyFile.bundle.role,
      name: safeLine(keyFile.bundle.name),
      fingerprint: fingerprintOf(sessions.current()),
      idleMinutes: sessions.idleMinutes,
      lockedBecause: sessions.lockedBecause,
    });
  });

  // The page tells of the counsellor's typing and clicking (the middleware counts it as activity).
  app.post('/api/activity', (c) => c.json({ unlocked: sessions.current() !== undefined }));

  app.post('/api/unlock', async (c) => {
    const passphrase = stringField(await jsonBody(c), 'passphrase');
    await readKeyFile(options.keyPath);
    const identity = await unlockKeyFile(options.keyPath, passphrase);
    const opened = await CounsellorSession.open({
      identity,
      server: options.server,
      proxy: options.proxy,
      stateDir: join(options.keyPath, '..'),
    });
    sessions.set(opened);
    // Every unlock compares the live reporter page with the counsellor's own build, through the proxy.
    const pageCheck = await checkPageOnUnlock(
      opened.api,
      new URL('/', opened.api.base),
      options.pageBuild,
    );
    let newlyTrusted: { role: string; fingerprint: string; name: string }[] = [];
    let untrusted: string[] = [];
    let demo = false;
    try {
      const info = await opened.serverInfo();
      demo = info.raw.demo;
      newlyTrusted = info.newlyTrusted.map((k) => ({
        role: k.role,
        fingerprint: displayFingerprint(k.fingerprint),
        name: safeLine(k.name),
      }));
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      untrusted = error.problems.map(safeLine); // shown with a trust button
    }
    return c.json({
      unlocked: true,
      fingerprint: displayFingerprint(opened.fingerprint),
      role: opened.role,
      demo,
      newlyTrusted,
      untrusted,
      pageCheck: safePageCheck(pageCheck),
    });
  });

  app.post('/api/lock', (c) => {
    sessions.set(undefined);
    return c.json({ unlocked: false });
  });

  app.get('/api/server-keys', async (c) => {
    const s = sessions.require();
    const raw = await s.api.info();
    const keys = [...raw.counsellors, ...raw.escalation].map((value) => {
      try {
        const b = verifyBundle(value, s.verifier);
        return {
          role: b.role,
          fingerprint: displayFingerprint(b.fingerprint),
          name: safeLine(b.name),
          ok: true,
        };
      } catch {
        return { role: '?', fingerprint: '', name: '', ok: false };
      }
    });
    return c.json({ keys });
  });

  app.post('/api/trust', async (c) => {
    const s = sessions.require();
    const { added, removed } = await s.trustServerKeys();
    return c.json({ added: added.length, removed: removed.length });
  });
  return app;
}
