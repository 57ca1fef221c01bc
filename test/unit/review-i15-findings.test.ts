// Reviewer's findings on issue 15 (ACME), pure logic: each test names what a user would suffer and
// FAILS on the code as reviewed. They are findings to fix, not guards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, parseInput } from '../../shared/api.js';
import { planRenewal } from '../../src-main/core/certs/acme/renewal-plan.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

test('a route whose first order keeps failing is not re-ordered at once after every failure (the CA is hammered in a loop)', () => {
  // No certificate yet, three failures, the last one just now: the plan must wait (backoff), or
  // AcmeService.#check starts the next order immediately after each failure (its `at <= now`).
  const now = new Date('2026-01-01T00:00:00Z');
  const plan = planRenewal({ facts: null, info: null, failures: 3, lastFailureAt: now, now, timeZone: 'UTC' });
  assert.ok(plan.at > now.getTime(), `after 3 failures the next order is planned ${plan.at - now.getTime()} ms from now (source ${plan.source}: "${plan.reason}")`);
});

test('a CA rate limit on the first order is honoured: no new order before its Retry-After', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const retryNotBefore = new Date(now.getTime() + 3 * HOUR);
  const plan = planRenewal({ facts: null, info: null, failures: 1, lastFailureAt: now, retryNotBefore, now, timeZone: 'UTC' });
  assert.ok(plan.at >= retryNotBefore.getTime(), `rate limited until ${retryNotBefore.toISOString()}, but ordered again at ${new Date(plan.at).toISOString()}`);
});

test('a renewalInfo window that starts after the certificate expires does not leave the certificate to expire unrenewed', () => {
  // A CA bug (or a window for another certificate) must not push the renewal past notAfter: the
  // lifetime rule (two thirds) or at least "before expiry" should win.
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date(notBefore.getTime() + 6 * DAY);
  const now = new Date(notBefore.getTime() + HOUR);
  const plan = planRenewal({
    facts: { notBefore, notAfter },
    info: { window: { start: new Date('2030-01-01T00:00:00Z'), end: new Date('2030-01-02T00:00:00Z') }, explanationUrl: null, retryAfter: new Date(now.getTime() + HOUR) },
    failures: 0,
    lastFailureAt: null,
    now,
    timeZone: 'UTC',
  });
  assert.ok(plan.at < notAfter.getTime(), `renewal planned ${new Date(plan.at).toISOString()} for a certificate expiring ${notAfter.toISOString()} ("${plan.reason}")`);
});

test('a pre-flight of a name that is not a DNS name (bücher…, a..b, "a b") is refused naming the field, not answered "DNS did not answer in time"', () => {
  // Route names refuse these with a sentence (write xn--…); the pre-flight takes them and asks DNS,
  // so the person reads a DNS failure for what is a typing mistake.
  const acme = { accountId: 'acct1', challenge: 'http-01' };
  for (const name of ['bücher.test.example', 'a..b.test.example', 'a b.test.example']) {
    const outcome = (() => {
      try {
        parseInput('preflightCertificate', { names: [name], acme });
        return 'accepted';
      } catch (error) {
        return error instanceof ApiError && error.code === 'invalid_input' && JSON.stringify(error.details).includes('names') ? 'refused' : `threw ${String(error)}`;
      }
    })();
    assert.equal(outcome, 'refused', `pre-flight input with the name "${name}"`);
  }
});
