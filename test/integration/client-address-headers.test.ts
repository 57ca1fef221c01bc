// Headers that name the client, end to end: a real upstream echoes what it received. From an
// untrusted client, X-Real-IP / X_Forwarded_For / True-Client-IP and their kin never arrive, and
// X-Real-IP is Gatehouse's own; a trusted proxy's X-Forwarded-For or Forwarded is believed (log and
// X-Real-IP agree); CF-Connecting-IP is believed only from Cloudflare's ranges, which a PROXY
// protocol header makes this machine's peer look like.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { proxySettings, route, startProxy, type RunningProxy } from '../helpers/proxy-harness.js';
import { startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let proxy: RunningProxy;

before(async () => {
  upstream = await startEchoUpstream();
  proxy = await startProxy([route('app', upstream.url, ['app.test'])], {
    settings: { ...proxySettings({ trustedProxies: ['127.0.0.2'] }), trustedFronts: ['cloudflare'], proxyProtocolFrom: ['127.0.0.3'] },
  });
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

/** GET through the proxy from `localAddress` with `headers`; the upstream's echo. */
function get(localAddress: string, headers: Record<string, string>, path: string): Promise<EchoBody> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, localAddress, path, headers: { host: 'app.test', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as EchoBody) : reject(new Error(`status ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const SPOOFED = {
  'X-Real-IP': '1.2.3.4',
  X_Real_IP: '1.2.3.4',
  X_Forwarded_For: '1.2.3.4',
  'X-Forwarded-Port': '1',
  X_Forwarded_Proto: 'https',
  'True-Client-IP': '1.2.3.4',
  'X-Client-IP': '1.2.3.4',
  'CF-Connecting-IP': '1.2.3.4',
  'X-Cluster-Client-IP': '1.2.3.4',
  'Forwarded-For': '1.2.3.4',
  'X-Forwarded-For': '1.2.3.4',
  Forwarded: 'for=1.2.3.4',
};

test('from an untrusted client, no header naming another client reaches the upstream; X-Real-IP is the peer', async () => {
  const echo = await get('127.0.0.7', SPOOFED, '/untrusted');
  const names = Object.keys(echo.headers);
  for (const name of ['x_real_ip', 'x_forwarded_for', 'x-forwarded-port', 'x_forwarded_proto', 'true-client-ip', 'x-client-ip', 'cf-connecting-ip', 'x-cluster-client-ip', 'forwarded-for']) {
    assert.ok(!names.includes(name), `${name} reached the upstream`);
  }
  assert.equal(echo.headers['x-real-ip'], '127.0.0.7');
  assert.equal(echo.headers['x-forwarded-for'], '127.0.0.7');
  assert.equal(echo.headers.forwarded, 'for=127.0.0.7;host=app.test;proto=http');
  assert.ok(!JSON.stringify(echo.headers).includes('1.2.3.4'), 'the spoofed address is nowhere upstream');
  assert.equal((await proxy.nextLogged((e) => e.path === '/untrusted')).client, '127.0.0.7');
});

test("a trusted proxy's X-Forwarded-For is believed: the log and X-Real-IP name the client, its other headers pass", async () => {
  const echo = await get('127.0.0.2', { 'X-Forwarded-For': '6.6.6.6, 198.51.100.20', 'X-Forwarded-Port': '443', 'X-Real-IP': '6.6.6.6' }, '/trusted-xff');
  assert.equal(echo.headers['x-real-ip'], '198.51.100.20');
  assert.equal(echo.headers['x-forwarded-for'], '6.6.6.6, 198.51.100.20, 127.0.0.2');
  assert.equal(echo.headers['x-forwarded-port'], '443');
  assert.equal((await proxy.nextLogged((e) => e.path === '/trusted-xff')).client, '198.51.100.20');
});

test('a trusted proxy that sends only Forwarded is believed, IPv6 in brackets with a port', async () => {
  const echo = await get('127.0.0.2', { Forwarded: 'for=6.6.6.6, for="[2001:db8::5]:4711";proto=https' }, '/forwarded-only');
  assert.equal(echo.headers['x-real-ip'], '2001:db8::5');
  assert.equal((await proxy.nextLogged((e) => e.path === '/forwarded-only')).client, '2001:db8::5');
});

/** Sends a PROXY v1 header naming `source`, then a request, from a listed peer; the echo. */
function viaProxyHeader(source: string, headers: string, path: string): Promise<EchoBody> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.3' }, () => {
      socket.write(`PROXY TCP4 ${source} 127.0.0.1 40000 ${proxy.port}\r\nGET ${path} HTTP/1.1\r\nHost: app.test\r\n${headers}Connection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      if (!text.startsWith('HTTP/1.1 200')) return reject(new Error(text.slice(0, 300)));
      resolve(JSON.parse(body) as EchoBody);
    });
  });
}

test("CF-Connecting-IP is believed from Cloudflare's ranges (here the PROXY header's source), and only there", async () => {
  const fromCloudflare = await viaProxyHeader('173.245.48.9', 'CF-Connecting-IP: 203.0.113.50\r\nX-Forwarded-For: 203.0.113.51\r\n', '/cloudflare');
  assert.equal(fromCloudflare.headers['x-real-ip'], '203.0.113.50');
  assert.equal(fromCloudflare.headers['cf-connecting-ip'], '203.0.113.50', "a trusted front's own header passes");
  assert.equal((await proxy.nextLogged((e) => e.path === '/cloudflare')).client, '203.0.113.50');

  const notCloudflare = await viaProxyHeader('198.51.100.99', 'CF-Connecting-IP: 203.0.113.50\r\n', '/not-cloudflare');
  assert.equal(notCloudflare.headers['x-real-ip'], '198.51.100.99');
  assert.equal(notCloudflare.headers['cf-connecting-ip'], undefined);
  assert.equal((await proxy.nextLogged((e) => e.path === '/not-cloudflare')).client, '198.51.100.99');
});

test('turning the Cloudflare front off applies at once: its CF-Connecting-IP is no longer believed', async () => {
  const settings = { ...proxySettings({ trustedProxies: ['127.0.0.2'] }), proxyProtocolFrom: ['127.0.0.3'] };
  proxy.engine.applySettings({ ...settings, trustedFronts: [] });
  try {
    const echo = await viaProxyHeader('173.245.48.9', 'CF-Connecting-IP: 203.0.113.50\r\n', '/front-off');
    assert.equal(echo.headers['x-real-ip'], '173.245.48.9');
    assert.equal(echo.headers['cf-connecting-ip'], undefined);
    assert.equal((await proxy.nextLogged((e) => e.path === '/front-off')).client, '173.245.48.9');
  } finally {
    proxy.engine.applySettings({ ...settings, trustedFronts: ['cloudflare'] });
  }
  const back = await viaProxyHeader('173.245.48.9', 'CF-Connecting-IP: 203.0.113.50\r\n', '/front-on');
  assert.equal(back.headers['x-real-ip'], '203.0.113.50');
});
