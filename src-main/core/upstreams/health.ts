// Upstream health: whether each upstream of each route can take requests, and why not, so the
// balancer leaves a failing one out and the dashboard can say what is wrong. State is kept per
// upstream address (host:port), shared by every route using it. Two inputs feed it:
// - active checks (active-check.ts): one per address, with the check of the first enabled route
//   (in route order) that enables one; `fails` failures in a row mark it down, `passes` passes up;
// - the proxy's own traffic (passive-health.ts): counted failures put it in a cool-down. With
//   active checks off for an address, traffic alone decides its state as well.
// Only changes a user would see are reported (the `health` event), and a route whose serving
// upstream changes gets a FailoverEvent. docs/health-checks.md says the same for users.
import type { Route } from '../../../shared/model.js';
import type { FailoverEvent, RouteHealth } from '../../../shared/status.js';
import { defaultHealthCheck, type PassiveCheck } from '../../../shared/upstreams.js';
import { runCheck, type CheckTarget } from './active-check.js';
import { failoverEvent, isAvailable, routeReport, servingAddress, upstreamsKey, type RouteMemory } from './health-report.js';
import type { UpstreamHealthLink } from './health-view.js';
import { countedFailure, cooling, newAddressState, recordAnswer, recordFailure, type AddressState, type Counter } from './passive-health.js';
import { hostPort } from './registry.js';

/** Each wait between checks is up to this much longer, at random, so many addresses do not fire together. Default: 300 ms. */
export const CHECK_JITTER_MS = 300;

export interface UpstreamHealthOptions {
  /** Called after a change a user would see in any route's health (not every check). */
  onChange: () => void;
  /** Called when a route's serving upstream changes (failed over, recovered, none left). */
  onFailover?: (event: FailoverEvent) => void;
  /** Requests under way to an address now, over every route (the engine's gates). Default: 0. */
  inFlight?: (address: string) => number;
  /** Overrides every route's check interval and timeout (tests and benchmarks shorten them). */
  intervalMs?: number;
  timeoutMs?: number;
  /** Default: CHECK_JITTER_MS. */
  jitterMs?: number;
}

const DEFAULT_PASSIVE: PassiveCheck = defaultHealthCheck().passive;

export class UpstreamHealth implements UpstreamHealthLink {
  readonly #addresses = new Map<string, AddressState>();
  /** Each route's passive settings, by id: a report is judged with the reporting route's. */
  readonly #passive = new Map<string, PassiveCheck>();
  readonly #memory = new Map<string, RouteMemory>();
  #routes: readonly Route[] = [];
  #lastReported = '';
  #evaluateQueued = false;
  #closed = false;
  readonly #options: UpstreamHealthOptions;
  readonly #jitterMs: number;

  constructor(options: UpstreamHealthOptions) {
    this.#options = options;
    this.#jitterMs = options.jitterMs ?? CHECK_JITTER_MS;
    this.#lastReported = signature(this.snapshot());
  }

  /** Follows a new route list: checks what it needs, stops checking addresses no route uses. */
  setRoutes(routes: readonly Route[]): void {
    if (this.#closed) return;
    this.#routes = routes;
    this.#passive.clear();
    const wanted = new Map<string, { host: string; port: number; target: CheckTarget | null; routeId: string | null; routes: Set<string> }>();
    for (const route of routes) {
      this.#passive.set(route.id, route.healthCheck.passive);
      if (!route.enabled) continue;
      for (const upstream of route.upstreams) {
        const { host, port, address } = hostPort(upstream.url);
        let want = wanted.get(address);
        if (!want) wanted.set(address, (want = { host, port, target: null, routeId: null, routes: new Set() }));
        want.routes.add(route.id);
        // The first enabled route (in route order) with an enabled check decides the address's check.
        if (want.target === null && route.healthCheck.active.enabled) {
          want.target = this.#checkTarget(route, upstream.url, host, port, address);
          want.routeId = route.id;
        }
      }
    }
    for (const [address, entry] of this.#addresses) {
      if (wanted.has(address)) continue;
      stopChecking(entry);
      stopCooling(entry);
      this.#addresses.delete(address);
    }
    for (const [address, want] of wanted) {
      let entry = this.#addresses.get(address);
      if (!entry) this.#addresses.set(address, (entry = newAddressState(address, want.host, want.port)));
      // Counters are made here, not per request: answered() only bumps them.
      for (const id of entry.served.keys()) if (!want.routes.has(id)) entry.served.delete(id);
      for (const id of want.routes) if (!entry.served.has(id)) entry.served.set(id, { count: 0 } satisfies Counter);
      const key = want.target === null ? '' : JSON.stringify(want.target);
      entry.checkRouteId = want.routeId;
      if (key === entry.checkKey) continue;
      stopChecking(entry);
      entry.checkKey = key;
      entry.target = want.target;
      entry.streak = 0;
      if (entry.target === null) {
        // Checks turned off: what they found no longer holds; traffic decides from here.
        entry.lastCheck = null;
        entry.lastCheckCode = null;
        entry.state = 'unknown';
        entry.since = null;
        continue;
      }
      // The first check comes soon (a new route should not stay "unknown"), spread by the jitter.
      this.#schedule(entry, Math.random() * this.#jitterMs);
    }
    for (const id of this.#memory.keys()) if (!routes.some((route) => route.id === id)) this.#memory.delete(id);
    this.#evaluate();
  }

  /** Every route's health, in route order. */
  snapshot(): RouteHealth[] {
    const context = { now: Date.now(), inFlight: this.#options.inFlight ?? (() => 0) };
    return this.#routes.map((route) => routeReport(route, this.#addresses, context, this.#memory.get(route.id)));
  }

  /** Which route's check applies to an address (the first enabled route enabling one); null when none. */
  checkRouteOf(address: string): string | null {
    return this.#addresses.get(address)?.checkRouteId ?? null;
  }

  isAvailable(address: string): boolean {
    const entry = this.#addresses.get(address);
    return entry === undefined || isAvailable(entry, Date.now());
  }

  lastFailedAt(address: string): number {
    return this.#addresses.get(address)?.failedAt ?? 0;
  }

  answered(routeId: string, address: string, status: number): void {
    const entry = this.#addresses.get(address);
    if (entry === undefined) return;
    const served = entry.served.get(routeId);
    if (served !== undefined) served.count++;
    if (status >= 500) {
      const passive = this.#passive.get(routeId) ?? DEFAULT_PASSIVE;
      if (passive.enabled && passive.serverErrors) {
        this.#passiveFailure(entry, passive, `answered ${status}`, null);
        return;
      }
    }
    // The common case, per request: nothing failing, state known up (or set by checks).
    if (entry.passiveFailures === 0 && entry.coolingUntil === 0 && (entry.target !== null || entry.state === 'up')) return;
    recordAnswer(entry);
    if (entry.target === null && entry.state !== 'up') this.#setState(entry, 'up');
    stopCooling(entry);
    this.#changed();
  }

  failed(routeId: string, address: string, cause: unknown): void {
    const entry = this.#addresses.get(address);
    if (entry === undefined) return;
    const counted = countedFailure(cause, address);
    if (counted === null) return;
    const passive = this.#passive.get(routeId) ?? DEFAULT_PASSIVE;
    // Recorded even when passive health is off: with none available, the least recent failure is tried.
    entry.failedAt = Date.now();
    if (!passive.enabled) return;
    this.#passiveFailure(entry, passive, counted.reason, cause);
  }

  /** Stops every check; nothing is reported after this. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#addresses.values()) {
      stopChecking(entry);
      stopCooling(entry);
    }
    this.#addresses.clear();
  }

  #checkTarget(route: Route, url: string, host: string, port: number, address: string): CheckTarget {
    const check = { ...route.healthCheck.active };
    // A passed-through route's upstream speaks TLS with its own certificate on a port that may
    // want client certificates: an HTTP check cannot reliably talk to it, so whatever kind is set,
    // its active check is a TCP connect (the port accepts a connection).
    if (route.tls.mode === 'passthrough') check.kind = 'tcp';
    if (this.#options.intervalMs !== undefined) check.intervalMs = this.#options.intervalMs;
    if (this.#options.timeoutMs !== undefined) check.timeoutMs = this.#options.timeoutMs;
    return {
      scheme: url.startsWith('https:') ? 'https' : 'http',
      host,
      port,
      hostHeader: checkHost(route, address),
      insecureTls: route.insecureUpstreamTls,
      check,
    };
  }

  #passiveFailure(entry: AddressState, passive: PassiveCheck, reason: string, cause: unknown): void {
    const now = Date.now();
    const until = entry.coolingUntil;
    recordFailure(entry, passive, reason, cause, now);
    entry.checkedAt = new Date(now).toISOString();
    if (entry.target === null && entry.state !== 'down') this.#setState(entry, 'down');
    // When the cool-down ends the upstream is available again: that is news too. Failures during
    // one cool-down keep its timer (a burst of them arms one).
    if (entry.coolingUntil !== until || entry.coolingTimer === null) {
      stopCooling(entry);
      entry.coolingTimer = setTimeout(() => {
        entry.coolingTimer = null;
        this.#changed();
      }, entry.coolingUntil - now + 1);
      entry.coolingTimer.unref();
    }
    this.#changed();
  }

  #setState(entry: AddressState, state: AddressState['state']): void {
    entry.state = state;
    entry.since = new Date().toISOString();
  }

  #schedule(entry: AddressState, delayMs: number): void {
    entry.timer = setTimeout(() => this.#check(entry), delayMs);
    // The proxy and the admin server keep the process alive; a health check alone should not.
    entry.timer.unref();
  }

  /** One check; the next is scheduled when it ends, so checks of an address never overlap. */
  #check(entry: AddressState): void {
    entry.timer = null;
    const target = entry.target;
    if (target === null || this.#closed) return;
    const running = runCheck(target);
    entry.running = running;
    void running.done.then(({ result, code }) => {
      if (entry.running !== running) return; // cancelled: its route changed or went
      entry.running = null;
      entry.lastCheckCode = code;
      this.#recordCheck(entry, target, result);
      this.#schedule(entry, target.check.intervalMs + Math.random() * this.#jitterMs);
    });
  }

  #recordCheck(entry: AddressState, target: CheckTarget, result: NonNullable<AddressState['lastCheck']>): void {
    entry.lastCheck = result;
    entry.checkedAt = result.at;
    entry.streak = result.passed ? Math.max(entry.streak, 0) + 1 : Math.min(entry.streak, 0) - 1;
    if (!result.passed) entry.failedAt = Date.now();
    if (result.passed && entry.state !== 'up' && entry.streak >= target.check.passes) {
      // The check saw it come back (down before, not a first check): no need to wait out a
      // cool-down from the outage. It ends now, which the reset below counts from.
      if (entry.state === 'down' && cooling(entry, Date.now())) entry.coolingUntil = Date.now();
      this.#setState(entry, 'up');
    } else if (!result.passed && entry.state !== 'down' && -entry.streak >= target.check.fails) {
      this.#setState(entry, 'down');
    }
    // Checks that have seen it fine for a whole configured cool-down since the last one ended end
    // that outage as an answer would: a spare no request reached since must not carry a grown
    // cool-down into an unrelated outage. Sooner, a trial failing right after a cool-down is the
    // same outage, and still doubles it.
    if (result.passed && entry.streak >= target.check.passes && entry.cooldownMs !== 0) {
      const fineFrom = entry.coolingUntil + (this.#passive.get(entry.checkRouteId ?? '') ?? DEFAULT_PASSIVE).cooldownMs;
      if (Date.parse(result.at) - result.latencyMs >= fineFrom) recordAnswer(entry);
    }
    this.#changed();
  }

  /** Coalesces the reports of one turn (32 requests refused at once) into one evaluation. */
  #changed(): void {
    if (this.#evaluateQueued || this.#closed) return;
    this.#evaluateQueued = true;
    queueMicrotask(() => {
      this.#evaluateQueued = false;
      if (!this.#closed) this.#evaluate();
    });
  }

  /** Remembers each route's state and server, sends failover events, and reports a visible change. */
  #evaluate(): void {
    const now = Date.now();
    const reports = this.snapshot();
    for (const [index, route] of this.#routes.entries()) {
      const report = reports[index] as RouteHealth;
      const key = upstreamsKey(route);
      const memory = this.#memory.get(route.id);
      const serving = servingAddress(report);
      // A new route, or one whose upstreams were edited, starts over: only health changes are events.
      // A redirect route has no upstreams to fail over between.
      if (memory !== undefined && memory.upstreamsKey === key && route.enabled && route.redirect === null) {
        const event = failoverEvent(route, memory.serving, report, now);
        if (event) this.#options.onFailover?.(event);
      }
      this.#memory.set(route.id, { state: report.state, since: report.since, serving, upstreamsKey: key });
    }
    const next = signature(reports);
    if (next === this.#lastReported) return;
    this.#lastReported = next;
    this.#options.onChange();
  }
}

/**
 * What a user would act on in a health event: states, availability, a cool-down starting or
 * ending, the kind of problem (its code) and a check's verdict. Problem messages are left out: they
 * carry counters ("12 failures in a row") that move with every failed request to a dead upstream,
 * which would make each one an event and a full snapshot. So are times that move every check
 * (checkedAt, lastCheck.at). A snapshot asked for still shows the counters.
 */
function signature(reports: readonly RouteHealth[]): string {
  return reports
    .map((route) => {
      const upstreams = route.upstreams.map((u) => `${u.address} ${u.state} ${u.since} ${u.available} ${u.coolingUntil} ${u.drained} ${u.lastCheck?.passed} ${u.lastCheck?.error} ${u.problem?.code ?? ''}`);
      return `${route.routeId} ${route.upstream} ${route.state} ${route.since} ${route.failedOver} ${route.problem?.code ?? ''}\n  ${upstreams.join('\n  ')}`;
    })
    .join('\n');
}

/**
 * The Host a check sends: what a real request to the route carries, so an upstream behind a
 * name-based router (a NAS's own reverse proxy) routes the check like the site: the route's
 * rewriteHost, else its first exact name (a wildcard names no one host), else the address.
 */
export function checkHost(route: Pick<Route, 'rewriteHost' | 'names'>, address: string): string {
  return route.rewriteHost ?? route.names.find((name) => !name.includes('*')) ?? address;
}

function stopChecking(entry: AddressState): void {
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = null;
  entry.running?.cancel();
  entry.running = null;
}

function stopCooling(entry: AddressState): void {
  if (entry.coolingTimer) clearTimeout(entry.coolingTimer);
  entry.coolingTimer = null;
}
