// PROXY protocol on the HTTPS listener: a real HAProxy in TCP mode passes TLS through untouched and
// sends a v2 header first. The header is consumed before the handshake: TLS to Gatehouse works,
// SNI picks each route's certificate, HTTP/1.1 and HTTP/2 requests name the original client
// (127.0.0.7) upstream and in the log. A listed peer starting TLS without a header is closed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { request } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { proxySettings, route, within } from '../helpers/proxy-harness.js';
import { sanNames } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';
import { needTools } from '../helpers/tools.js';
import { startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const skip = needTools('haproxy');
let ca: TestCa;
let caPem: string;
let upstream: Upstream;
let proxy: RunningTlsProxy;
let haproxy: RunningHaproxy | null = null;

before(async () => {
  ca = await openTestCa();
  caPem = await readFile(ca.caPath, 'utf8');
  upstream = await startEchoUpstream();
  const certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('alpha', await ca.leaf(['alpha.home.arpa']));
  certs.byRoute.set('beta', await ca.leaf(['beta.home.arpa']));
  proxy = await startTlsProxy([route('alpha', upstream.url, ['alpha.home.arpa']), route('beta', upstream.url, ['beta.home.arpa'])], certs, {
    engine: { settings: { ...proxySettings(), proxyProtocolFrom: ['127.0.0.20'] } },
  });
  if (!skip) haproxy = await startHaproxy([{ backendPort: proxy.httpsPort, sendProxy: 'send-proxy-v2', source: '127.0.0.20' }]);
});

after(async () => {
  await haproxy?.stop();
  await proxy.stop();
  await upstream.close();
  await ca.remove();
});

function httpsVia(port: number, name: string, path: string): Promise<{ status: number; echo: EchoBody; names: string[] }> {
  return within(
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, localAddress: '127.0.0.7', servername: name, path, headers: { host: name }, ca: caPem, agent: false }, (res) => {
        const names = sanNames((res.socket as TLSSocket).getPeerX509Certificate() as import('node:crypto').X509Certificate);
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, echo: JSON.parse(body) as EchoBody, names }));
      });
      req.on('error', reject);
      req.end();
    }),
    10_000,
    `an answer for ${name}`,
  );
}

test('through HAProxy send-proxy-v2, TLS works, SNI routes, and the upstream and log see the original client', { skip }, async () => {
  const port = (haproxy as RunningHaproxy).ports[0] as number;
  for (const name of ['alpha.home.arpa', 'beta.home.arpa']) {
    const path = `/tls-${name}`;
    const answer = await httpsVia(port, name, path);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.names, [name], 'the route\'s own certificate, chosen by SNI');
    assert.equal(answer.echo.headers['x-real-ip'], '127.0.0.7');
    assert.equal(answer.echo.headers['x-forwarded-proto'], 'https');
    const entry = await proxy.nextLogged((e) => e.path === path);
    assert.equal(entry.client, '127.0.0.7');
    assert.equal(entry.routeId, name.split('.')[0]);
  }
});

test('HTTP/2 through HAProxy send-proxy-v2 names the original client too', { skip }, async () => {
  const port = (haproxy as RunningHaproxy).ports[0] as number;
  const session = http2Connect(`https://alpha.home.arpa:${port}`, { host: '127.0.0.1', localAddress: '127.0.0.7', servername: 'alpha.home.arpa', ca: caPem } as never);
  try {
    const body = await within(
      new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/h2-pp', ':authority': 'alpha.home.arpa' });
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      }),
      10_000,
      'an HTTP/2 answer',
    );
    assert.equal((JSON.parse(body) as EchoBody).headers['x-real-ip'], '127.0.0.7');
    assert.equal((await proxy.nextLogged((e) => e.path === '/h2-pp')).client, '127.0.0.7');
  } finally {
    session.destroy();
  }
});

test('a listed peer that starts TLS without a PROXY header is closed before any handshake', async () => {
  const outcome = await within(
    new Promise<string>((resolve) => {
      const raw = netConnect({ host: '127.0.0.1', port: proxy.httpsPort, localAddress: '127.0.0.20' });
      raw.on('error', () => {});
      const socket = tlsConnect({ socket: raw, servername: 'alpha.home.arpa', ca: caPem }, () => resolve('handshake completed'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.on('close', () => resolve('closed'));
    }),
    6000,
    'the connection to end',
  );
  assert.notEqual(outcome, 'handshake completed');
});

test('over the connection cap, a TLS connection is closed before its handshake', async () => {
  proxy.engine.setConnectionLimit(1);
  const opened: Socket[] = [];
  /** A connection from the listed peer whose PROXY header names 198.51.100.9, then a TLS handshake. */
  const handshake = () =>
    within(
      new Promise<string>((resolve) => {
        const raw = netConnect({ host: '127.0.0.1', port: proxy.httpsPort, localAddress: '127.0.0.20' }, () => {
          raw.write(`PROXY TCP4 198.51.100.9 127.0.0.1 40000 ${proxy.httpsPort}\r\n`);
          const socket = tlsConnect({ socket: raw, servername: 'alpha.home.arpa', ca: caPem }, () => resolve('handshake completed'));
          socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        });
        raw.on('error', () => {});
        opened.push(raw);
      }),
      6000,
      'a handshake or a close',
    );
  try {
    assert.equal(await handshake(), 'handshake completed');
    assert.notEqual(await handshake(), 'handshake completed');
    assert.equal(proxy.engine.openConnectionsFrom('198.51.100.9'), 1);
  } finally {
    for (const socket of opened) socket.destroy();
    proxy.engine.setConnectionLimit(0);
  }
});
