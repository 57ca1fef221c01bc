// Upstream health: whether each route's service accepts connections, so the dashboard can say
// "down" before a user hits the error page. State is kept per upstream address (host:port), not per
// route: two routes to one service share one check and one answer. Two inputs feed it:
// - an active TCP connect every CHECK_INTERVAL_MS, whether or not the proxy is listening;
// - the proxy's own traffic: a refused or unreachable connection marks the address down at once,
//   and any answer from the service marks it up.
// Only a change of state is reported, so a steady system sends nothing.
import { connect } from 'node:net';
import type { Route } from '../../../shared/model.js';
import type { HealthState, Problem, RouteHealth, UpstreamHealth as UpstreamHealthReport } from '../../../shared/status.js';
import { upstreamFailure, type ProxyErrorCode } from '../proxy/errors.js';
import type { UpstreamHealthLink } from './health-view.js';
import { hostPort } from './registry.js';

/**
 * Time between the end of one check of an address and the start of the next. Default: 2000 ms.
 * With the timeout and the jitter, a service that stops answering shows down within
 * CHECK_INTERVAL_MS + CHECK_JITTER_MS + CHECK_TIMEOUT_MS = 3.8 s (the target is 5 s); one that
 * refuses connections shows down within 2.3 s, or at once when a request hits it.
 */
export const CHECK_INTERVAL_MS = 2000;
/** A TCP connect not completed within this counts as down (the host may be off). Default: 1500 ms. */
export const CHECK_TIMEOUT_MS = 1500;
/** Each wait is up to this much longer, at random, so checks of many addresses do not fire together. Default: 300 ms. */
export const CHECK_JITTER_MS = 300;

/** Failures meaning nothing accepts connections at the address; others (a reset, a bad answer) came from a live service. */
const DOWN_CODES: ReadonlySet<ProxyErrorCode> = new Set(['upstream_refused', 'upstream_unreachable', 'upstream_connect_timeout', 'upstream_dns']);


interface AddressHealth {
  readonly host: string;
  readonly port: number;
  state: HealthState;
  since: string | null;
  checkedAt: string | null;
  /** Why it is down: the error, for upstreamFailure. */
  cause: unknown;
  /** Date.now() of the last failure, 0 if none. */
  failedAt: number;
  /** The next check, while waiting for it. */
  timer: NodeJS.Timeout | null;
  /** Abandons the check under way, if any. */
  cancel: (() => void) | null;
}

export interface UpstreamHealthOptions {
  /** Called after a change of any route's health (state, or the reason it is down). */
  onChange: () => void;
  /** Defaults: CHECK_INTERVAL_MS, CHECK_TIMEOUT_MS, CHECK_JITTER_MS (tests shorten them). */
  intervalMs?: number;
  timeoutMs?: number;
  jitterMs?: number;
}

export class UpstreamHealth implements UpstreamHealthLink {
  readonly #addresses = new Map<string, AddressHealth>();
  #routes: readonly Route[] = [];
  #lastReported = '';
  #closed = false;
  readonly #onChange: () => void;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #jitterMs: number;

  constructor(options: UpstreamHealthOptions) {
    this.#onChange = options.onChange;
    this.#intervalMs = options.intervalMs ?? CHECK_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
    this.#jitterMs = options.jitterMs ?? CHECK_JITTER_MS;
    this.#lastReported = this.#signature();
  }

  /** Checks the addresses `routes` use (enabled ones only) and stops checking the rest. */
  setRoutes(routes: readonly Route[]): void {
    if (this.#closed) return;
    this.#routes = routes;
    const wanted = new Map<string, { host: string; port: number }>();
    for (const route of routes) {
      if (!route.enabled) continue;
      for (const target of route.upstreams) {
        const { host, port, address } = hostPort(target.url);
        wanted.set(address, { host, port });
      }
    }
    for (const [address, entry] of this.#addresses) {
      if (wanted.has(address)) continue;
      stopChecking(entry);
      this.#addresses.delete(address);
    }
    for (const [address, { host, port }] of wanted) {
      if (this.#addresses.has(address)) continue;
      const entry: AddressHealth = { host, port, state: 'unknown', since: null, checkedAt: null, cause: null, failedAt: 0, timer: null, cancel: null };
      this.#addresses.set(address, entry);
      // The first check comes soon (a new route should not stay "unknown"), spread by the jitter.
      this.#schedule(address, entry, Math.random() * this.#jitterMs);
    }
    this.#reportIfChanged();
  }

  /** Every route's health, in route order. */
  snapshot(): RouteHealth[] {
    // FOUNDATION: the route reads as its first upstream; health per upstream replaces this.
    return this.#routes.map((route) => {
      const upstreams = route.upstreams.map((target): UpstreamHealthReport => {
        const { address } = hostPort(target.url);
        const entry = route.enabled ? this.#addresses.get(address) : undefined;
        return {
          url: target.url,
          address,
          state: entry?.state ?? 'unknown',
          since: entry?.since ?? null,
          lastCheck: null,
          coolingUntil: null,
          passiveFailures: 0,
          problem: entry?.state === 'down' ? this.#problem(route, address, entry) : null,
          drained: target.drained,
          backup: target.backup,
          weight: target.weight,
          available: !target.drained && entry?.state !== 'down',
          served: 0,
          inFlight: 0,
        };
      });
      const first = upstreams[0] as UpstreamHealthReport;
      const entry = route.enabled ? this.#addresses.get(first.address) : undefined;
      return {
        routeId: route.id,
        upstream: first.address,
        state: entry?.state ?? 'unknown',
        since: entry?.since ?? null,
        checkedAt: entry?.checkedAt ?? null,
        problem: first.problem,
        failedOver: false,
        upstreams,
      };
    });
  }

  isAvailable(address: string): boolean {
    return this.#addresses.get(address)?.state !== 'down';
  }

  lastFailedAt(address: string): number {
    return this.#addresses.get(address)?.failedAt ?? 0;
  }

  answered(_routeId: string, address: string): void {
    const entry = this.#addresses.get(address);
    // The common case, per request: already known up, nothing to do.
    if (entry === undefined || entry.state === 'up') return;
    this.#record(entry, null);
  }

  failed(_routeId: string, address: string, cause: unknown): void {
    const entry = this.#addresses.get(address);
    if (entry === undefined || !DOWN_CODES.has(upstreamFailure(cause, '', address).code)) return;
    this.#record(entry, cause);
  }

  /** Stops every check; nothing is reported after this. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#addresses.values()) stopChecking(entry);
    this.#addresses.clear();
  }

  #schedule(address: string, entry: AddressHealth, delayMs: number): void {
    entry.timer = setTimeout(() => this.#check(address, entry), delayMs);
    // The proxy and the admin server keep the process alive; a health check alone should not.
    entry.timer.unref();
  }

  /** One TCP connect; the next check is scheduled when it ends, so checks of an address never overlap. */
  #check(address: string, entry: AddressHealth): void {
    entry.timer = null;
    const socket = connect({ host: entry.host, port: entry.port });
    let finished = false;
    const finish = (error: Error | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      socket.destroy();
      entry.cancel = null;
      if (this.#addresses.get(address) !== entry) return; // no route uses it any more
      this.#record(entry, error);
      this.#schedule(address, entry, this.#intervalMs + Math.random() * this.#jitterMs);
    };
    const deadline = setTimeout(() => finish(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), this.#timeoutMs);
    deadline.unref();
    socket.once('connect', () => finish(null));
    socket.on('error', finish);
    entry.cancel = () => {
      finished = true;
      clearTimeout(deadline);
      socket.destroy();
    };
  }

  /** Records the outcome of a check or of a request: up when `cause` is null, else down. */
  #record(entry: AddressHealth, cause: unknown): void {
    const now = new Date().toISOString();
    const state: HealthState = cause === null ? 'up' : 'down';
    entry.checkedAt = now;
    if (entry.state !== state) entry.since = now;
    entry.state = state;
    entry.cause = cause;
    if (cause !== null) entry.failedAt = Date.now();
    this.#reportIfChanged();
  }

  #problem(route: Route, address: string, entry: AddressHealth): Problem {
    const title = route.title || route.names[0] || route.id;
    // No timeouts: a check and a proxied request time out after different limits, and the sentence
    // (part of the change signature) must not flip between them for one dead host.
    const failure = upstreamFailure(entry.cause, title, address);
    return { code: failure.code, message: failure.detail };
  }

  /** What a health event would tell a user; checkedAt moves every check and is left out. */
  #signature(): string {
    return this.snapshot()
      .map((health) => `${health.routeId} ${health.upstream} ${health.state} ${health.since} ${health.problem?.message ?? ''}`)
      .join('\n');
  }

  #reportIfChanged(): void {
    const signature = this.#signature();
    if (signature === this.#lastReported) return;
    this.#lastReported = signature;
    this.#onChange();
  }
}

function stopChecking(entry: AddressHealth): void {
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = null;
  entry.cancel?.();
  entry.cancel = null;
}
