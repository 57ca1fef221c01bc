// The queue of password hashes waiting for a core is bounded: a flood is refused with 429 at once
// rather than queued, so the owner's sign-in is not stuck behind it; after the flood hashing works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { hashPassword, MAX_WAITING, passwordMatches } from '../../src-main/headless/auth/password-hash.js';

test('more than the running and waiting hashes are refused as rate_limited; the rest complete', async () => {
  const encoded = await hashPassword('the real password');
  const flood = Array.from({ length: MAX_WAITING + 12 }, (_, i) => passwordMatches(encoded, `guess ${i}`));
  const results = await Promise.allSettled(flood);
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(refused.length, 10, 'two run, MAX_WAITING wait, the rest are refused');
  for (const r of refused) assert.ok(r.reason instanceof ApiError && r.reason.code === 'rate_limited', String(r.reason));
  assert.ok(results.filter((r) => r.status === 'fulfilled').every((r) => r.value === false));
  assert.equal(await passwordMatches(encoded, 'the real password'), true);
});

test('a check from a client with a clean record takes the place of a guesser waiting in a full queue', async () => {
  const { PasswordHasher } = await import('../../src-main/core/password-hash.js');
  const hasher = new PasswordHasher();
  const encoded = await hasher.hash('the real password');
  const guesses = Promise.allSettled(Array.from({ length: MAX_WAITING + 2 }, (_, i) => hasher.matches(encoded, `guess ${i}`, 'later')));
  const owner = hasher.matches(encoded, 'the real password', 'first');
  assert.equal(await owner, true, 'the clean check was refused or lost');
  const results = await guesses;
  assert.equal(results.filter((r) => r.status === 'rejected').length, 1, 'exactly one waiting guess gave up its place');
});

test('the admin sign-in has its own queue: a full route queue does not refuse it', async () => {
  const { PasswordHasher } = await import('../../src-main/core/password-hash.js');
  const routes = new PasswordHasher();
  const encoded = await hashPassword('the real password');
  const flood = Promise.allSettled(Array.from({ length: MAX_WAITING + 2 }, (_, i) => routes.matches(encoded, `guess ${i}`, 'first')));
  await assert.rejects(routes.matches(encoded, 'one more', 'first'), /busy/);
  assert.equal(await passwordMatches(encoded, 'the real password'), true);
  await flood;
});
