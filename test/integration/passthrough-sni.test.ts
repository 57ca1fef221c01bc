// TLS passthrough by name on the HTTPS port: one listener, a passed-through route for pve.test (its
// upstream is a real TLS server with its OWN self-signed certificate) next to a route Gatehouse
// terminates with its local CA (app.home.arpa). openssl s_client and curl see the upstream's certificate
// for pve.test (fingerprints compared) and Gatehouse's for app.home.arpa; an unknown name or none gets the
// neutral one; a full HTTP exchange and HTTP/2 (ALPN negotiated with the upstream) work end to end;
// every connection is logged (method TLS, status 0, bytes, upstream); a dead first upstream fails
// over to the next; plain HTTP is redirected (308); a client that says nothing, or dribbles its
// ClientHello, is closed after the header timeout; a request that reached Gatehouse's own TLS for the
// passed-through name is refused (421), never forwarded around the service's certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as http2Connect } from 'node:http2';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { RouteTls } from '../../shared/model.js';
import { singleUpstream } from '../../shared/upstreams.js';
import { clientHello } from '../helpers/tls-clients.js';
import { rawRequest, route, run, within } from '../helpers/proxy-harness.js';
import { startPassthroughUpstream, type PassthroughUpstream, type UpstreamAnswer } from '../helpers/passthrough-upstream.js';
import { sClient } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';
import { echoHandler, startServer, type TestServer } from '../helpers/proxy-harness.js';
import { needTools } from '../helpers/tools.js';
import { F_BYTES_OUT, F_REQUESTS, F_UPGRADED } from '../../src-main/core/proxy/stats.js';
import { proxySettings } from '../helpers/proxy-harness.js';

const skip = needTools('openssl', 'curl');

const LOCAL: RouteTls = { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' };
const PASS: RouteTls = { mode: 'passthrough', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' };
const HEADERS_MS = 1500;

let ca: TestCa;
let certs: TestCertificates;
let pve: PassthroughUpstream;
let app: TestServer;
let proxy: RunningTlsProxy;
let deadPort: number;
let appFingerprint: string;
let neutralFingerprint: string;

before(async () => {
  if (skip) return;
  ca = await openTestCa();
  const appLeaf = await ca.leaf(['app.home.arpa']);
  appFingerprint = new X509Certificate(appLeaf.certificatePem).fingerprint256;
  const neutral = await ca.leaf(['gatehouse.home.arpa']);
  neutralFingerprint = new X509Certificate(neutral.certificatePem).fingerprint256;
  certs = new TestCertificates(neutral);
  certs.byRoute.set('app', appLeaf);
  pve = await startPassthroughUpstream(ca.dir, 'pve', { names: ['pve.test', 'other.pve.test'] });
  app = await startServer(echoHandler('app'));
  // A port nothing listens on: the failover route's first upstream.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  proxy = await startTlsProxy(
    [
      route('pve', pve.url, ['pve.test'], { tls: PASS }),
      route('wild', pve.url, ['*.pve.test'], { tls: PASS }),
      route('failover', `https://127.0.0.1:${deadPort}`, ['fo.test'], {
        tls: PASS,
        upstreams: [...singleUpstream(`https://127.0.0.1:${deadPort}`), ...singleUpstream(pve.url)],
      }),
      route('app', app.url, ['app.home.arpa'], { tls: LOCAL }),
    ],
    certs,
    { engine: { settings: { ...proxySettings({ timeouts: { headersMs: HEADERS_MS } }) } } },
  );
});

after(async () => {
  await proxy?.stop();
  await pve?.close();
  await app?.close();
  await ca?.remove();
});

function curl(name: string, cacert: string, extra: string[] = [], path = '/hello') {
  return run('curl', ['-sS', '--max-time', '10', '--resolve', `${name}:${proxy.httpsPort}:127.0.0.1`, '--cacert', cacert, ...extra, `https://${name}:${proxy.httpsPort}${path}`]);
}

test('openssl s_client: pve.test sees the upstream\'s own certificate, app.home.arpa Gatehouse\'s, others the neutral one', { skip }, async () => {
  const passed = await sClient(proxy.httpsPort, ['-servername', 'pve.test', '-CAfile', pve.certPath, '-verify_return_error']);
  assert.equal(passed.certificate?.fingerprint256, pve.fingerprint256, passed.output);
  assert.match(passed.output, /Verify return code: 0 \(ok\)/);
  // The name is matched like a Host header: case and a trailing dot do not matter, wildcards cover one label.
  assert.equal((await sClient(proxy.httpsPort, ['-servername', 'PVE.Test'])).certificate?.fingerprint256, pve.fingerprint256);
  assert.equal((await sClient(proxy.httpsPort, ['-servername', 'other.pve.test'])).certificate?.fingerprint256, pve.fingerprint256);

  const terminated = await sClient(proxy.httpsPort, ['-servername', 'app.home.arpa', '-CAfile', ca.caPath, '-verify_return_error']);
  assert.equal(terminated.certificate?.fingerprint256, appFingerprint, terminated.output);
  assert.match(terminated.output, /Verify return code: 0 \(ok\)/);

  assert.equal((await sClient(proxy.httpsPort, ['-servername', 'unknown.test'])).certificate?.fingerprint256, neutralFingerprint);
  assert.equal((await sClient(proxy.httpsPort, ['-noservername'])).certificate?.fingerprint256, neutralFingerprint);
});

test('curl --resolve: a full HTTP exchange with the upstream through passthrough, and with Gatehouse for app.home.arpa', { skip }, async () => {
  const before = proxy.logged.length;
  proxy.engine.drainHistory(() => {}); // the history's counts from here on
  const passed = await curl('pve.test', pve.certPath, ['--http1.1']);
  assert.equal(passed.code, 0, passed.stderr);
  const answer = JSON.parse(passed.stdout) as UpstreamAnswer;
  assert.deepEqual([answer.upstream, answer.path, answer.httpVersion, answer.alpn], ['pve', '/hello', '1.1', 'http/1.1']);
  // The upstream is reached by Gatehouse: it sees the proxy's connection, no X-Forwarded-For was added (it cannot be).
  assert.equal(answer.remoteAddress, '127.0.0.1');

  const entry = await proxy.nextLogged((e) => proxy.logged.indexOf(e) >= before && e.method === 'TLS' && e.routeId === 'pve');
  assert.equal(entry.host, 'pve.test');
  assert.equal(entry.status, 0);
  assert.equal(entry.upstream, `127.0.0.1:${pve.port}`);
  assert.equal(entry.client, '127.0.0.1');
  assert.ok(entry.bytes > 200, `bytes to the client counted (${entry.bytes})`);
  assert.equal(entry.path, '');
  assert.equal(entry.streamId, undefined);
  const stats = proxy.engine.stats().routes.find((r) => r.routeId === 'pve');
  assert.ok(stats && stats.requests >= 1, 'a connection counts as a request of the route');
  // In the history a passed-through connection is an upgraded one: not a request, never a latency.
  const history: { route?: number[]; latencies?: number; upstream?: number[] } = {};
  proxy.engine.drainHistory((routeId, counts, upstreams) => {
    if (routeId !== 'pve') return;
    history.route = [...counts.counts];
    history.latencies = counts.latency.reduce((a, b) => a + b, 0);
    const upstream = upstreams.get(`127.0.0.1:${pve.port}`);
    if (upstream) history.upstream = [...upstream.counts];
  });
  assert.equal(history.route?.[F_UPGRADED], 1);
  assert.equal(history.route?.[F_REQUESTS], 0);
  assert.equal(history.latencies, 0);
  assert.equal(history.upstream?.[F_UPGRADED], 1, 'counted for the upstream that carried it');
  assert.ok((history.upstream?.[F_BYTES_OUT] ?? 0) > 200);

  const terminated = await curl('app.home.arpa', ca.caPath);
  assert.equal(terminated.code, 0, terminated.stderr);
  assert.equal(JSON.parse(terminated.stdout).upstream, 'app');
});

test('HTTP/2 through passthrough: ALPN h2 is negotiated with the upstream, not with Gatehouse', { skip }, async () => {
  const viaCurl = await curl('pve.test', pve.certPath, ['--http2', '-w', '\n%{http_version}']);
  assert.equal(viaCurl.code, 0, viaCurl.stderr);
  const [body, version] = viaCurl.stdout.split('\n');
  assert.equal(version, '2');
  assert.deepEqual([(JSON.parse(body!) as UpstreamAnswer).alpn, (JSON.parse(body!) as UpstreamAnswer).httpVersion], ['h2', '2.0']);

  const session = http2Connect(`https://pve.test:${proxy.httpsPort}`, { host: '127.0.0.1', servername: 'pve.test', ca: pve.cert, checkServerIdentity: () => undefined });
  try {
    const answers = await within(
      Promise.all(
        ['/a', '/b', '/c'].map(
          (path) =>
            new Promise<UpstreamAnswer>((resolve, reject) => {
              const stream = session.request({ ':path': path });
              let text = '';
              stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
              stream.on('end', () => resolve(JSON.parse(text) as UpstreamAnswer));
              stream.on('error', reject);
            }),
        ),
      ),
      10_000,
      'three HTTP/2 streams through passthrough',
    );
    assert.deepEqual(answers.map((a) => [a.path, a.alpn]), [['/a', 'h2'], ['/b', 'h2'], ['/c', 'h2']]);
    const peer = (session.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
    assert.equal(peer?.fingerprint256, pve.fingerprint256);
  } finally {
    session.close();
  }
});

test('a dead first upstream fails over to the next, and the log names the one that carried it', { skip }, async () => {
  const before = proxy.logged.length;
  const passed = await curl('fo.test', pve.certPath, ['--http1.1', '--connect-to', `fo.test:${proxy.httpsPort}:127.0.0.1:${proxy.httpsPort}`, '-k']);
  assert.equal(passed.code, 0, passed.stderr);
  assert.equal((JSON.parse(passed.stdout) as UpstreamAnswer).upstream, 'pve');
  const entry = await proxy.nextLogged((e) => proxy.logged.indexOf(e) >= before && e.routeId === 'failover');
  assert.deepEqual([entry.method, entry.status, entry.upstream], ['TLS', 0, `127.0.0.1:${pve.port}`]);
});

test('plain HTTP for a passed-through name is redirected to https:// (308)', { skip }, async () => {
  const answer = await rawRequest(proxy.httpPort, 'GET /login?x=1 HTTP/1.1\r\nHost: pve.test\r\nConnection: close\r\n\r\n');
  assert.equal(answer.status, 308);
  assert.equal(answer.headers.location, `https://pve.test:${proxy.httpsPort}/login?x=1`);
  // app.home.arpa has no redirect set: it is served over plain HTTP as before.
  const plain = await rawRequest(proxy.httpPort, 'GET / HTTP/1.1\r\nHost: app.home.arpa\r\nConnection: close\r\n\r\n');
  assert.equal(plain.status, 200);
});

test('a request for the passed-through name on Gatehouse\'s own TLS (no SNI) is refused, not forwarded', { skip }, async () => {
  const upstreamBefore = pve.connections;
  const answer = await run('curl', ['-sS', '-k', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: pve.test', `https://127.0.0.1:${proxy.httpsPort}/`]);
  assert.equal(answer.stdout, '421', answer.stderr);
  assert.equal(pve.connections, upstreamBefore, 'the upstream never heard of it');
});

/** Opens a connection, sends `bytes` (if any), resolves with how long it stayed open. */
function timeOpen(bytes: Buffer | null, dribble = false): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(proxy.httpsPort, '127.0.0.1');
    socket.on('error', () => {});
    let timer: NodeJS.Timeout | null = null;
    socket.on('connect', () => {
      if (!bytes) return;
      if (!dribble) return void socket.write(bytes);
      let at = 0;
      // One byte every 200 ms: the whole hello would take minutes.
      timer = setInterval(() => at < bytes.length && socket.write(bytes.subarray(at, ++at)), 200);
    });
    socket.on('close', () => {
      if (timer) clearInterval(timer);
      resolve(performance.now() - started);
    });
    socket.resume();
    setTimeout(() => socket.destroy(), 20_000).unref();
  });
}

test('a client that sends nothing, or dribbles its ClientHello, is closed after the header timeout', { skip }, async () => {
  const [silent, slow] = await Promise.all([timeOpen(null), timeOpen(clientHello(Buffer.from('pve.test')), true)]);
  for (const [label, ms] of [['silent', silent], ['slow hello', slow]] as const) {
    assert.ok(ms >= HEADERS_MS - 100, `${label}: not closed before the header timeout (${Math.round(ms)} ms)`);
    assert.ok(ms < HEADERS_MS + 5000, `${label}: closed after the header timeout (${Math.round(ms)} ms)`);
  }
  // Garbage (not TLS at all) goes to the TLS server, which fails it as before: closed at once.
  assert.ok((await timeOpen(Buffer.from('GET / HTTP/1.1\r\nHost: pve.test\r\n\r\n'))) < 5000);
});
