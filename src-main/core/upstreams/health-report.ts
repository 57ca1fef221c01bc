// Turns what is known about each upstream address into what the API and the dashboard show: each
// route's upstreams with their state and why, which one serves the route now, and the failover
// events when that changes. Pure functions of the address states and a clock.
import type { Route } from '../../../shared/model.js';
import type { FailoverEvent, HealthState, Problem, RouteHealth, UpstreamHealth } from '../../../shared/status.js';
import { cooling, type AddressState } from './passive-health.js';
import { hostPort } from './registry.js';

/** What a report needs besides the address states. */
export interface ReportContext {
  readonly now: number;
  readonly inFlight: (address: string) => number;
}

/** "10:32:05" in this machine's time zone. */
export function clockTime(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

export function routeTitle(route: Pick<Route, 'title' | 'names' | 'id'>): string {
  return route.title || route.names[0] || route.id;
}

/** What to look at when a check failed this way. */
const CHECK_FIXES: Record<string, string> = {
  check_failed: "If the service works in a browser, the check may be wrong: see the path, expected status and text in the route's health check.",
  upstream_refused: 'Is it running, and listening on that port?',
  upstream_connect_timeout: 'Is the machine up, or is a firewall dropping the connection?',
  upstream_unreachable: 'Is the machine on, and on this network?',
  upstream_timeout: 'It accepted the connection but did not answer: it may be overloaded or stuck.',
};

/** Why an upstream is down or left out, in plain words; null when neither. */
export function upstreamProblem(entry: AddressState, now: number): Problem | null {
  if (entry.state === 'down' && entry.target !== null && entry.lastCheck !== null && entry.lastCheck.error !== null) {
    const code = entry.lastCheckCode ?? 'check_failed';
    const message = `The check ${entry.lastCheck.check} failed: ${entry.lastCheck.error}.`;
    const fix = CHECK_FIXES[code];
    return fix ? { code, message, fix } : { code, message };
  }
  if (cooling(entry, now)) {
    const failures = entry.passiveFailures === 1 ? '1 failure' : `${entry.passiveFailures} failures in a row`;
    return { code: 'cooling', message: `Left out until ${clockTime(entry.coolingUntil)} after ${failures}: it ${entry.passiveReason ?? 'failed'}.` };
  }
  // Checks off: traffic decided it is down, and its cool-down is over (the next request is a trial).
  if (entry.state === 'down' && entry.target === null && entry.passiveReason !== null) {
    return { code: 'requests_failed', message: `Requests to it failed: it ${entry.passiveReason}.` };
  }
  return null;
}

/** Available to the balancer: not down by its checks, not cooling. Unknown counts as available. */
export function isAvailable(entry: AddressState, now: number): boolean {
  return !(entry.target !== null && entry.state === 'down') && !cooling(entry, now);
}

function upstreamReport(route: Route, target: Route['upstreams'][number], entry: AddressState | undefined, context: ReportContext): UpstreamHealth {
  const { address } = hostPort(target.url);
  const coolingNow = entry !== undefined && cooling(entry, context.now);
  return {
    url: target.url,
    address,
    state: entry?.state ?? 'unknown',
    since: entry?.since ?? null,
    lastCheck: entry?.target ? entry.lastCheck : null,
    coolingUntil: coolingNow ? new Date(entry.coolingUntil).toISOString() : null,
    passiveFailures: entry?.passiveFailures ?? 0,
    problem: entry ? upstreamProblem(entry, context.now) : null,
    drained: target.drained,
    backup: target.backup,
    weight: target.weight,
    available: !target.drained && (entry === undefined || isAvailable(entry, context.now)),
    served: entry?.served.get(route.id)?.count ?? 0,
    inFlight: route.enabled ? context.inFlight(address) : 0,
  };
}

/**
 * Which upstream serves the route now: the first available primary, else the first available
 * backup, else (none available) the one that failed least recently, which the balancer still
 * tries. `available` is false in the last case. Null when every upstream is drained.
 */
export function servingUpstream(upstreams: readonly UpstreamHealth[], lastFailedAt: (address: string) => number): { upstream: UpstreamHealth; available: boolean } | null {
  const usable = upstreams.filter((upstream) => !upstream.drained);
  const pick = usable.find((u) => u.available && !u.backup) ?? usable.find((u) => u.available);
  if (pick) return { upstream: pick, available: true };
  let lastResort: UpstreamHealth | null = null;
  for (const upstream of usable) if (lastResort === null || lastFailedAt(upstream.address) < lastFailedAt(lastResort.address)) lastResort = upstream;
  return lastResort ? { upstream: lastResort, available: false } : null;
}

/** The upstream a route prefers: its first primary that is not drained (else its first not drained). */
export function preferredUpstream(upstreams: readonly UpstreamHealth[]): UpstreamHealth | null {
  return upstreams.find((u) => !u.drained && !u.backup) ?? upstreams.find((u) => !u.drained) ?? null;
}

function routeState(upstreams: readonly UpstreamHealth[]): HealthState {
  const usable = upstreams.filter((upstream) => !upstream.drained);
  if (usable.length > 0 && usable.every((u) => u.state === 'unknown' && u.coolingUntil === null)) return 'unknown';
  return usable.some((u) => u.available) ? 'up' : 'down';
}

function routeProblem(route: Route, upstreams: readonly UpstreamHealth[]): Problem {
  const title = routeTitle(route);
  const usable = upstreams.filter((upstream) => !upstream.drained);
  const [only] = usable;
  if (only === undefined) return { code: 'no_upstream', message: `Every upstream of ${title} is drained. Put one back to serve it.` };
  if (usable.length === 1) {
    const message = `${title} at ${only.address} is down. ${only.problem?.message ?? ''}`.trim();
    return only.problem?.fix ? { code: only.problem.code, message, fix: only.problem.fix } : { code: only.problem?.code ?? 'down', message };
  }
  const each = usable.map((u) => `${u.address}: ${u.problem?.message ?? 'not available.'}`).join(' ');
  return { code: 'no_upstream', message: `None of ${title}'s ${usable.length} upstreams is available. ${each}` };
}

/** What is remembered per route between reports: when its state changed, and who served it. */
export interface RouteMemory {
  state: HealthState;
  since: string | null;
  /** The address serving it while one is available; null when none is (or every one is drained). */
  serving: string | null;
  /** The route's upstream list as configured: a change of it starts the memory over (no event). */
  readonly upstreamsKey: string;
}

export function upstreamsKey(route: Route): string {
  return `${route.enabled}|${route.redirect?.to ?? ''}|${route.upstreams.map((u) => `${u.url} ${u.backup} ${u.drained}`).join(',')}`;
}

/** A route's health now; `memory` (when given) supplies when its state last changed. */
export function routeReport(route: Route, entries: ReadonlyMap<string, AddressState>, context: ReportContext, memory: RouteMemory | undefined): RouteHealth {
  const upstreams = route.upstreams.map((target) => upstreamReport(route, target, route.enabled ? entries.get(hostPort(target.url).address) : undefined, context));
  const lastFailedAt = (address: string) => entries.get(address)?.failedAt ?? 0;
  const serving = route.enabled ? servingUpstream(upstreams, lastFailedAt) : null;
  const preferred = preferredUpstream(upstreams);
  // A redirect route answers by itself: nothing behind it can be down.
  const state = !route.enabled ? 'unknown' : route.redirect !== null ? 'up' : routeState(upstreams);
  const checkedAt = route.enabled ? latest(route.upstreams.map((target) => entries.get(hostPort(target.url).address)?.checkedAt ?? null)) : null;
  const since = state === 'unknown' ? null : memory?.state === state ? memory.since : new Date(context.now).toISOString();
  return {
    routeId: route.id,
    upstream: (serving?.upstream ?? upstreams[0])?.address ?? '',
    state,
    since,
    checkedAt,
    problem: state === 'down' ? routeProblem(route, upstreams) : null,
    failedOver: serving !== null && preferred !== null && serving.upstream !== preferred,
    upstreams,
  };
}

function latest(times: readonly (string | null)[]): string | null {
  let best: string | null = null;
  for (const time of times) if (time !== null && (best === null || time > best)) best = time;
  return best;
}

/** The address serving `health` while one is available, else null. */
export function servingAddress(health: RouteHealth): string | null {
  return health.state === 'down' || health.upstreams.every((u) => u.drained) ? null : health.upstream;
}

/**
 * The failover event between two reports of one route, or null: failed_over when another upstream
 * than before serves it and that is not its preferred one, recovered when its preferred one serves
 * it again, no_upstream when none is available any more.
 */
export function failoverEvent(route: Route, before: string | null, health: RouteHealth, now: number): FailoverEvent | null {
  const after = servingAddress(health);
  if (after === before) return null;
  const base = { time: new Date(now).toISOString(), routeId: route.id, title: routeTitle(route), from: before };
  const byAddress = (address: string | null) => health.upstreams.find((u) => u.address === address);
  if (after === null) return { ...base, kind: 'no_upstream', to: null, reason: health.problem?.message ?? 'None of its upstreams is available.' };
  const preferred = preferredUpstream(health.upstreams);
  if (preferred?.address === after) return { ...base, kind: 'recovered', to: after, reason: `${after} is available again.` };
  // Why the one before (else the preferred one) is not serving any more.
  const left = byAddress(before) ?? preferred;
  const why = left?.problem?.message ?? (left?.drained ? 'It was drained.' : 'It is not available.');
  return { ...base, kind: 'failed_over', to: after, reason: `${left?.address ?? 'The preferred upstream'} is not available. ${why}` };
}
