// The per-address failure limiter on its own: the window slides, the retry time is the oldest
// failure's age-out rounded up to minutes, and the map forgets the longest-unseen address when full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { clientKey, FailureLimiter } from '../../src-main/headless/auth/failure-limiter.js';

const limits = { maxFailures: 3, windowMs: 10 * 60_000, maxClients: 2 };
const refused = (limiter: FailureLimiter, address: string, now: number) => {
  try {
    limiter.begin(address, now);
    return null;
  } catch (error) {
    assert.ok(error instanceof ApiError && error.code === 'rate_limited');
    return error.message;
  }
};

test('the fourth failure in ten minutes is refused until the first ages out', () => {
  const limiter = new FailureLimiter(limits);
  for (const at of [0, 60_000, 120_000]) assert.equal(refused(limiter, 'a', at), null);
  assert.equal(refused(limiter, 'a', 121_000), 'Too many failed attempts from this device. Try again in 8 minutes.');
  assert.equal(refused(limiter, 'a', 9.5 * 60_000), 'Too many failed attempts from this device. Try again in 1 minute.');
  assert.equal(refused(limiter, 'a', 10 * 60_000), null, 'the first failure aged out');
});

test('forgive takes back one attempt', () => {
  const limiter = new FailureLimiter(limits);
  for (let i = 0; i < 10; i++) {
    limiter.begin('a', i);
    limiter.forgive('a');
  }
  assert.equal(refused(limiter, 'a', 11), null);
});

test('the map is bounded: a third address pushes out the longest-unseen one', () => {
  const limiter = new FailureLimiter(limits);
  for (let i = 0; i < 3; i++) limiter.begin('a', i);
  assert.ok(refused(limiter, 'a', 5));
  limiter.begin('b', 6);
  limiter.begin('c', 7);
  assert.equal(refused(limiter, 'a', 8), null, '"a" was forgotten to make room');
});

test('failures count per IPv4 address, and per /64 network for IPv6', () => {
  assert.equal(clientKey('192.168.1.20'), '192.168.1.20');
  assert.equal(clientKey('::ffff:192.168.1.20'), '192.168.1.20', 'a mapped IPv4 address is that address');
  assert.equal(clientKey('2001:db8:0:1:aaaa::1'), '2001:db8:0:1::/64');
  assert.equal(clientKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'), '2001:db8:0:1::/64', 'every address of the /64 is one client');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
});
