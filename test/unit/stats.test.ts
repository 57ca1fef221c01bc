// Per-route counters and latency percentiles: a known distribution gives p50/p99 within one
// histogram bucket (the bucket's upper edge, ≤ 10% above), the window forgets after five minutes
// and the per-minute rate after one, and counters outlive the window. Time is injected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyStats } from '../../src-main/core/proxy/stats.js';

/** Aligned to the 10-second slots, so "just before" and "just after" a boundary are exact. */
const T0 = 1_800_000_000_000;
const MINUTE = 60_000;

/** Within one bucket above `truth`: buckets are 10% wide and report their upper edge (rounded to 0.1 ms). */
function withinOneBucket(reported: number | null, truth: number, what: string): void {
  assert.ok(reported !== null, `${what}: no value`);
  assert.ok(reported >= truth - 0.05 && reported <= truth * 1.1 + 0.05, `${what}: reported ${reported} ms for ${truth} ms`);
}

describe('ProxyStats', () => {
  test('a single latency of any size is reported within one bucket', () => {
    for (const ms of [0.2, 1, 3.3, 12, 99, 250, 1000, 4321, 60_000]) {
      const stats = new ProxyStats();
      stats.counters('r').record(ms, false, 0, 0, T0);
      const [route] = stats.snapshot(['r'], T0).routes;
      withinOneBucket(route?.p50Ms ?? null, ms, `p50 of ${ms}`);
      withinOneBucket(route?.p99Ms ?? null, ms, `p99 of ${ms}`);
    }
  });

  test('uniform 1…1000 ms: p50 ≈ 500, p99 ≈ 990', () => {
    const stats = new ProxyStats();
    const counters = stats.counters('r');
    // Spread over the last five minutes, in shuffled order.
    const values = Array.from({ length: 1000 }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 1000) - ((b * 7919) % 1000));
    values.forEach((ms, i) => counters.record(ms, false, 0, 0, T0 + i * 250));
    const now = T0 + 999 * 250;
    const [route] = stats.snapshot(['r'], now).routes;
    withinOneBucket(route?.p50Ms ?? null, 500, 'p50');
    withinOneBucket(route?.p99Ms ?? null, 990, 'p99');
  });

  test('a bimodal distribution: p50 sits with the fast mass, p99 with the slow tail', () => {
    const stats = new ProxyStats();
    const counters = stats.counters('r');
    for (let i = 0; i < 980; i++) counters.record(5, false, 0, 0, T0);
    for (let i = 0; i < 20; i++) counters.record(800, false, 0, 0, T0);
    const [route] = stats.snapshot(['r'], T0).routes;
    withinOneBucket(route?.p50Ms ?? null, 5, 'p50');
    withinOneBucket(route?.p99Ms ?? null, 800, 'p99');
    // With only 1% slow (rank 990 falls on the fast side), p99 stays fast.
    const light = new ProxyStats();
    for (let i = 0; i < 990; i++) light.counters('r').record(5, false, 0, 0, T0);
    for (let i = 0; i < 10; i++) light.counters('r').record(800, false, 0, 0, T0);
    withinOneBucket(light.snapshot(['r'], T0).routes[0]?.p99Ms ?? null, 5, 'p99 with a 1% tail');
  });

  test('the percentile window is five minutes; counters outlive it', () => {
    const stats = new ProxyStats();
    stats.counters('r').record(100, true, 10, 20, T0);
    const at = (now: number) => stats.snapshot(['r'], now).routes[0];
    withinOneBucket(at(T0 + 5 * MINUTE - 10_000)?.p50Ms ?? null, 100, 'just inside five minutes');
    const expired = at(T0 + 5 * MINUTE);
    assert.equal(expired?.p50Ms, null);
    assert.equal(expired?.p99Ms, null);
    assert.equal(expired?.requests, 1);
    assert.equal(expired?.errors, 1);
    assert.equal(expired?.bytesIn, 10);
    assert.equal(expired?.bytesOut, 20);
    // A snapshot taken "before" the sample (a clock step back) does not count it either.
    assert.equal(at(T0 - 10_000)?.p50Ms, null);
  });

  test('requestsPerMinute counts the last 60 seconds only', () => {
    const stats = new ProxyStats();
    const counters = stats.counters('r');
    for (let i = 0; i < 30; i++) counters.record(10, false, 0, 0, T0 + i * 1000);
    const rate = (now: number) => stats.snapshot(['r'], now).routes[0]?.requestsPerMinute;
    assert.equal(rate(T0 + 29_000), 30);
    assert.equal(rate(T0 + MINUTE - 1), 30);
    assert.equal(rate(T0 + MINUTE), 20, 'the first 10-second slot has left the minute');
    assert.equal(rate(T0 + MINUTE + 20_000), 0);
  });

  test('a slot reused five minutes later forgets its old samples', () => {
    const stats = new ProxyStats();
    const counters = stats.counters('r');
    for (let i = 0; i < 100; i++) counters.record(10, false, 0, 0, T0);
    counters.record(500, false, 0, 0, T0 + 5 * MINUTE); // the same ring slot, a new period
    const [route] = stats.snapshot(['r'], T0 + 5 * MINUTE).routes;
    withinOneBucket(route?.p50Ms ?? null, 500, 'only the new sample');
    assert.equal(route?.requestsPerMinute, 1);
    assert.equal(route?.requests, 101);
  });

  test('no traffic: null percentiles and zero counts; unknown ids start empty', () => {
    const stats = new ProxyStats();
    const snapshot = stats.snapshot(['new'], T0);
    assert.equal(snapshot.time, new Date(T0).toISOString());
    assert.deepEqual(snapshot.routes, [
      { routeId: 'new', requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, p50Ms: null, p99Ms: null, requestsPerMinute: 0, openWebSockets: 0, refused: 0, refusedPerMinute: 0 },
    ]);
    assert.equal(snapshot.unmatched, 0);
  });

  test('counters add up, unmatched requests are counted apart, and removed routes are dropped', () => {
    const stats = new ProxyStats();
    stats.counters('a').record(1, false, 100, 1000, T0);
    stats.counters('a').record(2, true, 50, 0, T0);
    stats.counters('b').record(3, false, 1, 1, T0);
    stats.counters('b').openWebSockets += 2;
    stats.recordUnmatched();
    stats.recordUnmatched();
    const snapshot = stats.snapshot(['a', 'b'], T0);
    assert.deepEqual(
      snapshot.routes.map((r) => [r.routeId, r.requests, r.errors, r.bytesIn, r.bytesOut, r.openWebSockets]),
      [
        ['a', 2, 1, 150, 1000, 0],
        ['b', 1, 0, 1, 1, 2],
      ],
    );
    assert.equal(snapshot.unmatched, 2);
    stats.retainOnly(new Set(['b']));
    assert.equal(stats.snapshot(['a'], T0).routes[0]?.requests, 0, 'a removed route starts over if it comes back');
    assert.equal(stats.snapshot(['b'], T0).routes[0]?.requests, 1);
  });

  test('a route keeps one counters object, so the request path can hold on to it', () => {
    const stats = new ProxyStats();
    assert.equal(stats.counters('r'), stats.counters('r'));
  });

  test('upgraded connections count as requests and in the rate, never in the percentiles', () => {
    const stats = new ProxyStats();
    const counters = stats.counters('r');
    for (let i = 0; i < 10; i++) counters.record(20, false, 0, 0, T0);
    for (let i = 0; i < 5; i++) counters.recordUpgraded(false, 100, 200, T0);
    const [route] = stats.snapshot(['r'], T0).routes;
    assert.equal(route?.requests, 15);
    assert.equal(route?.requestsPerMinute, 15);
    assert.equal(route?.bytesOut, 1000);
    withinOneBucket(route?.p99Ms ?? null, 20, 'p99 without the upgrades');
    const onlyUpgrades = new ProxyStats();
    onlyUpgrades.counters('w').recordUpgraded(false, 0, 0, T0);
    assert.equal(onlyUpgrades.snapshot(['w'], T0).routes[0]?.p99Ms, null, 'no latency at all when only upgrades ran');
  });

  test('an upstream with nothing since the last drain is dropped from the history buckets', () => {
    const stats = new ProxyStats();
    const counters = stats.counters('r');
    counters.record(5, false, 1, 1, T0, -1, '10.0.0.1:80');
    counters.record(5, false, 1, 1, T0, -1, '10.0.0.2:80');
    const seen: string[][] = [];
    const drain = () => stats.drain((_id, _route, upstreams) => seen.push([...upstreams].filter(([, bucket]) => !bucket.empty).map(([address]) => address)));
    drain();
    assert.deepEqual([...counters.upstreamBuckets.keys()].sort(), ['10.0.0.1:80', '10.0.0.2:80'], 'both kept after a drain with their counts');
    // 10.0.0.2 was removed from the route: only 10.0.0.1 gets requests now.
    counters.record(5, false, 1, 1, T0, -1, '10.0.0.1:80');
    drain();
    assert.deepEqual([...counters.upstreamBuckets.keys()], ['10.0.0.1:80'], 'the idle one is gone');
    drain();
    assert.deepEqual([...counters.upstreamBuckets.keys()], [], 'and so is an idle busy one, made again on its next request');
    assert.deepEqual(seen, [['10.0.0.1:80', '10.0.0.2:80'], ['10.0.0.1:80'], []]);
  });
});
