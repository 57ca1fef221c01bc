// The traffic history through a real gateway: real upstreams (one answering 200/404/500, one
// WebSocket echo, a closed port), real requests and a real WebSocket through the proxy; then the
// gateway closes, a new one opens on the same data directory, and getHistory/getHistorySummary give
// the same numbers back. The history's clock is moved by the test (no waiting for 10 s buckets).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { HistorySeries } from '../../shared/insight.js';
import { createGateway, HEALTH_EVENT_INTERVAL_MS, type Gateway } from '../../src-main/core/gateway.js';
import { call, rejectsWith } from '../helpers/gateway-calls.js';
import { closeWs, openWs, roundTrip, sleep, startWsUpstream, type WsUpstream } from '../helpers/proxy-harness.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir } from '../helpers/serve.js';
import { requestThrough, startUpstream, type Upstream } from '../helpers/upstream.js';

const sum = (values: readonly (number | null)[]) => values.reduce<number>((total, value) => total + (value ?? 0), 0);
const max = (values: readonly (number | null)[]) => values.reduce<number>((top, value) => Math.max(top, value ?? 0), 0);

describe('history through the gateway, across a restart', () => {
  let dataDir: string;
  let app: Upstream;
  let chat: WsUpstream;
  let deadUrl: string;
  const clock = { now: 0 };
  const gateways: Gateway[] = [];
  const open = async () => {
    const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, historyClock: () => clock.now, mdnsEnvironment: 'off' });
    gateways.push(gateway);
    return gateway;
  };

  before(async () => {
    dataDir = await makeDataDir();
    app = await startUpstream((req, res) => {
      const status = req.url === '/missing' ? 404 : req.url === '/fail' ? 500 : 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
    });
    chat = await startWsUpstream('chat');
    deadUrl = `http://127.0.0.1:${await freePort()}`;
    // A bucket boundary well ahead of real time, so the sampler's timer does not fire mid-test.
    clock.now = Math.floor(Date.now() / 10_000) * 10_000 + 1_000;
  });

  after(async () => {
    for (const gateway of gateways) await gateway.close();
    await app?.close();
    await chat?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('requests by class, bytes, upgraded connections and latency survive a restart; the time down is a gap', async () => {
    const first = await open();
    await call(first, 'startProxy');
    const web = await call(first, 'addRoute', { title: 'App', names: ['app.test'], upstream: app.address });
    const dead = await call(first, 'addRoute', { title: 'Dead', names: ['dead.test'], upstream: deadUrl.slice('http://'.length) });
    const ws = await call(first, 'addRoute', { title: 'Chat', names: ['chat.test'], upstream: chat.url.slice('http://'.length) });
    const blocked = await call(first, 'addAccessList', { name: 'Blocked', entries: [{ action: 'deny', range: '127.0.0.1' }] });
    const guarded = await call(first, 'addRoute', { title: 'Guarded', names: ['guarded.test'], upstream: app.address, access: { exposure: 'lan', lists: [blocked.id] } });
    const port = (await call(first, 'getStatus')).http!.port;
    for (let i = 0; i < 3; i++) assert.equal((await requestThrough(port, 'guarded.test', '/ok')).status, 403);

    for (let i = 0; i < 6; i++) assert.equal((await requestThrough(port, 'app.test', '/ok')).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await requestThrough(port, 'app.test', '/missing')).status, 404);
    for (let i = 0; i < 2; i++) assert.equal((await requestThrough(port, 'app.test', '/fail')).status, 500);
    for (let i = 0; i < 2; i++) assert.equal((await requestThrough(port, 'dead.test', '/')).status, 502);
    for (let i = 0; i < 4; i++) assert.equal((await requestThrough(port, 'chat.test', '/plain')).status, 200);
    const socket = await openWs(port, 'chat.test');
    assert.equal((await roundTrip(socket, 'hello')).data.toString(), 'hello');
    await sleep(1200); // a tunnel open this long must not show as latency
    await closeWs(socket);
    // The tunnel is counted when the proxy sees it close.
    await sleep(200);

    // Up/down as health saw it: the dead route's upstream fails its checks.
    for (let waited = 0; (await call(first, 'getHealth')).find((entry) => entry.routeId === dead.id)?.state !== 'down'; waited += 100) {
      assert.ok(waited < 10_000, 'the dead route is down within 10 s');
      await sleep(100);
    }
    await sleep(HEALTH_EVENT_INTERVAL_MS + 100);
    clock.now += 5_000;
    const live = await call(first, 'getHistory', { routeId: web.id, range: '1h' });
    assert.equal(live.series.times.length, 360);
    assert.equal(live.availability.upFraction, 1);
    const deadLive = await call(first, 'getHistory', { routeId: dead.id, range: '1h' });
    assert.deepEqual(deadLive.availability.spans.at(-1), { from: deadLive.availability.spans.at(-1)!.from, to: null, state: 'down' });
    assert.equal(deadLive.upstreams[0]?.availability.spans.at(-1)?.state, 'down');
    await first.close();

    // Back 30 s later: the 10-second buckets between are a gap.
    clock.now += 30_000;
    const second = await open();
    const history = await call(second, 'getHistory', { routeId: web.id, range: '1h' });
    const s: HistorySeries = history.series;
    assert.deepEqual(
      [sum(s.requests), sum(s.errors4xx), sum(s.errors5xx), sum(s.proxyErrors), sum(s.upgraded), sum(s.refused)],
      [11, 3, 2, 0, 0, 0],
      'the app route: 6 ok, 3 × 404, 2 × 500 from the upstream',
    );
    assert.equal(sum(s.bytesOut), 11 * 'answer 200'.length, 'bytes out: the answers’ bodies');
    assert.ok(sum(s.bytesIn) > 11 * 'GET /ok HTTP/1.1'.length, 'bytes in counted');
    const written = s.requests.map((value, i) => (value === null ? null : s.times[i]!)).filter((time) => time !== null);
    assert.ok(written.length >= 1 && written.length <= 3, `buckets written while running: ${written.join(', ')}`);
    assert.equal(s.requests.at(-1), null, 'the newest 10 s bucket: Gatehouse was not running');
    assert.ok(s.p99Ms.some((value) => value !== null));
    const [upstream] = history.upstreams;
    assert.equal(upstream?.url, `http://${app.address}`);
    assert.deepEqual([sum(upstream!.series.requests), sum(upstream!.series.errors4xx), sum(upstream!.series.errors5xx)], [11, 3, 2], 'its one upstream saw the same');

    const deadHistory = await call(second, 'getHistory', { routeId: dead.id, range: '1h' });
    assert.deepEqual([sum(deadHistory.series.requests), sum(deadHistory.series.proxyErrors), sum(deadHistory.series.errors5xx)], [2, 2, 0], 'a refused upstream port: Gatehouse’s own 502s');
    assert.equal(sum(deadHistory.upstreams[0]!.series.proxyErrors), 2);

    const guardedHistory = await call(second, 'getHistory', { routeId: guarded.id, range: '1h' });
    assert.deepEqual([sum(guardedHistory.series.refused), sum(guardedHistory.series.requests), sum(guardedHistory.series.errors4xx)], [3, 0, 0], 'refused by an access list: refused, not requests');
    assert.equal(sum(guardedHistory.upstreams[0]!.series.refused), 0);

    const chatHistory = await call(second, 'getHistory', { routeId: ws.id, range: '1h' });
    assert.equal(sum(chatHistory.series.requests), 4, 'the WebSocket is not a request');
    assert.equal(sum(chatHistory.series.upgraded), 1);
    assert.ok(max(chatHistory.series.p99Ms) < 1000, `p99 ${max(chatHistory.series.p99Ms)} ms: the tunnel's 1.2 s is not a latency`);
    assert.ok(sum(chatHistory.upstreams[0]!.series.bytesOut) > 0);

    // The same numbers merged for 24 h and 30 d, and in the dashboard's summary.
    for (const range of ['24h', '30d'] as const) {
      const merged = await call(second, 'getHistory', { routeId: web.id, range });
      assert.deepEqual([sum(merged.series.requests), sum(merged.series.errors4xx), sum(merged.series.errors5xx)], [11, 3, 2], range);
    }
    const summary = await call(second, 'getHistorySummary', { range: '1h' });
    const bySummary = new Map(summary.routes.map((route) => [route.routeId, route]));
    assert.equal(sum(bySummary.get(web.id)!.requests), 11);
    assert.equal(sum(bySummary.get(web.id)!.errors), 2, 'the summary’s errors leave 4xx out');
    assert.equal(sum(bySummary.get(dead.id)!.errors), 2);

    // Up/down: off while Gatehouse was closed.
    assert.ok(history.availability.spans.some((span) => span.state === 'off'), JSON.stringify(history.availability.spans));
    const deadSpans = deadHistory.availability.spans;
    assert.ok(deadSpans.some((span) => span.state === 'down' && span.to !== null), `down until the close: ${JSON.stringify(deadSpans)}`);
    assert.ok(deadSpans.some((span) => span.state === 'off'), JSON.stringify(deadSpans));

    await rejectsWith(call(second, 'getHistory', { routeId: 'no-such-route', range: '1h' }), 'not_found');
    // A removed route's files go with it.
    await call(second, 'removeRoute', { id: dead.id });
    await rejectsWith(call(second, 'getHistory', { routeId: dead.id, range: '1h' }), 'not_found');
  });
});
