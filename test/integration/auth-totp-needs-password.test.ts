// Turning the second factor on needs the admin password: a stolen session cookie or the bearer
// token alone must not enrol the thief's authenticator (which would also lock the owner out).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { qrCode } from '../../src-main/core/certs/qr.js';
import { client, PASSWORD, runSetPassword, signedInClient } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('POST /auth/totp/begin needs the password', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('a session without the password gets no secret: none given is 400, a wrong one 401', async () => {
    const browser = await signedInClient(serve.adminUrl);
    const missing = await browser.request('/auth/totp/begin', { method: 'POST', body: {} });
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.body.error.issues[0].path, 'password');
    assert.equal(missing.body.secret, undefined);
    const wrong = await browser.request('/auth/totp/begin', { body: { password: 'not the password at all' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.secret, undefined);
    const right = await browser.request('/auth/totp/begin', { body: { password: PASSWORD } });
    assert.equal(right.status, 200, right.text);
    assert.match(right.body.secret, /^[A-Z2-7]{32}$/);
    assert.deepEqual(right.body.qr, qrCode(right.body.uri), 'the QR code of the otpauth URI comes with it, for the page to draw');
  });

  test('the bearer token alone gets no secret either', async () => {
    const bearer = { authorization: `Bearer ${serve.token}` };
    const script = client(serve.adminUrl, '127.0.0.3');
    assert.equal((await script.request('/auth/totp/begin', { method: 'POST', body: {}, headers: bearer })).status, 400);
    assert.equal((await script.request('/auth/totp/begin', { body: { password: 'guessing' }, headers: bearer })).status, 401);
    assert.equal((await script.request('/auth/totp/begin', { body: { password: PASSWORD }, headers: bearer })).status, 200);
    assert.equal((await script.request('/auth/state', { headers: bearer })).body.totpEnabled, false, 'nothing is on until confirmed');
  });
});
