// `gatehouse set-password` on the server, then sign-in from a browser: the password works, a wrong
// one is 401, a running serve picks up a new password without a restart (and every session ends),
// and admin-auth.json is owner-only and holds an argon2id hash, never the password.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, PASSWORD, readyLines, runSetPassword, signedInClient } from '../helpers/auth.js';
import { makeDataDir, runCli, startServe, type ServeProcess } from '../helpers/serve.js';

describe('gatehouse set-password', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    const set = await runSetPassword(dataDir, `${PASSWORD}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /The admin password is set/);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('serve tells a person to sign in with the password, and prints no one-time link', async () => {
    const out = await readyLines(serve);
    assert.match(out, /^Sign in: +with the admin password \(forgot it\? run "gatehouse set-password --data-dir \S+" on this machine\)$/m);
    assert.doesNotMatch(out, /auth\/once/);
  });

  test('the password signs in; the cookie opens /api/', async () => {
    const browser = client(serve.adminUrl);
    assert.equal((await browser.request('/api/routes')).status, 401);
    const signIn = await browser.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(signIn.status, 200, signIn.text);
    assert.equal(signIn.body.needsCode, false);
    assert.equal(signIn.body.state.signedIn, true);
    assert.equal(signIn.body.state.via, 'session');
    const routes = await browser.request('/api/routes');
    assert.equal(routes.status, 200);
    assert.deepEqual(routes.body, []);
    const state = await browser.request('/auth/state');
    assert.equal(state.body.via, 'session');
    assert.equal(state.body.passwordSet, true);
  });

  test('a wrong password is 401 unauthorized and sets no cookie', async () => {
    const browser = client(serve.adminUrl);
    const answer = await browser.request('/auth/sign-in', { body: { password: 'not the password' } });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error.code, 'unauthorized');
    assert.equal(answer.headers.get('set-cookie'), null);
  });

  test('a malformed body is 400 invalid_input naming the field', async () => {
    const answer = await client(serve.adminUrl).request('/auth/sign-in', { body: { password: '', extra: 1 } });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'invalid_input');
    const paths = answer.body.error.issues.map((issue: { path: string }) => issue.path);
    assert.ok(paths.includes('password') && paths.includes(''), JSON.stringify(answer.body));
  });

  test('a new password from the command line works at once and signs every browser out', async () => {
    const earlier = await signedInClient(serve.adminUrl);
    const set = await runSetPassword(serve.dataDir, 'a brand new pass phrase\n');
    assert.equal(set.code, 0, set.stderr);
    // No restart: the next sign-in re-reads the file.
    assert.equal((await client(serve.adminUrl).request('/auth/sign-in', { body: { password: PASSWORD } })).status, 401);
    const fresh = await signedInClient(serve.adminUrl, 'a brand new pass phrase');
    assert.equal((await fresh.request('/api/routes')).status, 200);
    assert.equal((await earlier.request('/api/routes')).status, 401, 'the session from before the change ended');
  });

  test('a too short password is refused with the rule, and nothing changes', async () => {
    const before = await readFile(join(serve.dataDir, 'admin-auth.json'), 'utf8');
    const set = await runSetPassword(serve.dataDir, 'short\n');
    assert.equal(set.code, 1);
    assert.match(set.stderr, /use at least 10 characters/);
    assert.equal(await readFile(join(serve.dataDir, 'admin-auth.json'), 'utf8'), before);
  });

  test('admin-auth.json is mode 0600 and holds an argon2id hash, not the password', async () => {
    const file = join(serve.dataDir, 'admin-auth.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /a brand new pass phrase|correct horse/);
    assert.match(JSON.parse(text).password.hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const settings = await serve.api('/api/settings/export');
    assert.doesNotMatch(await settings.text(), /argon2|admin-auth|sessions/, 'the settings export carries nothing of sign-in');
  });

  test('set-password --help explains the command', async () => {
    const help = await runCli(['set-password', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: gatehouse set-password \[--data-dir DIR\] \[--disable-totp\]/);
    assert.match(help.stdout, /without showing it/);
    assert.match(help.stdout, /no restart/);
  });
});
