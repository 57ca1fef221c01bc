// What is known about one upstream address, and how the proxy's own traffic changes it (passive
// health). State is per address (`host:port`), shared by every route using it; a report is judged
// with the reporting route's passive settings.
//
// The cool-down: a counted failure leaves the address out of rotation for `cooldownMs`. A failure
// of the first request tried after a cool-down (the trial) doubles it, up to MAX_COOLDOWN_MS;
// failures of requests that were already under way when it started failing count in
// passiveFailures but do not double it again, so 32 requests refused at once are one outage, not a
// five-minute exile. An answer ends the cool-down and resets the count and the length; so do
// active checks passing for a whole configured cool-down after it ended (health.ts).
//
// A cool-down only affects isAvailable: when no upstream of a route is available, the balancer
// still tries the one that failed least recently, so an only upstream restarting (an upgrade) is
// tried on every request and serves again the moment it answers.
import type { CheckResult, HealthState } from '../../../shared/status.js';
import { MAX_COOLDOWN_MS, type PassiveCheck } from '../../../shared/upstreams.js';
import { upstreamFailure, type ProxyErrorCode } from '../proxy/errors.js';
import type { CheckTarget, RunningCheck } from './active-check.js';

/** A counter the request path bumps in place: no allocation per request. */
export interface Counter {
  count: number;
}

export interface AddressState {
  readonly address: string;
  readonly host: string;
  readonly port: number;

  // --- active check (health.ts)
  /** The check that runs for this address, from the first route that enables one; null: checks off. */
  target: CheckTarget | null;
  /** The route whose check applies. */
  checkRouteId: string | null;
  /** The target's settings, to notice a change. */
  checkKey: string;
  /** Checks passed (> 0) or failed (< 0) in a row. */
  streak: number;
  lastCheck: CheckResult | null;
  /** The last check's failure as a problem code (see CheckDone); null when it passed. */
  lastCheckCode: string | null;
  timer: NodeJS.Timeout | null;
  running: RunningCheck | null;

  // --- shared
  state: HealthState;
  /** ISO time the state last changed; null while unknown. */
  since: string | null;
  /** ISO time of the last check or traffic report that was recorded. */
  checkedAt: string | null;
  /** Date.now() of the last failure (check or traffic), 0 if none. */
  failedAt: number;

  // --- passive
  passiveFailures: number;
  /** The cool-down now (ms), 0 when not failing. */
  cooldownMs: number;
  /** Date.now() the cool-down ends, 0 when none. */
  coolingUntil: number;
  coolingTimer: NodeJS.Timeout | null;
  /** The last counted failure in plain words ("refused the connection"). */
  passiveReason: string | null;
  /** The last counted failure as reported, for a traffic-only "down" problem. */
  passiveCause: unknown;

  /** answered() per route id, since the proxy started. */
  readonly served: Map<string, Counter>;
}

export function newAddressState(address: string, host: string, port: number): AddressState {
  return {
    address,
    host,
    port,
    target: null,
    checkRouteId: null,
    checkKey: '',
    streak: 0,
    lastCheck: null,
    lastCheckCode: null,
    timer: null,
    running: null,
    state: 'unknown',
    since: null,
    checkedAt: null,
    failedAt: 0,
    passiveFailures: 0,
    cooldownMs: 0,
    coolingUntil: 0,
    coolingTimer: null,
    passiveReason: null,
    passiveCause: null,
    served: new Map(),
  };
}

/** Failures that count against an upstream: it could not be reached, or stopped answering. */
export const COUNTED_FAILURES: ReadonlySet<ProxyErrorCode> = new Set([
  'upstream_refused',
  'upstream_unreachable',
  'upstream_connect_timeout',
  'upstream_dns',
  'upstream_timeout',
  'upstream_reset',
  'upstream_tls',
]);

const REASONS: Partial<Record<ProxyErrorCode, string>> = {
  upstream_refused: 'refused the connection',
  upstream_unreachable: 'could not be reached',
  upstream_connect_timeout: 'did not accept a connection in time',
  upstream_dns: 'its name could not be looked up',
  upstream_timeout: 'did not answer in time',
  upstream_reset: 'closed the connection before answering',
  upstream_tls: 'its certificate was rejected',
};

/** The counted failure `cause` is, with its plain words; null when it does not count. */
export function countedFailure(cause: unknown, address: string): { code: ProxyErrorCode; reason: string } | null {
  const { code } = upstreamFailure(cause, '', address);
  return COUNTED_FAILURES.has(code) ? { code, reason: REASONS[code] ?? code } : null;
}

/** Whether the address is in a cool-down at `now`. */
export function cooling(entry: AddressState, now: number): boolean {
  return entry.coolingUntil !== 0 && now < entry.coolingUntil;
}

/** Records a counted failure under `settings`; returns true (something a user sees changed). */
export function recordFailure(entry: AddressState, settings: Readonly<PassiveCheck>, reason: string, cause: unknown, now: number): boolean {
  entry.passiveFailures++;
  entry.passiveReason = reason;
  entry.passiveCause = cause;
  entry.failedAt = now;
  if (!cooling(entry, now)) {
    // The first failure, or the trial after a cool-down failed.
    entry.cooldownMs = entry.cooldownMs === 0 ? settings.cooldownMs : Math.min(entry.cooldownMs * 2, MAX_COOLDOWN_MS);
    entry.coolingUntil = now + entry.cooldownMs;
  }
  return true;
}

/** Records an answer: the failure count and any cool-down end. Returns true when that changed anything. */
export function recordAnswer(entry: AddressState): boolean {
  if (entry.passiveFailures === 0 && entry.coolingUntil === 0) return false;
  entry.passiveFailures = 0;
  entry.cooldownMs = 0;
  entry.coolingUntil = 0;
  entry.passiveReason = null;
  entry.passiveCause = null;
  return true;
}
