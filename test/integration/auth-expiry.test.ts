// Session lifetimes and the one-time link's expiry, on a real admin server in this process with the
// sign-in clock injected (the limits are options of AdminAuth): a session ends after the idle time
// without use and at the absolute time whatever the use; a link past its life is refused. Also:
// API calls with a cookie do not write admin-auth.json (lastSeen reaches it at most every few minutes).
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { AdminServer } from '../../src-main/headless/admin-server.js';
import { AdminAuth } from '../../src-main/headless/auth/admin-auth.js';
import { AuthRoutes } from '../../src-main/headless/auth/auth-routes.js';
import { client, PASSWORD, signedInClient } from '../helpers/auth.js';
import { makeDataDir } from '../helpers/serve.js';

const MINUTE = 60_000;

describe('session and link expiry (injected clock)', () => {
  let dataDir: string;
  let gateway: Gateway;
  let auth: AdminAuth;
  let admin: AdminServer;
  let baseUrl: string;
  let now = Date.now();
  const advance = (ms: number) => (now += ms);

  before(async () => {
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    auth = await AdminAuth.open({
      dataDir,
      token: 'e'.repeat(43),
      now: () => now,
      sessionLimits: { idleMs: 10 * MINUTE, absoluteMs: 60 * MINUTE, persistEveryMs: 5 * MINUTE },
      onceLinkTtlMs: 30 * MINUTE,
    });
    admin = new AdminServer({ gateway, auth: new AuthRoutes(auth), rendererDir: dataDir });
    baseUrl = `http://127.0.0.1:${(await admin.listen('127.0.0.1', 0)).port}/`;
  });
  after(async () => {
    await admin.close();
    await auth.close();
    await gateway.close();
  });

  test('a one-time link past its 30 minutes is refused; a fresh one works', async () => {
    const stale = auth.createOnceLink()!;
    advance(30 * MINUTE + 1);
    const browser = client(baseUrl);
    assert.equal((await browser.request(`/auth/once/${stale}`, { method: 'POST' })).status, 410);
    const fresh = auth.createOnceLink()!;
    advance(29 * MINUTE);
    assert.equal((await browser.request(`/auth/once/${fresh}`, { method: 'POST' })).status, 303);
    const set = await browser.request('/auth/password', { body: { newPassword: PASSWORD } });
    assert.equal(set.status, 200, set.text);
    assert.equal(auth.createOnceLink(), null, 'no link once a password exists');
  });

  test('idle: used within 10 minutes it lives on; 10 minutes unused ends it', async () => {
    const browser = await signedInClient(baseUrl);
    for (let i = 0; i < 3; i++) {
      advance(9 * MINUTE);
      assert.equal((await browser.request('/api/routes')).status, 200, `use ${i + 1}, 9 minutes after the last`);
    }
    const state = (await browser.request('/auth/state')).body;
    assert.equal(state.session.idleExpiresAt, now + 10 * MINUTE);
    advance(10 * MINUTE);
    assert.equal((await browser.request('/api/routes')).status, 401);
    assert.equal((await browser.request('/auth/state')).body.signedIn, false);
  });

  test('absolute: after 60 minutes the session ends however busy it was', async () => {
    const browser = await signedInClient(baseUrl);
    const signedInAt = now;
    assert.equal((await browser.request('/auth/state')).body.session.absoluteExpiresAt, signedInAt + 60 * MINUTE);
    while (now + 5 * MINUTE < signedInAt + 60 * MINUTE) {
      advance(5 * MINUTE);
      assert.equal((await browser.request('/api/routes')).status, 200);
    }
    advance(5 * MINUTE);
    assert.equal((await browser.request('/api/routes')).status, 401);
  });

  test('API calls do not write the file; lastSeen reaches it after persistEveryMs', async () => {
    const browser = await signedInClient(baseUrl);
    const file = join(dataDir, 'admin-auth.json');
    const identity = async () => {
      const { ino, mtimeMs } = await stat(file);
      return `${ino}/${mtimeMs}`;
    };
    // Earlier tests' sessions may still have a save pending (it runs 1 s after the need arises).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await identity();
    for (let i = 0; i < 50; i++) {
      advance(1000);
      assert.equal((await browser.request('/api/routes')).status, 200);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await identity(), before, '50 calls over 50 s wrote nothing');
    advance(5 * MINUTE);
    assert.equal((await browser.request('/api/routes')).status, 200);
    const deadline = Date.now() + 5000;
    while ((await identity()) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.notEqual(await identity(), before, 'the new lastSeen was saved');
  });
});
