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
