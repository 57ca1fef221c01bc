// The pure parts of upstream health: how an answer is judged and said, how a cool-down grows, which
// upstream serves a route (primaries, backups, drained, the last resort), the route's state, and
// the failover events between two reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../../shared/model.js';
import type { RouteHealth, UpstreamHealth } from '../../shared/status.js';
import { ActiveCheckSchema, MAX_COOLDOWN_MS, PassiveCheckSchema, singleUpstream } from '../../shared/upstreams.js';
import { bodyExcerpt, checkLabel, connectionError, judgeAnswer } from '../../src-main/core/upstreams/active-check.js';
import { failoverEvent, routeReport, servingUpstream } from '../../src-main/core/upstreams/health-report.js';
import { cooling, countedFailure, newAddressState, recordAnswer, recordFailure, type AddressState } from '../../src-main/core/upstreams/passive-health.js';
import { route } from '../helpers/proxy-harness.js';

const check = (fields: object = {}) => ActiveCheckSchema.parse(fields);
const passive = (fields: object = {}) => PassiveCheckSchema.parse(fields);

describe('judging a check', () => {
  it('passes a status in range, and says the range when not', () => {
    assert.equal(judgeAnswer(check(), 401, ''), null, "a sign-in page's 401 means it runs");
    assert.equal(judgeAnswer(check(), 503, ''), 'answered 503; expected 200–499');
    assert.equal(judgeAnswer(check({ statusFrom: 200, statusTo: 200 }), 204, ''), 'answered 204; expected 200');
  });

  it('wants the expected text when one is set', () => {
    const jellyfin = check({ path: '/health', bodyContains: 'Healthy' });
    assert.equal(judgeAnswer(jellyfin, 200, 'Healthy'), null);
    assert.equal(judgeAnswer(jellyfin, 200, '<!doctype html><title>App</title>'), 'the body did not contain "Healthy"');
    assert.equal(judgeAnswer(jellyfin, 503, 'Unhealthy'), 'answered 503; expected 200–499', 'the status is said first');
  });

  it('names the check and keeps a short, printable excerpt', () => {
    assert.equal(checkLabel(check({ path: '/identity' })), 'GET /identity');
    assert.equal(checkLabel(check({ kind: 'tcp' })), 'TCP connect');
    assert.equal(bodyExcerpt(''), null);
    assert.equal(bodyExcerpt('a\r\nb\tc\u0000d'), 'a··b·c·d');
    assert.equal(bodyExcerpt('x'.repeat(500))?.length, 200);
  });

  it('says connection failures in plain words', () => {
    assert.equal(connectionError({ code: 'ECONNREFUSED' }, 1500), 'refused the connection');
    assert.equal(connectionError({ code: 'CHECK_TIMEOUT' }, 1500), 'timed out after 1.5 s');
    assert.equal(connectionError({ code: 'EHOSTUNREACH' }, 1500), 'could not be reached from this machine (no route to it)');
    assert.equal(
      connectionError({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 1500),
      "certificate not trusted (self-signed); turn on 'accept a self-signed certificate' for this route if that is expected",
    );
  });
});

describe('the passive cool-down', () => {
  const reason = 'refused the connection';

  it('starts at cooldownMs, holds while requests under way fail, doubles per failed trial up to the maximum', () => {
    const entry = newAddressState('10.0.0.4:80', '10.0.0.4', 80);
    const settings = passive({ cooldownMs: 100_000 });
    let now = 1_000_000;
    recordFailure(entry, settings, reason, null, now);
    assert.equal(entry.coolingUntil, now + 100_000);
    recordFailure(entry, settings, reason, null, now + 5);
    assert.equal(entry.coolingUntil, now + 100_000, 'the same outage');
    assert.equal(entry.passiveFailures, 2);
    const lengths: number[] = [];
    for (let i = 0; i < 4; i++) {
      now = entry.coolingUntil;
      assert.equal(cooling(entry, now), false, 'a trial is allowed once it ends');
      recordFailure(entry, settings, reason, null, now);
      lengths.push(entry.coolingUntil - now);
    }
    assert.deepEqual(lengths, [200_000, MAX_COOLDOWN_MS, MAX_COOLDOWN_MS, MAX_COOLDOWN_MS]);
    assert.equal(recordAnswer(entry), true);
    assert.deepEqual([entry.passiveFailures, entry.coolingUntil, entry.cooldownMs], [0, 0, 0]);
    assert.equal(recordAnswer(entry), false, 'nothing to reset');
  });

  it('counts failures to reach or hear from the service, not a malformed answer', () => {
    assert.equal(countedFailure({ code: 'ECONNREFUSED' }, 'a:1')?.reason, 'refused the connection');
    assert.equal(countedFailure({ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'a:1')?.code, 'upstream_connect_timeout');
    assert.equal(countedFailure({ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'a:1')?.code, 'upstream_timeout');
    assert.equal(countedFailure({ code: 'ECONNRESET' }, 'a:1')?.code, 'upstream_reset');
    assert.equal(countedFailure({ code: 'ENOTFOUND' }, 'a:1')?.code, 'upstream_dns');
    assert.equal(countedFailure({ code: 'CERT_HAS_EXPIRED' }, 'a:1')?.code, 'upstream_tls');
    assert.equal(countedFailure({ name: 'HTTPParserError' }, 'a:1'), null);
  });
});

/** A report of one upstream, as the route report builds them. */
function upstream(address: string, fields: Partial<UpstreamHealth> = {}): UpstreamHealth {
  return { url: `http://${address}`, address, state: 'up', since: null, lastCheck: null, coolingUntil: null, passiveFailures: 0, problem: null, drained: false, backup: false, weight: 1, available: true, served: 0, inFlight: 0, ...fields };
}

describe('the upstream serving a route', () => {
  const failedAt = new Map([['a:1', 300], ['b:1', 100], ['c:1', 200]]);
  const lastFailedAt = (address: string) => failedAt.get(address) ?? 0;

  it('is the first available primary, else the first available backup', () => {
    const down = { available: false, state: 'down' as const };
    assert.equal(servingUpstream([upstream('a:1'), upstream('b:1')], lastFailedAt)?.upstream.address, 'a:1');
    assert.equal(servingUpstream([upstream('a:1', down), upstream('b:1', { backup: true }), upstream('c:1')], lastFailedAt)?.upstream.address, 'c:1', 'a primary before a backup');
    assert.equal(servingUpstream([upstream('a:1', down), upstream('b:1', { backup: true }), upstream('c:1', down)], lastFailedAt)?.upstream.address, 'b:1');
  });

  it('is the one that failed least recently when none is available: never nothing', () => {
    const down = { available: false, state: 'down' as const };
    const picked = servingUpstream([upstream('a:1', down), upstream('b:1', down), upstream('c:1', down)], lastFailedAt);
    assert.deepEqual([picked?.upstream.address, picked?.available], ['b:1', false]);
  });

  it('is never a drained one', () => {
    assert.equal(servingUpstream([upstream('a:1', { drained: true, available: false }), upstream('b:1')], lastFailedAt)?.upstream.address, 'b:1');
    assert.equal(servingUpstream([upstream('a:1', { drained: true, available: false })], lastFailedAt), null);
  });
});

describe('a route report', () => {
  const context = { now: 1_000_000, inFlight: (address: string) => (address === '10.0.0.4:80' ? 3 : 0) };
  const twoUpstreams: Route = route('r', 'http://10.0.0.4:80', ['r.test'], { title: 'Media', upstreams: [...singleUpstream('http://10.0.0.4:80'), ...singleUpstream('http://10.0.0.5:80')] });
  const state = (address: string, fields: Partial<AddressState>): [string, AddressState] => {
    const [host, port] = address.split(':') as [string, string];
    return [address, { ...newAddressState(address, host, Number(port)), target: { scheme: 'http', host, port: Number(port), hostHeader: address, insecureTls: false, check: check() }, ...fields }];
  };

  it('is unknown until its upstreams are checked, up while one is available, down when none is', () => {
    const unknown = routeReport(twoUpstreams, new Map([state('10.0.0.4:80', {}), state('10.0.0.5:80', {})]), context, undefined);
    assert.deepEqual([unknown.state, unknown.since, unknown.upstream, unknown.failedOver], ['unknown', null, '10.0.0.4:80', false]);
    assert.deepEqual(unknown.upstreams.map((u) => [u.available, u.inFlight]), [[true, 3], [true, 0]]);

    const failed = routeReport(twoUpstreams, new Map([state('10.0.0.4:80', { state: 'down' }), state('10.0.0.5:80', { state: 'up' })]), context, undefined);
    assert.deepEqual([failed.state, failed.upstream, failed.failedOver], ['up', '10.0.0.5:80', true]);

    const none = routeReport(twoUpstreams, new Map([state('10.0.0.4:80', { state: 'down', failedAt: 5 }), state('10.0.0.5:80', { state: 'down', failedAt: 9 })]), context, undefined);
    assert.deepEqual([none.state, none.upstream], ['down', '10.0.0.4:80'], 'the last resort is the least recently failed');
    assert.match(none.problem?.message ?? '', /^None of Media's 2 upstreams is available\./);
  });

  it('keeps the time its state changed from the memory of the last report', () => {
    const entries = new Map([state('10.0.0.4:80', { state: 'up' }), state('10.0.0.5:80', { state: 'up' })]);
    const memory = { state: 'up' as const, since: '2026-01-01T00:00:00.000Z', serving: '10.0.0.4:80', upstreamsKey: '' };
    assert.equal(routeReport(twoUpstreams, entries, context, memory).since, memory.since);
    assert.equal(routeReport(twoUpstreams, entries, context, { ...memory, state: 'down' }).since, new Date(context.now).toISOString());
  });
});

describe('failover events', () => {
  const media: Route = route('r', 'http://10.0.0.4:80', ['r.test'], { title: 'Media' });
  const report = (fields: Partial<RouteHealth>, upstreams: UpstreamHealth[]): RouteHealth => ({ routeId: 'r', upstream: '10.0.0.4:80', state: 'up', since: null, checkedAt: null, problem: null, failedOver: false, upstreams, ...fields });
  const a = (fields: Partial<UpstreamHealth> = {}) => upstream('10.0.0.4:80', fields);
  const b = (fields: Partial<UpstreamHealth> = {}) => upstream('10.0.0.5:80', fields);

  it('says nothing while the same upstream serves', () => {
    assert.equal(failoverEvent(media, '10.0.0.4:80', report({}, [a(), b()]), 0), null);
  });

  it('failed_over with why the one before left; recovered back on the preferred one; no_upstream when none is left', () => {
    const gone = a({ available: false, state: 'down', problem: { code: 'upstream_refused', message: 'The check GET / failed: refused the connection.' } });
    const over = failoverEvent(media, '10.0.0.4:80', report({ upstream: '10.0.0.5:80', failedOver: true }, [gone, b()]), 0);
    assert.deepEqual([over?.kind, over?.from, over?.to, over?.reason], ['failed_over', '10.0.0.4:80', '10.0.0.5:80', '10.0.0.4:80 is not available. The check GET / failed: refused the connection.']);
    const back = failoverEvent(media, '10.0.0.5:80', report({}, [a(), b()]), 0);
    assert.deepEqual([back?.kind, back?.to, back?.reason], ['recovered', '10.0.0.4:80', '10.0.0.4:80 is available again.']);
    const none = failoverEvent(media, '10.0.0.4:80', report({ state: 'down', problem: { code: 'no_upstream', message: 'None left.' } }, [gone, b({ available: false, state: 'down' })]), 0);
    assert.deepEqual([none?.kind, none?.from, none?.to, none?.reason, none?.title], ['no_upstream', '10.0.0.4:80', null, 'None left.', 'Media']);
  });
});
