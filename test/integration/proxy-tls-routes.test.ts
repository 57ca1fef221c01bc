// What a route's HTTPS options do: WebSocket over TLS (wss) reaches a real WebSocket upstream;
// "redirect HTTP to HTTPS" answers plain HTTP with 308 to the same name and path, WebSocket upgrades
// included (none runs unencrypted); HSTS is sent on HTTPS responses only and only when the route
// asks; both only while the route has a certificate to serve; Gatehouse's own pages (the CA onboarding page)
// are offered the plain-HTTP requests no route claims, and nothing else; and the two listeners
// start together or not at all.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import WebSocket from 'ws';
import type { RouteTls } from '../../shared/model.js';
import { ListenError } from '../../src-main/core/net/listen.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import type { PublicPages } from '../../src-main/core/proxy/tls-certificates.js';
import type { ServedCertificate } from '../../src-main/core/proxy/tls-certificates.js';
import { fetchThrough, openWs, proxySettings, roundTrip, route, startWsUpstream, within, type Echoed, type WsUpstream } from '../helpers/proxy-harness.js';
import { httpsGet, sanNames } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

const tls = (extra: Partial<RouteTls> = {}): RouteTls => ({ mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off', ...extra });

let ca: TestCa;
let certs: TestCertificates;
let upstream: WsUpstream;
let proxy: RunningTlsProxy;
/** A certificate for the "pending" route, which starts without one (as while it is being issued). */
let pendingLeaf: ServedCertificate;
const agent = new Agent();
const pagesAsked: string[] = [];
const publicPages: PublicPages = {
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    pagesAsked.push(`${req.headers.host} ${req.url}`);
    if (req.url !== '/ca') return false;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<h1>Trust this Gatehouse</h1>');
    return true;
  },
};

before(async () => {
  ca = await openTestCa();
  certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  for (const name of ['ws', 'moved', 'strict', 'both']) certs.byRoute.set(name, await ca.leaf([`${name}.home.arpa`]));
  pendingLeaf = await ca.leaf(['pending.home.arpa']);
  upstream = await startWsUpstream('echo');
  proxy = await startTlsProxy(
    [
      route('ws', upstream.url, ['ws.home.arpa'], { tls: tls() }),
      route('moved', upstream.url, ['moved.home.arpa'], { tls: tls({ redirectHttp: true }) }),
      route('strict', upstream.url, ['strict.home.arpa'], { tls: tls({ hsts: true }) }),
      route('both', upstream.url, ['both.home.arpa'], { tls: tls({ redirectHttp: true, hsts: true, proxyProtocol: 'off' as const }) }),
      route('plain', upstream.url, ['plain.home.arpa']),
      route('pending', upstream.url, ['pending.home.arpa'], { tls: tls({ redirectHttp: true, hsts: true, proxyProtocol: 'off' as const }) }),
    ],
    certs,
    { publicPages },
  );
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await agent.close();
  await ca?.remove();
});

test('wss: a WebSocket over TLS reaches the upstream, which sees it as https', async () => {
  // ws passes servername on to tls.connect, though its types do not list it.
  const options: WebSocket.ClientOptions & { servername: string } = {
    ca: await readFile(ca.caPath, 'utf8'),
    servername: 'ws.home.arpa',
    headers: { host: 'ws.home.arpa' },
  };
  const ws = new WebSocket(`wss://127.0.0.1:${proxy.httpsPort}/echo`, options);
  await within(once(ws, 'open'), 5000, 'the wss connection to open');
  const echoed = await roundTrip(ws, 'over tls');
  assert.match(echoed.data.toString(), /over tls/);
  ws.close();
  const upgrade = upstream.upgrades.at(-1);
  assert.equal(upgrade?.headers['x-forwarded-proto'], 'https');
  const entry = await proxy.nextLogged((e) => e.status === 101 && e.routeId === 'ws');
  assert.equal(entry.host, 'ws.home.arpa');
});

test('redirect HTTP to HTTPS: 308 to the same name and path on the HTTPS port, nothing sent upstream', async () => {
  const connectionsBefore = upstream.connections;
  const res = await fetchThrough(agent, proxy.httpPort, 'Moved.home.arpa:8080', '/a/b?c=d&e');
  assert.equal(res.status, 308);
  assert.equal(res.headers.location, `https://moved.home.arpa:${proxy.httpsPort}/a/b?c=d&e`);
  assert.equal(upstream.connections, connectionsBefore, 'the upstream was not contacted');
  const entry = await proxy.nextLogged((e) => e.status === 308);
  assert.equal(entry.routeId, 'moved');
  assert.equal(entry.path, '/a/b?c=d&e');
  // HTTPS on the same route is served, and routes without the option are served on HTTP.
  assert.equal((await httpsGet(proxy.httpsPort, 'moved.home.arpa', ca.caPath, { path: '/x' })).status, 200);
  assert.equal((await fetchThrough(agent, proxy.httpPort, 'strict.home.arpa')).status, 200);
});

test('HSTS only on HTTPS responses, and only for routes that ask', async () => {
  const strict = await httpsGet(proxy.httpsPort, 'strict.home.arpa', ca.caPath);
  assert.equal(strict.status, 200);
  assert.equal(strict.headers['strict-transport-security'], 'max-age=31536000');
  assert.equal((JSON.parse(strict.body) as Echoed).upstream, 'echo');
  const overHttp = await fetchThrough(agent, proxy.httpPort, 'strict.home.arpa');
  assert.equal(overHttp.status, 200);
  assert.equal(overHttp.headers['strict-transport-security'], undefined);
  const without = await httpsGet(proxy.httpsPort, 'ws.home.arpa', ca.caPath);
  assert.equal(without.status, 200);
  assert.equal(without.headers['strict-transport-security'], undefined);
  // With a redirect as well, HTTPS still carries it and HTTP only redirects.
  assert.equal((await httpsGet(proxy.httpsPort, 'both.home.arpa', ca.caPath)).headers['strict-transport-security'], 'max-age=31536000');
  const redirected = await fetchThrough(agent, proxy.httpPort, 'both.home.arpa');
  assert.equal(redirected.status, 308);
  assert.equal(redirected.headers['strict-transport-security'], undefined);
});

test('a WebSocket over plain HTTP to an HTTPS-only route is redirected to wss, never upgraded unencrypted', async () => {
  const upgradesBefore = upstream.upgrades.length;
  const plain = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/echo?room=1`, { headers: { host: 'moved.home.arpa' } });
  plain.on('error', () => {});
  const [, refused] = (await within(once(plain, 'unexpected-response'), 5000, 'the upgrade to be answered')) as [unknown, IncomingMessage];
  assert.equal(refused.statusCode, 308);
  assert.equal(refused.headers.location, `https://moved.home.arpa:${proxy.httpsPort}/echo?room=1`);
  plain.terminate();
  assert.equal(upstream.upgrades.length, upgradesBefore, 'the upstream was not asked for an upgrade');
  const entry = await proxy.nextLogged((e) => e.status === 308 && e.path === '/echo?room=1');
  assert.equal(entry.routeId, 'moved');
  assert.equal(entry.error, null);

  // A client that follows redirects lands on wss with the route's certificate, and the socket works.
  const options: WebSocket.ClientOptions & { lookup: unknown } = {
    headers: { host: 'moved.home.arpa' },
    followRedirects: true,
    ca: await readFile(ca.caPath, 'utf8'),
    // moved.home.arpa is this machine, for this client only (no DNS involved).
    lookup: (_name: string, opts: { all?: boolean }, done: (...args: unknown[]) => void) =>
      opts.all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4),
  };
  const followed = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/echo`, options);
  try {
    await within(once(followed, 'open'), 5000, 'the redirected WebSocket to open');
    assert.match((await roundTrip(followed, 'sealed')).data.toString(), /sealed/);
    assert.equal(upstream.upgrades.at(-1)?.headers['x-forwarded-proto'], 'https');
  } finally {
    followed.terminate();
  }
});

test('a route whose certificate is missing keeps answering over HTTP: no redirect, no HSTS, WebSocket allowed', async () => {
  const overHttp = await fetchThrough(agent, proxy.httpPort, 'pending.home.arpa', '/page');
  assert.equal(overHttp.status, 200, 'served, not redirected to a certificate warning');
  assert.equal((JSON.parse(overHttp.text) as Echoed).upstream, 'echo');
  const ws = await openWs(proxy.httpPort, 'pending.home.arpa');
  assert.match((await roundTrip(ws, 'plain')).data.toString(), /plain/);
  ws.terminate();
  // Over HTTPS the neutral certificate stands in; the answer must not pin the name to HTTPS.
  const overHttps = await httpsGet(proxy.httpsPort, 'pending.home.arpa', ca.caPath);
  assert.deepEqual(sanNames(overHttps.certificate), ['gatehouse.home.arpa']);
  assert.equal(overHttps.headers['strict-transport-security'], undefined);

  // Once the certificate is there, both apply at the next request, without a restart.
  certs.byRoute.set('pending', pendingLeaf);
  try {
    const redirected = await fetchThrough(agent, proxy.httpPort, 'pending.home.arpa', '/page');
    assert.equal(redirected.status, 308);
    assert.equal(redirected.headers.location, `https://pending.home.arpa:${proxy.httpsPort}/page`);
    const strict = await httpsGet(proxy.httpsPort, 'pending.home.arpa', ca.caPath);
    assert.deepEqual(sanNames(strict.certificate), ['pending.home.arpa']);
    assert.equal(strict.headers['strict-transport-security'], 'max-age=31536000');
  } finally {
    certs.byRoute.delete('pending');
  }
});

test('public pages are offered plain-HTTP requests for unrouted names only', async () => {
  pagesAsked.length = 0;
  const page = await fetchThrough(agent, proxy.httpPort, '192.168.1.20', '/ca');
  assert.equal(page.status, 200);
  assert.equal(page.text, '<h1>Trust this Gatehouse</h1>');
  const entry = await proxy.nextLogged((e) => e.path === '/ca');
  assert.equal(entry.status, 200);
  assert.equal(entry.routeId, null);
  assert.equal(entry.error, null);

  const declined = await fetchThrough(agent, proxy.httpPort, 'nobody.home.arpa', '/other');
  assert.equal(declined.status, 404, 'a page that declines leaves the usual "no route"');
  assert.equal(declined.headers['x-gatehouse-error'], 'no_route');

  assert.equal((await fetchThrough(agent, proxy.httpPort, 'plain.home.arpa', '/ca')).status, 200);
  const overHttps = await httpsGet(proxy.httpsPort, null, ca.caPath, { host: '192.168.1.20', path: '/ca' });
  assert.equal(overHttps.status, 404);
  assert.deepEqual(pagesAsked, ['192.168.1.20 /ca', 'nobody.home.arpa /other'], 'asked for the unrouted plain-HTTP requests only');
  assert.equal(proxy.engine.stats().unmatched >= 2, true);
});

test('when the HTTPS port is taken, start() fails naming it and the HTTP port is released', async () => {
  const holder: Server = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const taken = (holder.address() as { port: number }).port;
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const httpPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const settings = { ...proxySettings(), httpPort, httpsPort: taken };
  const engine = new ProxyEngine({ settings, certificates: certs });
  try {
    await assert.rejects(engine.start(), (error: unknown) => {
      assert.ok(error instanceof ListenError);
      assert.equal(error.problem.code, 'port_in_use');
      assert.match(error.problem.message, new RegExp(`HTTPS.*127\\.0\\.0\\.1:${taken}`));
      return true;
    });
    assert.equal(engine.http, null);
    assert.equal(engine.https, null);
    const again = createServer().listen(httpPort, '127.0.0.1');
    await once(again, 'listening');
    await new Promise((resolve) => again.close(resolve));
  } finally {
    holder.close();
  }
  // Without certificates, only HTTP binds, as before HTTPS existed.
  const plain = new ProxyEngine({ settings: { ...settings, httpPort: 0 } });
  const http = await plain.start();
  assert.ok(http.port > 0);
  assert.equal(plain.https, null);
  await plain.stop();
});
