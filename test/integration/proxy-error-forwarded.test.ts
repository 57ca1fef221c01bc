// A request that names another client (X-Forwarded-For, Forwarded, X-Real-IP, CF-Connecting-IP…)
// through a peer that is not a trusted proxy came by a tunnel or a proxy Gatehouse was not told
// about (cloudflared, ngrok, a router's port-forward): its loopback or LAN socket address says
// nothing about who asks, so the error page hides the detail, for requests and WebSocket upgrades.
// Behind a trusted proxy, the client it names decides. Real engine, real sockets, a closed upstream port.
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { after, before, test } from 'node:test';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { freePort } from '../helpers/ports.js';
import { proxySettings, rawRequest, route, type RawResponse } from '../helpers/proxy-harness.js';

/** This machine as the engine sees it: loopback and one LAN interface on 192.168.7.0/24. */
const interfaces = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '192.168.7.2', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:07', internal: false, cidr: '192.168.7.2/24' }],
});

let engine: ProxyEngine;
let port: number;
let closed: number;

before(async () => {
  closed = await freePort();
  engine = new ProxyEngine({ settings: proxySettings(), stopGraceMs: 2000, ownNetworks: new OwnNetworks(interfaces) });
  engine.setRoutes([route('media', `http://127.0.0.1:${closed}`, ['media.test'], { title: 'Jellyfin' })]);
  port = (await engine.start()).port;
});

after(async () => {
  await engine?.stop();
});

function get(headers: string[] = [], upgrade = false): Promise<RawResponse> {
  const extra = upgrade ? ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='] : ['Connection: close'];
  return rawRequest(port, ['GET / HTTP/1.1', 'Host: media.test', ...extra, ...headers, '', ''].join('\r\n'));
}

function assertDetail(answer: RawResponse, what: string): void {
  const body = answer.body.toString('utf8');
  assert.equal(answer.status, 502, what);
  assert.ok(body.includes(`127.0.0.1:${closed}`), `${what}: the detail names the upstream: ${body}`);
  assert.match(answer.headers['x-gatehouse-error'] ?? '', /^upstream_/, what);
}

function assertNoDetail(answer: RawResponse, what: string): void {
  const body = answer.body.toString('utf8');
  assert.equal(answer.status, 502, what);
  assert.ok(body.includes('Jellyfin'), `${what}: the page still names the service: ${body}`);
  assert.ok(!body.includes(String(closed)) && !body.includes('127.0.0.1'), `${what}: gives the upstream away: ${body}`);
  assert.doesNotMatch(answer.headers['x-gatehouse-error'] ?? '', /^upstream_/, what);
}

test('a loopback client that names no other client sees the detail', async () => {
  assertDetail(await get(), 'plain request');
  assertDetail(await get([], true), 'WebSocket upgrade');
});

test('a loopback client carrying any client-naming header is an outside visitor', async () => {
  const named = [
    'X-Forwarded-For: 203.0.113.9',
    'X-Forwarded-For: 192.168.7.40',
    'Forwarded: for=203.0.113.9',
    'X-Real-IP: 203.0.113.9',
    'CF-Connecting-IP: 203.0.113.9',
    'True-Client-IP: 203.0.113.9',
    'X-Client-IP: 203.0.113.9',
    'X_Forwarded_For: 203.0.113.9',
    'X_Real_IP: 203.0.113.9',
    'CF_Connecting_IP: 203.0.113.9',
    'True_Client_IP: 203.0.113.9',
    'X_Client_IP: 203.0.113.9',
  ];
  for (const header of named) assertNoDetail(await get([header]), header);
  assertNoDetail(await get(['X-Forwarded-For: 203.0.113.9'], true), 'WebSocket upgrade with X-Forwarded-For');
});

test('behind a trusted proxy, the client it names decides', async (t) => {
  engine.applySettings(proxySettings({ trustedProxies: ['127.0.0.1'] }));
  t.after(() => engine.applySettings(proxySettings()));
  assertNoDetail(await get(['X-Forwarded-For: 203.0.113.9']), 'trusted proxy, outside client');
  assertNoDetail(await get(['X-Forwarded-For: 203.0.113.9'], true), 'trusted proxy, outside client, upgrade');
  assertDetail(await get(['X-Forwarded-For: 192.168.7.40']), 'trusted proxy, LAN client');
  assertDetail(await get(['X-Forwarded-For: 192.168.7.40'], true), 'trusted proxy, LAN client, upgrade');
});
