// What the dashboard and the first-run guide read from the gateway: upstream health (also while the
// proxy is stopped), the live log in batches, this machine's LAN addresses, whether ports can be
// bound, the app's version and shell, and the app settings section.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent } from '../../shared/api.js';
import type { AccessLogEntry, RouteHealth } from '../../shared/status.js';
import { createGateway, HEALTH_EVENT_INTERVAL_MS, type Gateway } from '../../src-main/core/gateway.js';
import { call, settingsFile } from '../helpers/gateway-calls.js';
import { waitUntil } from '../helpers/proxy-harness.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir, repoRoot } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type Upstream } from '../helpers/upstream.js';

async function listenOn(port: number, host: string): Promise<Server> {
  const server = createServer();
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

describe('gateway: health, live log, LAN addresses', () => {
  let dataDir: string;
  let gateway: Gateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startEchoUpstream('dash');
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('health is checked while the proxy is stopped, reported on change, and follows the routes', async () => {
    await call(gateway, 'stopProxy');
    const healthEvents: RouteHealth[][] = [];
    const unsubscribe = gateway.subscribe((event) => {
      if (event.type === 'health') healthEvents.push(event.data);
    });
    try {
      const live = await call(gateway, 'addRoute', { title: 'Live', names: ['live.test'], upstream: upstream.address });
      const dead = await call(gateway, 'addRoute', { title: 'Dead', names: ['dead.test'], upstream: `127.0.0.1:${await freePort()}` });
      const off = await call(gateway, 'addRoute', { names: ['off.test'], upstream: upstream.address, enabled: false });
      const byId = (list: RouteHealth[]) => new Map(list.map((entry) => [entry.routeId, entry]));
      await waitUntil(
        () => {
          const latest = byId(healthEvents.at(-1) ?? []);
          return latest.get(live.id)?.state === 'up' && latest.get(dead.id)?.state === 'down';
        },
        5000,
        'a health event with the live route up and the dead one down',
      );
      const health = byId(await call(gateway, 'getHealth'));
      assert.equal(health.get(live.id)?.state, 'up');
      assert.equal(health.get(dead.id)?.problem?.code, 'upstream_refused');
      assert.match(health.get(dead.id)?.problem?.message ?? '', /^Dead at 127\.0\.0\.1:\d+ is down\. The check GET \/ failed: refused the connection\.$/);
      assert.equal(health.get(dead.id)?.problem?.fix, 'Is it running, and listening on that port?');
      assert.equal(health.get(off.id)?.state, 'unknown', 'a disabled route is not checked');

      await call(gateway, 'removeRoute', { id: dead.id });
      await waitUntil(() => !byId(healthEvents.at(-1) ?? []).has(dead.id), 2000, 'a health event without the removed route');
      assert.deepEqual(
        (await call(gateway, 'getHealth')).map((entry) => entry.routeId),
        [live.id, off.id],
      );
      for (const id of [live.id, off.id]) await call(gateway, 'removeRoute', { id });
    } finally {
      unsubscribe();
      await call(gateway, 'startProxy');
    }
  });

  test(`health events come at most one per ${HEALTH_EVENT_INTERVAL_MS} ms, the last with the latest state`, async () => {
    const events: { at: number; health: RouteHealth[] }[] = [];
    const unsubscribe = gateway.subscribe((event) => events.push({ at: performance.now(), health: event.data as RouteHealth[] }), ['health']);
    const added: string[] = [];
    try {
      // Each new route changes the health (a new "unknown" entry), one change after another.
      for (let i = 0; i < 6; i++) added.push((await call(gateway, 'addRoute', { names: [`flap-${i}.test`], upstream: upstream.address })).id);
      // The last change (the sixth route) reaches subscribers, however the events were paced.
      const ids = (health: RouteHealth[]) => health.map((entry) => entry.routeId).filter((id) => added.includes(id));
      await waitUntil(() => ids(events.at(-1)?.health ?? []).length === added.length, 5000, 'an event with every new route');
      assert.deepEqual(ids(events.at(-1)!.health), added);
      for (let i = 1; i < events.length; i++) {
        const gap = events[i]!.at - events[i - 1]!.at;
        // Timers may fire a millisecond early.
        assert.ok(gap >= HEALTH_EVENT_INTERVAL_MS - 2, `health events ${i - 1} and ${i} came ${gap.toFixed(1)} ms apart`);
      }
    } finally {
      unsubscribe();
      for (const id of added) await call(gateway, 'removeRoute', { id });
    }
  });

  test('the log event carries batches, at most one per 250 ms, and nothing is kept while nobody listens', async () => {
    const route = await call(gateway, 'addRoute', { names: ['batch.test'], upstream: upstream.address });
    const port = (await call(gateway, 'getStatus')).http!.port;
    // Nobody listens: these must not turn up in a later event.
    for (let i = 0; i < 3; i++) await requestThrough(port, 'batch.test', `/unheard-${i}`);

    const batches: { at: number; entries: AccessLogEntry[] }[] = [];
    const unsubscribe = gateway.subscribe((event: ApiEvent) => {
      if (event.type === 'log') batches.push({ at: performance.now(), entries: event.data });
    });
    try {
      // One burst: however fast the machine, the events are bounded by the time the burst took.
      const requests = 40;
      await Promise.all(Array.from({ length: requests }, (_, i) => requestThrough(port, 'batch.test', `/heard-${i}`)));
      const burstEnd = performance.now();
      await waitUntil(() => batches.flatMap((batch) => batch.entries).length >= requests, 5000, 'every entry in some batch');
      const paths = batches.flatMap((batch) => batch.entries.map((entry) => entry.path));
      const expected = Array.from({ length: requests }, (_, i) => `/heard-${i}`);
      assert.deepEqual([...paths].sort(), [...expected].sort(), 'every request once, none from before');
      // The first event goes out at once, each later one at least 250 ms after the one before, and
      // the last is due within 250 ms of the burst's last entry.
      const allowed = 2 + Math.floor((burstEnd - batches[0]!.at) / 250);
      assert.ok(batches.length <= allowed, `${requests} requests came in ${batches.length} events (at most ${allowed} allowed)`);
      for (let i = 1; i < batches.length; i++) {
        const gap = batches[i]!.at - batches[i - 1]!.at;
        // Timers may fire a millisecond early; the interval is 250 ms.
        assert.ok(gap >= 240, `events ${i - 1} and ${i} came ${gap.toFixed(1)} ms apart`);
      }
    } finally {
      unsubscribe();
      await call(gateway, 'removeRoute', { id: route.id });
    }
  });

  test('the status lists this machine\'s LAN addresses: IPv4 first, then IPv6, no loopback or link-local', async () => {
    const { lanAddresses } = await call(gateway, 'getStatus');
    const expected = Object.values(networkInterfaces())
      .flat()
      .filter((info) => info && !info.internal)
      .map((info) => info!);
    for (const address of lanAddresses) {
      assert.ok(!address.startsWith('127.') && address !== '::1', `${address} is loopback`);
      assert.ok(!/^fe[89ab]/i.test(address), `${address} is link-local`);
      assert.ok(expected.some((info) => info.address === address), `${address} is not an address of this machine`);
    }
    const firstV6 = lanAddresses.findIndex((address) => address.includes(':'));
    if (firstV6 !== -1) assert.ok(lanAddresses.slice(firstV6).every((address) => address.includes(':')), 'IPv4 before IPv6');
    const v4 = expected.filter((info) => info.family === 'IPv4').map((info) => info.address);
    assert.deepEqual(lanAddresses.filter((address) => !address.includes(':')), [...new Set(v4)]);
  });
});

describe('gateway: checkPorts', () => {
  let dataDir: string;
  let gateway: Gateway;
  let other: Server;

  before(async () => {
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    other = await listenOn(0, '127.0.0.1');
  });

  after(async () => {
    await gateway?.close();
    other?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a free port is available', async () => {
    const port = await freePort();
    assert.deepEqual(await call(gateway, 'checkPorts', { httpPort: port, bindAddress: '127.0.0.1' }), [
      { role: 'http', port, address: '127.0.0.1', available: true, problem: null },
    ]);
  });

  test('a port another server holds is not, with the fix; HTTPS is checked when asked', async () => {
    const taken = (other.address() as { port: number }).port;
    const free = await freePort();
    const [http, https] = await call(gateway, 'checkPorts', { httpPort: free, httpsPort: taken, bindAddress: '127.0.0.1' });
    assert.equal(http?.available, true);
    assert.equal(https?.role, 'https');
    assert.equal(https?.available, false);
    assert.equal(https?.problem?.code, 'port_in_use');
    assert.match(https?.problem?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${taken}: another program is already using port ${taken}`));
    assert.match(https?.problem?.fix ?? '', new RegExp(`ss -ltnp 'sport = :${taken}'`));
  });

  test('the port this Gatehouse\'s own running proxy holds counts as available', async () => {
    const own = (await call(gateway, 'getStatus')).http!.port;
    const [check] = await call(gateway, 'checkPorts', { httpPort: own, bindAddress: '127.0.0.1' });
    assert.deepEqual(check, { role: 'http', port: own, address: '127.0.0.1', available: true, problem: null, ownProxy: true });
    // Once stopped, the port is simply free; someone else's would still be refused.
    await call(gateway, 'stopProxy');
    assert.equal((await call(gateway, 'checkPorts', { httpPort: own, bindAddress: '127.0.0.1' }))[0]?.available, true);
    await call(gateway, 'startProxy');
  });

  test('our proxy on another address that overlaps is not taken for ours', async () => {
    const own = (await call(gateway, 'getStatus')).http!;
    assert.equal(own.address, '127.0.0.1');
    // 0.0.0.0 overlaps 127.0.0.1, but another program could hold the same port on 10.0.0.5.
    const [check] = await call(gateway, 'checkPorts', { httpPort: own.port, bindAddress: '0.0.0.0' });
    assert.equal(check?.available, false);
    assert.match(check?.problem?.message ?? '', new RegExp(`overlaps the port this Gatehouse's proxy already listens on \\(127\\.0\\.0\\.1:${own.port}\\)`));
    assert.match(check?.problem?.fix ?? '', /Stop the proxy, then check again/);
  });

  test('a check waits for a settings change before it, and sees the listener where it moved', async () => {
    const moveTo = await freePort();
    const finished: string[] = [];
    const [moved, [check]] = await Promise.all([
      call(gateway, 'updateSettings', { proxy: { httpPort: moveTo } }).then((settings) => (finished.push('updateSettings'), settings)),
      call(gateway, 'checkPorts', { httpPort: moveTo, bindAddress: '127.0.0.1' }).then((checks) => (finished.push('checkPorts'), checks)),
    ]);
    assert.deepEqual(finished, ['updateSettings', 'checkPorts'], 'one after the other, in the order asked');
    assert.equal(moved.proxy.httpPort, moveTo);
    assert.equal((await call(gateway, 'getStatus')).http?.port, moveTo, 'the move was not refused for a port the check held');
    assert.deepEqual(check, { role: 'http', port: moveTo, address: '127.0.0.1', available: true, problem: null, ownProxy: true }, 'held by our proxy, after the move');
  });

  test('the bind address in use this run is the default, and HTTP and HTTPS cannot share a port', async () => {
    const port = await freePort();
    const checks = await call(gateway, 'checkPorts', { httpPort: port, httpsPort: port });
    assert.equal(checks[0]?.address, '127.0.0.1', 'the --bind override: the address the proxy uses now');
    assert.equal(checks[1]?.available, false);
    assert.match(checks[1]?.problem?.message ?? '', /cannot share port/);
  });
});

describe('gateway: app info and app settings', () => {
  test('version from package.json; shell and start-at-login from the options; app settings patch and persist', async () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const dataDir = await makeDataDir();
    let gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0 } });
    try {
      assert.deepEqual(await call(gateway, 'getAppInfo'), { version, shell: 'headless', platform: process.platform, canStartAtLogin: false });
      assert.deepEqual((await call(gateway, 'getSettings')).app, { startAtLogin: false, onboarded: false }, 'a fresh install shows the first-run guide');
      const saved = await call(gateway, 'updateSettings', { app: { onboarded: true } });
      assert.deepEqual(saved.app, { startAtLogin: false, onboarded: true });
      assert.deepEqual((await settingsFile(dataDir)).app, { startAtLogin: false, onboarded: true });
      await gateway.close();

      gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0 }, shell: 'desktop', canStartAtLogin: true });
      const info = await call(gateway, 'getAppInfo');
      assert.equal(info.shell, 'desktop');
      assert.equal(info.canStartAtLogin, true);
      assert.equal((await call(gateway, 'getSettings')).app.onboarded, true);
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
