// A cookie of the session's name planted by another site on a sibling port of the same host (cookies
// ignore ports; a Path=/api cookie comes first in the header) does not sign the owner out: a value
// of the wrong shape is skipped, an unknown id is passed over, and the real session cookie after
// them still counts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, PASSWORD, runSetPassword, signedInClient } from '../helpers/auth.js';
import { makeDataDir, startServe, type ServeProcess } from '../helpers/serve.js';

describe('planted session cookies', () => {
  let serve: ServeProcess;

  before(async () => {
    const dataDir = await makeDataDir();
    assert.equal((await runSetPassword(dataDir, `${PASSWORD}\n`)).code, 0);
    serve = await startServe({ dataDir });
  });
  after(async () => {
    await serve?.stop();
  });

  test('a planted cookie of the same name before the real one (badly shaped, or an unknown id) is passed over', async () => {
    const browser = await signedInClient(serve.adminUrl);
    const real = `${browser.cookieName}=${browser.cookie}`;
    const plantedValues = ['x', '', `"${'a'.repeat(43)}"`, 'c'.repeat(43)];
    for (const planted of plantedValues.map((value) => `${browser.cookieName}=${value}`)) {
      const answer = await client(serve.adminUrl).request('/api/settings', { headers: { cookie: `${planted}; ${real}` } });
      assert.equal(answer.status, 200, `${planted}: ${answer.text}`);
      const state = await client(serve.adminUrl).request('/auth/state', { headers: { cookie: `${planted}; other=1; ${real}` } });
      assert.equal(state.body.via, 'session', planted);
    }
  });

  test('a well-shaped but unknown id is still no session', async () => {
    const answer = await client(serve.adminUrl).request('/api/settings', { headers: { cookie: `gatehouse-session=${'b'.repeat(43)}` } });
    assert.equal(answer.status, 401);
  });
});
