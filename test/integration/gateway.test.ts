// The gateway without a transport: route changes reach the running proxy without a restart, every
// acknowledged change is already in settings.json, and failures come back as ApiErrors a UI can show.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, parseInput, type ApiEvent } from '../../shared/api.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { makeDataDir } from '../helpers/serve.js';
import { requestThrough, startEchoUpstream, type EchoBody, type Upstream } from '../helpers/upstream.js';
import { freePort } from '../helpers/ports.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';

describe('gateway', () => {
  let dataDir: string;
  let gateway: Gateway;
  let first: Upstream;
  let second: Upstream;
  const events: ApiEvent[] = [];

  before(async () => {
    [first, second] = await Promise.all([startEchoUpstream('first'), startEchoUpstream('second')]);
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    gateway.subscribe((event) => events.push(event));
    await gateway.startup();
  });

  after(async () => {
    await gateway.close();
    await Promise.all([first.close(), second.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  test('startup starts the proxy (startOnLaunch defaults to true) and says so in a status event', async () => {
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running');
    assert.equal(status.http?.address, '127.0.0.1');
    assert.ok(status.startedAt);
    assert.ok(events.some((event) => event.type === 'status' && event.data.state === 'running'));
  });

  test('overrides apply to this run only: settings.json keeps the saved port and address', async () => {
    const saved = await settingsFile(dataDir);
    assert.equal(saved.proxy.httpPort, 80);
    assert.equal(saved.proxy.bindAddress, '0.0.0.0');
    assert.equal((await call(gateway, 'getSettings')).proxy.httpPort, 80);
  });

  test('a route change applies to the running listener without a restart', async () => {
    const before = await call(gateway, 'getStatus');
    const port = before.http!.port;

    const route = await call(gateway, 'addRoute', { title: 'App', names: ['App.Test'], upstream: first.address });
    assert.match(route.id, /^[a-z0-9]{10}$/);
    assert.deepEqual(route.names, ['app.test']);
    assert.equal(route.upstreams[0]?.url, first.url);
    assert.deepEqual((await settingsFile(dataDir)).routes, [route], 'settings.json has the route once addRoute resolves');
    const viaFirst = await requestThrough(port, 'app.test', '/hello');
    assert.equal(viaFirst.status, 200);
    assert.equal((JSON.parse(viaFirst.body) as EchoBody).upstream, 'first');

    const changed = await call(gateway, 'updateRoute', { id: route.id, title: 'App', names: ['app.test'], upstream: second.url });
    assert.equal(changed.id, route.id);
    assert.deepEqual((await settingsFile(dataDir)).routes, [changed], 'settings.json has the change once updateRoute resolves');
    const viaSecond = await requestThrough(port, 'app.test', '/hello');
    assert.equal((JSON.parse(viaSecond.body) as EchoBody).upstream, 'second');

    const after = await call(gateway, 'getStatus');
    assert.equal(after.http?.port, port, 'same listener');
    assert.equal(after.startedAt, before.startedAt, 'not restarted');

    const { removed } = await call(gateway, 'removeRoute', { id: route.id });
    assert.equal(removed.id, route.id);
    assert.deepEqual((await settingsFile(dataDir)).routes, [], 'settings.json is empty once removeRoute resolves');
    assert.equal((await requestThrough(port, 'app.test', '/')).status, 404);

    const routeEvents = events.filter((event) => event.type === 'routes').map((event) => event.data);
    assert.deepEqual(routeEvents.slice(-3), [[route], [changed], []]);
  });

  test('a name already used by another route is a conflict naming that route', async () => {
    const jellyfin = await call(gateway, 'addRoute', { title: 'Jellyfin', names: ['media.test'], upstream: first.address });
    const error = await rejectsWith(call(gateway, 'addRoute', { names: ['other.test', 'MEDIA.test'], upstream: second.address }), 'conflict');
    assert.match(error.message, /"media\.test" already belongs to the route "Jellyfin"/);
    assert.deepEqual(error.details.issues?.map((issue) => issue.path), ['names.1']);

    const untitled = await call(gateway, 'addRoute', { names: ['files.test'], upstream: second.address });
    const byName = await rejectsWith(call(gateway, 'updateRoute', { id: jellyfin.id, names: ['files.test'], upstream: first.address }), 'conflict');
    assert.match(byName.message, /the route "files\.test"/, 'an untitled route is named by its first name');

    // A route keeps its own names when it is updated, and an exact name under a wildcard is fine.
    await call(gateway, 'updateRoute', { id: jellyfin.id, title: 'Jellyfin', names: ['media.test'], upstream: second.address });
    const wildcard = await call(gateway, 'addRoute', { names: ['*.sub.test'], upstream: first.address });
    const exact = await call(gateway, 'addRoute', { names: ['a.sub.test'], upstream: first.address });

    assert.deepEqual(
      (await settingsFile(dataDir)).routes.map((route) => route.id),
      [jellyfin.id, untitled.id, wildcard.id, exact.id],
      'the refused changes wrote nothing',
    );
    for (const route of [jellyfin, untitled, wildcard, exact]) await call(gateway, 'removeRoute', { id: route.id });
  });

  test('unknown route ids are not_found', async () => {
    await rejectsWith(call(gateway, 'getRoute', { id: 'nope' }), 'not_found');
    await rejectsWith(call(gateway, 'updateRoute', { id: 'nope', names: ['x.test'], upstream: first.address }), 'not_found');
    await rejectsWith(call(gateway, 'removeRoute', { id: 'nope' }), 'not_found');
  });

  test('updateSettings persists, applies, emits settings, and moves a running listener', async () => {
    const oldPort = (await call(gateway, 'getStatus')).http!.port;
    const route = await call(gateway, 'addRoute', { names: ['move.test'], upstream: first.address });

    const newPort = await freePort();
    const settings = await call(gateway, 'updateSettings', { proxy: { httpPort: newPort, timeouts: { keepAliveMs: 7000 } }, log: { keepFiles: 3 } });
    assert.equal(settings.proxy.httpPort, newPort);
    assert.equal(settings.proxy.timeouts.keepAliveMs, 7000);
    assert.equal(settings.proxy.timeouts.headersMs, 15_000, 'fields left out stay as they were');
    const saved = await settingsFile(dataDir);
    assert.equal(saved.proxy.httpPort, newPort);
    assert.equal(saved.proxy.timeouts.keepAliveMs, 7000);
    assert.equal(saved.log.keepFiles, 3);
    assert.deepEqual(events.filter((event) => event.type === 'settings').at(-1)?.data, settings);

    // httpPort came from an override; the explicit change replaced it, so the listener moved.
    const status = await call(gateway, 'getStatus');
    assert.equal(status.state, 'running');
    assert.notEqual(newPort, oldPort);
    assert.equal(status.http!.port, newPort);
    assert.equal(status.http!.address, '127.0.0.1', 'the bindAddress override still holds');
    assert.equal((await requestThrough(status.http!.port, 'move.test')).status, 200);
    await call(gateway, 'removeRoute', { id: route.id });
  });

  test('invalid settings are refused naming the field, and nothing is written', async () => {
    const before = await readFile(join(dataDir, 'settings.json'), 'utf8');
    assert.throws(
      () => parseInput('updateSettings', { proxy: { httpPort: 70000 } }),
      (error: unknown) => error instanceof ApiError && error.code === 'invalid_input' && error.details.issues?.[0]?.path === 'proxy.httpPort',
    );
    assert.equal(await readFile(join(dataDir, 'settings.json'), 'utf8'), before);
  });

  test('stop and start report every state, and stats and the log answer', async () => {
    const seen: string[] = [];
    const unsubscribe = gateway.subscribe((event) => {
      if (event.type === 'status') seen.push(event.data.state);
    });
    assert.equal((await call(gateway, 'stopProxy')).state, 'stopped');
    assert.equal((await call(gateway, 'stopProxy')).state, 'stopped', 'stopping twice is fine');
    assert.equal((await call(gateway, 'startProxy')).state, 'running');
    unsubscribe();
    assert.deepEqual(seen, ['stopping', 'stopped', 'starting', 'running']);

    const stats = await call(gateway, 'getStats');
    assert.ok(Array.isArray(stats.routes));
    const log = await call(gateway, 'recentLog', { limit: 5 });
    assert.ok(log.length > 0 && log.length <= 5);
  });
});

describe('gateway: a port that is taken', () => {
  test('startProxy fails with port_unavailable and the fix; the status says failed', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const dataDir = await makeDataDir();
    const gateway = await createGateway({ dataDir, overrides: { httpPort: port, httpsPort: 0, bindAddress: '127.0.0.1' } });
    try {
      await gateway.startup(); // does not throw: the status carries the problem
      const status = await call(gateway, 'getStatus');
      assert.equal(status.state, 'failed');
      assert.equal(status.problem?.code, 'port_in_use');

      const error = await rejectsWith(call(gateway, 'startProxy'), 'port_unavailable');
      assert.equal(error.status, 409);
      assert.match(error.message, new RegExp(`port ${port}`));
      assert.match(error.details.fix ?? '', /ss -ltnp/);

      // Moving to another taken address: saved, but refused with the fix.
      // (0.0.0.0 conflicts with the blocker on 127.0.0.1 at the same port, so nothing gets bound.)
      const moved = await rejectsWith(call(gateway, 'updateSettings', { proxy: { bindAddress: '0.0.0.0' } }), 'port_unavailable');
      assert.match(moved.message, /^The settings were saved, but the proxy cannot listen on 0\.0\.0\.0:/);

      assert.equal((await call(gateway, 'stopProxy')).state, 'stopped', 'stop clears a failed start');
      assert.equal((await call(gateway, 'getStatus')).problem, null);

      // A failed start is retried when the listener settings change, since that is usually the fix.
      await rejectsWith(call(gateway, 'startProxy'), 'port_unavailable');
      const fixed = await freePort();
      await call(gateway, 'updateSettings', { proxy: { httpPort: fixed } });
      const running = await call(gateway, 'getStatus');
      assert.equal(running.state, 'running');
      assert.equal(running.http?.port, fixed);
    } finally {
      await gateway.close();
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('startOnLaunch false leaves the proxy stopped; close() flushes and is idempotent', async () => {
    const dataDir = await makeDataDir();
    let gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0 } });
    await call(gateway, 'updateSettings', { proxy: { startOnLaunch: false } });
    await Promise.all([gateway.close(), gateway.close()]);

    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0 } });
    try {
      await gateway.startup();
      assert.equal((await call(gateway, 'getStatus')).state, 'stopped');
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('changing the HTTPS port moves the running HTTPS listener there and saves it', async () => {
    const dataDir = await makeDataDir();
    const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    try {
      await gateway.startup();
      const before = await call(gateway, 'getStatus');
      assert.equal(before.state, 'running');
      assert.ok(before.https && before.https.port > 0, 'HTTPS listens whenever the proxy runs');
      const port = await freePort();
      await call(gateway, 'updateSettings', { proxy: { httpsPort: port } });
      const after = await call(gateway, 'getStatus');
      assert.equal(after.state, 'running');
      assert.equal(after.https?.port, port);
      assert.equal((await settingsFile(dataDir)).proxy.httpsPort, port);
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('invalid overrides are refused naming the field', async () => {
    const dataDir = await makeDataDir();
    try {
      await rejectsWith(createGateway({ dataDir, overrides: { bindAddress: 'localhost' } }), 'invalid_input');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
