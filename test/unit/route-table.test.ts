// Route provisioning and matching: names indexed once, exact names before wildcards, a wildcard
// covering exactly one label, disabled routes invisible, defaults applied, and one pooled upstream
// per backend address shared by every route that points there.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Route } from '../../shared/model.js';
import { noTls } from '../../shared/model.js';
import { RouteTable } from '../../src-main/core/proxy/route-table.js';
import { UpstreamRegistry } from '../../src-main/core/upstreams/registry.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

const registries: UpstreamRegistry[] = [];
after(async () => {
  await Promise.all(registries.map((registry) => registry.destroyAll()));
});

/** `upstream` is shorthand for a single upstream, as a route input may give it. */
function route(id: string, names: string[], { upstream = 'http://10.0.0.4:8096', ...extra }: Partial<Route> & { upstream?: string } = {}): Route {
  return { id, names, upstreams: singleUpstream(upstream), redirect: null, balancing: defaultBalancing(), healthCheck: defaultHealthCheck(), enabled: true, websocket: true, insecureUpstreamTls: false, rewriteHost: null, trustedProxies: null, tls: noTls(), publishOnLan: false, app: null, access: defaultRouteAccess(), ...extra };
}

function table(routes: Route[], connectTimeoutMs = 5000): { table: RouteTable; registry: UpstreamRegistry } {
  const registry = new UpstreamRegistry();
  registries.push(registry);
  return { table: new RouteTable(routes, registry, connectTimeoutMs), registry };
}

describe('RouteTable', () => {
  const { table: routes } = table([
    route('jelly', ['jellyfin.home.arpa', 'media.home.arpa'], { title: 'Jellyfin' }),
    route('wild', ['*.home.arpa'], { upstream: 'http://10.0.0.9:80' }),
    route('deep', ['*.lab.home.arpa'], { upstream: 'http://10.0.0.10:80' }),
    route('off', ['off.home.arpa'], { enabled: false }),
  ]);

  test('exact names match, every one of a route\'s names', () => {
    assert.equal(routes.match('jellyfin.home.arpa')?.id, 'jelly');
    assert.equal(routes.match('media.home.arpa')?.id, 'jelly');
  });

  test('an exact name wins over a wildcard that also covers it', () => {
    assert.equal(routes.match('jellyfin.home.arpa')?.id, 'jelly');
    assert.equal(routes.match('other.home.arpa')?.id, 'wild');
  });

  test('a wildcard covers exactly one label: not the bare domain, not two labels deep', () => {
    assert.equal(routes.match('x.home.arpa')?.id, 'wild');
    assert.equal(routes.match('home.arpa'), undefined);
    assert.equal(routes.match('a.b.home.arpa'), undefined);
    assert.equal(routes.match('a.lab.home.arpa')?.id, 'deep');
    assert.equal(routes.match('lab.home.arpa')?.id, 'wild', 'one label under *.home.arpa');
  });

  test('a disabled route is left out: its names answer like unknown names, or reach a wildcard that covers them', () => {
    assert.equal(routes.routes.some((r) => r.id === 'off'), false);
    // off.home.arpa is one label under *.home.arpa, so the wildcard route gets it.
    assert.equal(routes.match('off.home.arpa')?.id, 'wild');
    const { table: alone } = table([route('off', ['off.example'], { enabled: false })]);
    assert.equal(alone.match('off.example'), undefined);
    assert.equal(alone.routes.length, 0);
    assert.equal(alone.upstreamKeys.size, 0);
  });

  test('names that are not normalized, or empty, match nothing (the request path normalizes first)', () => {
    for (const name of ['JELLYFIN.home.arpa', 'jellyfin.home.arpa.', '', '.home.arpa', 'jellyfin.home.arpa:80']) {
      assert.notEqual(routes.match(name)?.id, 'jelly', name);
    }
    assert.equal(routes.match(''), undefined);
    assert.equal(routes.match('.home.arpa'), undefined);
  });

  test('provisioning applies defaults: title, then first name, then id', () => {
    const { table: titles } = table([
      route('t1', ['a.example'], { title: 'Alpha' }),
      route('t2', ['b.example', 'c.example']),
      route('t3', [], { title: '' }),
    ]);
    assert.deepEqual(titles.routes.map((r) => r.title), ['Alpha', 'b.example', 't3']);
  });

  test('websocket and rewriteHost are carried into the provisioned route', () => {
    const { table: carried } = table([route('r', ['r.example'], { websocket: false, rewriteHost: 'localhost:5000' })]);
    const provisioned = carried.match('r.example');
    assert.equal(provisioned?.websocket, false);
    assert.equal(provisioned?.rewriteHost, 'localhost:5000');
    assert.equal(provisioned?.upstreams[0]?.upstream.address, '10.0.0.4:8096');
    assert.equal(provisioned?.upstreams[0]?.upstream.origin, 'http://10.0.0.4:8096');
  });

  test('routes to the same backend share one pool; a different address, TLS mode or connect timeout gets its own', () => {
    const { table: shared, registry } = table([
      route('a', ['a.example']),
      route('b', ['b.example']),
      route('c', ['c.example'], { upstream: 'http://10.0.0.5:8096' }),
      route('d', ['d.example'], { upstream: 'https://10.0.0.6:8006', insecureUpstreamTls: true }),
      route('e', ['e.example'], { upstream: 'https://10.0.0.6:8006' }),
      // Insecure means nothing for plain http: the same pool as a and b.
      route('f', ['f.example'], { insecureUpstreamTls: true }),
    ]);
    const pool = (name: string) => shared.match(name)?.upstreams[0]?.upstream.pool;
    assert.equal(pool('a.example'), pool('b.example'));
    assert.equal(pool('a.example'), pool('f.example'));
    assert.notEqual(pool('a.example'), pool('c.example'));
    assert.notEqual(pool('d.example'), pool('e.example'));
    assert.equal(shared.upstreamKeys.size, 4);
    // A rebuilt table (a settings change) reuses the registry's pools.
    const rebuilt = new RouteTable([route('a', ['a.example'])], registry, 5000);
    assert.equal(rebuilt.match('a.example')?.upstreams[0]?.upstream.pool, pool('a.example'));
    const otherTimeout = new RouteTable([route('a', ['a.example'])], registry, 1000);
    assert.notEqual(otherTimeout.match('a.example')?.upstreams[0]?.upstream.pool, pool('a.example'));
  });

  test('the registry closes pools no route needs any more and keeps the rest', async () => {
    const { table: before, registry } = table([route('a', ['a.example']), route('c', ['c.example'], { upstream: 'http://10.0.0.5:8096' })]);
    const kept = before.match('a.example')?.upstreams[0]?.upstream.pool;
    const dropped = before.match('c.example')?.upstreams[0]?.upstream.pool;
    const afterChange = new RouteTable([route('a', ['a.example'])], registry, 5000);
    registry.retainOnly(afterChange.upstreamKeys);
    assert.equal(dropped?.closed, true);
    assert.equal(kept?.closed, false);
    assert.equal(afterChange.match('a.example')?.upstreams[0]?.upstream.pool, kept);
  });
});
