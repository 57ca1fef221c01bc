// The token-bucket math of the limits pass: a client gets `perMinute` requests at once, then one
// every 60/perMinute seconds; a refusal says how long until the next token; buckets of different
// keys do not touch; and a bucket that has refilled is the first thing a full table gives up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateBuckets, retryAfterSeconds } from '../../src-main/core/access/limits.js';

test('a full bucket takes perMinute requests at once, then refuses with the time to the next token', () => {
  const buckets = new RateBuckets(100);
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) assert.equal(buckets.take('a', 3, t0), 0, `request ${i + 1} of the burst`);
  // 3 a minute: one token every 20 s.
  assert.equal(buckets.take('a', 3, t0), 20_000);
  assert.equal(buckets.take('a', 3, t0 + 5_000), 15_000);
  assert.equal(retryAfterSeconds(15_000), 15);
  // 20 s after the burst, exactly one token is back.
  assert.equal(buckets.take('a', 3, t0 + 20_000), 0);
  assert.equal(buckets.take('a', 3, t0 + 20_000), 20_000);
  // A minute of silence refills the bucket completely, and no more than completely.
  assert.equal(buckets.tokens('a', 3, t0 + 100_000), 3);
  for (let i = 0; i < 3; i++) assert.equal(buckets.take('a', 3, t0 + 100_000), 0);
  assert.ok(buckets.take('a', 3, t0 + 100_000) > 0);
});

test('the refill rate is perMinute/60 a second, whatever the rate', () => {
  for (const perMinute of [1, 7, 60, 1200, 100_000]) {
    const buckets = new RateBuckets(10);
    const t0 = 5_000;
    let taken = 0;
    while (buckets.take('k', perMinute, t0) === 0) taken++;
    assert.equal(taken, perMinute, `a fresh bucket of ${perMinute} holds ${perMinute}`);
    // Over the next minute, exactly perMinute more (sending as fast as they come back).
    let more = 0;
    for (let t = t0; t < t0 + 60_000; ) {
      const wait = buckets.take('k', perMinute, t);
      if (wait === 0) more++;
      else t += wait;
    }
    assert.ok(Math.abs(more - perMinute) <= 1, `${perMinute}/min refilled ${more} in a minute`);
  }
});

test('Retry-After is whole seconds, at least 1', () => {
  assert.equal(retryAfterSeconds(1), 1);
  assert.equal(retryAfterSeconds(999), 1);
  assert.equal(retryAfterSeconds(1001), 2);
  assert.equal(retryAfterSeconds(60_000), 60);
});

test('keys have their own buckets', () => {
  const buckets = new RateBuckets(100);
  assert.equal(buckets.take('route1 203.0.113.5', 1, 0), 0);
  assert.ok(buckets.take('route1 203.0.113.5', 1, 0) > 0);
  assert.equal(buckets.take('route1 203.0.113.6', 1, 0), 0, 'another address');
  assert.equal(buckets.take('route2 203.0.113.5', 1, 0), 0, 'the same address on another route');
});

test('a flood of new addresses does not reset the debt of a client that keeps sending', () => {
  const buckets = new RateBuckets(100);
  // The abuser empties its bucket of 2: it owes a minute.
  buckets.take('abuser', 2, 0);
  buckets.take('abuser', 2, 0);
  assert.ok(buckets.take('abuser', 2, 0) > 0);
  // 10,000 new addresses arrive, 100 times the table; the abuser keeps trying meanwhile.
  for (let i = 0; i < 10_000; i++) {
    buckets.take(`flood${i}`, 1200, 10 + i);
    if (i % 10 === 0) assert.ok(buckets.take('abuser', 2, 10 + i) > 0, `the abuser is still limited after ${i} flood addresses`);
  }
  assert.equal(buckets.table.size, 100);
});
