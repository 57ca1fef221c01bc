// Routing by Host: which upstream a request reaches for exact names, one-label wildcards, any case,
// any port and a trailing dot; what an unknown or disabled name gets; and that the upstream's
// connections are pooled rather than opened per request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { needTools } from '../helpers/tools.js';
import {
  echoHandler,
  fetchThrough,
  rawRequest,
  route,
  run,
  startProxy,
  startServer,
  type Echoed,
  type RunningProxy,
  type TestServer,
} from '../helpers/proxy-harness.js';

describe('routing by Host', () => {
  let app: TestServer;
  let wild: TestServer;
  let exactUnderWild: TestServer;
  let disabled: TestServer;
  let proxy: RunningProxy;
  const client = new Agent();

  before(async () => {
    [app, wild, exactUnderWild, disabled] = await Promise.all([
      startServer(echoHandler('app')),
      startServer(echoHandler('wild')),
      startServer(echoHandler('exact-under-wild')),
      startServer(echoHandler('disabled')),
    ]);
    proxy = await startProxy([
      route('app', app.url, ['app.home.arpa']),
      route('wild', wild.url, ['*.w.example']),
      route('exact', exactUnderWild.url, ['pinned.w.example']),
      route('off', disabled.url, ['off.home.arpa'], { enabled: false }),
    ]);
  });

  after(async () => {
    await proxy?.stop();
    await client.close();
    await Promise.all([app, wild, exactUnderWild, disabled].map((s) => s?.close()));
  });

  /** Which upstream answered `host`, or the proxy's error code. */
  async function reached(host: string): Promise<string> {
    const res = await fetchThrough(client, proxy.port, host, '/which');
    if (res.status !== 200) return `${res.status} ${String(res.headers['x-gatehouse-error'])}`;
    return (JSON.parse(res.text) as Echoed).upstream;
  }

  test('an exact name reaches its upstream, which gets the path and the Host as sent', async () => {
    const res = await fetchThrough(client, proxy.port, 'app.home.arpa', '/some/path?q=1');
    assert.equal(res.status, 200);
    const echoed = JSON.parse(res.text) as Echoed;
    assert.equal(echoed.upstream, 'app');
    assert.equal(echoed.url, '/some/path?q=1');
    assert.equal(echoed.headers.host, 'app.home.arpa');
  });

  test('names match in any case, on any port, with or without a trailing dot', async () => {
    for (const host of ['App.Home.Arpa:8080', 'APP.HOME.ARPA', 'app.home.arpa.', 'app.home.arpa.:80', 'aPp.home.ARPA.:65535']) {
      assert.equal(await reached(host), 'app', `Host: ${host}`);
    }
  });

  test('a wildcard covers exactly one label', async () => {
    assert.equal(await reached('a.w.example'), 'wild');
    assert.equal(await reached('Other-Name.W.Example:8443'), 'wild');
    assert.equal(await reached('a.b.w.example'), '404 no_route');
    assert.equal(await reached('w.example'), '404 no_route');
  });

  test('an exact name beats a wildcard that also covers it', async () => {
    assert.equal(await reached('pinned.w.example'), 'exact-under-wild');
    assert.equal(await reached('PINNED.w.example.'), 'exact-under-wild');
    assert.equal(await reached('unpinned.w.example'), 'wild');
  });

  test('a disabled route answers exactly like an unknown name, and its upstream is never contacted', async () => {
    const off = await fetchThrough(client, proxy.port, 'off.home.arpa', '/');
    const unknown = await fetchThrough(client, proxy.port, 'nothing.home.arpa', '/');
    assert.equal(off.status, 404);
    assert.equal(off.headers['x-gatehouse-error'], 'no_route');
    assert.equal(off.text.replace('off.home.arpa', 'NAME'), unknown.text.replace('nothing.home.arpa', 'NAME'));
    assert.equal(disabled.connections, 0);
  });

  test('an unknown name gets a 404 page saying no route exists for it: HTML for browsers', async () => {
    const res = await fetchThrough(client, proxy.port, 'nobody.home.arpa', '/x', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-gatehouse-error'], 'no_route');
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.text, /^<!doctype html>/i);
    assert.match(res.text, /No route is set up for nobody\.home\.arpa/);
    const entry = await proxy.nextLogged((e) => e.host === 'nobody.home.arpa');
    assert.equal(entry.status, 404);
    assert.equal(entry.error, 'no_route');
    assert.equal(entry.routeId, null);
  });

  test('an unknown name gets plain text for API clients', async () => {
    const res = await fetchThrough(client, proxy.port, 'nobody.home.arpa', '/api', { headers: { accept: 'application/json' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-gatehouse-error'], 'no_route');
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.doesNotMatch(res.text, /<html/i);
    assert.match(res.text, /No route is set up for nobody\.home\.arpa/);
  });

  test('curl, with its default Accept, gets the plain-text 404 and reaches a routed name', { skip: needTools('curl') }, async () => {
    const port = proxy.port;
    const unknown = await run('curl', ['-s', '-i', '--resolve', `nobody.home.arpa:${port}:127.0.0.1`, `http://nobody.home.arpa:${port}/`]);
    assert.equal(unknown.code, 0, unknown.stderr);
    const res = parseCurl(unknown.stdout);
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-gatehouse-error'], 'no_route');
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(res.body, /No route is set up for nobody\.home\.arpa/);
    const known = await run('curl', ['-s', '-i', '--resolve', `App.Home.Arpa:${port}:127.0.0.1`, `http://App.Home.Arpa:${port}/c`]);
    const ok = parseCurl(known.stdout);
    assert.equal(ok.status, 200);
    const echoed = JSON.parse(ok.body) as Echoed;
    assert.equal(echoed.upstream, 'app');
    // curl sends host:port; the upstream sees what the client sent, the port included.
    assert.equal(echoed.headers.host, `App.Home.Arpa:${port}`);
  });

  test('a request with no Host header is refused, not routed', async () => {
    const res = await rawRequest(proxy.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-gatehouse-error'], 'bad_host');
  });
});

describe('upstream connection pooling', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;
  const client = new Agent();

  before(async () => {
    upstream = await startServer(echoHandler('pooled'));
    proxy = await startProxy([route('pooled', upstream.url, ['pooled.test'])]);
  });

  after(async () => {
    await proxy?.stop();
    await client.close();
    await upstream?.close();
  });

  test('50 sequential requests reuse a few upstream keep-alive connections', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await fetchThrough(client, proxy.port, 'pooled.test', `/n/${i}`);
      assert.equal(res.status, 200);
      assert.equal((JSON.parse(res.text) as Echoed).url, `/n/${i}`);
    }
    assert.ok(upstream.connections >= 1 && upstream.connections <= 2, `the upstream saw ${upstream.connections} connections for 50 requests`);
  });

  test('requests on fresh client connections still share the pooled upstream connections', async () => {
    const before = upstream.connections;
    for (let i = 0; i < 20; i++) {
      const res = await rawRequest(proxy.port, `GET /fresh/${i} HTTP/1.1\r\nHost: pooled.test\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 200);
    }
    assert.ok(upstream.connections - before <= 1, `20 client connections opened ${upstream.connections - before} upstream connections`);
  });
});

function parseCurl(stdout: string): { status: number; headers: Record<string, string>; body: string } {
  const end = stdout.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = stdout.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body: stdout.slice(end + 4) };
}
