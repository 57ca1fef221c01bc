// The HTTPS listener picks each handshake's certificate by SNI: a route's name gets that route's
// certificate and no other, anything else the neutral one; openssl and curl verify the chain against
// the local CA; a request (or WebSocket) for another route on a connection opened for one is answered
// 421, either way round and over HTTP/1.1 and HTTP/2, while the route's own names work on it; and a
// replaced certificate is served at the next handshake without a restart.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import type { RouteTls } from '../../shared/model.js';
import type { ServedCertificate } from '../../src-main/core/proxy/tls-certificates.js';
import { echoHandler, route, run, startServer, within, type Echoed, type TestServer } from '../helpers/proxy-harness.js';
import { httpsGet, sanNames, sClient } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';
import { needTools } from '../helpers/tools.js';

const LOCAL_TLS: RouteTls = { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const };

let ca: TestCa;
let certs: TestCertificates;
let alpha: ServedCertificate;
let upstream: TestServer;
let proxy: RunningTlsProxy;

before(async () => {
  ca = await openTestCa();
  alpha = await ca.leaf(['alpha.home.arpa']);
  certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('alpha', alpha);
  certs.byRoute.set('beta', await ca.leaf(['beta.home.arpa', '*.beta.home.arpa']));
  upstream = await startServer(echoHandler('echo'));
  proxy = await startTlsProxy(
    [
      route('alpha', upstream.url, ['alpha.home.arpa'], { tls: LOCAL_TLS }),
      route('beta', upstream.url, ['beta.home.arpa', '*.beta.home.arpa'], { tls: LOCAL_TLS }),
      route('plain', upstream.url, ['plain.home.arpa']),
      route('off', upstream.url, ['off.home.arpa'], { tls: LOCAL_TLS, enabled: false }),
    ],
    certs,
  );
  certs.byRoute.set('off', await ca.leaf(['off.home.arpa']));
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await ca?.remove();
});

for (const [name, routeName] of [['alpha.home.arpa', 'alpha.home.arpa'], ['beta.home.arpa', 'beta.home.arpa'], ['x.beta.home.arpa', 'beta.home.arpa']] as const) {
  test(`openssl verifies the certificate served for ${name} and it names ${routeName}`, { skip: needTools('openssl') }, async () => {
    const result = await sClient(proxy.httpsPort, ['-verify_return_error', '-CAfile', ca.caPath, '-servername', name, '-verify_hostname', name]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Verify return code: 0 \(ok\)/);
    assert.ok(result.certificate, 'a certificate was presented');
    assert.ok(sanNames(result.certificate).includes(routeName), `SAN ${result.certificate.subjectAltName} includes ${routeName}`);
  });
}

for (const version of ['--http1.1', '--http2'] as const) {
  test(`curl ${version} verifies each route's certificate and gets the upstream's answer, sent as https`, { skip: needTools('curl') }, async () => {
    for (const name of ['alpha.home.arpa', 'beta.home.arpa']) {
      const url = `https://${name}:${proxy.httpsPort}/hello?x=1`;
      const result = await run('curl', ['-sS', version, '--cacert', ca.caPath, '--resolve', `${name}:${proxy.httpsPort}:127.0.0.1`, '-w', '\n%{http_version}', url]);
      assert.equal(result.code, 0, result.stderr);
      const [body, httpVersion] = result.stdout.split('\n') as [string, string];
      assert.equal(httpVersion, version === '--http2' ? '2' : '1.1');
      const echoed = JSON.parse(body) as Echoed;
      assert.equal(echoed.url, '/hello?x=1');
      assert.equal(echoed.headers['x-forwarded-proto'], 'https');
      assert.match(String(echoed.headers.forwarded), /proto=https$/);
      assert.equal(echoed.headers.host, `${name}:${proxy.httpsPort}`);
      for (const header of Object.keys(echoed.headers)) assert.ok(!header.startsWith(':'), `no pseudo-header ${header} upstream`);
    }
    const entry = await proxy.nextLogged((e) => e.host === 'beta.home.arpa' && e.path === '/hello?x=1' && e.status === 200);
    assert.equal(entry.routeId, 'beta');
    assert.equal(entry.upstream, `127.0.0.1:${upstream.port}`);
  });
}

test('a name no route claims, a route without HTTPS, a disabled route and no SNI all get the neutral certificate', { skip: needTools('openssl') }, async () => {
  for (const args of [['-servername', 'unknown.home.arpa'], ['-servername', 'plain.home.arpa'], ['-servername', 'off.home.arpa'], ['-noservername']]) {
    const result = await sClient(proxy.httpsPort, ['-CAfile', ca.caPath, ...args]);
    assert.ok(result.certificate, `a certificate for ${args.join(' ')}: ${result.output}`);
    assert.deepEqual(sanNames(result.certificate), ['gatehouse.home.arpa'], `${args.join(' ')} got the neutral certificate`);
  }
});

test('the neutral certificate serves, and a request then finds its route by Host', async () => {
  const answer = await httpsGet(proxy.httpsPort, null, ca.caPath, { host: 'alpha.home.arpa' });
  assert.deepEqual(sanNames(answer.certificate), ['gatehouse.home.arpa']);
  assert.equal(answer.status, 200);
  assert.equal((JSON.parse(answer.body) as Echoed).headers['x-forwarded-proto'], 'https');
});

test('a request for route beta on a connection opened for alpha is answered 421, over HTTP/1.1 and HTTP/2', { skip: needTools('curl') }, async () => {
  const misdirected = await httpsGet(proxy.httpsPort, 'alpha.home.arpa', ca.caPath, { host: 'beta.home.arpa', headers: { accept: 'text/html' } });
  assert.equal(misdirected.status, 421);
  assert.equal(misdirected.headers['x-gatehouse-error'], 'misdirected');
  assert.match(misdirected.body, /<h1>This connection was opened for another name\. Reload the page to open a new one\.<\/h1>/);
  assert.match(misdirected.body, /<h2>Wrong connection for this name<\/h2>/);
  const entry = await proxy.nextLogged((e) => e.status === 421);
  assert.equal(entry.host, 'beta.home.arpa');
  assert.equal(entry.error, 'misdirected');

  const url = `https://alpha.home.arpa:${proxy.httpsPort}/`;
  const h2 = await run('curl', ['-sS', '--http2', '--cacert', ca.caPath, '--resolve', `alpha.home.arpa:${proxy.httpsPort}:127.0.0.1`, '-H', 'host: beta.home.arpa', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', url]);
  assert.equal(h2.stdout, '421 2', h2.stderr);
  // The same name as the SNI, or a name no route claims with no SNI, is not misdirected.
  assert.equal((await httpsGet(proxy.httpsPort, 'alpha.home.arpa', ca.caPath)).status, 200);
  assert.equal((await httpsGet(proxy.httpsPort, null, ca.caPath, { host: 'nobody.home.arpa' })).status, 404);
});

/** One HTTP/2 request for `authority` on `session`; resolves with the response's headers. */
function h2Head(session: ClientHttp2Session, authority: string): Promise<IncomingHttpHeaders> {
  const stream = session.request({ ':path': '/', ':authority': authority, accept: 'text/html' });
  stream.resume();
  return within(once(stream, 'response').then(([headers]) => headers as IncomingHttpHeaders), 5000, `an HTTP/2 answer for ${authority}`);
}

test('the other way round: a request for alpha on a connection opened for beta is 421, while beta\'s names work on it', async () => {
  // HTTP/1.1, SNI a wildcard name of beta.
  const misdirected = await httpsGet(proxy.httpsPort, 'x.beta.home.arpa', ca.caPath, { host: 'alpha.home.arpa' });
  assert.equal(misdirected.status, 421);
  assert.equal(misdirected.headers['x-gatehouse-error'], 'misdirected');
  assert.match(misdirected.body, /opened for beta\.home\.arpa, not for alpha\.home\.arpa/);
  assert.equal((await httpsGet(proxy.httpsPort, 'x.beta.home.arpa', ca.caPath, { host: 'y.beta.home.arpa' })).status, 200, 'another name of the same route');

  // HTTP/2 (a real node:http2 client): one connection, the matching request before and after.
  const session = connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca: await readFile(ca.caPath, 'utf8'), servername: 'beta.home.arpa' });
  session.on('error', () => {});
  try {
    assert.equal((await h2Head(session, 'beta.home.arpa'))[':status'], 200);
    const h2 = await h2Head(session, 'alpha.home.arpa');
    assert.equal(h2[':status'], 421);
    assert.equal(h2['x-gatehouse-error'], 'misdirected');
    assert.equal((await h2Head(session, 'x.beta.home.arpa'))[':status'], 200, 'the connection carries on for its own route');
  } finally {
    session.close();
  }
  const entry = await proxy.nextLogged((e) => e.status === 421 && e.host === 'alpha.home.arpa');
  assert.equal(entry.error, 'misdirected');
  assert.equal(entry.routeId, null, 'nothing was sent to either route');
});

test('a WebSocket for beta on a TLS connection opened for alpha is refused 421 before any upgrade', async () => {
  // ws passes servername on to tls.connect, though its types do not list it.
  const options: WebSocket.ClientOptions & { servername: string } = { ca: await readFile(ca.caPath, 'utf8'), servername: 'alpha.home.arpa', headers: { host: 'beta.home.arpa' } };
  const ws = new WebSocket(`wss://127.0.0.1:${proxy.httpsPort}/echo`, options);
  ws.on('error', () => {});
  const [, res] = (await within(once(ws, 'unexpected-response'), 5000, 'the upgrade to be answered')) as [unknown, IncomingMessage];
  ws.terminate();
  assert.equal(res.statusCode, 421);
  assert.equal(res.headers['x-gatehouse-error'], 'misdirected');
  const entry = await proxy.nextLogged((e) => e.status === 421 && e.path === '/echo');
  assert.equal(entry.host, 'beta.home.arpa');
  assert.equal(entry.routeId, null, 'refused before any route was asked for an upgrade');
});

test('a replaced certificate is served at the next handshake, without a restart', async () => {
  const before = await httpsGet(proxy.httpsPort, 'alpha.home.arpa', ca.caPath);
  assert.equal(before.certificate.fingerprint256, new (await import('node:crypto')).X509Certificate(alpha.certificatePem).fingerprint256);
  const renewed = await ca.leaf(['alpha.home.arpa', 'renewed.alpha.home.arpa']);
  certs.byRoute.set('alpha', renewed);
  const afterSwap = await httpsGet(proxy.httpsPort, 'alpha.home.arpa', ca.caPath);
  assert.deepEqual(sanNames(afterSwap.certificate), ['alpha.home.arpa', 'renewed.alpha.home.arpa']);
  assert.equal(afterSwap.status, 200);

  // A route whose certificate is gone (expired, being issued) falls back to the neutral one.
  certs.byRoute.set('alpha', null);
  assert.deepEqual(sanNames((await httpsGet(proxy.httpsPort, 'alpha.home.arpa', ca.caPath)).certificate), ['gatehouse.home.arpa']);

  // So does the neutral certificate itself, for clients without SNI.
  const previousNeutral = certs.neutral;
  certs.neutral = await ca.leaf(['neutral2.home.arpa']);
  assert.deepEqual(sanNames((await httpsGet(proxy.httpsPort, null, ca.caPath, { host: 'alpha.home.arpa' })).certificate), ['neutral2.home.arpa']);
  certs.neutral = previousNeutral;
  certs.byRoute.set('alpha', alpha);
});
