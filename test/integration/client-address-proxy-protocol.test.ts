// PROXY protocol on the plain listener, with a real HAProxy in front (send-proxy and
// send-proxy-v2, connecting from 127.0.0.20, the one listed peer): the upstream and the log see the
// original client (a socket bound to 127.0.0.7), not HAProxy. A listed peer without a header, or
// with a bad one, is closed; an unlisted peer's PROXY line is just a bad HTTP request.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';
import { proxySettings, route, startProxy, within, type RunningProxy } from '../helpers/proxy-harness.js';
import { needTools } from '../helpers/tools.js';
import { startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

const skip = needTools('haproxy');
let upstream: Upstream;
let proxy: RunningProxy;
let haproxy: RunningHaproxy | null = null;

before(async () => {
  upstream = await startEchoUpstream();
  proxy = await startProxy([route('app', upstream.url, ['app.test'])], { settings: { ...proxySettings(), proxyProtocolFrom: ['127.0.0.20'] } });
  if (!skip) {
    haproxy = await startHaproxy([
      { backendPort: proxy.port, sendProxy: 'send-proxy', source: '127.0.0.20' },
      { backendPort: proxy.port, sendProxy: 'send-proxy-v2', source: '127.0.0.20' },
      { backendPort: proxy.port, sendProxy: '', source: '127.0.0.20' },
    ]);
  }
});

after(async () => {
  await haproxy?.stop();
  await proxy.stop();
  await upstream.close();
});

function get(port: number, localAddress: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress, path, headers: { host: 'app.test' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes `bytes` from `localAddress`; what came back before the proxy closed the connection. */
function raw(localAddress: string, bytes: string | Buffer, ms = 6000): Promise<string> {
  return within(
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress }, () => {
        if (bytes.length > 0) socket.write(bytes);
      });
      let text = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
      socket.on('error', () => {});
      socket.on('close', () => resolve(text));
    }),
    ms,
    'the proxy to close the connection',
  );
}

for (const [index, version] of [[0, 'send-proxy (v1)'], [1, 'send-proxy-v2']] as const) {
  test(`through HAProxy ${version}, the upstream and the log see the original client`, { skip }, async () => {
    const path = `/pp-${index}`;
    const answer = await get((haproxy as RunningHaproxy).ports[index] as number, '127.0.0.7', path);
    assert.equal(answer.status, 200, answer.body);
    const echo = JSON.parse(answer.body) as EchoBody;
    assert.equal(echo.headers['x-real-ip'], '127.0.0.7');
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.7');
    assert.equal((await proxy.nextLogged((e) => e.path === path)).client, '127.0.0.7');
  });
}

test('through HAProxy without send-proxy, the listed peer is closed before any HTTP is answered', { skip }, async () => {
  const failed = await get((haproxy as RunningHaproxy).ports[2] as number, '127.0.0.7', '/no-header').then(
    () => null,
    (error: Error) => error,
  );
  assert.ok(failed, 'the request got an answer');
  assert.equal(proxy.logged.some((e) => e.path === '/no-header'), false);
});

test('a listed peer that sends a request instead of a header, a bad header, or nothing, is closed without an answer', async () => {
  assert.equal(await raw('127.0.0.20', 'GET / HTTP/1.1\r\nHost: app.test\r\n\r\n'), '');
  assert.equal(await raw('127.0.0.20', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\nGET / HTTP/1.1\r\nHost: app.test\r\n\r\n'), '');
  const started = performance.now();
  assert.equal(await raw('127.0.0.20', ''), '');
  const waited = performance.now() - started;
  assert.ok(waited > 2500 && waited < 5000, `a silent peer is cut after the 3 s header deadline (took ${Math.round(waited)} ms)`);
});

test('a header and the request in one write: the bytes after the header are the request', async () => {
  const text = await raw('127.0.0.20', 'PROXY TCP4 203.0.113.8 127.0.0.1 5000 80\r\nGET /one-write HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.equal((await proxy.nextLogged((e) => e.path === '/one-write')).client, '203.0.113.8');
});

test('an unlisted peer sending a PROXY header gets a bad-request answer, its claim ignored', async () => {
  const text = await raw('127.0.0.7', 'PROXY TCP4 203.0.113.9 127.0.0.1 5000 80\r\nGET /spoof HTTP/1.1\r\nHost: app.test\r\n\r\n');
  assert.match(text, /^HTTP\/1\.1 400/);
  assert.equal(proxy.logged.some((e) => e.client === '203.0.113.9'), false);
});
