// When the desktop app announces that a service went down (src-main/electron/down-alerts.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../../shared/model.js';
import type { FailoverEvent, RouteHealth, UpstreamHealth } from '../../shared/status.js';
import { DownAlerts, FailoverAlerts, routeLabel } from '../../src-main/electron/down-alerts.js';
import { sampleRoute, sampleUpstreamHealth } from '../../src-renderer/dev/fake-gatehouse.js';

function route(id: string, names: string[], title?: string): Route {
  return sampleRoute({ id, names, upstream: `http://10.33.0.4:${8000 + names.length}`, ...(title === undefined ? {} : { title }) });
}

const routes = [route('jf', ['jellyfin.home.arpa'], 'Jellyfin'), route('ha', ['ha.home.arpa']), route('nas', ['nas.home.arpa'])];

function upstreamHealth(address: string, state: RouteHealth['state']): UpstreamHealth {
  return sampleUpstreamHealth(`http://${address}`, { state, available: state !== 'down' });
}

function health(routeId: string, state: RouteHealth['state'], upstream = '10.33.0.4:8096'): RouteHealth {
  return {
    routeId,
    upstream,
    failedOver: false,
    upstreams: [upstreamHealth(upstream, state)],
    state,
    since: state === 'unknown' ? null : '2026-11-21T10:00:00.000Z',
    checkedAt: state === 'unknown' ? null : '2026-11-21T10:00:00.000Z',
    problem:
      state === 'down'
        ? { code: 'upstream_refused', message: `${routeId} at ${upstream} refused the connection.`, fix: 'Is it running?' }
        : null,
  };
}

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('DownAlerts', () => {
  it('announces a service that was up and went down, with the problem and its fix', () => {
    const alerts = new DownAlerts();
    assert.equal(alerts.update([health('jf', 'up')], routes), null);
    assert.deepEqual(alerts.update([health('jf', 'down')], routes), {
      title: 'Jellyfin is down',
      body: 'jf at 10.33.0.4:8096 refused the connection. Is it running?',
      routeIds: ['jf'],
    });
  });

  it('stays quiet on the first report, even for services that are down in it', () => {
    const alerts = new DownAlerts();
    assert.equal(alerts.update([health('jf', 'down'), health('ha', 'up')], routes), null);
    assert.equal(alerts.update([health('jf', 'down'), health('ha', 'up')], routes), null, 'still down is not news');
  });

  it('stays quiet when a service goes from unknown to down (startup, a route just added or enabled)', () => {
    const alerts = new DownAlerts();
    alerts.update([health('jf', 'unknown'), health('ha', 'unknown')], routes);
    assert.equal(alerts.update([health('jf', 'down'), health('ha', 'unknown')], routes), null);
    assert.equal(alerts.update([health('jf', 'down'), health('ha', 'down')], routes), null);
  });

  it('stays quiet when a route appears already down, or when it moved to another upstream', () => {
    const alerts = new DownAlerts();
    alerts.update([health('jf', 'up')], routes);
    assert.equal(alerts.update([health('jf', 'up'), health('ha', 'down')], routes), null, 'new route');
    assert.equal(alerts.update([health('jf', 'down', '10.33.0.5:8096'), health('ha', 'down')], routes), null, 'new upstream');
  });

  it('stays quiet for down → up, and for up → unknown (a route disabled)', () => {
    const alerts = new DownAlerts();
    alerts.update([health('jf', 'down'), health('ha', 'up')], routes);
    assert.equal(alerts.update([health('jf', 'up'), health('ha', 'unknown')], routes), null);
  });

  it('makes one notification when several services go down in the same report', () => {
    const alerts = new DownAlerts();
    const four = [...routes, route('pve', ['pve.home.arpa'])];
    alerts.update(four.map((r) => health(r.id, 'up')), four);
    const alert = alerts.update(four.map((r) => health(r.id, 'down')), four);
    assert.deepEqual(alert, {
      title: '4 services are down',
      body: 'Jellyfin, ha.home.arpa, nas.home.arpa and 1 more stopped answering.',
      routeIds: ['jf', 'ha', 'nas', 'pve'],
    });
  });

  it('announces a flapping service at most once per quiet period', () => {
    const time = clock();
    const alerts = new DownAlerts({ quietMs: 60_000, now: time.now });
    alerts.update([health('jf', 'up')], routes);
    assert.ok(alerts.update([health('jf', 'down')], routes));
    alerts.update([health('jf', 'up')], routes);
    time.advance(59_999);
    assert.equal(alerts.update([health('jf', 'down')], routes), null, 'inside the quiet period');
    alerts.update([health('jf', 'up')], routes);
    time.advance(1);
    assert.equal(alerts.update([health('jf', 'down')], routes)?.title, 'Jellyfin is down');
  });

  it('forgets a removed route, so one added again with the same id starts from a baseline', () => {
    const alerts = new DownAlerts();
    alerts.update([health('jf', 'up')], routes);
    alerts.update([], routes);
    assert.equal(alerts.update([health('jf', 'down')], routes), null);
  });

  it('says the problem plainly when the report carries none', () => {
    const alerts = new DownAlerts();
    alerts.update([health('ha', 'up')], routes);
    const alert = alerts.update([{ ...health('ha', 'down'), problem: null }], routes);
    assert.deepEqual(alert, { title: 'ha.home.arpa is down', body: 'It stopped answering.', routeIds: ['ha'] });
  });
});

describe('DownAlerts with several upstreams', () => {
  const a = '10.33.0.4:8096';
  const b = '10.33.0.5:8096';
  const two = (state: RouteHealth['state'], serving: string, states: [RouteHealth['state'], RouteHealth['state']]): RouteHealth => ({
    ...health('jf', state, serving),
    failedOver: serving !== a,
    upstreams: [upstreamHealth(a, states[0]), upstreamHealth(b, states[1])],
  });

  it('a failover is not a new route: the route going down afterwards is announced', () => {
    const alerts = new DownAlerts();
    alerts.update([two('up', a, ['up', 'up'])], routes);
    assert.equal(alerts.update([two('up', b, ['down', 'up'])], routes), null, 'failed over, still up');
    assert.equal(alerts.update([two('down', a, ['down', 'down'])], routes)?.title, 'Jellyfin is down');
  });
});

function failover(kind: FailoverEvent['kind'], from: string | null, to: string | null): FailoverEvent {
  return { time: '2026-11-21T10:00:00.000Z', routeId: 'jf', title: 'Jellyfin', kind, from, to, reason: kind === 'recovered' ? `${to} is available again.` : `${from} is not available. The check GET /health failed: refused the connection.` };
}

describe('FailoverAlerts', () => {
  const a = '10.33.0.4:8096';
  const b = '10.33.0.5:8096';
  const settled = [{ ...health('jf', 'up', b), upstreams: [upstreamHealth(a, 'down'), upstreamHealth(b, 'up')] }];

  it('announces a failover and the return, with the reason', () => {
    const alerts = new FailoverAlerts();
    alerts.health(settled);
    assert.deepEqual(alerts.update(failover('failed_over', a, b), routes), {
      title: `Jellyfin failed over to ${b}`,
      body: `${a} is not available. The check GET /health failed: refused the connection.`,
      routeIds: ['jf'],
    });
    assert.deepEqual(alerts.update(failover('recovered', b, a), routes), { title: `Jellyfin is back on ${a}`, body: `${a} is available again.`, routeIds: ['jf'] });
    assert.equal(alerts.update(failover('recovered', b, a), routes), null, 'once');
  });

  it('stays quiet while the route has upstreams not checked yet (startup, a new route)', () => {
    const alerts = new FailoverAlerts();
    alerts.health([{ ...health('jf', 'up', a), upstreams: [upstreamHealth(a, 'unknown'), upstreamHealth(b, 'up')] }]);
    assert.equal(alerts.update(failover('failed_over', a, b), routes), null);
    assert.equal(alerts.update(failover('recovered', b, a), routes), null, 'nothing was announced, so no return either');
  });

  it('leaves "none available" to the down notification, and announces the return after it', () => {
    const alerts = new FailoverAlerts();
    alerts.health(settled);
    assert.equal(alerts.update(failover('no_upstream', a, null), routes), null);
    assert.equal(alerts.update(failover('recovered', null, a), routes), null, 'the down was not announced');
    alerts.troubleAnnounced(['jf']);
    assert.equal(alerts.update(failover('recovered', null, a), routes)?.title, `Jellyfin is back on ${a}`);
  });

  it('announces a route failing over again and again at most once per quiet period', () => {
    const time = clock();
    const alerts = new FailoverAlerts({ quietMs: 60_000, now: time.now });
    alerts.health(settled);
    assert.ok(alerts.update(failover('failed_over', a, b), routes));
    assert.ok(alerts.update(failover('recovered', b, a), routes));
    time.advance(59_999);
    assert.equal(alerts.update(failover('failed_over', a, b), routes), null);
    assert.ok(alerts.update(failover('recovered', b, a), routes), 'its return is still news: the failover was');
    time.advance(1);
    assert.ok(alerts.update(failover('failed_over', a, b), routes));
  });

  it('forgets a removed route', () => {
    const alerts = new FailoverAlerts();
    alerts.health(settled);
    alerts.health([]);
    assert.equal(alerts.update(failover('failed_over', a, b), routes), null);
  });
});

describe('routeLabel', () => {
  it('prefers the title, then the first name, then the fallback', () => {
    assert.equal(routeLabel(route('a', ['a.home.arpa'], 'Media'), 'x'), 'Media');
    assert.equal(routeLabel(route('a', ['a.home.arpa'], '  '), 'x'), 'a.home.arpa');
    assert.equal(routeLabel(undefined, '10.33.0.4:8096'), '10.33.0.4:8096');
  });
});
