// Each selection policy alone, against a fake pool: candidates as the Balancer hands them over (a
// bit per upstream), weights, and fake loads. Distributions are exact where the policy is
// deterministic (smooth weighted round robin) and measured over many keys where it is a hash.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientHash } from '../../src-main/core/upstreams/policies/client-hash.js';
import { failover } from '../../src-main/core/upstreams/policies/failover.js';
import { LeastConnections } from '../../src-main/core/upstreams/policies/least-connections.js';
import type { PickRequest, Policy } from '../../src-main/core/upstreams/policies/policy.js';
import { WeightedRoundRobin } from '../../src-main/core/upstreams/policies/round-robin.js';
import { StickyCookie } from '../../src-main/core/upstreams/policies/sticky-cookie.js';
import { StickyTags } from '../../src-main/core/upstreams/sticky-tag.js';

const anyone: PickRequest = { clientKey: '192.168.1.20', stickyTag: null };
/** Every one of n upstreams is a candidate. */
const all = (n: number): number => (1 << n) - 1;
/** Only these upstreams are candidates. */
const only = (...indexes: number[]): number => indexes.reduce((set, i) => set | (1 << i), 0);

function counts(policy: Policy, n: number, picks: number, candidates = all(n), request = anyone): number[] {
  const seen = new Array<number>(n).fill(0);
  for (let i = 0; i < picks; i++) {
    const index = policy.choose(candidates, request);
    assert.ok(candidates & (1 << index), `picked ${index}, which is not a candidate`);
    seen[index]! += 1;
  }
  return seen;
}

describe('failover', () => {
  test('always the first candidate in route order', () => {
    assert.deepEqual(counts(failover, 3, 50), [50, 0, 0]);
    assert.equal(failover.choose(only(1, 2), anyone), 1);
    assert.equal(failover.choose(only(2), anyone), 2);
    assert.equal(failover.choose(only(15), anyone), 15);
  });
});

describe('weighted round robin (smooth, as nginx)', () => {
  test('weights 5/1/1 interleave as a a b a c a a, over and over', () => {
    const policy: Policy = new WeightedRoundRobin([5, 1, 1]);
    const names = 'abc';
    let sequence = '';
    for (let i = 0; i < 21; i++) sequence += names[policy.choose(all(3), anyone)];
    assert.equal(sequence, 'aabacaa'.repeat(3));
  });

  test('700 picks split exactly by weight', () => {
    assert.deepEqual(counts(new WeightedRoundRobin([5, 1, 1]), 3, 700), [500, 100, 100]);
    assert.deepEqual(counts(new WeightedRoundRobin([1, 1, 1, 1]), 4, 700), [175, 175, 175, 175]);
    assert.deepEqual(counts(new WeightedRoundRobin([3, 2, 2]), 3, 700), [300, 200, 200]);
  });

  test('equal weights take turns in order', () => {
    const policy: Policy = new WeightedRoundRobin([1, 1, 1]);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(() => policy.choose(all(3), anyone)), [0, 1, 2, 0, 1, 2]);
  });

  test('an upstream out of rotation is skipped and the others keep their ratio', () => {
    const policy: Policy = new WeightedRoundRobin([5, 1, 1]);
    assert.deepEqual(counts(policy, 3, 600, only(0, 2)), [500, 0, 100]);
  });

  test('one coming back does not skew the others: shares stay within a round of the weights', () => {
    const policy: Policy = new WeightedRoundRobin([4, 2, 1]);
    counts(policy, 3, 33, only(0, 2)); // b out for a while, at an odd point of the cycle
    const back = counts(policy, 3, 700);
    assert.ok(Math.abs(back[0]! - 400) <= 7 && Math.abs(back[1]! - 200) <= 7 && Math.abs(back[2]! - 100) <= 7, `after b came back: ${back.join('/')}`);
  });
});

describe('least connections', () => {
  test('the candidate with the fewest requests under way', () => {
    const loads = [{ inFlight: 5 }, { inFlight: 2 }, { inFlight: 9 }];
    const policy: Policy = new LeastConnections([1, 1, 1], loads);
    assert.equal(policy.choose(all(3), anyone), 1);
    loads[1]!.inFlight = 7;
    assert.equal(policy.choose(all(3), anyone), 0);
    assert.equal(policy.choose(only(1, 2), anyone), 1, 'only among the candidates');
  });

  test('load counts relative to weight: 4 under way on weight 2 is less busy than 3 on weight 1', () => {
    const policy: Policy = new LeastConnections([2, 1], [{ inFlight: 4 }, { inFlight: 3 }]);
    assert.equal(policy.choose(all(2), anyone), 0);
    const other: Policy = new LeastConnections([2, 1], [{ inFlight: 5 }, { inFlight: 2 }]);
    assert.equal(other.choose(all(2), anyone), 1);
  });

  test('equal loads still spread, by weight', () => {
    const idle = [{ inFlight: 0 }, { inFlight: 0 }, { inFlight: 0 }];
    assert.deepEqual(counts(new LeastConnections([1, 1, 1], idle), 3, 300), [100, 100, 100]);
    assert.deepEqual(counts(new LeastConnections([2, 1, 1], idle), 3, 400), [200, 100, 100]);
  });

  test('ties spread among the tied only', () => {
    const policy: Policy = new LeastConnections([1, 1, 1], [{ inFlight: 1 }, { inFlight: 3 }, { inFlight: 1 }]);
    assert.deepEqual(counts(policy, 3, 100), [50, 0, 50]);
  });
});

describe('client hash (weighted rendezvous)', () => {
  const urls = ['http://10.0.0.1:80', 'http://10.0.0.2:80', 'http://10.0.0.3:80', 'http://10.0.0.4:80'];
  const clients = Array.from({ length: 1000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);
  const pickAll = (policy: Policy, candidates: number): number[] => clients.map((clientKey) => policy.choose(candidates, { clientKey, stickyTag: null }));

  test('the same client always gets the same upstream, from a fresh instance too', () => {
    const first = pickAll(new ClientHash(urls, [1, 1, 1, 1]), all(4));
    assert.deepEqual(pickAll(new ClientHash(urls, [1, 1, 1, 1]), all(4)), first);
    const policy = new ClientHash(urls, [1, 1, 1, 1]);
    pickAll(policy, all(4));
    assert.deepEqual(pickAll(policy, all(4)), first, 'no state between picks');
  });

  test('clients spread by weight', () => {
    const picks = pickAll(new ClientHash(urls, [1, 1, 2, 4]), all(4));
    const shares = [0, 1, 2, 3].map((i) => picks.filter((p) => p === i).length / clients.length);
    const expected = [1 / 8, 1 / 8, 2 / 8, 4 / 8];
    for (const [i, share] of shares.entries()) assert.ok(Math.abs(share - expected[i]!) < 0.05, `upstream ${i}: ${share} of clients, expected about ${expected[i]}`);
  });

  test('one upstream going down moves only its own clients, about its share', () => {
    const policy = new ClientHash(urls, [1, 1, 1, 1]);
    const before = pickAll(policy, all(4));
    const after = pickAll(policy, only(0, 2, 3));
    const moved = clients.filter((_, i) => before[i] !== after[i]).length;
    const onIt = before.filter((p) => p === 1).length;
    assert.equal(moved, onIt, 'exactly the clients of the upstream that went down moved');
    assert.ok(Math.abs(moved / clients.length - 0.25) < 0.05, `moved ${moved / clients.length} of clients`);
    for (const [i, pick] of after.entries()) if (before[i] !== 1) assert.equal(pick, before[i]);
    // And they spread over the others rather than piling on one.
    const spread = [0, 2, 3].map((u) => clients.filter((_, i) => before[i] === 1 && after[i] === u).length);
    assert.ok(Math.min(...spread) > onIt / 6, `the moved clients went ${spread.join('/')}`);
    assert.deepEqual(pickAll(policy, all(4)), before, 'they come back when it does');
  });

  test('the route order does not matter, only the addresses', () => {
    const forward = pickAll(new ClientHash(urls, [1, 1, 1, 1]), all(4)).map((i) => urls[i]);
    const reversedUrls = [...urls].reverse();
    const backward = pickAll(new ClientHash(reversedUrls, [1, 1, 1, 1]), all(4)).map((i) => reversedUrls[i]);
    assert.deepEqual(backward, forward);
  });
});

describe('sticky cookie', () => {
  const key = Buffer.alloc(32, 7);
  const urls = ['http://10.0.0.1:80', 'http://10.0.0.2:80', 'http://10.0.0.3:80'];
  const tags = new StickyTags(key, 'media', urls);

  test('a tag naming a candidate is followed', () => {
    const policy = new StickyCookie(tags, [1, 1, 1]);
    for (let i = 0; i < 10; i++) assert.equal(policy.choose(all(3), { clientKey: 'x', stickyTag: tags.tags[2]! }), 2);
  });

  test('no tag, an unknown tag, or a tag whose upstream is not a candidate: weighted round robin', () => {
    const policy = new StickyCookie(tags, [2, 1, 1]);
    assert.deepEqual(counts(policy, 3, 400), [200, 100, 100]);
    assert.deepEqual(counts(policy, 3, 400, all(3), { clientKey: 'x', stickyTag: 'AAAAAAAAAAAAAAAA' }), [200, 100, 100]);
    const elsewhere = counts(policy, 3, 300, only(0, 1), { clientKey: 'x', stickyTag: tags.tags[2]! });
    assert.deepEqual(elsewhere, [200, 100, 0]);
  });

  test('a tag of another route with the same upstreams is not honoured', () => {
    const other = new StickyTags(key, 'photos', urls);
    assert.equal(tags.indexOf(other.tags[2]!), -1);
    const policy = new StickyCookie(tags, [1, 1, 1]);
    assert.deepEqual(counts(policy, 3, 30, all(3), { clientKey: 'x', stickyTag: other.tags[2]! }), [10, 10, 10]);
  });
});
