// Settings version 6 → 7 (several upstreams per route): a route's single upstream becomes the one
// entry of its list and nothing about how it is served changes (failover, 3 tries, and the TCP check
// it always had unless its app has a known check); the proxy gains its upstream limits, and an
// upstream body idle timeout of 0 (never cut) becomes 60 s. Also the route input's `upstream`
// shorthand, the refusals around it, and draining one upstream through the gateway.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { RouteInputSchema, SETTINGS_VERSION, defaultSettings } from '../../shared/model.js';
import { defaultBalancing, defaultHealthCheck, defaultUpstreamLimits } from '../../shared/upstreams.js';
import { presetById } from '../../src-main/core/discovery/presets.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { decodeSettings } from '../../src-main/core/settings/decode.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { makeDataDir } from '../helpers/serve.js';

/** A settings file as Gatehouse wrote it at version 6: one `upstream` per route, no upstream limits. */
function version6File(upstreamBodyIdleMs: number) {
  const current = defaultSettings();
  const { upstreamLimits: _limits, ...proxy } = current.proxy;
  const v6Route = (id: string, app: string | null, upstream: string) => ({
    id,
    names: [`${id}.home.arpa`],
    upstream,
    enabled: true,
    websocket: true,
    insecureUpstreamTls: false,
    rewriteHost: null,
    trustedProxies: null,
    tls: { mode: 'none', certificateId: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    publishOnLan: false,
    app,
    access: current.routes[0]?.access ?? { exposure: 'lan' },
  });
  return {
    ...current,
    version: 6,
    proxy: { ...proxy, timeouts: { ...proxy.timeouts, upstreamBodyIdleMs } },
    routes: [v6Route('plain', null, 'http://10.33.0.4:8096'), v6Route('plex', 'plex', 'http://10.33.0.5:32400'), v6Route('nope', 'nope', '10.33.0.6:80')],
  };
}

function migrated(upstreamBodyIdleMs: number) {
  const decoded = decodeSettings(JSON.stringify(version6File(upstreamBodyIdleMs)));
  assert.equal(decoded.kind, 'usable', JSON.stringify(decoded));
  if (decoded.kind !== 'usable') throw new Error('unreachable');
  assert.equal(decoded.migratedFrom, 6);
  return decoded.settings;
}

test('version 6 routes keep their one upstream as the only entry, with failover and 3 tries', () => {
  const settings = migrated(0);
  assert.equal(settings.version, SETTINGS_VERSION);
  assert.deepEqual(
    settings.routes.map((route) => [route.id, route.upstreams]),
    [
      ['plain', [{ url: 'http://10.33.0.4:8096', weight: 1, backup: false, drained: false }]],
      ['plex', [{ url: 'http://10.33.0.5:32400', weight: 1, backup: false, drained: false }]],
      ['nope', [{ url: 'http://10.33.0.6:80', weight: 1, backup: false, drained: false }]],
    ],
  );
  for (const route of settings.routes) {
    assert.deepEqual(route.balancing, { policy: 'failover', tries: 3 }, route.id);
    assert.equal('upstream' in route, false, `${route.id} keeps no stray upstream field`);
  }
});

test('a migrated route keeps the TCP check it had, unless its app preset has a check of its own', () => {
  const settings = migrated(0);
  const byId = new Map(settings.routes.map((route) => [route.id, route]));
  const tcp = { ...defaultHealthCheck(), active: { ...defaultHealthCheck().active, kind: 'tcp' as const } };
  // A route without an app, and one whose app no preset knows, are checked as before: a connection.
  assert.deepEqual(byId.get('plain')?.healthCheck, tcp);
  assert.equal(presetById('nope'), undefined);
  assert.deepEqual(byId.get('nope')?.healthCheck, tcp);
  // Plex: its preset's check (GET /identity) once the preset has one, else the same TCP check.
  const plexCheck = presetById('plex')?.healthCheck ?? null;
  const plex = byId.get('plex')?.healthCheck;
  if (plexCheck) {
    assert.deepEqual(plex, { ...defaultHealthCheck(), active: { ...defaultHealthCheck().active, ...plexCheck, kind: 'http' } });
  } else {
    assert.deepEqual(plex, tcp);
  }
  // A new route (not migrated) gets the HTTP check by default.
  assert.equal(RouteInputSchema.parse({ names: ['new.home.arpa'], upstream: '10.33.0.7:80' }).healthCheck.active.kind, 'http');
});

test('the proxy gains its upstream limits; an idle timeout of 0 becomes 60 s, any other is kept', () => {
  const never = migrated(0);
  assert.deepEqual(never.proxy.upstreamLimits, defaultUpstreamLimits());
  assert.deepEqual(never.proxy.upstreamLimits, { connections: 256, perClient: 64, waitMs: 10_000 });
  assert.equal(never.proxy.timeouts.upstreamBodyIdleMs, 60_000);
  const chosen = migrated(30_000);
  assert.equal(chosen.proxy.timeouts.upstreamBodyIdleMs, 30_000);
  assert.deepEqual(chosen.proxy.upstreamLimits, defaultUpstreamLimits());
});

describe('route input: the upstream shorthand and the list', () => {
  test('`upstream` is shorthand for a list of one, normalized', () => {
    const parsed = RouteInputSchema.parse({ names: ['tv.home.arpa'], upstream: '10.33.0.4:8096' });
    assert.deepEqual(parsed.upstreams, [{ url: 'http://10.33.0.4:8096', weight: 1, backup: false, drained: false }]);
    assert.deepEqual(parsed.balancing, defaultBalancing());
    assert.deepEqual(parsed.healthCheck, defaultHealthCheck());
  });

  test('`upstream` and `upstreams` together are refused, naming the unknown key', () => {
    const result = RouteInputSchema.safeParse({ names: ['tv.home.arpa'], upstream: '10.33.0.4:8096', upstreams: [{ url: '10.33.0.5:8096' }] });
    assert.equal(result.success, false);
    const issue = result.error?.issues.find((candidate) => candidate.code === 'unrecognized_keys');
    assert.ok(issue, JSON.stringify(result.error?.issues));
    assert.match(issue.message, /"upstream"/);
  });

  test('the same upstream twice is refused at the index of the second', () => {
    const result = RouteInputSchema.safeParse({ names: ['tv.home.arpa'], upstreams: [{ url: '10.33.0.4:8096' }, { url: '10.33.0.5:80' }, { url: 'http://10.33.0.4:8096' }] });
    assert.equal(result.success, false);
    const issue = result.error?.issues[0];
    assert.deepEqual(issue?.path, ['upstreams', 2, 'url']);
    assert.match(issue?.message ?? '', /http:\/\/10\.33\.0\.4:8096 is listed twice/);
  });

  test('one server by http and by https is the same upstream, refused with both spellings named', () => {
    const result = RouteInputSchema.safeParse({ names: ['nas.home.arpa'], upstreams: [{ url: 'http://10.33.0.4:5000' }, { url: 'https://10.33.0.4:5000' }] });
    assert.equal(result.success, false);
    const issue = result.error?.issues[0];
    assert.deepEqual(issue?.path, ['upstreams', 1, 'url']);
    assert.equal(issue?.message, '10.33.0.4:5000 is listed twice (as http://10.33.0.4:5000 and https://10.33.0.4:5000); one server is one upstream');
  });
});

describe('setUpstreamDrained through the gateway', () => {
  let dataDir: string;
  let gateway: Gateway;

  before(async () => {
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
  });

  after(async () => {
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('drains one upstream and puts it back, saved in settings.json; an unknown url or route is not_found', async () => {
    const route = await call(gateway, 'addRoute', { names: ['media.test'], upstreams: [{ url: '10.33.0.4:8096' }, { url: '10.33.0.5:8096', backup: true }] });
    const drained = await call(gateway, 'setUpstreamDrained', { id: route.id, url: '10.33.0.5:8096', drained: true });
    assert.deepEqual(
      drained.upstreams.map((target) => [target.url, target.drained, target.backup]),
      [
        ['http://10.33.0.4:8096', false, false],
        ['http://10.33.0.5:8096', true, true],
      ],
    );
    assert.deepEqual((await settingsFile(dataDir)).routes.find((saved) => saved.id === route.id)?.upstreams, drained.upstreams, 'saved before the answer');
    assert.deepEqual((await call(gateway, 'getRoute', { id: route.id })).upstreams, drained.upstreams);

    const back = await call(gateway, 'setUpstreamDrained', { id: route.id, url: 'http://10.33.0.5:8096', drained: false });
    assert.deepEqual(back.upstreams, route.upstreams);
    assert.deepEqual((await settingsFile(dataDir)).routes.find((saved) => saved.id === route.id)?.upstreams, route.upstreams);

    const unknown = await rejectsWith(call(gateway, 'setUpstreamDrained', { id: route.id, url: '10.33.0.9:8096', drained: true }), 'not_found');
    assert.match(unknown.message, /10\.33\.0\.9:8096 is not an upstream of this route/);
    await rejectsWith(call(gateway, 'setUpstreamDrained', { id: 'no-such-route', url: '10.33.0.4:8096', drained: true }), 'not_found');
    assert.deepEqual((await settingsFile(dataDir)).routes.find((saved) => saved.id === route.id)?.upstreams, route.upstreams, 'a refusal changes nothing');
  });
});
