// The small parts of basic auth on their own: the failure table stays bounded and forgets after its
// window, the realm never carries what a header cannot, and credentials parse as RFC 7617 says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basicCredentials, CHECKS_PER_CLIENT, FAILURE_LIMIT, FAILURE_TABLE_MAX, FAILURE_WINDOW_MS, FailureLimiter, realmOf } from '../../src-main/core/access/basic-auth.js';

test('the failure table locks after FAILURE_LIMIT failures and forgets when the window ends', () => {
  const limiter = new FailureLimiter();
  const t0 = 1_000_000;
  for (let i = 0; i < FAILURE_LIMIT - 1; i++) limiter.fail('203.0.113.5', t0 + i);
  assert.equal(limiter.lockedFor('203.0.113.5', t0 + 100), 0);
  limiter.fail('203.0.113.5', t0 + 100);
  assert.equal(limiter.lockedFor('203.0.113.5', t0 + 100), Math.ceil((FAILURE_WINDOW_MS - 100) / 1000));
  assert.equal(limiter.lockedFor('203.0.113.6', t0 + 100), 0);
  assert.equal(limiter.lockedFor('203.0.113.5', t0 + FAILURE_WINDOW_MS), 0, 'the lock never outlasts the window');
  assert.equal(limiter.size, 0);
});

test('a flood of addresses cannot grow the failure table past FAILURE_TABLE_MAX', () => {
  const limiter = new FailureLimiter();
  for (let i = 0; i < FAILURE_TABLE_MAX + 5000; i++) limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1000);
  assert.equal(limiter.size, FAILURE_TABLE_MAX);
});

test('the realm is printable ASCII without quotes, and never empty', () => {
  assert.equal(realmOf('Family photos'), 'Family photos');
  assert.equal(realmOf('Bob\'s "NAS" \\ café'), 'Bob\'s NAS  caf?');
  assert.equal(realmOf('  '), 'Gatehouse');
});

test('Basic credentials: the first colon splits, the password may hold more', () => {
  const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  assert.deepEqual(basicCredentials(header('alice:pa:ss wörd')), { name: 'alice', password: 'pa:ss wörd' });
  assert.deepEqual(basicCredentials(`bAsIc ${Buffer.from('a:b').toString('base64')}`), { name: 'a', password: 'b' });
  assert.equal(basicCredentials(header(':nouser')), null);
  assert.equal(basicCredentials(header('nocolon')), null);
  assert.equal(basicCredentials('Bearer abc'), null);
  assert.equal(basicCredentials(undefined), null);
});

test('one client has at most CHECKS_PER_CLIENT checks under way; a finished one frees its slot and leaves no entry', () => {
  const limiter = new FailureLimiter();
  for (let i = 0; i < CHECKS_PER_CLIENT; i++) assert.equal(limiter.startCheck('203.0.113.5'), true);
  assert.equal(limiter.startCheck('203.0.113.5'), false);
  assert.equal(limiter.startCheck('203.0.113.6'), true, 'another client is not held back');
  limiter.endCheck('203.0.113.5');
  assert.equal(limiter.startCheck('203.0.113.5'), true);
  for (let i = 0; i < CHECKS_PER_CLIENT; i++) limiter.endCheck('203.0.113.5');
  limiter.endCheck('203.0.113.6');
  assert.equal((limiter as unknown as { checking: Map<string, number> }).checking.size, 0);
  assert.equal(limiter.hasFailed('203.0.113.5'), false);
  limiter.fail('203.0.113.5');
  assert.equal(limiter.hasFailed('203.0.113.5'), true);
});
