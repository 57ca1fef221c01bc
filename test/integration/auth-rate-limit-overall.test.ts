// Many client addresses do not buy many guesses: 50 failed sign-ins from ten addresses (five each,
// each one's own limit) spend the overall budget, so an eleventh address is refused (429) even with
// the right password, while the owner at the server itself (127.0.0.1) still signs in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, PASSWORD, runSetPassword } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('overall sign-in failure budget', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('50 failures from ten addresses refuse an eleventh; 127.0.0.1 still gets in', async () => {
    for (let host = 10; host < 20; host++) {
      const guesser = client(serve.adminUrl, `127.0.0.${host}`);
      for (let i = 0; i < 5; i++) {
        const answer = await guesser.request('/auth/sign-in', { body: { password: `guess ${host}-${i}` } });
        assert.equal(answer.status, 401, `127.0.0.${host} guess ${i + 1}: ${answer.text}`);
      }
    }
    const eleventh = client(serve.adminUrl, '127.0.0.20');
    const refused = await eleventh.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(refused.status, 429, refused.text);
    assert.match(refused.body.error.message, /^Too many failed attempts from all devices together\. Try again in 15 minutes\.$/);
    assert.equal(eleventh.cookie, null);
    const owner = client(serve.adminUrl, '127.0.0.1');
    const signedIn = await owner.request('/auth/sign-in', { body: { password: PASSWORD } });
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.ok(owner.cookie);
  });
});
