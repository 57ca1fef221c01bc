// POST /auth/token/rotate: with the password, the bearer token changes at once: the old one is
// refused on the next request, the new one works, and DATA_DIR/admin-token holds it (mode 0600).
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, PASSWORD, runSetPassword, signedInClient } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('bearer token rotation', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  const withToken = (token: string) => client(serve.adminUrl).request('/api/routes', { headers: { authorization: `Bearer ${token}` } });

  test('needs a sign-in and the password', async () => {
    assert.equal((await client(serve.adminUrl).request('/auth/token/rotate', { body: { password: PASSWORD } })).status, 401);
    const browser = await signedInClient(serve.adminUrl);
    const wrong = await browser.request('/auth/token/rotate', { body: { password: 'not the password' } });
    assert.equal(wrong.status, 401);
    const missing = await browser.request('/auth/token/rotate', { method: 'POST', body: {} });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.issues[0].path, 'password');
    assert.equal((await withToken(serve.token)).status, 200, 'nothing rotated');
  });

  test('the old token is refused at once, the new one works and is in the file', async () => {
    const old = serve.token;
    assert.equal((await withToken(old)).status, 200);
    const browser = await signedInClient(serve.adminUrl);
    const rotated = await browser.request('/auth/token/rotate', { body: { password: PASSWORD } });
    assert.equal(rotated.status, 200, rotated.text);
    const token: string = rotated.body.token;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(token, old);
    assert.equal((await withToken(old)).status, 401);
    assert.equal((await withToken(token)).status, 200);
    const file = join(serve.dataDir, 'admin-token');
    assert.equal((await readFile(file, 'utf8')).trim(), token);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await browser.request('/api/routes')).status, 200, 'sessions are not touched');
  });
});
