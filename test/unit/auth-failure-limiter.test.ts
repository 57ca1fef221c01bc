// The per-address failure limiter on its own: the window slides, the retry time is the oldest
// failure's age-out rounded up to minutes, and the map forgets the longest-unseen address when full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { clientKey, FailureLimiter } from '../../src-main/headless/auth/failure-limiter.js';

const limits = { maxFailures: 3, windowMs: 10 * 60_000, maxClients: 2, maxFailuresOverall: 1000 };
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

test('IPv6: a /56 gets twice the budget of a /64 and a /48 four times, so new /64s do not buy more guesses', () => {
  const limiter = new FailureLimiter({ maxFailures: 2, windowMs: 60_000, maxClients: 100, maxFailuresOverall: 1000 });
  // Two failures from each of two /64s in one /56: its 4 are spent, a third /64 there is refused.
  for (const net of ['2001:db8:0:100', '2001:db8:0:101']) for (const host of ['::1', '::2']) assert.equal(refused(limiter, `${net}${host}`, 0), null);
  assert.match(refused(limiter, '2001:db8:0:1ff::9', 0) ?? '', /^Too many failed attempts from this network\./);
  // Another /56 of the same /48 has its own 4, and then the /48's 8 are spent.
  for (const net of ['2001:db8:0:200', '2001:db8:0:201']) for (const host of ['::1', '::2']) assert.equal(refused(limiter, `${net}${host}`, 0), null);
  assert.match(refused(limiter, '2001:db8:0:300::1', 0) ?? '', /from this network/);
  assert.equal(refused(limiter, '2001:db8:1:100::1', 0), null, 'another /48 is not affected');
});

test('every client together has an overall budget; the machine\'s own loopback is exempt from it', () => {
  const limiter = new FailureLimiter({ maxFailures: 5, windowMs: 60_000, maxClients: 100, maxFailuresOverall: 4 });
  for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) assert.equal(refused(limiter, host, 0), null);
  assert.equal(refused(limiter, '10.0.0.5', 1000), 'Too many failed attempts from all devices together. Try again in 1 minute.');
  assert.equal(refused(limiter, '127.0.0.1', 1000), null, 'the owner at the server may still try');
  assert.equal(refused(limiter, '::1', 1000), null);
  limiter.forgive('10.0.0.4');
  assert.equal(refused(limiter, '10.0.0.5', 1000), null, 'a forgiven attempt frees its place');
  assert.equal(refused(limiter, '10.0.0.6', 60_001), null, 'the window slides');
});
