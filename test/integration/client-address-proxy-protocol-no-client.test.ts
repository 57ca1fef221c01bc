// A PROXY protocol header that names no client (v1 UNKNOWN, v2 LOCAL: health checks, clients on a
// unix socket) leaves the proxy as the connection's peer. Here the listed proxy is 127.0.0.1, this
// machine: its requests must not pass for the household's. They count as from outside this network
// (a this-network-only route refuses them, and the log says why); an open route still answers, and
// so does Gatehouse's own page for a name no route serves, so a health check keeps working.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeClients, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { echoHandler, proxySettings, rawRequest, startServer, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;

before(async () => {
  upstream = await startServer(echoHandler('app'));
  proxy = await startGuardedProxy([openRoute('home', upstream.url, { exposure: 'lan' }), openRoute('open', upstream.url)]);
  proxy.engine.applySettings({ ...proxySettings(), proxyProtocolFrom: ['127.0.0.1'] });
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** v2, command LOCAL, family UNSPEC, no addresses. */
const V2_LOCAL = Buffer.concat([SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
const get = (host: string, path: string) => `GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`;

test('v1 UNKNOWN and v2 LOCAL from the listed proxy on this machine are outside this network', async () => {
  const unknown = await rawRequest(proxy.port, `PROXY UNKNOWN\r\n${get('home.test', '/v1-unknown')}`);
  assert.equal(unknown.status, 403);
  const local = await rawRequest(proxy.port, Buffer.concat([V2_LOCAL, Buffer.from(get('home.test', '/v2-local'))]));
  assert.equal(local.status, 403);
  for (const path of ['/v1-unknown', '/v2-local']) {
    const entry = await proxy.nextLogged((e) => e.path === path);
    assert.equal(entry.error, 'lan_only');
    assert.equal(entry.client, '127.0.0.1');
    assert.match(entry.detail ?? '', /The PROXY protocol header from 127\.0\.0\.1 named no client \(UNKNOWN or LOCAL\)/);
  }
  // The same proxy naming a client on this machine is that client.
  assert.equal((await rawRequest(proxy.port, `PROXY TCP4 127.0.0.1 127.0.0.1 40000 80\r\n${get('home.test', '/named-household')}`)).status, 200);
});

test('a health check still gets answers: an open route, and Gatehouse itself for a name no route serves', async () => {
  assert.equal((await rawRequest(proxy.port, Buffer.concat([V2_LOCAL, Buffer.from(get('open.test', '/health'))]))).status, 200);
  const own = await rawRequest(proxy.port, Buffer.concat([V2_LOCAL, Buffer.from(get('nothing.test', '/health'))]));
  assert.equal(own.status, 404, "Gatehouse's own answer, not a cut connection");
});
