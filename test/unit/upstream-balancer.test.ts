// The Balancer over a fake pool: who the candidates are (available primaries, then available
// backups, never drained or already tried), the last-resort rule, each policy as a route uses it,
// and the sticky cookie's tags and re-pinning. Health and load are fakes the tests set directly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancing, UpstreamPolicy, UpstreamTarget } from '../../shared/upstreams.js';
import type { RouteUpstream } from '../../src-main/core/proxy/route-table.js';
import { Balancer, type PickRequest } from '../../src-main/core/upstreams/balancer.js';
import type { HealthView } from '../../src-main/core/upstreams/health-view.js';
import type { Upstream } from '../../src-main/core/upstreams/registry.js';
import { readStickyTag, stickyCookie, stickyTag } from '../../src-main/core/upstreams/sticky-tag.js';

/** Health by address: down ones, and when each last failed. */
class FakeHealth implements HealthView {
  readonly down = new Set<string>();
  readonly failedAt = new Map<string, number>();
  isAvailable(address: string): boolean {
    return !this.down.has(address);
  }
  lastFailedAt(address: string): number {
    return this.failedAt.get(address) ?? 0;
  }
}

type Spec = Partial<UpstreamTarget> & { url: string };

/** Route upstreams as route-table builds them, with a fake pool: an address and a gate's count. */
function pool(specs: Spec[]): RouteUpstream[] {
  return specs.map((spec) => {
    const url = new URL(spec.url);
    const upstream = { key: spec.url, origin: spec.url, address: `${url.hostname}:${url.port}`, gate: { inFlight: 0 } } as unknown as Upstream;
    return { target: { weight: 1, backup: false, drained: false, ...spec }, upstream };
  });
}

const KEY = Buffer.alloc(32, 1);
const anyone: PickRequest = { clientKey: '192.168.1.20', stickyTag: null };
const none: ReadonlySet<RouteUpstream> = new Set();

function balancer(list: RouteUpstream[], policy: UpstreamPolicy, health = new FakeHealth(), routeId = 'media', key = KEY): Balancer {
  const balancing: Balancing = { policy, tries: 3 };
  return new Balancer(routeId, list, balancing, health, key);
}

const A = 'http://10.0.0.1:8096';
const B = 'http://10.0.0.2:8096';
const C = 'http://10.0.0.3:8096';
const D = 'http://10.0.0.4:8096';
const urlOf = (b: Balancer, request = anyone, tried = none): string | null => b.pick(request, tried)?.choice.target.url ?? null;

function tally(b: Balancer, picks: number, request = anyone): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const url = urlOf(b, request) ?? 'none';
    seen[url] = (seen[url] ?? 0) + 1;
  }
  return seen;
}

describe('candidates', () => {
  test('backups only when no primary is available', () => {
    const health = new FakeHealth();
    const b = balancer(pool([{ url: A }, { url: B, backup: true }, { url: C }]), 'round_robin', health);
    assert.deepEqual(tally(b, 100), { [A]: 50, [C]: 50 });
    health.down.add('10.0.0.1:8096');
    assert.deepEqual(tally(b, 100), { [C]: 100 });
    health.down.add('10.0.0.3:8096');
    const picked = b.pick(anyone, none);
    assert.equal(picked?.choice.target.url, B);
    assert.equal(picked?.lastResort, false, 'an available backup is a normal pick');
    health.down.delete('10.0.0.1:8096');
    assert.deepEqual(tally(b, 10), { [A]: 10 }, 'back to the primary as soon as one is available');
  });

  test('a drained upstream is never picked, not even as the last resort', () => {
    const health = new FakeHealth();
    const b = balancer(pool([{ url: A, drained: true }, { url: B }, { url: C, drained: true }]), 'round_robin', health);
    assert.deepEqual(tally(b, 50), { [B]: 50 });
    health.down.add('10.0.0.2:8096');
    health.failedAt.set('10.0.0.2:8096', 1000);
    const picked = b.pick(anyone, none);
    assert.equal(picked?.choice.target.url, B);
    assert.equal(picked?.lastResort, true);
  });

  test('null only when every upstream is drained', () => {
    const b = balancer(pool([{ url: A, drained: true }, { url: B, drained: true, backup: true }]), 'failover');
    assert.equal(b.pick(anyone, none), null);
    const one = balancer(pool([{ url: A, drained: true }]), 'failover');
    assert.equal(one.pick(anyone, none), null);
  });

  test('upstreams already tried are left out, then null when all were', () => {
    const list = pool([{ url: A }, { url: B }, { url: C, backup: true }]);
    const b = balancer(list, 'failover');
    const tried = new Set<RouteUpstream>();
    const order: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const picked = b.pick(anyone, tried);
      order.push(picked?.choice.target.url ?? null);
      if (picked) tried.add(picked.choice);
    }
    assert.deepEqual(order, [A, B, C, null]);
  });
});

describe('the last upstream is never taken out', () => {
  test('with none available, the one that failed least recently is tried, marked lastResort', () => {
    const health = new FakeHealth();
    const list = pool([{ url: A }, { url: B }, { url: C, backup: true }]);
    const b = balancer(list, 'round_robin', health);
    for (const [address, at] of [['10.0.0.1:8096', 3000], ['10.0.0.2:8096', 1000], ['10.0.0.3:8096', 2000]] as const) {
      health.down.add(address);
      health.failedAt.set(address, at);
    }
    const first = b.pick(anyone, none);
    assert.equal(first?.choice.target.url, B);
    assert.equal(first?.lastResort, true);
    const second = b.pick(anyone, new Set([list[1]!]));
    assert.equal(second?.choice.target.url, C, 'then the next least recently failed');
    assert.equal(second?.lastResort, true);
    assert.equal(b.pick(anyone, new Set(list)), null);
  });

  test('ties go by route order (never failed: 0)', () => {
    const health = new FakeHealth();
    for (const address of ['10.0.0.1:8096', '10.0.0.2:8096', '10.0.0.3:8096']) health.down.add(address);
    health.failedAt.set('10.0.0.1:8096', 500);
    const b = balancer(pool([{ url: A }, { url: B }, { url: C }]), 'failover', health);
    assert.equal(urlOf(b), B);
  });

  test('a single upstream that is down is still tried', () => {
    const health = new FakeHealth();
    const list = pool([{ url: A }]);
    const b = balancer(list, 'round_robin', health);
    assert.deepEqual(b.pick(anyone, none), { choice: list[0], lastResort: false, setStickyTag: null });
    health.down.add('10.0.0.1:8096');
    assert.deepEqual(b.pick(anyone, none), { choice: list[0], lastResort: true, setStickyTag: null });
    assert.equal(b.pick(anyone, new Set(list)), null);
  });
});

describe('policies through the Balancer', () => {
  test('failover: the first available, in order; traffic returns when it is back', () => {
    const health = new FakeHealth();
    const b = balancer(pool([{ url: A }, { url: B }, { url: C }]), 'failover', health);
    assert.deepEqual(tally(b, 20), { [A]: 20 });
    health.down.add('10.0.0.1:8096');
    assert.deepEqual(tally(b, 20), { [B]: 20 });
    health.down.delete('10.0.0.1:8096');
    assert.deepEqual(tally(b, 20), { [A]: 20 });
  });

  test('round robin: 700 picks over weights 5/1/1 give exactly 500/100/100', () => {
    const b = balancer(pool([{ url: A, weight: 5 }, { url: B }, { url: C }]), 'round_robin');
    assert.deepEqual(tally(b, 700), { [A]: 500, [B]: 100, [C]: 100 });
  });

  test('least connections reads the gates', () => {
    const list = pool([{ url: A }, { url: B }, { url: C }]);
    const gates = list.map((item) => item.upstream.gate as unknown as { inFlight: number });
    gates[0]!.inFlight = 3;
    gates[1]!.inFlight = 1;
    gates[2]!.inFlight = 2;
    const b = balancer(list, 'least_connections');
    assert.equal(urlOf(b), B);
    gates[1]!.inFlight = 4;
    assert.equal(urlOf(b), C);
  });

  test('client hash: stable per client; one upstream down moves only its clients, about its share', () => {
    const health = new FakeHealth();
    const b = balancer(pool([{ url: A }, { url: B }, { url: C }, { url: D }]), 'client_hash', health);
    const clients = Array.from({ length: 1000 }, (_, i) => `192.168.${i >> 8}.${i & 255}`);
    const before = clients.map((clientKey) => urlOf(b, { clientKey, stickyTag: null }));
    assert.deepEqual(clients.map((clientKey) => urlOf(b, { clientKey, stickyTag: null })), before);
    health.down.add('10.0.0.3:8096');
    const after = clients.map((clientKey) => urlOf(b, { clientKey, stickyTag: null }));
    const moved = before.filter((url, i) => url !== after[i]);
    assert.ok(moved.every((url) => url === C), 'only clients of the upstream that went down moved');
    assert.equal(moved.length, before.filter((url) => url === C).length);
    assert.ok(Math.abs(moved.length / clients.length - 0.25) < 0.05, `${moved.length} of 1000 clients moved`);
  });
});

describe('sticky cookie', () => {
  const request = (tag: string | null): PickRequest => ({ clientKey: '192.168.1.20', stickyTag: tag });

  test('a first request is placed by weighted round robin and pinned there', () => {
    const b = balancer(pool([{ url: A, weight: 2 }, { url: B }, { url: C }]), 'sticky_cookie');
    const picks = [0, 1, 2, 3].map(() => b.pick(request(null), none)!);
    assert.deepEqual(picks.map((p) => p.choice.target.url), [A, B, C, A]);
    for (const p of picks) assert.equal(p.setStickyTag, stickyTag(KEY, 'media', p.choice.target.url));
    assert.equal(b.usesStickyCookie, true);
  });

  test('a client with a tag stays on its upstream, and the cookie is not set again', () => {
    const b = balancer(pool([{ url: A }, { url: B }, { url: C }]), 'sticky_cookie');
    const tag = b.pick(request(null), none)!.setStickyTag;
    const pinned = b.pick(request(null), none)!;
    assert.equal(pinned.choice.target.url, B);
    for (let i = 0; i < 20; i++) {
      const again = b.pick(request(pinned.setStickyTag), none)!;
      assert.equal(again.choice.target.url, B);
      assert.equal(again.setStickyTag, null);
    }
    assert.notEqual(tag, pinned.setStickyTag);
  });

  test('its upstream down: another one, and the client is re-pinned there (and stays after it is back)', () => {
    const health = new FakeHealth();
    const b = balancer(pool([{ url: A }, { url: B }, { url: C }]), 'sticky_cookie', health);
    const tagB = stickyTag(KEY, 'media', B);
    assert.equal(urlOf(b, request(tagB)), B);
    health.down.add('10.0.0.2:8096');
    const moved = b.pick(request(tagB), none)!;
    assert.notEqual(moved.choice.target.url, B);
    assert.equal(moved.setStickyTag, stickyTag(KEY, 'media', moved.choice.target.url));
    for (let i = 0; i < 10; i++) assert.notEqual(urlOf(b, request(tagB)), B, 'never back to the dead one');
    health.down.delete('10.0.0.2:8096');
    const back = b.pick(request(moved.setStickyTag), none)!;
    assert.equal(back.choice.target.url, moved.choice.target.url, 'the session stays where it was re-pinned');
    assert.equal(back.setStickyTag, null);
  });

  test('its upstream already tried for this request (a retry): re-pinned to the one that answers', () => {
    const list = pool([{ url: A }, { url: B }]);
    const b = balancer(list, 'sticky_cookie');
    const retry = b.pick(request(stickyTag(KEY, 'media', A)), new Set([list[0]!]))!;
    assert.equal(retry.choice.target.url, B);
    assert.equal(retry.setStickyTag, stickyTag(KEY, 'media', B));
  });

  test('its upstream drained, or removed from the route: re-pinned, never sent there', () => {
    const tagA = stickyTag(KEY, 'media', A);
    const drained = balancer(pool([{ url: A, drained: true }, { url: B }, { url: C }]), 'sticky_cookie');
    const fromDrained = drained.pick(request(tagA), none)!;
    assert.notEqual(fromDrained.choice.target.url, A);
    assert.equal(fromDrained.setStickyTag, stickyTag(KEY, 'media', fromDrained.choice.target.url));
    const removed = balancer(pool([{ url: B }, { url: C }]), 'sticky_cookie');
    const fromRemoved = removed.pick(request(tagA), none)!;
    assert.notEqual(fromRemoved.choice.target.url, A);
    assert.equal(fromRemoved.setStickyTag, stickyTag(KEY, 'media', fromRemoved.choice.target.url));
  });

  test('a settings change keeps clients pinned (tags depend on the route and address, not the order)', () => {
    const tagC = stickyTag(KEY, 'media', C);
    const rebuilt = balancer(pool([{ url: C }, { url: D }, { url: A }]), 'sticky_cookie');
    assert.equal(urlOf(rebuilt, request(tagC)), C);
    assert.equal(rebuilt.pick(request(tagC), none)!.setStickyTag, null);
  });

  test('a backup it was pinned to during an outage is left once a primary is back', () => {
    const health = new FakeHealth();
    const b = balancer(pool([{ url: A }, { url: B, backup: true }]), 'sticky_cookie', health);
    const onBackup = b.pick(request(stickyTag(KEY, 'media', B)), none)!;
    assert.equal(onBackup.choice.target.url, A);
    assert.equal(onBackup.setStickyTag, stickyTag(KEY, 'media', A));
  });

  test('a tag of another route, a forged or a malformed one is not honoured', () => {
    const b = balancer(pool([{ url: A }, { url: B }]), 'sticky_cookie');
    const otherRoute = stickyTag(KEY, 'photos', B);
    const picks = [0, 1, 2, 3].map(() => b.pick(request(otherRoute), none)!);
    assert.deepEqual(picks.map((p) => p.choice.target.url), [A, B, A, B], 'placed as a newcomer');
    assert.ok(picks.every((p) => p.setStickyTag !== null));
    const otherKey = stickyTag(Buffer.alloc(32, 2), 'media', B);
    assert.notEqual(otherKey, stickyTag(KEY, 'media', B));
    assert.equal(urlOf(b, request(otherKey)), A);
    assert.equal(urlOf(b, request('10.0.0.2:8096')), B, 'round robin, not the address it names');
    assert.equal(urlOf(b, request('10.0.0.2:8096')), A);
  });

  test('a tag names no address and differs per route', () => {
    const url = 'http://192.168.77.12:32400';
    const tag = stickyTag(KEY, 'media', url);
    assert.match(tag, /^[A-Za-z0-9_-]{16}$/);
    for (const piece of ['192', '168', '77', '32400', 'http']) assert.ok(!tag.includes(piece), `${tag} contains ${piece}`);
    assert.ok(!Buffer.from(tag, 'base64url').toString('latin1').includes('192.168'), 'nor encodes it');
    assert.notEqual(stickyTag(KEY, 'photos', url), tag);
    assert.equal(stickyTag(KEY, 'media', url), tag, 'the same route and address: the same tag');
  });

  test('a single-upstream route pins without the policy, and only when the cookie is missing or stale', () => {
    const list = pool([{ url: A }]);
    const b = balancer(list, 'sticky_cookie');
    const tagA = stickyTag(KEY, 'media', A);
    assert.equal(b.pick(request(null), none)!.setStickyTag, tagA);
    assert.equal(b.pick(request('AAAAAAAAAAAAAAAA'), none)!.setStickyTag, tagA);
    assert.equal(b.pick(request(tagA), none)!.setStickyTag, null);
  });

  test('other policies never set the cookie', () => {
    for (const policy of ['failover', 'round_robin', 'least_connections', 'client_hash'] as const) {
      const b = balancer(pool([{ url: A }, { url: B }]), policy);
      assert.equal(b.usesStickyCookie, false);
      assert.equal(b.pick(request(stickyTag(KEY, 'media', A)), none)!.setStickyTag, null, policy);
    }
  });
});

describe('the sticky cookie header', () => {
  const tag = stickyTag(KEY, 'media', A);

  test('read from the Cookie header, wherever it stands', () => {
    assert.equal(readStickyTag(`gatehouse_upstream=${tag}`), tag);
    assert.equal(readStickyTag(`a=1; gatehouse_upstream=${tag}; b=2`), tag);
    assert.equal(readStickyTag(['a=1', `session=x;gatehouse_upstream=${tag}`]), tag);
    assert.equal(readStickyTag(undefined), null);
    assert.equal(readStickyTag('a=1; b=2'), null);
  });

  test('not from a cookie whose name merely ends the same, and not a value of the wrong shape', () => {
    assert.equal(readStickyTag(`x_gatehouse_upstream=${tag}`), null);
    assert.equal(readStickyTag(`x_gatehouse_upstream=${tag}; gatehouse_upstream=${tag}`), tag);
    assert.equal(readStickyTag('gatehouse_upstream=10.0.0.1:8096'), null);
    assert.equal(readStickyTag(`gatehouse_upstream=${tag}x`), null);
    assert.equal(readStickyTag('gatehouse_upstream='), null);
  });

  test('set for the whole host, HttpOnly, SameSite=Lax, Secure over HTTPS', () => {
    assert.equal(stickyCookie(tag, false), `gatehouse_upstream=${tag}; Path=/; HttpOnly; SameSite=Lax`);
    assert.equal(stickyCookie(tag, true), `gatehouse_upstream=${tag}; Path=/; HttpOnly; SameSite=Lax; Secure`);
  });
});

describe('cost per pick', () => {
  test('the same outcome returns the same answer object: pick() allocates nothing', () => {
    const health = new FakeHealth();
    const list = pool([{ url: A }, { url: B }]);
    const b = balancer(list, 'failover', health);
    assert.equal(b.pick(anyone, none), b.pick(anyone, none));
    const one = balancer(pool([{ url: A }]), 'failover', health);
    assert.equal(one.pick(anyone, none), one.pick(anyone, none));
    health.down.add('10.0.0.1:8096');
    health.down.add('10.0.0.2:8096');
    assert.equal(b.pick(anyone, none), b.pick(anyone, none));
  });
});
