// The access log says what went wrong in the same words as the error page (AccessLogEntry.detail),
// so the live log can explain a failure without another lookup; a request that did not fail has none.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { echoHandler, rawRequest, route, startProxy, startServer, type RunningProxy, type TestServer } from '../helpers/proxy-harness.js';
import { freePort } from '../helpers/ports.js';

describe('access-log detail', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;
  let closedPort: number;

  before(async () => {
    upstream = await startServer(echoHandler('app'));
    closedPort = await freePort();
    proxy = await startProxy([
      route('app', upstream.url, ['app.test'], { title: 'App' }),
      route('gone', `http://127.0.0.1:${closedPort}`, ['gone.test'], { title: 'Jellyfin' }),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('a refused upstream: the entry carries the page\'s sentence, naming the route and the address', async () => {
    const res = await rawRequest(proxy.port, 'GET /x HTTP/1.1\r\nHost: gone.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 502);
    const entry = await proxy.nextLogged((e) => e.host === 'gone.test');
    assert.equal(entry.error, 'upstream_refused');
    assert.equal(entry.detail, `Jellyfin at 127.0.0.1:${closedPort} refused the connection. Is it running, and listening on that port?`);
    // Loopback is this machine's own network: its page carries the same sentence as the log.
    assert.ok(res.body.toString('utf8').split('\n').includes(entry.detail as string), 'the same sentence as the error page');
  });

  test('no route, and a malformed request: each has its sentence', async () => {
    await rawRequest(proxy.port, 'GET /y HTTP/1.1\r\nHost: nobody.test\r\nConnection: close\r\n\r\n');
    const unknown = await proxy.nextLogged((e) => e.host === 'nobody.test');
    assert.equal(unknown.error, 'no_route');
    assert.match(unknown.detail ?? '', /No route is set up for nobody\.test/);

    await rawRequest(proxy.port, 'GET /z HTTP/1.1\r\nConnection: close\r\n\r\n');
    const noHost = await proxy.nextLogged((e) => e.error === 'bad_host');
    assert.match(noHost.detail ?? '', /no Host header/);
  });

  test('a request that succeeded has no detail', async () => {
    const res = await rawRequest(proxy.port, 'GET /ok HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    const entry = await proxy.nextLogged((e) => e.path === '/ok');
    assert.equal(entry.error, null);
    assert.equal(entry.detail, null);
  });
});
