// When a held ACME certificate renews, as a table of fixed clocks and random numbers: the CA's ARI
// window first (a stable random point in it, now when it has passed), else two thirds of the life
// for 90-, 64-, 45- and 6-day certificates, and after failures a backoff that doubles to six hours
// and drops to minutes once expiry is a day away.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLifetime, formatSpan, planRenewal, type RenewalInfo, type RenewalPlanInput } from '../../src-main/core/certs/acme/renewal-plan.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);

function facts(notBefore: string, lifetimeMs: number) {
  const start = at(notBefore);
  return { notBefore: start, notAfter: new Date(start.getTime() + lifetimeMs) };
}

function info(start: string, end: string, retryAfter = '2026-01-01T06:00:00Z'): RenewalInfo {
  return { window: { start: at(start), end: at(end) }, explanationUrl: null, retryAfter: at(retryAfter) };
}

function plan(input: Partial<RenewalPlanInput> & Pick<RenewalPlanInput, 'now'>) {
  return planRenewal({ facts: null, info: null, failures: 0, lastFailureAt: null, timeZone: 'UTC', ...input });
}

test('no certificate yet: ordered now', () => {
  const now = at('2026-01-01T00:00:00Z');
  assert.deepEqual(plan({ now }), { at: now.getTime(), source: 'first', reason: 'No certificate yet: it is ordered now.', window: null, checkInfoAt: null });
});

test('without ARI: two thirds into the life, whatever the life is', () => {
  const rows: [name: string, lifetimeMs: number, dueAfterMs: number, reason: string][] = [
    // Let's Encrypt's notAfter is inclusive, so its 90 days are a second short.
    ['90-day (today)', 90 * DAY - 1000, 60 * DAY, 'Two thirds into its 90-day life (5 Feb).'],
    ['64-day (2027)', 64 * DAY - 1000, (64 * DAY * 2) / 3, 'Two thirds into its 64-day life (19 Jan).'],
    ['45-day (2028)', 45 * DAY - 1000, 30 * DAY, 'Two thirds into its 45-day life (6 Jan).'],
    ['6-day', 6 * DAY, 4 * DAY, 'Two thirds into its 6-day life (11 Dec).'],
    ['shortlived: 160 hours', 160 * HOUR, (160 * HOUR * 2) / 3, 'Two thirds into its 6-day life (11 Dec).'],
    ['a day', DAY, 16 * HOUR, 'Two thirds into its 24-hour life (8 Dec).'],
  ];
  for (const [name, lifetime, dueAfter, reason] of rows) {
    const held = facts('2025-12-07T12:00:00Z', lifetime);
    const result = plan({ facts: held, now: at('2025-12-08T00:00:00Z') });
    assert.equal(result.source, 'lifetime', name);
    assert.ok(Math.abs(result.at - (held.notBefore.getTime() + dueAfter)) < 1000, `${name}: due ${new Date(result.at).toISOString()}`);
    assert.equal(result.reason, reason, name);
    assert.equal(result.window, null);
  }
});

test('lifetime words', () => {
  assert.equal(describeLifetime(90 * DAY - 1000), '90-day');
  assert.equal(describeLifetime(160 * HOUR), '6-day');
  assert.equal(describeLifetime(7 * DAY), '7-day');
  assert.equal(describeLifetime(36 * HOUR), '36-hour');
});

test('with ARI: a random point in the window, from its start (random 0) to its end', () => {
  const held = facts('2025-12-01T00:00:00Z', 90 * DAY - 1000);
  const window = info('2026-01-12T00:00:00Z', '2026-01-14T00:00:00Z');
  const now = at('2026-01-01T00:00:00Z');
  const rows: [random: number, due: string][] = [
    [0, '2026-01-12T00:00:00.000Z'],
    [0.25, '2026-01-12T12:00:00.000Z'],
    [0.5, '2026-01-13T00:00:00.000Z'],
    [0.999, '2026-01-13T23:57:07.200Z'],
  ];
  for (const [random, due] of rows) {
    const result = plan({ facts: held, info: window, now, random, caLabel: 'Let’s Encrypt' });
    assert.equal(new Date(result.at).toISOString(), due, `random ${random}`);
    assert.equal(result.source, 'ari');
    assert.deepEqual(result.window, { start: '2026-01-12T00:00:00.000Z', end: '2026-01-14T00:00:00.000Z' });
    assert.equal(result.checkInfoAt, at('2026-01-01T06:00:00Z').getTime());
  }
  assert.equal(plan({ facts: held, info: window, now, random: 0.5, caLabel: 'Let’s Encrypt' }).reason, 'In the renewal window Let’s Encrypt suggested (12–14 Jan), on 13 Jan.');
  assert.equal(plan({ facts: held, info: window, now, random: 0.5 }).reason, 'In the renewal window the CA suggested (12–14 Jan), on 13 Jan.');
});

test('with ARI: the window wins over two thirds, even far earlier (a CA revoking early moves it)', () => {
  const held = facts('2025-12-01T00:00:00Z', 90 * DAY - 1000);
  const result = plan({ facts: held, info: info('2025-12-10T00:00:00Z', '2025-12-10T06:00:00Z'), now: at('2025-12-09T00:00:00Z'), random: 0.5 });
  assert.equal(new Date(result.at).toISOString(), '2025-12-10T03:00:00.000Z');
  assert.match(result.reason, /\(10 Dec 00:00–06:00\)/);
});

test('with ARI: a window that has ended means now; one that has started may give a time already past (also now)', () => {
  const held = facts('2025-12-01T00:00:00Z', 90 * DAY - 1000);
  const now = at('2026-01-20T00:00:00Z');
  const ended = plan({ facts: held, info: info('2026-01-12T00:00:00Z', '2026-01-14T00:00:00Z'), now, random: 0.5 });
  assert.equal(ended.at, now.getTime());
  assert.equal(ended.reason, 'The renewal window the CA suggested (12–14 Jan) has passed, so it renews now.');
  const started = plan({ facts: held, info: info('2026-01-18T00:00:00Z', '2026-01-22T00:00:00Z'), now, random: 0.1 });
  assert.ok(started.at <= now.getTime());
});

test('with ARI and no random given: the same time on every call for one window, another for another certificate', () => {
  const held = facts('2025-12-01T00:00:00Z', 90 * DAY - 1000);
  const window = info('2026-01-12T00:00:00Z', '2026-01-14T00:00:00Z');
  const calls = [0, 1, 2].map((hour) => plan({ facts: held, info: window, now: new Date(at('2026-01-01T00:00:00Z').getTime() + hour * HOUR), seed: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' }).at);
  assert.equal(new Set(calls).size, 1);
  const others = ['a.b', 'c.d', 'e.f', 'g.h'].map((seed) => plan({ facts: held, info: window, now: at('2026-01-01T00:00:00Z'), seed }).at);
  assert.ok(new Set([...others, calls[0]]).size > 1, 'certificates sharing a window spread out');
  for (const due of [...calls, ...others]) assert.ok(due >= window.window.start.getTime() && due < window.window.end.getTime());
});

test('after failures: 1, 2, 4… minutes from the last failure, up to six hours, with ±10 % jitter', () => {
  const held = facts('2026-01-01T00:00:00Z', 90 * DAY - 1000);
  const failedAt = at('2026-03-02T12:00:00Z'); // past the two-thirds point
  const rows: [failures: number, random: number, delayMs: number][] = [
    [1, 0.5, MINUTE],
    [2, 0.5, 2 * MINUTE],
    [3, 0.5, 4 * MINUTE],
    [3, 0, 3.6 * MINUTE],
    [3, 0.999_999, 4.4 * MINUTE],
    [9, 0.5, 256 * MINUTE],
    [10, 0.5, 6 * HOUR],
    [10, 0, 6 * HOUR], // 512 min × 0.9 is still past the cap
    [60, 0.5, 6 * HOUR],
  ];
  for (const [failures, random, delay] of rows) {
    const result = plan({ facts: held, failures, lastFailureAt: failedAt, now: failedAt, random });
    assert.equal(result.source, 'retry', `${failures} failures`);
    assert.ok(Math.abs(result.at - failedAt.getTime() - delay) <= 1, `${failures} failures, random ${random}: ${(result.at - failedAt.getTime()) / MINUTE} min`);
  }
});

test('after failures: the sentence names the count and the next try', () => {
  const held = facts('2026-01-01T00:00:00Z', 90 * DAY - 1000);
  const failedAt = at('2026-03-02T12:36:00Z');
  assert.equal(plan({ facts: held, failures: 3, lastFailureAt: failedAt, now: failedAt, random: 0.5 }).reason, 'Retrying after 3 failed attempts; next try 12:40.');
  assert.equal(plan({ facts: held, failures: 1, lastFailureAt: failedAt, now: failedAt, random: 0.5 }).reason, 'Retrying after 1 failed attempt; next try 12:37.');
  const late = at('2026-03-02T22:00:00Z');
  assert.equal(plan({ facts: held, failures: 12, lastFailureAt: late, now: late, random: 0.5 }).reason, 'Retrying after 12 failed attempts; next try 3 Mar 04:00.');
});

test('after failures near or past expiry: every five minutes, however many failures', () => {
  const held = facts('2026-01-01T00:00:00Z', 6 * DAY);
  for (const failedAt of [at('2026-01-06T06:00:00Z'), at('2026-01-06T23:00:00Z'), at('2026-01-09T00:00:00Z')]) {
    const result = plan({ facts: held, failures: 40, lastFailureAt: failedAt, now: failedAt, random: 0.5 });
    assert.equal(result.at - failedAt.getTime(), 5 * MINUTE, failedAt.toISOString());
  }
  // A 6-day certificate due on day 4 with two days left still backs off normally until the last day.
  const day4 = at('2026-01-05T00:00:00Z');
  assert.equal(plan({ facts: held, failures: 20, lastFailureAt: day4, now: day4, random: 0.5 }).at - day4.getTime(), 6 * HOUR);
});

test('a failure before the due time (a manual renewal) does not pull the scheduled renewal forward', () => {
  const held = facts('2026-01-01T00:00:00Z', 90 * DAY - 1000);
  const failedAt = at('2026-01-10T00:00:00Z');
  const result = plan({ facts: held, failures: 1, lastFailureAt: failedAt, now: failedAt, random: 0.5 });
  assert.equal(result.source, 'lifetime');
  const withAri = plan({ facts: held, info: info('2026-02-20T00:00:00Z', '2026-02-22T00:00:00Z'), failures: 2, lastFailureAt: failedAt, now: failedAt, random: 0.5 });
  assert.equal(withAri.source, 'ari');
  // But a window that has passed is "now", and the backoff still paces the retries.
  const later = at('2026-02-25T00:00:00Z');
  const passed = plan({ facts: held, info: info('2026-02-20T00:00:00Z', '2026-02-22T00:00:00Z'), failures: 4, lastFailureAt: later, now: later, random: 0.5 });
  assert.equal(passed.source, 'retry');
  assert.equal(passed.at, later.getTime() + 8 * MINUTE);
  const overdue = plan({ facts: held, info: info('2026-02-20T00:00:00Z', '2026-02-22T00:00:00Z'), failures: 4, lastFailureAt: new Date(later.getTime() - HOUR), now: later, random: 0.5 });
  assert.equal(overdue.source, 'retry', 'an overdue retry is still a retry');
  assert.ok(overdue.at < later.getTime());
});

test('after failures inside an ARI window: retry, keeping the window and the next renewalInfo check', () => {
  const held = facts('2026-01-01T00:00:00Z', 90 * DAY - 1000);
  const failedAt = at('2026-02-21T00:00:00Z');
  const result = plan({ facts: held, info: info('2026-02-20T00:00:00Z', '2026-02-22T00:00:00Z', '2026-02-21T06:00:00Z'), failures: 2, lastFailureAt: failedAt, now: failedAt, random: 0.5 });
  assert.equal(result.source, 'retry');
  assert.equal(result.at, failedAt.getTime() + 2 * MINUTE);
  assert.deepEqual(result.window, { start: '2026-02-20T00:00:00.000Z', end: '2026-02-22T00:00:00.000Z' });
  assert.equal(result.checkInfoAt, at('2026-02-21T06:00:00Z').getTime());
});

test('window wording: within a month, across months, within a day, and in the given zone', () => {
  assert.equal(formatSpan(at('2026-01-12T00:00:00Z').getTime(), at('2026-01-14T00:00:00Z').getTime(), 'UTC'), '12–14 Jan');
  assert.equal(formatSpan(at('2026-01-30T00:00:00Z').getTime(), at('2026-02-02T00:00:00Z').getTime(), 'UTC'), '30 Jan – 2 Feb');
  assert.equal(formatSpan(at('2026-01-12T10:00:00Z').getTime(), at('2026-01-12T16:00:00Z').getTime(), 'UTC'), '12 Jan 10:00–16:00');
  assert.equal(formatSpan(at('2026-01-12T10:00:00Z').getTime(), at('2026-01-12T16:00:00Z').getTime(), 'Asia/Tokyo'), '12–13 Jan');
});

test('after a rate limit: not before the CA’s Retry-After, even close to expiry', () => {
  const held = facts('2026-01-01T00:00:00Z', 90 * DAY - 1000);
  const failedAt = at('2026-03-02T12:36:00Z');
  const limited = plan({ facts: held, failures: 1, lastFailureAt: failedAt, retryNotBefore: at('2026-03-02T15:00:00Z'), now: failedAt, random: 0.5 });
  assert.equal(new Date(limited.at).toISOString(), '2026-03-02T15:00:00.000Z');
  assert.equal(limited.reason, 'Retrying after 1 failed attempt; next try 15:00, when the CA said it may.');
  const early = plan({ facts: held, failures: 3, lastFailureAt: failedAt, retryNotBefore: at('2026-03-02T12:37:00Z'), now: failedAt, random: 0.5 });
  assert.equal(early.reason, 'Retrying after 3 failed attempts; next try 12:40.', 'a Retry-After sooner than the backoff changes nothing');
  const dying = facts('2026-01-01T00:00:00Z', 6 * DAY);
  const lastDay = at('2026-01-06T12:00:00Z');
  assert.equal(plan({ facts: dying, failures: 9, lastFailureAt: lastDay, retryNotBefore: at('2026-01-06T13:00:00Z'), now: lastDay, random: 0.5 }).at, at('2026-01-06T13:00:00Z').getTime());
});

test('with ARI: a window the certificate cannot wait for gives way to two thirds, and the reason says why', () => {
  const held = facts('2026-01-01T00:00:00Z', 90 * DAY - 1000);
  const now = at('2026-01-02T00:00:00Z');
  const rows: [window: RenewalInfo, why: string][] = [
    [info('2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z'), 'the renewal window the CA suggested (1–2 Jan 2030) was ignored because it starts after the certificate expires (31 Mar).'],
    [info('2026-02-10T00:00:00Z', '2026-02-08T00:00:00Z'), 'the renewal window the CA suggested (10–8 Feb) was ignored because it ends before it starts.'],
    [info('2026-03-28T00:00:00Z', '2026-04-05T00:00:00Z'), "the renewal window the CA suggested (28 Mar – 5 Apr) was ignored because it starts too close to the certificate's expiry (31 Mar) to leave time for retries."],
  ];
  for (const [window, why] of rows) {
    const result = plan({ facts: held, info: window, now, random: 0.5 });
    assert.equal(result.source, 'lifetime', why);
    assert.equal(result.reason, `Two thirds into its 90-day life (1 Mar): ${why}`);
    assert.ok(Math.abs(result.at - (held.notBefore.getTime() + 60 * DAY)) < 1000);
  }
  // A window reaching past the latest safe point (nine days before expiry) is cut there.
  const late = plan({ facts: held, info: info('2026-03-10T00:00:00Z', '2026-04-30T00:00:00Z'), now, random: 0.999 });
  assert.equal(late.source, 'ari');
  assert.ok(late.at <= held.notAfter.getTime() - 9 * DAY, new Date(late.at).toISOString());
  assert.match(late.reason, /cut short to leave time before it expires on 31 Mar/);
});

test('dates far from now say their year', () => {
  const now = at('2026-01-01T00:00:00Z').getTime();
  assert.equal(formatSpan(at('2027-06-01T00:00:00Z').getTime(), at('2027-06-03T00:00:00Z').getTime(), 'UTC', now), '1–3 Jun 2027');
  assert.equal(formatSpan(at('2027-12-30T00:00:00Z').getTime(), at('2028-01-02T00:00:00Z').getTime(), 'UTC', now), '30 Dec 2027 – 2 Jan 2028');
  assert.equal(formatSpan(at('2026-12-30T00:00:00Z').getTime(), at('2027-01-02T00:00:00Z').getTime(), 'UTC', at('2026-12-01T00:00:00Z').getTime()), '30 Dec – 2 Jan');
});
