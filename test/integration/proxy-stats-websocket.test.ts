// A WebSocket held open for seconds is a request in the counts but not a latency: before, a 4 s
// WebSocket showed as a 4 s p99 on the dashboard. Real upstream, real proxy, real ws client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { closeWs, fetchThrough, openWs, roundTrip, route, sleep, startProxy, startWsUpstream, type RunningProxy, type WsUpstream } from '../helpers/proxy-harness.js';

let upstream: WsUpstream;
let proxy: RunningProxy;
const client = new Agent();

before(async () => {
  upstream = await startWsUpstream();
  proxy = await startProxy([route('chat', upstream.url, ['chat.test'])]);
});
after(async () => {
  await client.close();
  await proxy?.stop();
  await upstream?.close();
});

test('a WebSocket open for 1.5 s counts as a request, and p50/p99 stay exactly those of the plain requests', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await fetchThrough(client, proxy.port, 'chat.test', `/r${i}`)).status, 200);
  const before = proxy.engine.stats().routes.find((r) => r.routeId === 'chat');
  assert.equal(before?.requests, 20);
  const ws = await openWs(proxy.port, 'chat.test');
  assert.equal((await roundTrip(ws, 'hello')).data.toString(), 'hello');
  await sleep(1500);
  await closeWs(ws);
  const tunnel = await proxy.nextLogged((e) => e.status === 101);
  assert.ok(tunnel.durationMs >= 1500, `the log still says how long the WebSocket lasted: ${tunnel.durationMs} ms`);
  const after = proxy.engine.stats().routes.find((r) => r.routeId === 'chat');
  assert.equal(after?.requests, 21, 'the WebSocket is counted as a request');
  assert.equal(after?.requestsPerMinute, 21);
  // Compared with the same requests' percentiles rather than a fixed bound, so a busy machine's
  // slower requests cannot make this pass or fail by chance.
  assert.equal(after?.p99Ms, before?.p99Ms, `p99 is ${after?.p99Ms} ms, not the WebSocket's lifetime`);
  assert.equal(after?.p50Ms, before?.p50Ms);
  assert.ok((after?.p99Ms ?? Infinity) < tunnel.durationMs, 'the requests were quicker than the WebSocket lasted');
});

test('a refused upgrade is an answer like any other and keeps its latency', async () => {
  await assert.rejects(openWs(proxy.port, 'chat.test', '/refuse'), /403/);
  await proxy.nextLogged((e) => e.status === 403);
  const stats = proxy.engine.stats().routes.find((r) => r.routeId === 'chat');
  assert.equal(stats?.requests, 22);
});
