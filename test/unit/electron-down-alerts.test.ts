// When the desktop app announces that a service went down (src-main/electron/down-alerts.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../../shared/model.js';
import type { RouteHealth } from '../../shared/status.js';
import { DownAlerts, routeLabel } from '../../src-main/electron/down-alerts.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

function route(id: string, names: string[], title?: string): Route {
  return {
    id,
    names,
    upstreams: singleUpstream(`http://10.33.0.4:${8000 + names.length}`),
    balancing: defaultBalancing(),
    healthCheck: defaultHealthCheck(),
    enabled: true,
    websocket: true,
    insecureUpstreamTls: false,
    rewriteHost: null,
    trustedProxies: null,
    tls: { mode: 'none' as const, certificateId: null, redirectHttp: false, hsts: false },
    publishOnLan: false, app: null, access: defaultRouteAccess(),
    ...(title === undefined ? {} : { title }),
  };
}

const routes = [route('jf', ['jellyfin.home.arpa'], 'Jellyfin'), route('ha', ['ha.home.arpa']), route('nas', ['nas.home.arpa'])];

function health(routeId: string, state: RouteHealth['state'], upstream = '10.33.0.4:8096'): RouteHealth {
  return {
    routeId,
    upstream,
    state,
    since: state === 'unknown' ? null : '2026-11-21T10:00:00.000Z',
    checkedAt: state === 'unknown' ? null : '2026-11-21T10:00:00.000Z',
    problem:
      state === 'down'
        ? { code: 'upstream_refused', message: `${routeId} at ${upstream} refused the connection.`, fix: 'Is it running?' }
        : null,
    failedOver: false,
    upstreams: [],
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

describe('routeLabel', () => {
  it('prefers the title, then the first name, then the fallback', () => {
    assert.equal(routeLabel(route('a', ['a.home.arpa'], 'Media'), 'x'), 'Media');
    assert.equal(routeLabel(route('a', ['a.home.arpa'], '  '), 'x'), 'a.home.arpa');
    assert.equal(routeLabel(undefined, '10.33.0.4:8096'), '10.33.0.4:8096');
  });
});
