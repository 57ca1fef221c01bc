// The renderer's shared state against an in-memory Gatehouse: loaded once, kept live by events,
// read again after a reconnect, and delete offers an Undo that re-creates the route.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import type { NoticeTimers } from '../../src-renderer/app/notices.svelte.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultBalancing, defaultHealthCheck } from '../../shared/upstreams.js';

const { AppState, routeInputOf } = await import('../../src-renderer/app/app-state.svelte.js');
const { Notices, ACTION_NOTICE_MS, NOTICE_MS } = await import('../../src-renderer/app/notices.svelte.js');

/** Timers the test fires by hand: no test waits for a clock. */
function manualTimers() {
  const pending = new Map<number, { run: () => void; ms: number }>();
  let next = 1;
  const timers: NoticeTimers = {
    setTimeout: (run, ms) => {
      pending.set(next, { run, ms });
      return next++;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
  };
  const fireAll = () => {
    for (const [id, timer] of [...pending]) {
      pending.delete(id);
      timer.run();
    }
  };
  return { timers, pending, fireAll };
}

const jellyfin = sampleRoute({ id: 'route-a', title: 'Jellyfin', names: ['jellyfin.home.arpa'], upstream: 'http://10.33.0.4:8096' });
const proxmox = sampleRoute({
  id: 'route-b',
  names: ['pve.home.arpa'],
  upstream: 'https://10.33.0.9:8006',
  insecureUpstreamTls: true,
  trustedProxies: ['10.0.0.0/8'],
});

async function connected(fake = new FakeGatehouse({ routes: [jellyfin, proxmox] })) {
  const clock = manualTimers();
  const app = new AppState(createApiClient(fake), new Notices(clock.timers));
  const stop = app.connect();
  await app.reload();
  return { fake, app, stop, clock };
}

describe('AppState', () => {
  it('loads status, routes, health, settings and app info once', async () => {
    const { app, fake } = await connected();
    assert.equal(app.loaded, true);
    assert.equal(app.status?.state, 'running');
    assert.deepEqual(app.routes.map((route) => route.id), ['route-a', 'route-b']);
    assert.equal(app.settings?.proxy.httpPort, 80);
    assert.equal(app.appInfo?.shell, 'headless');
    assert.equal(app.error, null);
    for (const member of ['getStatus', 'listRoutes', 'getHealth', 'getSettings', 'getAppInfo'] as const) {
      assert.ok(fake.callsOf(member).length >= 1, `${member} was read`);
    }
  });

  it('follows status, routes, health and settings events without reading again', async () => {
    const { app, fake } = await connected();
    const callsBefore = fake.calls.length;

    fake.emit('status', { ...fake.status, state: 'failed', problem: { code: 'port_in_use', message: 'Port 80 is in use.', fix: 'Stop the other server.' } });
    fake.emit('routes', [proxmox]);
    fake.emit('health', [{ routeId: 'route-b', upstream: '10.33.0.9:8006', state: 'down', since: null, checkedAt: null, problem: { code: 'refused', message: 'refused' }, failedOver: false, upstreams: [] }]);
    fake.emit('settings', { ...fake.settings, app: { startAtLogin: false, onboarded: true } });

    assert.equal(app.status?.state, 'failed');
    assert.equal(app.nextProxyAction, 'start', 'a failed proxy can be started again');
    assert.deepEqual(app.routes, [proxmox]);
    assert.equal(app.healthByRoute.get('route-b')?.state, 'down');
    assert.equal(app.settings?.app.onboarded, true);
    assert.equal(fake.calls.length, callsBefore, 'events alone, no API call');
  });

  it('does not let a read that started before an event overwrite what the event brought', async () => {
    const fake = new FakeGatehouse({ routes: [jellyfin] });
    const app = new AppState(createApiClient(fake));
    app.connect();
    const reading = app.reload(); // answers with [jellyfin]...
    fake.emit('routes', [jellyfin, proxmox]); // ...but this newer list arrives first
    await reading;
    assert.deepEqual(app.routes.map((route) => route.id), ['route-a', 'route-b']);
  });

  it('after a reconnect reads everything again and tells the pages that registered', async () => {
    const { app, fake } = await connected();
    fake.routes = [proxmox]; // changed while the stream was down: no event was seen
    let pagesTold = 0;
    const stop = app.onReconnect(() => (pagesTold += 1));
    await app.reconnected();
    assert.deepEqual(app.routes, [proxmox]);
    assert.equal(pagesTold, 1);
    stop();
    await app.reconnected();
    assert.equal(pagesTold, 1, 'a page that left is not told');
  });

  it('stops listening when disconnected', async () => {
    const { fake, stop } = await connected();
    assert.equal(fake.listenerCount, 6, 'status, routes, health, settings, streams, failover');
    stop();
    assert.equal(fake.listenerCount, 0);
  });

  it('shows a load failure as an ApiError with its fix, and clears it once a read succeeds', async () => {
    const fake = new FakeGatehouse();
    fake.failNext('listRoutes', new ApiError('unauthorized', 'The admin token is missing or wrong.', { fix: 'Open the address gatehouse serve printed.' }));
    const app = new AppState(createApiClient(fake));
    await app.reload();
    assert.equal(app.loaded, false, 'no routes, so the pages still say Loading');
    assert.equal(app.error?.code, 'unauthorized');
    assert.equal(app.error?.details.fix, 'Open the address gatehouse serve printed.');
    await app.reload();
    assert.equal(app.loaded, true);
    assert.equal(app.error, null);
  });

  it('shows what it could read when one part fails', async () => {
    const fake = new FakeGatehouse({ routes: [jellyfin] });
    fake.failNext('getHealth', new ApiError('not_found', 'Gatehouse has no operation "getHealth".'));
    const app = new AppState(createApiClient(fake));
    await app.reload();
    assert.equal(app.loaded, true);
    assert.deepEqual(app.routes, [jellyfin]);
    assert.equal(app.settings?.proxy.httpPort, 80);
    assert.deepEqual(app.health, []);
    assert.equal(app.error?.code, 'not_found');
  });

  it('stops and starts the proxy, offering only the action that applies', async () => {
    const { app, fake } = await connected();
    assert.equal(app.nextProxyAction, 'stop');
    const stopping = app.runProxyAction('stop');
    assert.equal(app.nextProxyAction, null, 'no second action while one is on its way');
    await stopping;
    assert.equal(app.status?.state, 'stopped');
    assert.equal(app.nextProxyAction, 'start');
    await app.runProxyAction('start');
    assert.equal(app.status?.state, 'running');
    assert.deepEqual(fake.calls.filter((call) => call.member.endsWith('Proxy')).map((call) => call.member), ['stopProxy', 'startProxy']);
  });

  it('shows a failed start with the server message and fix', async () => {
    const { app, fake } = await connected();
    fake.failNext('startProxy', new ApiError('port_unavailable', 'Port 80 is in use.', { fix: 'Stop the other web server.' }));
    await app.runProxyAction('start');
    assert.equal(app.error?.message, 'Port 80 is in use.');
    assert.equal(app.error?.details.fix, 'Stop the other web server.');
    assert.equal(app.pendingProxyAction, null);
  });

  it('deletes a route and announces "Route deleted" with an Undo that re-adds the same fields', async () => {
    const { app, fake, clock } = await connected();
    assert.equal(await app.removeRoute(proxmox), true);
    assert.deepEqual(app.routes.map((route) => route.id), ['route-a']);
    const notice = app.notices.current;
    assert.equal(notice?.message, 'Route deleted');
    assert.equal(notice?.action?.label, 'Undo');
    assert.ok([...clock.pending.values()].some((timer) => timer.ms === ACTION_NOTICE_MS && ACTION_NOTICE_MS >= 10_000), 'Undo stays at least 10 s');

    await app.notices.act(notice!);
    assert.deepEqual(fake.callsOf('addRoute'), [routeInputOf(proxmox)]);
    assert.deepEqual(routeInputOf(proxmox), {
      names: ['pve.home.arpa'],
      upstreams: [{ url: 'https://10.33.0.9:8006', weight: 1, backup: false, drained: false }],
      redirect: null,
      balancing: defaultBalancing(),
      healthCheck: defaultHealthCheck(),
      enabled: true,
      websocket: true,
      insecureUpstreamTls: true,
      rewriteHost: null,
      trustedProxies: ['10.0.0.0/8'],
      tls: { mode: 'none', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
      publishOnLan: false,
      app: null,
      access: defaultRouteAccess(),
    });
    const restored = app.routes.find((route) => route.names[0] === 'pve.home.arpa');
    assert.ok(restored, 'the route is back');
    assert.notEqual(restored.id, proxmox.id, 'as a new route');
    assert.equal(app.notices.current?.message, 'Route restored: pve.home.arpa');
  });

  it('keeps the title when Undo re-creates a titled route', () => {
    assert.equal(routeInputOf(jellyfin).title, 'Jellyfin');
    assert.equal('id' in routeInputOf(jellyfin), false);
  });

  it('shows why a delete failed and announces nothing', async () => {
    const { app, fake } = await connected();
    fake.failNext('removeRoute', new ApiError('not_found', 'There is no route "route-b".'));
    assert.equal(await app.removeRoute(proxmox), false);
    assert.equal(app.error?.code, 'not_found');
    assert.equal(app.notices.current, null);
  });
});

describe('Notices', () => {
  it('shows one message at a time and takes it away when its time is up', () => {
    const clock = manualTimers();
    const notices = new Notices(clock.timers);
    notices.announce('Route saved');
    const second = notices.announce('Settings saved');
    assert.equal(notices.current, second, 'the newer replaces the older');
    assert.equal(clock.pending.size, 1, 'the older message’s timer was cancelled');
    assert.equal([...clock.pending.values()][0]?.ms, NOTICE_MS);
    clock.fireAll();
    assert.equal(notices.current, null);
  });

  it('runs an action once', async () => {
    const notices = new Notices(manualTimers().timers);
    let runs = 0;
    const notice = notices.announce('Route deleted', { label: 'Undo', run: () => void (runs += 1) });
    await notices.act(notice);
    await notices.act(notice);
    assert.equal(runs, 1);
  });
});
