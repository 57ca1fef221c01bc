// The limits pass as routes get it: a route with every limit off gets no pass at all (it costs
// nothing), one with any limit on gets it; sign-in limits need an app with known sign-in paths;
// upgrades carry no body limit.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { defaultAccessSettings, defaultRouteAccess, type RouteLimits } from '../../shared/access.js';
import { noTls, type Route } from '../../shared/model.js';
import type { AccessContext } from '../../src-main/core/access/context.js';
import { ClientLimits } from '../../src-main/core/access/limits.js';
import { Reputation } from '../../src-main/core/access/reputation.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import type { PassRequest } from '../../src-main/core/proxy/passes/pass.js';
import type { ProvisionedRoute } from '../../src-main/core/proxy/route-table.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

const context: AccessContext = { settings: defaultAccessSettings(), ownNetworks: new OwnNetworks(() => ({})), reputation: new Reputation(), dataDir: '/nonexistent' };
const limits = new ClientLimits(() => context, () => 0);
const base = { title: 'Media' } as Omit<ProvisionedRoute, 'passes'>;

function routeWith(limitsSet: RouteLimits, app: string | null = null): Route {
  return { id: 'r', names: ['r.test'], upstreams: singleUpstream('http://10.0.0.4:80'), redirect: null, balancing: defaultBalancing(), healthCheck: defaultHealthCheck(), enabled: true, websocket: true, insecureUpstreamTls: false, rewriteHost: null, trustedProxies: null, tls: noTls(), publishOnLan: false, app, access: { ...defaultRouteAccess(), limits: limitsSet } };
}

const off: RouteLimits = { requestsPerMinute: 0, loginPerMinute: 0, maxBodyBytes: 0, limitLan: false };

test('every limit off: no pass; any limit on: the pass', () => {
  assert.equal(limits.passFor(routeWith(off), base), null);
  assert.equal(limits.passFor(routeWith({ ...off, loginPerMinute: 10 }), base), null, 'sign-in limits without an app have nothing to count');
  assert.equal(limits.passFor(routeWith({ ...off, loginPerMinute: 10 }, 'plex'), base), null, 'nor with an app whose sign-in is elsewhere');
  assert.equal(limits.passFor(routeWith({ ...off, loginPerMinute: 10 }, 'jellyfin'), base)?.name, 'limits');
  assert.equal(limits.passFor(routeWith({ ...off, requestsPerMinute: 1 }), base)?.name, 'limits');
  assert.equal(limits.passFor(routeWith({ ...off, maxBodyBytes: 1 }), base)?.name, 'limits');
  assert.equal(limits.passFor(routeWith(defaultRouteAccess().limits), base)?.name, 'limits', 'the defaults limit');
});

test('the body limit is set on requests, not on upgrades, and a declared length above it is refused', () => {
  const pass = limits.passFor(routeWith({ ...off, maxBodyBytes: 100 }), base);
  const request = (upgrade: boolean, length?: string) =>
    ({ client: '203.0.113.5', upgrade, maxBodyBytes: 0, target: { hostname: 'r.test', authority: 'r.test', path: '/' }, req: { method: 'POST', headers: length === undefined ? {} : { 'content-length': length } } as IncomingMessage }) as PassRequest;
  const plain = request(false);
  assert.equal(pass?.run(plain), undefined);
  assert.equal(plain.maxBodyBytes, 100);
  const upgrade = request(true, '1000');
  assert.equal(pass?.run(upgrade), undefined);
  assert.equal(upgrade.maxBodyBytes, 0);
  assert.equal((pass?.run(request(false, '101')) as { code?: string } | undefined)?.code, 'body_too_large');
  assert.equal(pass?.run(request(false, '100')), undefined);
});

test('an IPv6 client is limited by its /64: a new address from it finds the bucket spent; the refusal names the full address', () => {
  const rated = new ClientLimits(() => context, () => 1_700_000_000_000);
  const pass = rated.passFor({ ...routeWith({ ...off, requestsPerMinute: 3, loginPerMinute: 1 }, 'jellyfin'), id: 'v6' }, base);
  const send = (client: string, method = 'GET', path = '/') =>
    pass?.run({ client, upgrade: false, maxBodyBytes: 0, target: { hostname: 'r.test', authority: 'r.test', path }, req: { method, headers: {} } as IncomingMessage } as PassRequest) as { code?: string; detail?: string } | undefined;
  assert.equal(send('2001:db8:1:2::1'), undefined);
  assert.equal(send('2001:db8:1:2::2'), undefined);
  assert.equal(send('2001:db8:1:2::3'), undefined);
  const fourth = send('2001:db8:1:2:ffff::4');
  assert.equal(fourth?.code, 'rate_limited');
  assert.match(fourth?.detail ?? '', /^2001:db8:1:2:ffff::4 sent more than 3/);
  assert.equal(send('2001:db8:1:3::1'), undefined, 'the next /64 is another client');
  assert.equal(send('2001:db8:1:3::2', 'POST', '/Users/AuthenticateByName'), undefined);
  assert.equal(send('2001:db8:1:3::3', 'POST', '/Users/AuthenticateByName')?.code, 'login_rate_limited', 'sign-in attempts are counted by the /64 too');
  assert.equal(rated.counters.rates, 2, 'two /64s, two counters');
});
