// The route form's servers: rows added, removed and moved; problems on the row they belong to (from
// the shared schema and from the server); the policy only with several servers; every server, the
// balancing and the health check kept through an edit; Map it's health check from the app's preset;
// and the dashboard's words for each server and for a drain.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { parseUpstream } from '../../shared/model.js';
import type { CheckResult, RouteHealth, UpstreamHealth } from '../../shared/status.js';
import { defaultHealthCheck, MAX_UPSTREAMS } from '../../shared/upstreams.js';
import { samplePresets } from '../../src-renderer/dev/fake-discovery.js';
import { FakeGatehouse, sampleRoute, sampleUpstreamHealth } from '../../src-renderer/dev/fake-gatehouse.js';
import { mapIt } from '../../src-renderer/discovery/map-it.js';
import { drainQuestion, lastCheckText, upstreamViews } from '../../src-renderer/pages/dashboard/upstream-facts.js';
import { upstreamRow, WEIGHTED_POLICIES } from '../../src-renderer/route-form/upstream-values.js';

const { RouteForm, routeInputFrom, routeValuesOf, routeValuesFrom } = await import('../../src-renderer/route-form/route-form.svelte.js');
const { AppState, failoverMessage } = await import('../../src-renderer/app/app-state.svelte.js');

function formFor(...addresses: string[]) {
  const form = new RouteForm();
  form.values.names = 'ha.home.arpa';
  form.values.upstreams = addresses.map((address) => upstreamRow({ url: address }));
  return form;
}

const addresses = (form: InstanceType<typeof RouteForm>) => form.values.upstreams.map((row) => row.address);

describe('route form: the servers list', () => {
  it('adds, moves and removes rows, and always keeps one', () => {
    const form = formFor('10.33.0.21:8123');
    assert.equal(form.severalServers, false, 'one server: no policy, no flags');
    form.addServer();
    form.values.upstreams[1]!.address = '10.33.0.22:8123';
    form.addServer();
    form.values.upstreams[2]!.address = '10.33.0.23:8123';
    assert.equal(form.severalServers, true);
    form.moveServer(2, -1);
    assert.deepEqual(addresses(form), ['10.33.0.21:8123', '10.33.0.23:8123', '10.33.0.22:8123']);
    form.moveServer(0, -1);
    form.moveServer(2, 1);
    assert.deepEqual(addresses(form), ['10.33.0.21:8123', '10.33.0.23:8123', '10.33.0.22:8123'], 'nothing moves past either end');
    form.removeServer(0);
    form.removeServer(0);
    assert.deepEqual(addresses(form), ['10.33.0.22:8123']);
    form.removeServer(0);
    assert.deepEqual(addresses(form), [''], 'the last row is emptied, not removed');
    assert.equal(routeInputFrom(form.values).upstreams.length, 1);
  });

  it('stops adding at the schema’s maximum', () => {
    const form = formFor('10.33.0.1:80');
    for (let i = 0; i < MAX_UPSTREAMS + 3; i += 1) form.addServer();
    assert.equal(form.values.upstreams.length, MAX_UPSTREAMS);
  });

  it('puts each problem on its own row: a bad address on row 2, a weight on row 1; then a repeated address on row 3', async () => {
    const form = formFor('10.33.0.21:8123', '10.33.0.22', '10.33.0.23:8123');
    form.values.policy = 'round_robin';
    form.values.upstreams[0]!.weight = 'two';
    let calls = 0;
    assert.equal(await form.submit(async () => (calls++, sampleRoute({ id: 'x', names: ['ha.home.arpa'] }))), null);
    assert.equal(calls, 0, 'an invalid form calls nothing');
    const bad = parseUpstream('10.33.0.22');
    assert.ok('problem' in bad);
    assert.equal(form.message('upstreams.1.url'), bad.problem);
    assert.equal(form.message('upstreams.0.url'), null);
    assert.equal(form.message('upstreams.0.weight'), 'a weight is a whole number from 1 to 100');
    form.values.upstreams[0]!.weight = '2';
    form.values.upstreams[1]!.address = '10.33.0.22:8123';
    form.values.upstreams[2]!.address = 'http://10.33.0.21:8123';
    assert.equal(form.message('upstreams.2.url'), 'http://10.33.0.21:8123 is listed twice', 'the repeat, not the first, is marked');
    assert.equal(form.message('upstreams.0.url'), null);
    assert.equal(form.message('upstreams.1.url'), null);
  });

  it('puts the server’s verdict on the row it names, and forgets it once rows move', async () => {
    const form = formFor('10.33.0.21:8123', '10.33.0.22:8123');
    const refusal = new ApiError('invalid_input', 'upstreams.1.url: that is this proxy', { issues: [{ path: 'upstreams.1.url', message: 'that is this proxy' }] });
    assert.equal(await form.submit(() => Promise.reject(refusal)), null);
    assert.equal(form.message('upstreams.1.url'), 'that is this proxy');
    assert.equal(form.message('upstreams.0.url'), null);
    assert.equal(form.error, null, 'on its field, not in the alert');
    form.moveServer(1, -1);
    assert.equal(form.message('upstreams.0.url'), null);
    assert.equal(form.message('upstreams.1.url'), null, 'a row number no longer names the same server');
  });

  it('says times in seconds, with the schema’s bounds', async () => {
    const form = formFor('10.33.0.21:8123');
    form.values.health.intervalS = '0.1';
    form.values.health.cooldownS = 'soon';
    form.values.health.path = 'identity';
    await form.submit(async () => sampleRoute({ id: 'x', names: ['ha.home.arpa'] }));
    assert.equal(form.message('healthCheck.active.intervalMs'), 'the check interval is from 0.5 to 3600 seconds');
    assert.equal(form.message('healthCheck.passive.cooldownMs'), 'the cool-down is from 1 to 300 seconds');
    assert.equal(form.message('healthCheck.active.path'), 'a check path starts with / and has no spaces, such as /health');
  });

  it('sends the policy, tries, weights and flags of several servers', async () => {
    const form = formFor('10.33.0.21:8123', 'https://10.33.0.22:8443');
    form.values.policy = 'sticky_cookie';
    form.values.tries = '2';
    Object.assign(form.values.upstreams[1]!, { weight: '3', backup: true });
    Object.assign(form.values.health, { path: '/manifest.json', statusTo: '299', intervalS: '5', bodyContains: 'Home Assistant' });
    const saved = await form.submit((input) => createApiClient(new FakeGatehouse()).addRoute(input));
    assert.ok(saved);
    assert.deepEqual(saved.upstreams, [
      { url: 'http://10.33.0.21:8123', weight: 1, backup: false, drained: false },
      { url: 'https://10.33.0.22:8443', weight: 3, backup: true, drained: false },
    ]);
    assert.deepEqual(saved.balancing, { policy: 'sticky_cookie', tries: 2 });
    assert.equal(saved.healthCheck.active.intervalMs, 5000);
    assert.equal(saved.healthCheck.active.path, '/manifest.json');
    assert.equal(saved.healthCheck.active.statusTo, 299);
    assert.equal(saved.healthCheck.active.bodyContains, 'Home Assistant');
  });

  it('an edit keeps every server, the balancing and the health check (not only the first server)', async () => {
    const route = sampleRoute({
      id: 'ha',
      names: ['ha.home.arpa'],
      upstreams: [
        { url: 'http://10.33.0.21:8123', weight: 2, backup: false, drained: false },
        { url: 'http://10.33.0.22:8123', weight: 1, backup: false, drained: true },
        { url: 'http://10.33.0.23:8123', weight: 1, backup: true, drained: false },
      ],
      balancing: { policy: 'round_robin', tries: 4 },
      healthCheck: { ...defaultHealthCheck(), active: { ...defaultHealthCheck().active, kind: 'tcp', intervalMs: 7500 } },
    });
    const fake = new FakeGatehouse({ routes: [route] });
    const form = new RouteForm(routeValuesOf(route));
    form.values.title = 'Home Assistant';
    const saved = await form.submit((input) => createApiClient(fake).updateRoute({ id: 'ha', ...input }));
    const { title: _title, ...after } = saved!;
    assert.deepEqual(after, route);
  });

  it('shows the weight only for the policies that use it', () => {
    assert.deepEqual([...WEIGHTED_POLICIES].sort(), ['client_hash', 'round_robin', 'sticky_cookie']);
  });
});

describe('Map it: the health check from the app’s preset', () => {
  const presets = samplePresets();
  const port = (presetId: string, app: string, portNumber: number) => ({
    port: portNumber,
    scheme: 'http' as const,
    identification: { presetId, app, scheme: 'http' as const, evidence: [] },
    server: null,
    title: null,
    status: 200,
  });

  it('Plex gets GET /identity (it answers 401 on /), and the form shows it', () => {
    const draft = mapIt({ kind: 'probe', address: '10.33.0.40', port: port('plex', 'Plex Media Server', 32400) as never }, { presets, routes: [] });
    assert.equal(draft.route.healthCheck?.active?.path, '/identity');
    assert.equal(draft.route.healthCheck?.active?.bodyContains, 'MediaContainer');
    const values = routeValuesFrom(draft.route);
    assert.equal(values.health.path, '/identity');
    assert.equal(values.health.statusTo, '299');
    assert.equal(values.health.kind, 'http');
    assert.deepEqual(values.upstreams.map((row) => row.address), ['http://10.33.0.40:32400']);
  });

  it('an app without a known check keeps the default (GET / passing on 200–499)', () => {
    const draft = mapIt({ kind: 'probe', address: '10.33.0.4', port: port('jellyfin', 'Jellyfin', 8096) as never }, { presets, routes: [] });
    assert.deepEqual(draft.route.healthCheck, defaultHealthCheck());
  });
});

describe('dashboard: each server in words', () => {
  const check = (fields: Partial<CheckResult>): CheckResult => ({ at: '2026-11-21T10:00:00.000Z', passed: true, check: 'GET /identity', status: 200, bodyExcerpt: null, error: null, latencyMs: 12, ...fields });
  const route = sampleRoute({
    id: 'ha',
    names: ['ha.home.arpa'],
    upstreams: [
      { url: 'http://10.33.0.21:8123', weight: 1, backup: false, drained: false },
      { url: 'http://10.33.0.22:8123', weight: 1, backup: false, drained: false },
      { url: 'http://10.33.0.23:8123', weight: 1, backup: false, drained: true },
      { url: 'http://10.33.0.24:8123', weight: 1, backup: true, drained: false },
      { url: 'http://10.33.0.25:8123', weight: 1, backup: false, drained: false },
    ],
  });
  const now = new Date('2026-11-21T10:00:00.000Z');
  const routeHealth: RouteHealth = {
    routeId: 'ha', upstream: '10.33.0.22:8123', state: 'up', since: null, checkedAt: null, problem: null, failedOver: true,
    upstreams: [
      sampleUpstreamHealth('http://10.33.0.21:8123', { state: 'down', available: false }),
      sampleUpstreamHealth('http://10.33.0.22:8123', { inFlight: 3 }),
      sampleUpstreamHealth('http://10.33.0.23:8123', { drained: true, inFlight: 1 }),
      sampleUpstreamHealth('http://10.33.0.24:8123', { backup: true }),
      sampleUpstreamHealth('http://10.33.0.25:8123', { coolingUntil: '2026-11-21T10:00:05.000Z', available: false }),
    ],
  };

  it('names every state: Down, Up, Drained, Backup standing by, Cooling down', () => {
    assert.deepEqual(upstreamViews(route, routeHealth, now).map((view) => view.shown), ['down', 'up', 'drained', 'backup', 'cooling']);
    assert.deepEqual(upstreamViews(route, undefined, now).map((view) => view.shown), ['unknown', 'unknown', 'drained', 'unknown', 'unknown'], 'before the first report');
  });

  it('says the last check plainly', () => {
    assert.equal(lastCheckText(null), 'Not checked yet');
    assert.equal(lastCheckText(check({})), 'GET /identity: 200 in 12\u00a0ms');
    const failed = check({ passed: false, status: 503, error: 'answered 503, expected 200–499' });
    assert.equal(lastCheckText(failed), 'GET /identity: answered 503, expected 200–499 (12\u00a0ms)');
    assert.equal(lastCheckText(failed, true), 'GET /identity: 503 in 12\u00a0ms', 'brief when the reason is shown above it');
  });

  it('a drain names the requests under way, and warns when it is the last server taking requests', () => {
    const views = upstreamViews(route, routeHealth, now);
    const serving = drainQuestion(views[1]!, views);
    assert.equal(serving.title, 'Drain 10.33.0.22:8123?');
    assert.match(serving.consequence, /3 requests are under way/);
    assert.equal(serving.lastOne, null);
    const pair = sampleRoute({ id: 'p', names: ['p.home.arpa'], upstreams: [
      { url: 'http://10.33.0.21:8123', weight: 1, backup: false, drained: true },
      { url: 'http://10.33.0.22:8123', weight: 1, backup: false, drained: false },
    ] });
    const last = upstreamViews(pair, undefined, now);
    assert.match(drainQuestion(last[1]!, last).consequence, /No request is under way/);
    assert.ok(drainQuestion(last[1]!, last).lastOne, 'the last one taking requests is said to be the last');
  });

  it('a failover event becomes one sentence', () => {
    const base = { time: '2026-11-21T10:00:00.000Z', routeId: 'ha', title: 'Home Assistant', from: '10.33.0.21:8123', to: '10.33.0.22:8123', reason: '10.33.0.21:8123 refused the connection' };
    assert.equal(failoverMessage({ ...base, kind: 'failed_over' }), 'Home Assistant failed over from 10.33.0.21:8123 to 10.33.0.22:8123: 10.33.0.21:8123 refused the connection');
    assert.equal(failoverMessage({ ...base, kind: 'recovered', from: '10.33.0.22:8123', to: '10.33.0.21:8123' }), 'Home Assistant is back on 10.33.0.21:8123');
    assert.match(failoverMessage({ ...base, kind: 'no_upstream', to: null }), /^Home Assistant has no server available: /);
  });

  it('the app state announces a failover event', async () => {
    const fake = new FakeGatehouse();
    const app = new AppState(createApiClient(fake));
    const stop = app.connect();
    fake.emit('failover', { time: now.toISOString(), routeId: 'ha', title: 'Home Assistant', kind: 'failed_over', from: 'a:1', to: 'b:1', reason: 'a:1 is down' });
    assert.equal(app.notices.current?.message, 'Home Assistant failed over from a:1 to b:1: a:1 is down');
    stop();
  });
});
