// The headers each side receives: hop-by-hop headers and the ones Connection names stop at the proxy
// in both directions; X-Forwarded-* and Forwarded are set by Gatehouse, replacing what an untrusted
// client claims and extending what a trusted proxy sent; Host is preserved unless the route rewrites
// it; an absolute-form target decides both the route and the forwarded Host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  echoHandler,
  proxySettings,
  rawRequest,
  route,
  startProxy,
  startServer,
  type Echoed,
  type RunningProxy,
  type TestServer,
} from '../helpers/proxy-harness.js';

describe('headers between client and upstream', () => {
  let app: TestServer;
  let other: TestServer;
  let rewritten: TestServer;
  let chatty: TestServer;
  let proxy: RunningProxy;

  before(async () => {
    [app, other, rewritten] = await Promise.all([startServer(echoHandler('app')), startServer(echoHandler('other')), startServer(echoHandler('rewritten'))]);
    // An upstream that sends its own hop-by-hop headers, including one it names in Connection.
    chatty = await startServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'x-internal, keep-alive',
        'x-internal': 'secret-token',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        'proxy-authenticate': 'Basic realm="inner"',
        trailer: 'x-checksum',
        upgrade: 'h2c',
        'x-public': 'kept',
      });
      res.end('body');
    });
    proxy = await startProxy([
      route('app', app.url, ['app.test']),
      route('other', other.url, ['other.test']),
      route('rewritten', rewritten.url, ['nas.test'], { rewriteHost: 'nas.lan:5001' }),
      route('chatty', chatty.url, ['chatty.test']),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app, other, rewritten, chatty].map((s) => s?.close()));
  });

  async function echoed(request: string): Promise<Echoed> {
    const res = await rawRequest(proxy.port, request);
    assert.equal(res.status, 200, res.head);
    return JSON.parse(res.body.toString('utf8')) as Echoed;
  }

  test('hop-by-hop request headers and every header named in Connection stop at the proxy', async () => {
    const seen = await echoed(
      'GET /h HTTP/1.1\r\n' +
        'Host: app.test\r\n' +
        'Connection: keep-alive, X-Secret-Hop, x-other-hop\r\n' +
        'Keep-Alive: timeout=30\r\n' +
        'Proxy-Connection: keep-alive\r\n' +
        'TE: trailers\r\n' +
        'Trailer: X-Checksum\r\n' +
        'Upgrade: websocket\r\n' +
        'Proxy-Authorization: Basic dXNlcjpwYXNz\r\n' +
        'X-Secret-Hop: do-not-forward\r\n' +
        'X-Other-Hop: nor-this\r\n' +
        'X-End-To-End: forward-me\r\n' +
        'Authorization: Bearer end-to-end\r\n' +
        '\r\n',
    );
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const hop of ['keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'x-secret-hop', 'x-other-hop']) {
      assert.ok(!names.includes(hop), `${hop} reached the upstream: ${JSON.stringify(seen.rawHeaders)}`);
    }
    // The proxy's own connection to the upstream may say keep-alive, but never the client's tokens.
    assert.doesNotMatch(String(seen.headers.connection ?? ''), /x-secret-hop|x-other-hop/i);
    assert.equal(seen.headers['x-end-to-end'], 'forward-me');
    assert.equal(seen.headers.authorization, 'Bearer end-to-end');
  });

  test('hop-by-hop response headers and the ones the upstream names in Connection never reach the client', async () => {
    const res = await rawRequest(proxy.port, 'GET / HTTP/1.1\r\nHost: chatty.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'body');
    assert.equal(res.headers['x-public'], 'kept');
    for (const hop of ['x-internal', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'trailer', 'upgrade']) {
      assert.equal(res.headers[hop], undefined, `${hop} reached the client:\n${res.head}`);
    }
    assert.doesNotMatch(res.head, /secret-token|x-internal/i);
    // Whatever Connection the client sees is the proxy's own (close, as asked).
    assert.equal(res.headers.connection, 'close');
  });

  test('an untrusted client cannot forge X-Forwarded-* or Forwarded: Gatehouse replaces them', async () => {
    const seen = await echoed(
      'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n' +
        'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: bank.example\r\n' +
        'Forwarded: for=6.6.6.6;host=bank.example;proto=https\r\n\r\n',
    );
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'app.test');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host=app.test;proto=http');
    // Exactly one of each: the forged ones were dropped, not kept beside ours.
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'host']) {
      assert.equal(names.filter((n) => n === name).length, 1, `${name} appears ${names.filter((n) => n === name).length} times`);
    }
    const entry = await proxy.nextLogged((e) => e.host === 'app.test' && e.path === '/');
    assert.equal(entry.client, '127.0.0.1');
  });

  test('a client without forwarding headers gets them set, with the port it used in the forwarded host', async () => {
    const seen = await echoed('GET /plain HTTP/1.1\r\nHost: App.Test:8080\r\nConnection: close\r\n\r\n');
    assert.equal(seen.headers.host, 'App.Test:8080');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'App.Test:8080');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host="App.Test:8080";proto=http');
  });

  test('a trusted proxy\'s forwarding headers are kept and extended; untrusting it again replaces them', async () => {
    const forged =
      'GET /via-proxy HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n' +
      'X-Forwarded-For: 203.0.113.9, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.org\r\n' +
      'Forwarded: for=203.0.113.9;host=app.example.org;proto=https\r\n\r\n';
    proxy.engine.applySettings(proxySettings({ trustedProxies: ['127.0.0.1'] }));
    try {
      const seen = await echoed(forged);
      assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 10.0.0.2, 127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
      assert.equal(seen.headers['x-forwarded-host'], 'app.example.org');
      assert.equal(seen.headers.forwarded, 'for=203.0.113.9;host=app.example.org;proto=https, for=127.0.0.1;host=app.test;proto=http');
      // The log names the real client: the right-most address that is not a trusted proxy.
      const entry = await proxy.nextLogged((e) => e.path === '/via-proxy');
      assert.equal(entry.client, '10.0.0.2');
    } finally {
      proxy.engine.applySettings(proxySettings());
    }
    const seen = await echoed(forged);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'app.test');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host=app.test;proto=http');
  });

  test('Host is rewritten for a route with rewriteHost, while X-Forwarded-Host keeps what the client asked for', async () => {
    const seen = await echoed('GET /r HTTP/1.1\r\nHost: nas.test\r\nConnection: close\r\n\r\n');
    assert.equal(seen.upstream, 'rewritten');
    assert.equal(seen.headers.host, 'nas.lan:5001');
    assert.equal(seen.headers['x-forwarded-host'], 'nas.test');
  });

  test('an absolute-form target routes by its own authority and forwards that as Host', async () => {
    const seen = await echoed('GET http://other.test/abs/path?x=1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.equal(seen.upstream, 'other');
    assert.equal(seen.url, '/abs/path?x=1');
    assert.equal(seen.headers.host, 'other.test');
    assert.equal(seen.headers['x-forwarded-host'], 'other.test');
    // An absolute target with no path asks for "/".
    const root = await echoed('GET http://Other.Test:8080 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.equal(root.upstream, 'other');
    assert.equal(root.url, '/');
    assert.equal(root.headers.host, 'Other.Test:8080');
  });

  test('an absolute-form target for an unknown name is not routed by the Host header instead', async () => {
    const res = await rawRequest(proxy.port, 'GET http://unknown.test/ HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-gatehouse-error'], 'no_route');
    assert.match(res.body.toString(), /unknown\.test/);
  });
});
