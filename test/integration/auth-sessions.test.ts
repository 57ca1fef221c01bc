// Sessions as a person meets them: the cookie's attributes over plain HTTP, signing out, signing
// out everywhere, a password change ending every other session, and a restart keeping people
// signed in (admin-auth.json holds only hashes of the session ids).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, PASSWORD, runSetPassword, signedInClient } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('sessions', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('over HTTP the cookie is gatehouse-session, HttpOnly, SameSite=Strict, Path=/, not Secure', async () => {
    const browser = client(serve.adminUrl);
    const answer = await browser.request('/auth/sign-in', { body: { password: PASSWORD } });
    const cookie = answer.headers.get('set-cookie')!;
    assert.match(cookie, /^gatehouse-session=[A-Za-z0-9_-]{43}; /);
    const attributes = cookie.split('; ').slice(1);
    assert.ok(attributes.includes('HttpOnly'));
    assert.ok(attributes.includes('SameSite=Strict'));
    assert.ok(attributes.includes('Path=/'));
    assert.ok(!attributes.includes('Secure'));
    assert.ok(attributes.includes(`Max-Age=${7 * 24 * 3600 - 1}`) || attributes.includes(`Max-Age=${7 * 24 * 3600}`), cookie);
    // The other transport's name is not accepted here.
    const wrongName = await client(serve.adminUrl).request('/api/routes', { headers: { cookie: `__Host-gatehouse-session=${browser.cookie}` } });
    assert.equal(wrongName.status, 401);
  });

  test('sign out ends this session only, and clears the cookie', async () => {
    const [a, b] = [await signedInClient(serve.adminUrl), await signedInClient(serve.adminUrl)];
    const id = a.cookie;
    const out = await a.request('/auth/sign-out', { method: 'POST' });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /^gatehouse-session=; .*Max-Age=0/);
    assert.equal(out.body.signedIn, false);
    const replay = await client(serve.adminUrl).request('/api/routes', { headers: { cookie: `gatehouse-session=${id}` } });
    assert.equal(replay.status, 401, 'the old id is dead on the server, not only forgotten by the browser');
    assert.equal((await b.request('/api/routes')).status, 200);
  });

  test('sign out everywhere ends every session, another device\'s too', async () => {
    const [phone, laptop] = [await signedInClient(serve.adminUrl), await signedInClient(serve.adminUrl, PASSWORD, '127.0.0.2')];
    const answer = await phone.request('/auth/sign-out-everywhere', { method: 'POST' });
    assert.equal(answer.status, 200);
    assert.equal((await laptop.request('/api/routes')).status, 401);
    assert.equal((await phone.request('/auth/state')).body.signedIn, false);
    assert.equal((await client(serve.adminUrl).request('/auth/sign-out-everywhere', { method: 'POST' })).status, 401, 'needs a sign-in');
  });

  test('changing the password ends every other session and keeps this one', async () => {
    const [me, other] = [await signedInClient(serve.adminUrl), await signedInClient(serve.adminUrl)];
    const wrong = await me.request('/auth/password', { body: { currentPassword: 'not it at all', newPassword: 'another good password' } });
    assert.equal(wrong.status, 401);
    assert.equal((await other.request('/api/routes')).status, 200, 'a refused change ends nothing');
    const change = await me.request('/auth/password', { body: { currentPassword: PASSWORD, newPassword: 'another good password' } });
    assert.equal(change.status, 200, change.text);
    assert.equal(change.body.sessionCount, 1);
    assert.equal((await me.request('/api/routes')).status, 200);
    assert.equal((await other.request('/api/routes')).status, 401);
    const back = await me.request('/auth/password', { body: { currentPassword: 'another good password', newPassword: PASSWORD } });
    assert.equal(back.status, 200);
  });

  test('a restart keeps a session; the file has only the id\'s hash', async () => {
    const browser = await signedInClient(serve.adminUrl);
    await serve.stop({ keepDataDir: true });
    const text = await readFile(join(serve.dataDir, 'admin-auth.json'), 'utf8');
    assert.ok(!text.includes(browser.cookie!), 'the session id is not stored');
    serve = await startServe({ dataDir: serve.dataDir });
    const next = client(serve.adminUrl);
    const routes = await next.request('/api/routes', { headers: { cookie: `gatehouse-session=${browser.cookie}` } });
    assert.equal(routes.status, 200);
  });
});
