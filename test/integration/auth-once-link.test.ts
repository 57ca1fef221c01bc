// The first run: serve prints the admin URL without any token plus a one-time link. The link signs
// one browser in (303 to /, a session cookie) and then answers a small page saying what to do; that
// session (or a script with the bearer token) sets the first password, after which serve prints
// the password line instead.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, onceLinkIn, PASSWORD, readyLines, signedInClient } from '../helpers/auth.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

describe('the one-time sign-in link', () => {
  let serve: ServeProcess;

  before(async () => {
    serve = await startServe();
  });
  after(async () => {
    await serve?.stop();
  });

  test('serve prints the admin URL and the link, and never the token', async () => {
    const out = (await readyLines(serve)) + serve.stderr();
    assert.match(out, new RegExp(`^Admin UI: +${serve.adminUrl.replace(/[./]/g, '\\$&')}$`, 'm'));
    assert.ok(onceLinkIn(out), out);
    assert.ok(!out.includes(serve.token), 'the bearer token is not in the output');
    assert.doesNotMatch(out, /#token=/);
  });

  test('the link signs in once; the second use gets the page, not a session', async () => {
    const link = onceLinkIn(serve.stdout())!;
    const browser = client(serve.adminUrl);
    const first = await browser.request(link, { method: 'POST', headers: { origin: new URL(serve.adminUrl).origin } });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/');
    assert.ok(browser.cookie, 'a session cookie was set');
    const state = await browser.request('/auth/state');
    assert.deepEqual([state.body.signedIn, state.body.via, state.body.passwordSet], [true, 'session', false]);
    assert.equal((await browser.request('/api/routes')).status, 200);

    const other = client(serve.adminUrl);
    const second = await other.request(link, { method: 'POST', headers: { accept: 'text/html' } });
    assert.equal(second.status, 410);
    assert.equal(other.cookie, null);
    assert.match(second.headers.get('content-type')!, /^text\/html/);
    assert.match(second.text, /This sign-in link does not work any more/);
    assert.match(second.text, /gatehouse set-password/);
    assert.match(second.text, /restart <code>gatehouse serve<\/code>/);
    assert.doesNotMatch(second.text, /127\.0\.0\.1|sha|Error|at /, 'no internal detail');
    assert.equal((await other.request(link)).status, 410, 'a spent link shows no button either');
    assert.equal((await other.request('/auth/once/not-a-code-that-was-ever-made-xyz')).status, 410);
    assert.equal((await other.request('/auth/once/not-a-code-that-was-ever-made-xyz', { method: 'POST' })).status, 410);

    // Without a password, sign-in has nothing to check: it says how to get one.
    const attempt = await other.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(attempt.status, 401);
    assert.match(attempt.body.error.message, /No admin password is set yet/);

    // The link's session sets the first password without a current one, and stays signed in.
    const set = await browser.request('/auth/password', { body: { newPassword: PASSWORD } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.body.passwordSet, set.body.signedIn], [true, true]);
    assert.equal((await browser.request('/api/routes')).status, 200);
    await signedInClient(serve.adminUrl);
  });

  test('a restart with a password set prints the password line and no link', async () => {
    await serve.stop({ keepDataDir: true });
    serve = await startServe({ dataDir: serve.dataDir });
    const out = await readyLines(serve);
    assert.equal(onceLinkIn(out), null);
    assert.match(out, /^Sign in: +with the admin password/m);
  });
});

describe('the bearer token counts as signed in for the first password', () => {
  let serve: ServeProcess;

  before(async () => {
    serve = await startServe();
  });
  after(async () => {
    await serve?.stop();
  });

  test('a script with the token sets the first password; a signed-out caller cannot', async () => {
    const link = onceLinkIn(await readyLines(serve))!;
    const anonymous = await client(serve.adminUrl).request('/auth/password', { body: { newPassword: PASSWORD } });
    assert.equal(anonymous.status, 401);
    const script = client(serve.adminUrl);
    const bearer = { authorization: `Bearer ${serve.token}` };
    const state = await script.request('/auth/state', { headers: bearer });
    assert.deepEqual([state.body.signedIn, state.body.via, state.body.session], [true, 'token', null]);
    const set = await script.request('/auth/password', { body: { newPassword: PASSWORD }, headers: bearer });
    assert.equal(set.status, 200, set.text);
    const change = await script.request('/auth/password', { body: { newPassword: 'the second password' }, headers: bearer });
    assert.equal(change.status, 400, 'a change needs the current password, even with the token');
    assert.equal(change.body.error.issues[0].path, 'currentPassword');
    assert.equal((await client(serve.adminUrl).request(link, { method: 'POST' })).status, 410, 'the link dies once a password exists');
  });
});
