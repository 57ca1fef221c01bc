// CSRF on the real `gatehouse serve`: a request that changes something and carries an Origin must
// come from the admin's own origin; one the browser marks as cross-site is refused whatever its
// Origin says. Scripts (no Origin) pass, and reads are never refused for their Origin.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Route } from '../../shared/model.js';
import { adminRequest, errorBody } from '../helpers/admin-requests.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

describe('admin Origin check', () => {
  let serve: ServeProcess;
  let port: number;
  let names = 0;

  /** POST /api/routes (adds a route when it is let through) with `headers`. */
  const addRoute = (headers: Record<string, string>) =>
    adminRequest({
      address: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/routes',
      headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${serve.token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ names: [`csrf${(names += 1)}.home.arpa`], upstream: '127.0.0.1:9' }),
    });
  const routeCount = async () => ((await (await serve.api('/api/routes')).json()) as Route[]).length;

  before(async () => {
    serve = await startServe();
    port = serve.info.admin.port;
  });
  after(() => serve?.stop());

  test('a change sent from another site is refused and changes nothing', async () => {
    const before = await routeCount();
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `https://127.0.0.1:${port}`, 'http://127.0.0.1', `http://127.0.0.1:${port + 1}`]) {
      const answer = await addRoute({ origin });
      assert.equal(answer.status, 403, `Origin ${origin}: ${answer.body}`);
      const error = errorBody(answer);
      assert.equal(error.code, 'forbidden');
      assert.ok(error.message.includes(JSON.stringify(origin)), `the message names the origin: ${error.message}`);
    }
    const crossSite = await addRoute({ 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    assert.match(errorBody(crossSite).message, /another web site/);
    // Even with the admin's own Origin: the browser's word that another site sent it wins.
    assert.equal((await addRoute({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' })).status, 403);
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const answer = await adminRequest({ address: '127.0.0.1', port, method, path: '/api/settings', headers: { host: `127.0.0.1:${port}`, origin: 'http://evil.example' } });
      assert.equal(answer.status, 403, method);
    }
    assert.equal(await routeCount(), before, 'no route was added');
  });

  test("the admin's own origin and a script without Origin are let through", async () => {
    const before = await routeCount();
    const allowed: Record<string, string>[] = [{ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' }, { origin: `http://localhost:${port}` }, {}];
    for (const headers of allowed) {
      const answer = await addRoute(headers);
      assert.equal(answer.status, 200, `${JSON.stringify(headers)}: ${answer.body}`);
    }
    assert.equal(await routeCount(), before + 3);
  });

  test('reads are not refused for their Origin (a cross-site read gets nothing it may read)', async () => {
    const answer = await adminRequest({ address: '127.0.0.1', port, path: '/api/proxy', headers: { host: `127.0.0.1:${port}`, origin: 'http://evil.example', authorization: `Bearer ${serve.token}` } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], undefined, 'no CORS header lets the other site read it');
  });
});
