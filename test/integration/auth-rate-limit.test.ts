// Failed sign-ins are limited per client address: the sixth attempt within 15 minutes is 429
// rate_limited saying when to retry (even with the right password), while another address
// (127.0.0.2, which the server sees as another client) still signs in. The same limiter guards
// password confirmations such as token rotation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, PASSWORD, runSetPassword } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('sign-in rate limit', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('five wrong passwords, then 429 with the minutes to wait, even for the right one', async () => {
    const attacker = client(serve.adminUrl, '127.0.0.3');
    for (let i = 0; i < 5; i++) {
      const answer = await attacker.request('/auth/sign-in', { body: { password: `guess number ${i}` } });
      assert.equal(answer.status, 401, `attempt ${i + 1}`);
    }
    const limited = await attacker.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.match(limited.body.error.message, /Try again in 15 minutes\./);
    assert.equal(attacker.cookie, null);
    // The limiter also guards a password confirmation from that address.
    const rotate = await attacker.request('/auth/token/rotate', { body: { password: PASSWORD }, headers: { authorization: `Bearer ${serve.token}` } });
    assert.equal(rotate.status, 429);
  });

  test('another client address is not affected', async () => {
    const neighbour = client(serve.adminUrl, '127.0.0.2');
    const answer = await neighbour.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await neighbour.request('/api/routes')).status, 200);
  });

  test('a right password takes back only its own attempt', async () => {
    const person = client(serve.adminUrl, '127.0.0.4');
    for (let i = 0; i < 4; i++) assert.equal((await person.request('/auth/sign-in', { body: { password: `typo ${i}` } })).status, 401);
    assert.equal((await person.request('/auth/sign-in', { body: { password: PASSWORD } })).status, 200);
    assert.equal((await person.request('/auth/sign-in', { body: { password: 'one more typo' } })).status, 401);
    assert.equal((await person.request('/auth/sign-in', { body: { password: PASSWORD } })).status, 429, 'five failures in the window');
  });
});
