// DNS rebinding on the real `gatehouse serve`: a request whose Host is not one of this machine's
// names or addresses is refused with a JSON error that names the Host and the setting that allows
// it, on every path (API, sign-in, events, static files); this machine's own names pass, with or
// without the admin port; a name added to admin.allowedHosts is accepted at once, without a restart.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { adminRequest, errorBody } from '../helpers/admin-requests.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

describe('admin Host check', () => {
  let serve: ServeProcess;
  let port: number;
  const withHost = (host: string, path = '/api/proxy', headers: Record<string, string> = {}) =>
    adminRequest({ address: '127.0.0.1', port, path, headers: { host, authorization: `Bearer ${serve.token}`, ...headers } });

  before(async () => {
    serve = await startServe();
    port = serve.info.admin.port;
  });
  after(() => serve?.stop());

  test('a foreign Host is refused on every path, with a JSON error naming it and the fix', async () => {
    for (const path of ['/api/proxy', '/api/events', '/auth/state', '/', '/index.html', '/no-such-file.js']) {
      const answer = await withHost('evil.example', path);
      assert.equal(answer.status, 421, `${path}: ${answer.body}`);
      const error = errorBody(answer);
      assert.equal(error.code, 'forbidden', path);
      assert.match(error.message, /"evil\.example"/, path);
      assert.match(error.message, /Settings → admin\.allowedHosts/, path);
      assert.equal(answer.headers['x-frame-options'], 'DENY', 'the refusal carries the security headers too');
    }
    // The same name with the admin port, and a rebinding page on another port of an own name.
    assert.equal((await withHost(`evil.example:${port}`)).status, 421);
    assert.equal((await withHost(`127.0.0.1:${port + 1 > 65535 ? port - 1 : port + 1}`)).status, 421, 'an own address on another port');
    assert.equal((await withHost('127.0.0.1.evil.example')).status, 421);
    // Browsers connect to the unspecified address as if it were this machine ("0.0.0.0-day").
    for (const host of ['0.0.0.0', `0.0.0.0:${port}`, '[::]', `[::]:${port}`]) assert.equal((await withHost(host)).status, 421, host);
  });

  test("this machine's own names and addresses are accepted, with or without the port", async () => {
    const own = ['127.0.0.1', 'localhost', 'LOCALHOST', '[::1]', hostname(), `${hostname().split('.')[0]}.local`];
    for (const host of own) {
      for (const value of [host, `${host}:${port}`]) {
        const answer = await withHost(value);
        assert.equal(answer.status, 200, `Host: ${value} → ${answer.status} ${answer.body.slice(0, 200)}`);
      }
    }
    // The static UI too.
    const page = await withHost(`localhost:${port}`, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
  });

  test('a name added to admin.allowedHosts is accepted at once, and refused again once removed', async () => {
    const name = 'gatehouse.home.arpa';
    assert.equal((await withHost(name)).status, 421, 'refused before it is added');
    const added = await serve.api('/api/settings', {
      method: 'PATCH',
      body: JSON.stringify({ admin: { allowedHosts: [name] } }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(added.status, 200, await added.text());
    for (const value of [name, `${name}:${port}`, 'GATEHOUSE.home.arpa.']) {
      assert.equal((await withHost(value)).status, 200, `Host: ${value} after the settings change`);
    }
    const removed = await serve.api('/api/settings', { method: 'PATCH', body: JSON.stringify({ admin: { allowedHosts: [] } }), headers: { 'content-type': 'application/json' } });
    assert.equal(removed.status, 200);
    assert.equal((await withHost(name)).status, 421, 'refused again once removed');
  });
});
