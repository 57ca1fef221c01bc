// Upstream health on real sockets: a route whose service listens is up, goes down when the service
// stops (well within the dashboard's 5 s target), and comes back; routes sharing an address share
// its state; a disabled route is unknown; a removed route disappears and its address is no longer
// checked; traffic through the proxy marks a dead upstream down at once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { RouteHealth } from '../../shared/status.js';
import { UpstreamHealth } from '../../src-main/core/upstreams/health.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { proxySettings, rawRequest, route, sleep, waitUntil } from '../helpers/proxy-harness.js';

/** A TCP service on 127.0.0.1 that can stop and start again on the same port, counting connections. */
class TcpService {
  connections = 0;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<this> {
    const server = createServer((socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const services: TcpService[] = [];
const checkers: UpstreamHealth[] = [];
after(async () => {
  for (const checker of checkers) checker.close();
  await Promise.all(services.map((service) => service.stop()));
});

async function service(): Promise<TcpService> {
  const started = await new TcpService().start();
  services.push(started);
  return started;
}

/** A checker with an event counter; `fast` shortens the interval so tests about structure run quickly. */
function checker(options: { fast?: boolean } = {}) {
  const events: RouteHealth[][] = [];
  const health: UpstreamHealth = new UpstreamHealth({
    onChange: () => events.push(health.snapshot()),
    ...(options.fast ? { intervalMs: 50, timeoutMs: 500, jitterMs: 20 } : {}),
  });
  checkers.push(health);
  return { health, events };
}

const stateOf = (health: UpstreamHealth, routeId: string) => health.snapshot().find((entry) => entry.routeId === routeId);

describe('upstream health', () => {
  test('up while it listens, down after it stops (within 8 s), up again when it returns', async () => {
    const jellyfin = await service();
    const { health, events } = checker();
    health.setRoutes([route('jf', jellyfin.url, ['jellyfin.test'], { title: 'Jellyfin' })]);
    assert.equal(stateOf(health, 'jf')?.state, 'unknown', 'unknown until the first check');

    await waitUntil(() => stateOf(health, 'jf')?.state === 'up', 3000, 'the first check');
    const up = stateOf(health, 'jf')!;
    assert.equal(up.upstream, `127.0.0.1:${jellyfin.port}`);
    assert.ok(up.since && up.checkedAt);
    assert.equal(up.problem, null);
    assert.equal(events.at(-1)?.[0]?.state, 'up', 'the change was reported');

    await jellyfin.stop();
    await waitUntil(() => stateOf(health, 'jf')?.state === 'down', 8000, 'the route to be shown down');
    const down = stateOf(health, 'jf')!;
    assert.equal(down.problem?.code, 'upstream_refused');
    assert.equal(down.problem?.message, `Jellyfin at 127.0.0.1:${jellyfin.port} refused the connection. Is it running, and listening on that port?`);
    assert.notEqual(down.since, up.since);

    await jellyfin.start();
    await waitUntil(() => stateOf(health, 'jf')?.state === 'up', 8000, 'the route to be shown up again');
    assert.equal(stateOf(health, 'jf')?.problem, null);
  });

  test('routes sharing an upstream share its state; a disabled route is unknown', async () => {
    const shared = await service();
    const { health } = checker({ fast: true });
    health.setRoutes([
      route('a', shared.url, ['a.test']),
      route('b', shared.url, ['b.test']),
      route('off', shared.url, ['off.test'], { enabled: false }),
    ]);
    await waitUntil(() => stateOf(health, 'a')?.state === 'up', 3000, 'the shared address to be up');
    const [a, b, off] = health.snapshot();
    assert.equal(b?.state, 'up');
    assert.equal(a?.since, b?.since, 'one state for one address');
    assert.deepEqual(off, { routeId: 'off', upstream: `127.0.0.1:${shared.port}`, state: 'unknown', since: null, checkedAt: null, problem: null });

    await shared.stop();
    await waitUntil(() => stateOf(health, 'a')?.state === 'down', 3000, 'the shared address to be down');
    assert.equal(stateOf(health, 'b')?.state, 'down');
    assert.equal(stateOf(health, 'b')?.problem?.message.startsWith('b.test at '), true, 'each route is named by its own title');
  });

  test('a steady state reports nothing; a removed route disappears and its address is not checked any more', async () => {
    const kept = await service();
    const dropped = await service();
    const { health, events } = checker({ fast: true });
    health.setRoutes([route('kept', kept.url, ['kept.test']), route('dropped', dropped.url, ['dropped.test'])]);
    await waitUntil(() => health.snapshot().every((entry) => entry.state === 'up'), 3000, 'both up');
    const reported = events.length;
    await waitUntil(() => dropped.connections >= 5, 3000, 'several checks');
    assert.equal(events.length, reported, 'checks that find the same state send no event');

    health.setRoutes([route('kept', kept.url, ['kept.test'])]);
    assert.deepEqual(health.snapshot().map((entry) => entry.routeId), ['kept']);
    assert.equal(events.length, reported + 1, 'the removal is reported');
    const checksBefore = dropped.connections;
    const keptBefore = kept.connections;
    await waitUntil(() => kept.connections >= keptBefore + 4, 3000, 'the kept address to be checked on');
    // A check already under way when the route went may still land: at most one.
    assert.ok(dropped.connections <= checksBefore + 1, `the removed address was checked ${dropped.connections - checksBefore} more times`);

    health.close();
    const afterClose = kept.connections;
    await sleep(300);
    assert.ok(kept.connections <= afterClose + 1, 'close stops the checks');
  });

  test('traffic through the proxy marks a dead upstream down at once, and an answer marks it up', async () => {
    const app = await service();
    // Checks every minute: whatever changes below within the test came from the proxy's traffic.
    const events: RouteHealth[][] = [];
    const health: UpstreamHealth = new UpstreamHealth({ onChange: () => events.push(health.snapshot()), intervalMs: 60_000, jitterMs: 0 });
    checkers.push(health);
    const routes = [route('app', app.url, ['app.test'], { title: 'App' })];
    health.setRoutes(routes);
    const engine = new ProxyEngine({ settings: proxySettings(), stopGraceMs: 500, health });
    engine.setRoutes(routes);
    const { port } = await engine.start();
    try {
      await waitUntil(() => stateOf(health, 'app')?.state === 'up', 3000, 'the first check');
      await app.stop();
      const refused = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      assert.equal(refused.status, 502);
      assert.equal(stateOf(health, 'app')?.state, 'down', 'down as soon as the request failed');
      assert.equal(stateOf(health, 'app')?.problem?.code, 'upstream_refused');

      await app.start();
      const answered = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      assert.equal(answered.status, 200);
      assert.equal(stateOf(health, 'app')?.state, 'up', 'up as soon as the service answered');
      // The new route (unknown), the first check, then the two requests: one event per change.
      assert.deepEqual(
        events.map((snapshot) => snapshot[0]?.state),
        ['unknown', 'up', 'down', 'up'],
      );
    } finally {
      await engine.stop();
    }
  });

  test('a dead host reads the same and is reported once, whether a check or a request timed out', async () => {
    const gone = await service();
    await gone.stop();
    const events: RouteHealth[][] = [];
    // No active check within the test: the failures below are the only input.
    const health: UpstreamHealth = new UpstreamHealth({ onChange: () => events.push(health.snapshot()), intervalMs: 60_000, jitterMs: 600_000 });
    checkers.push(health);
    health.setRoutes([route('nas', gone.url, ['nas.test'], { title: 'NAS' })]);
    const address = `127.0.0.1:${gone.port}`;
    const timedOut = (code: string) => Object.assign(new Error('connect timed out'), { code });
    // A check times out with ETIMEDOUT after 1.5 s, a proxied request with undici's code after 5 s.
    for (let i = 0; i < 3; i++) {
      health.failed('nas', address, timedOut('ETIMEDOUT'));
      health.failed('nas', address, timedOut('UND_ERR_CONNECT_TIMEOUT'));
    }
    assert.deepEqual(
      events.map((snapshot) => snapshot[0]?.state),
      ['unknown', 'down'],
      'one event for the route, one for it going down; alternating sources add none',
    );
    assert.equal(stateOf(health, 'nas')?.problem?.message, `NAS at ${address} did not accept a connection in time. Is the machine up, or is a firewall dropping the connection?`);

    health.failed('nas', address, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    assert.equal(events.length, 3, 'another cause is another event');
    assert.equal(events.at(-1)?.[0]?.problem?.code, 'upstream_refused');
  });
});
