// A route's own trusted-proxy list: the route reached through a tunnel or another proxy believes
// that proxy's X-Forwarded-For, while every other route on the same engine still replaces what a
// client claims. The list decides the forwarded headers and the client address the log shows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { echoHandler, proxySettings, rawRequest, route, startProxy, startServer, type Echoed, type RunningProxy, type TestServer } from '../helpers/proxy-harness.js';

/** A request as a proxy in front would send it: the chain it saw, and its own forwarding headers. */
const viaProxy = (host: string, path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n` +
  'X-Forwarded-For: 203.0.113.9, 10.0.0.2\r\nX-Forwarded-Proto: https\r\n' +
  'Forwarded: for=203.0.113.9;proto=https\r\n\r\n';

describe('per-route trusted proxies', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;

  before(async () => {
    upstream = await startServer(echoHandler('app'));
    proxy = await startProxy([
      route('tunnel', upstream.url, ['tunnel.test'], { trustedProxies: ['127.0.0.1'] }),
      route('plain', upstream.url, ['plain.test']),
      route('strict', upstream.url, ['strict.test'], { trustedProxies: [] }),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  async function echoed(host: string, path: string): Promise<Echoed> {
    const res = await rawRequest(proxy.port, viaProxy(host, path));
    assert.equal(res.status, 200, res.head);
    return JSON.parse(res.body.toString('utf8')) as Echoed;
  }

  test('a route trusting 127.0.0.1 passes the chain on and logs the real client', async () => {
    const seen = await echoed('tunnel.test', '/tunnel');
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 10.0.0.2, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers.forwarded, 'for=203.0.113.9;proto=https, for=127.0.0.1;host=tunnel.test;proto=http');
    const entry = await proxy.nextLogged((e) => e.path === '/tunnel');
    assert.equal(entry.client, '10.0.0.2', 'the right-most address that is not a trusted proxy');
  });

  test('another route on the same engine (global list, empty) replaces what the client claims', async () => {
    const seen = await echoed('plain.test', '/plain');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host=plain.test;proto=http');
    assert.equal((await proxy.nextLogged((e) => e.path === '/plain')).client, '127.0.0.1');
  });

  test('routes without their own list follow the global one as it changes; an empty own list trusts nobody', async () => {
    proxy.engine.applySettings(proxySettings({ trustedProxies: ['127.0.0.0/8'] }));
    try {
      assert.equal((await echoed('plain.test', '/plain-global')).headers['x-forwarded-for'], '203.0.113.9, 10.0.0.2, 127.0.0.1');
      assert.equal((await proxy.nextLogged((e) => e.path === '/plain-global')).client, '10.0.0.2');
      assert.equal((await echoed('strict.test', '/strict')).headers['x-forwarded-for'], '127.0.0.1', 'its own empty list wins over the global one');
      assert.equal((await proxy.nextLogged((e) => e.path === '/strict')).client, '127.0.0.1');
    } finally {
      proxy.engine.applySettings(proxySettings());
    }
    assert.equal((await echoed('plain.test', '/plain-again')).headers['x-forwarded-for'], '127.0.0.1');
  });

  test('a request no route claims is logged with the global list', async () => {
    const res = await rawRequest(proxy.port, viaProxy('nobody.test', '/nobody'));
    assert.equal(res.status, 404);
    assert.equal((await proxy.nextLogged((e) => e.path === '/nobody')).client, '127.0.0.1');
  });
});
