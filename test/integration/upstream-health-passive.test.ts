// Passive health and failover on real sockets: failures the proxy's own traffic sees put an address
// in a cool-down that doubles while its trials keep failing and ends with an answer; each report is
// judged with its route's settings; the failover events when the first of two upstreams dies and
// returns; and the proxy's traffic through the real engine.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import type { FailoverEvent, RouteHealth, UpstreamHealth as UpstreamReport } from '../../shared/status.js';
import { singleUpstream } from '../../shared/upstreams.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { UpstreamHealth } from '../../src-main/core/upstreams/health.js';
import { answer, healthCheck, HealthUpstream } from '../helpers/health-upstream.js';
import { proxySettings, rawRequest, route, sleep, waitUntil } from '../helpers/proxy-harness.js';

const servers: HealthUpstream[] = [];
const checkers: UpstreamHealth[] = [];
after(async () => {
  for (const checker of checkers) checker.close();
  await Promise.all(servers.map((server) => server.stop()));
});

async function upstream(host: string, answerWith = answer(200, 'ok')): Promise<HealthUpstream> {
  const server = await new HealthUpstream(answerWith, host).start();
  servers.push(server);
  return server;
}

function checker(options: { intervalMs?: number } = {}) {
  const events: RouteHealth[][] = [];
  const failovers: FailoverEvent[] = [];
  const health: UpstreamHealth = new UpstreamHealth({
    onChange: () => events.push(health.snapshot()),
    onFailover: (event) => failovers.push(event),
    intervalMs: options.intervalMs ?? 100,
    timeoutMs: 400,
    jitterMs: 0,
  });
  checkers.push(health);
  return { health, events, failovers };
}

/** The error a real connection to a closed port gives. */
function refusedError(port: number, host: string): Promise<Error> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.on('error', resolve);
    socket.on('connect', () => {
      socket.destroy();
      resolve(new Error(`${host}:${port} accepted a connection`));
    });
  });
}

const routeOf = (health: UpstreamHealth, id: string) => health.snapshot().find((entry) => entry.routeId === id) as RouteHealth;
const first = (health: UpstreamHealth, id: string) => routeOf(health, id).upstreams[0] as UpstreamReport;
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('passive health', () => {
  test('a failure starts a cool-down; failures during it do not grow it; a failed trial doubles it; an answer ends it', async () => {
    const gone = await upstream('127.0.0.11');
    await gone.stop();
    const refused = await refusedError(gone.port, gone.host);
    assert.equal((refused as { code?: string }).code, 'ECONNREFUSED');
    const { health } = checker();
    health.setRoutes([route('app', gone.url, ['app.test'], { title: 'App', healthCheck: healthCheck({ enabled: false }, { cooldownMs: 300 }) })]);
    assert.equal(health.isAvailable(gone.address), true, 'unknown counts as available');
    assert.equal(health.lastFailedAt(gone.address), 0);

    const before = Date.now();
    health.failed('app', gone.address, refused);
    await settle();
    assert.equal(health.isAvailable(gone.address), false);
    assert.ok(health.lastFailedAt(gone.address) >= before);
    let report = first(health, 'app');
    assert.equal(report.state, 'down', 'with checks off, traffic decides the state');
    assert.equal(report.passiveFailures, 1);
    assert.equal(report.available, false);
    const until = Date.parse(report.coolingUntil ?? '');
    assert.ok(until - before >= 300 && until - before < 1000, `a cool-down of 300 ms, not ${until - before}`);
    assert.match(report.problem?.message ?? '', /^Left out until \d\d:\d\d:\d\d after 1 failure: it refused the connection\.$/);
    assert.equal(report.problem?.code, 'cooling');

    health.failed('app', gone.address, refused);
    health.failed('app', gone.address, refused);
    await settle();
    report = first(health, 'app');
    assert.equal(report.passiveFailures, 3);
    assert.equal(Date.parse(report.coolingUntil ?? ''), until, 'requests failing together are one outage');
    assert.match(report.problem?.message ?? '', /after 3 failures in a row: it refused the connection\.$/);

    await waitUntil(() => health.isAvailable(gone.address), 2000, 'the cool-down to end (a trial)');
    assert.equal(first(health, 'app').coolingUntil, null);
    const trial = Date.now();
    health.failed('app', gone.address, refused);
    const doubled = Date.parse(first(health, 'app').coolingUntil ?? '') - trial;
    assert.ok(doubled >= 590 && doubled < 1300, `the failed trial doubles it to 600 ms, not ${doubled}`);

    await waitUntil(() => health.isAvailable(gone.address), 3000, 'the second cool-down to end');
    health.failed('app', gone.address, refused);
    const again = Date.parse(first(health, 'app').coolingUntil ?? '') - Date.now();
    assert.ok(again >= 1100, `and again to 1200 ms, not ${again}`);

    health.answered('app', gone.address, 200);
    await settle();
    report = first(health, 'app');
    assert.equal(health.isAvailable(gone.address), true, 'an answer ends the cool-down');
    assert.equal(report.passiveFailures, 0);
    assert.equal(report.coolingUntil, null);
    assert.equal(report.state, 'up');
    assert.equal(report.problem, null);
    assert.equal(report.served, 1);

    health.failed('app', gone.address, refused);
    const fresh = Date.parse(first(health, 'app').coolingUntil ?? '') - Date.now();
    assert.ok(fresh <= 300, `after an answer the cool-down starts over at 300 ms, not ${fresh}`);
  });

  test('reports are judged with the reporting route’s settings; a 5xx counts only with serverErrors', async () => {
    const app = await upstream('127.0.0.12');
    const { health } = checker();
    health.setRoutes([
      route('strict', app.url, ['strict.test'], { healthCheck: healthCheck({ enabled: false }, { serverErrors: true, cooldownMs: 60_000 }) }),
      route('lenient', app.url, ['lenient.test'], { healthCheck: healthCheck({ enabled: false }, { serverErrors: false, cooldownMs: 60_000 }) }),
      route('off', app.url, ['off.test'], { healthCheck: healthCheck({ enabled: false }, { enabled: false }) }),
    ]);
    health.answered('lenient', app.address, 503);
    await settle();
    assert.equal(health.isAvailable(app.address), true, 'a 503 on a route without serverErrors is an answer');
    health.answered('strict', app.address, 503);
    await settle();
    assert.equal(health.isAvailable(app.address), false, 'the same 503 counts for the route with serverErrors');
    assert.match(first(health, 'lenient').problem?.message ?? '', /it answered 503\.$/, 'the state is the address’s, shown on every route');
    health.answered('lenient', app.address, 200);
    await settle();
    assert.equal(health.isAvailable(app.address), true);

    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    health.failed('off', app.address, reset);
    await settle();
    assert.equal(health.isAvailable(app.address), true, 'a route with passive health off does not count');
    assert.ok(health.lastFailedAt(app.address) > 0, 'but the failure time is kept for the last-resort pick');

    const broken = Object.assign(new Error('bad response'), { name: 'HTTPParserError' });
    health.failed('strict', app.address, broken);
    await settle();
    assert.equal(health.isAvailable(app.address), true, 'a malformed answer came from a live service: not counted');
    health.failed('strict', app.address, Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' }));
    await settle();
    assert.equal(health.isAvailable(app.address), false, 'a timeout counts');
    assert.match(first(health, 'strict').problem?.message ?? '', /it did not answer in time\.$/);

    assert.deepEqual(health.snapshot().map((entry) => entry.upstreams[0]?.served), [1, 2, 0], 'served per route');
  });

  test('with active checks on, a cool-down leaves the state to the checks and a passing check ends it once down', async () => {
    const app = await upstream('127.0.0.13');
    const { health } = checker();
    health.setRoutes([route('app', app.url, ['app.test'], { healthCheck: healthCheck({ fails: 1, passes: 1 }, { cooldownMs: 60_000 }) })]);
    await waitUntil(() => first(health, 'app').state === 'up', 5000, 'up');
    health.failed('app', app.address, await refusedError(1, '127.0.0.13'));
    await settle();
    assert.equal(first(health, 'app').state, 'up', 'the state stays the checks’');
    assert.equal(first(health, 'app').available, false);
    assert.equal(routeOf(health, 'app').state, 'down', 'its only upstream is left out');
    await sleep(400);
    assert.equal(health.isAvailable(app.address), false, 'passing checks alone do not end a cool-down of an upstream they never saw down');

    await app.stop();
    await waitUntil(() => first(health, 'app').state === 'down', 5000, 'down by its checks');
    await app.start();
    await waitUntil(() => first(health, 'app').state === 'up', 5000, 'up again');
    assert.equal(health.isAvailable(app.address), true, 'the checks saw it come back: the cool-down from the outage is over');
  });

  test('failover events: the first of two upstreams dies and returns, then none is left, then they come back', async () => {
    const a = await upstream('127.0.0.14');
    const b = await upstream('127.0.0.15');
    const { health, failovers } = checker();
    const routes = [route('media', a.url, ['media.test'], { title: 'Media', upstreams: [...singleUpstream(a.url), ...singleUpstream(b.url)], healthCheck: healthCheck({ fails: 1, passes: 1 }) })];
    health.setRoutes(routes);
    await waitUntil(() => routeOf(health, 'media').upstreams.every((u) => u.state === 'up'), 5000, 'both up');
    assert.deepEqual(failovers, [], 'nothing at startup');
    assert.equal(routeOf(health, 'media').upstream, a.address);
    assert.equal(routeOf(health, 'media').failedOver, false);

    await a.stop();
    await waitUntil(() => failovers.length === 1, 5000, 'the failover');
    assert.deepEqual({ ...failovers[0], time: '' }, {
      time: '',
      routeId: 'media',
      title: 'Media',
      kind: 'failed_over',
      from: a.address,
      to: b.address,
      reason: `${a.address} is not available. The check GET / failed: refused the connection.`,
    });
    assert.equal(routeOf(health, 'media').upstream, b.address);
    assert.equal(routeOf(health, 'media').failedOver, true);
    assert.equal(routeOf(health, 'media').state, 'up');

    await a.start();
    await waitUntil(() => failovers.length === 2, 5000, 'the recovery');
    assert.deepEqual({ ...failovers[1], time: '' }, { time: '', routeId: 'media', title: 'Media', kind: 'recovered', from: b.address, to: a.address, reason: `${a.address} is available again.` });
    assert.equal(routeOf(health, 'media').failedOver, false);

    await b.stop();
    await sleep(400);
    assert.equal(failovers.length, 2, 'the spare going away changes nothing the route serves from');
    await a.stop();
    await waitUntil(() => failovers.length === 3, 5000, 'no upstream left');
    assert.equal(failovers[2]?.kind, 'no_upstream');
    assert.equal(failovers[2]?.from, a.address);
    assert.equal(failovers[2]?.to, null);
    assert.match(failovers[2]?.reason ?? '', /^None of Media's 2 upstreams is available\./);
    assert.equal(routeOf(health, 'media').state, 'down');

    await b.start();
    await waitUntil(() => failovers.length === 4, 5000, 'the spare back');
    assert.deepEqual([failovers[3]?.kind, failovers[3]?.from, failovers[3]?.to], ['failed_over', null, b.address]);
    await a.start();
    await waitUntil(() => failovers.length === 5, 5000, 'the preferred one back');
    assert.deepEqual([failovers[4]?.kind, failovers[4]?.to], ['recovered', a.address]);

    // Draining is planned, not a failover: the route's upstreams changed, so it starts over.
    health.setRoutes([{ ...routes[0]!, upstreams: [{ ...singleUpstream(a.url)[0]!, drained: true }, ...singleUpstream(b.url)] }]);
    await sleep(300);
    assert.equal(failovers.length, 5);
    assert.equal(routeOf(health, 'media').upstream, b.address);
    assert.equal(routeOf(health, 'media').failedOver, false, 'the first upstream not drained is the preferred one');
  });

  test("the proxy's traffic marks a passive-only upstream down at once and an answer up; answers send no events", async () => {
    const app = await upstream('127.0.0.1');
    const { health, events } = checker();
    const routes = [route('app', app.url, ['app.test'], { title: 'App', healthCheck: healthCheck({ enabled: false }) })];
    health.setRoutes(routes);
    const engine = new ProxyEngine({ settings: proxySettings(), stopGraceMs: 500, health });
    engine.setRoutes(routes);
    const { port } = await engine.start();
    try {
      const ok = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      assert.equal(ok.status, 200);
      await settle();
      assert.equal(routeOf(health, 'app').state, 'up');
      const reported = events.length;
      for (let i = 0; i < 5; i++) await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      await settle();
      assert.equal(events.length, reported, 'answers from an upstream known up send nothing');
      assert.equal(first(health, 'app').served, 6);

      await app.stop();
      const refused = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      assert.equal(refused.status, 502);
      await settle();
      assert.equal(routeOf(health, 'app').state, 'down', 'down as soon as the request failed');
      const problem = routeOf(health, 'app').problem?.message ?? '';
      assert.ok(problem.startsWith(`App at ${app.address} is down. Left out until `), problem);
      assert.ok(problem.endsWith(' after 1 failure: it refused the connection.'), problem);

      await app.start();
      const answered = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      assert.equal(answered.status, 200);
      await settle();
      assert.equal(routeOf(health, 'app').state, 'up', 'up as soon as the service answered');
      assert.equal(health.isAvailable(app.address), true);
    } finally {
      await engine.stop();
    }
  });
});
