// Per-client request rates per route: a client outside this network gets requestsPerMinute
// requests at once, then 429 with a Retry-After that says when the next one is allowed, logged as
// rate_limited with the rule; another address keeps its own allowance; this machine's network is
// never limited — unless the route asks for it (limitLan).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeClients, clientFrom, openRoute, startGuardedProxy, type GuardedProxy } from '../helpers/limits-harness.js';
import { echoHandler, fetchThrough, startServer, type TestServer } from '../helpers/proxy-harness.js';

let upstream: TestServer;
let proxy: GuardedProxy;

before(async () => {
  upstream = await startServer(echoHandler('app'));
  proxy = await startGuardedProxy([
    openRoute('rated', upstream.url, { limits: { requestsPerMinute: 5, loginPerMinute: 10, maxBodyBytes: 0, limitLan: false } }),
    openRoute('strict', upstream.url, { limits: { requestsPerMinute: 3, loginPerMinute: 10, maxBodyBytes: 0, limitLan: true } }),
  ]);
});

after(async () => {
  await closeClients();
  await proxy.stop();
  await upstream.close();
});

test('an outside client gets requestsPerMinute requests, then 429 with Retry-After', async () => {
  const outside = clientFrom('127.0.0.2');
  for (let i = 1; i <= 5; i++) assert.equal((await fetchThrough(outside, proxy.port, 'rated.test', `/r${i}`)).status, 200, `request ${i}`);
  const refused = await fetchThrough(outside, proxy.port, 'rated.test', '/r6');
  assert.equal(refused.status, 429);
  // 5 a minute: one token every 12 s.
  const retryAfter = Number(refused.headers['retry-after']);
  assert.ok(retryAfter >= 11 && retryAfter <= 12, `Retry-After ${refused.headers['retry-after']}`);
  assert.equal(refused.headers['x-gatehouse-error'], 'rate_limited');
  assert.doesNotMatch(refused.text, /127\.0\.0\.1|rate: 5/, 'the visitor learns nothing about the rule or the upstream');
  const entry = await proxy.nextLogged((e) => e.path === '/r6');
  assert.equal(entry.status, 429);
  assert.equal(entry.error, 'rate_limited');
  assert.equal(entry.rule, 'rate: 5 requests a minute per address');
  assert.equal(entry.client, '127.0.0.2');
  assert.equal(proxy.engine.stats().routes.find((r) => r.routeId === 'rated')?.refused, 1);

  // Another outside address has its own allowance.
  assert.equal((await fetchThrough(clientFrom('127.0.0.3'), proxy.port, 'rated.test', '/other')).status, 200);
});

test('this machine\'s network is never limited, unless the route asks', async () => {
  const home = clientFrom('127.0.0.1');
  for (let i = 0; i < 30; i++) assert.equal((await fetchThrough(home, proxy.port, 'rated.test', `/home${i}`)).status, 200, `home request ${i + 1}`);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetchThrough(home, proxy.port, 'strict.test', `/lan${i}`)).status);
  assert.deepEqual(statuses, [200, 200, 200, 429], 'limitLan: the LAN is limited like anyone');
});
