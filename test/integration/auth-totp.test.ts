// The second factor end to end, with codes computed from the enrolled secret as an authenticator
// app would: enrol and confirm, sign in with a code, a code is refused the second time, a recovery
// code works exactly once, and turning it off needs the password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { client, PASSWORD, runSetPassword, signedInClient } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('TOTP second factor', () => {
  let serve: ServeProcess;
  let secret: string;
  let recoveryCodes: string[];
  /** A code for the time step `offset` steps from now (the server accepts one step either side). */
  const codeAt = (offset: number) =>
    new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offset * 30_000 });

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('enrol: begin gives a secret and an otpauth URI; a wrong code does not turn it on; the right one does', async () => {
    const browser = await signedInClient(serve.adminUrl);
    const begin = await browser.request('/auth/totp/begin', { body: { password: PASSWORD } });
    assert.equal(begin.status, 200, begin.text);
    secret = begin.body.secret;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(begin.body.uri, new RegExp(`^otpauth://totp/Gatehouse:admin\\?issuer=Gatehouse&secret=${secret}&algorithm=SHA1&digits=6&period=30$`));
    const wrongCode = codeAt(0) === '000000' ? '111111' : '000000';
    assert.equal((await browser.request('/auth/totp/confirm', { body: { code: wrongCode } })).status, 401);
    assert.equal((await browser.request('/auth/state')).body.totpEnabled, false);
    const confirm = await browser.request('/auth/totp/confirm', { body: { code: codeAt(0) } });
    assert.equal(confirm.status, 200, confirm.text);
    recoveryCodes = confirm.body.recoveryCodes;
    assert.equal(recoveryCodes.length, 10);
    for (const code of recoveryCodes) assert.match(code, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    assert.deepEqual([confirm.body.state.totpEnabled, confirm.body.state.recoveryCodesLeft], [true, 10]);
    assert.equal((await browser.request('/auth/totp/begin', { body: { password: PASSWORD } })).status, 409, 'on already');
  });

  test('the password alone asks for a code and signs nobody in', async () => {
    const browser = client(serve.adminUrl);
    const answer = await browser.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.needsCode, true);
    assert.equal(answer.body.state.signedIn, false);
    assert.equal(browser.cookie, null);
    const wrongPassword = await browser.request('/auth/sign-in', { body: { password: 'wrong password!', code: codeAt(1) } });
    assert.equal(wrongPassword.status, 401);
  });

  test('a code signs in once; the same code is refused after', async () => {
    // The confirm used this step's code; the next step's is accepted (one step of clock drift).
    const code = codeAt(1);
    const browser = client(serve.adminUrl);
    const first = await browser.request('/auth/sign-in', { body: { password: PASSWORD, code } });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.state.signedIn, true);
    assert.equal((await browser.request('/api/routes')).status, 200);
    const replay = await client(serve.adminUrl).request('/auth/sign-in', { body: { password: PASSWORD, code } });
    assert.equal(replay.status, 401);
    assert.match(replay.body.error.message, /used already/);
    assert.equal((await client(serve.adminUrl).request('/auth/sign-in', { body: { password: PASSWORD, code: codeAt(0) } })).status, 401, 'an older step is refused too');
  });

  test('a recovery code works once, typed with spaces or capitals', async () => {
    const [code] = recoveryCodes;
    const browser = client(serve.adminUrl, '127.0.0.2');
    const first = await browser.request('/auth/sign-in', { body: { password: PASSWORD, code: ` ${code!.toUpperCase()} ` } });
    assert.equal(first.status, 200, first.text);
    assert.equal((await browser.request('/auth/state')).body.recoveryCodesLeft, 9);
    const again = await client(serve.adminUrl, '127.0.0.2').request('/auth/sign-in', { body: { password: PASSWORD, code } });
    assert.equal(again.status, 401);
  });

  test('turning it off needs the password; then the password alone signs in', async () => {
    const browser = client(serve.adminUrl, '127.0.0.5');
    assert.equal((await browser.request('/auth/sign-in', { body: { password: PASSWORD, code: recoveryCodes[1] } })).status, 200);
    assert.equal((await browser.request('/auth/totp/disable', { body: { password: 'not the password' } })).status, 401);
    const off = await browser.request('/auth/totp/disable', { body: { password: PASSWORD } });
    assert.equal(off.status, 200, off.text);
    assert.deepEqual([off.body.totpEnabled, off.body.recoveryCodesLeft], [false, 0]);
    const plain = await client(serve.adminUrl, '127.0.0.5').request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(plain.body.needsCode, false);
  });

  test('set-password --disable-totp turns it off from the server and signs everyone out', async () => {
    const browser = await signedInClient(serve.adminUrl, PASSWORD, '127.0.0.6');
    const begin = await browser.request('/auth/totp/begin', { body: { password: PASSWORD } });
    secret = begin.body.secret;
    assert.equal((await browser.request('/auth/totp/confirm', { body: { code: codeAt(0) } })).status, 200);
    const run = await runSetPassword(serve.dataDir, '', ['--disable-totp']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /The second factor is off/);
    const plain = await client(serve.adminUrl, '127.0.0.6').request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(plain.body.needsCode, false);
    assert.equal((await browser.request('/api/routes')).status, 401);
  });
});
