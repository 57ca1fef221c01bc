// When to tell the user, with a desktop notification, that a service stopped answering. Kept free of
// electron so the decision is tested under node; notifications.ts shows what this returns.
//
// The rule: a notification only for an upstream that was seen `up` and is now `down`.
// - The first report after launch is a baseline: everything there is new, nothing "went" down. At
//   startup every route goes unknown → up/down as the first checks finish, and a service that was
//   already off when the app started is shown in the window and the tray, not announced.
// - unknown → down never notifies, for the same reason, and because a route just added or enabled
//   starts unknown while the user is looking at it.
// - A route whose upstreams changed starts over (its old addresses' health says nothing); the
//   upstream serving it changing (a failover) is not such a change.
// - Several services going down in one report (the network went away, the NAS rebooted) make one
//   notification naming them, not a burst of them.
// - A service that flaps is announced at most once per `quietMs` (default 10 minutes).
//
// Failover (FailoverAlerts below): a route now served by another of its upstreams, and its return.
// - A route's first reports are a baseline here too: until every upstream of it has been checked
//   once (none `unknown`), its failover events are what the first checks found, not news.
// - `no_upstream` is not announced again: the route is down then, and DownAlerts says so.
// - "back" is announced only for a route whose trouble was announced (a failover, or down).
// - A route that fails over again and again is announced at most once per `quietMs`.
import type { Route } from '../../shared/model.js';
import type { FailoverEvent, Problem, RouteHealth } from '../../shared/status.js';

/** One notification to show. */
export interface DownAlert {
  title: string;
  body: string;
  /** The routes it is about, oldest report order. */
  routeIds: string[];
}

export interface DownAlertOptions {
  /** Shortest time between two notifications about the same route, in ms. Default: 600000 (10 min). */
  quietMs?: number;
  /** The clock, in ms (tests pass their own). Default: Date.now. */
  now?: () => number;
}

const DEFAULT_QUIET_MS = 10 * 60 * 1000;

/** The name a person knows a route by: its title, else its first host name. */
export function routeLabel(route: Pick<Route, 'title' | 'names'> | undefined, fallback: string): string {
  return route?.title?.trim() || route?.names[0] || fallback;
}

function problemText(problem: Problem | null): string {
  if (!problem) return 'It stopped answering.';
  return problem.fix ? `${problem.message} ${problem.fix}` : problem.message;
}

/** A route's upstream addresses as configured: which one serves it changes on a failover. */
function upstreamsOf(health: RouteHealth): string {
  return health.upstreams?.length ? health.upstreams.map((upstream) => upstream.address).join(',') : health.upstream;
}

export class DownAlerts {
  readonly #quietMs: number;
  readonly #now: () => number;
  /** Last seen health per route id; empty until the first report (the baseline). */
  #last = new Map<string, { state: RouteHealth['state']; upstream: string }>();
  #baselineSeen = false;
  #lastAlertAt = new Map<string, number>();

  constructor(options: DownAlertOptions = {}) {
    this.#quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes every `health` event (all routes' health) and the current routes; returns the notification
   * this report calls for, or null.
   */
  update(health: readonly RouteHealth[], routes: readonly Route[]): DownAlert | null {
    const wentDown: RouteHealth[] = [];
    const next = new Map<string, { state: RouteHealth['state']; upstream: string }>();
    for (const entry of health) {
      const before = this.#last.get(entry.routeId);
      const upstreams = upstreamsOf(entry);
      next.set(entry.routeId, { state: entry.state, upstream: upstreams });
      if (!this.#baselineSeen || !before || before.upstream !== upstreams) continue;
      if (before.state === 'up' && entry.state === 'down') wentDown.push(entry);
    }
    this.#last = next; // routes that are gone are forgotten
    this.#baselineSeen = true;
    for (const id of this.#lastAlertAt.keys()) if (!next.has(id)) this.#lastAlertAt.delete(id);

    const now = this.#now();
    const due = wentDown.filter((entry) => {
      const last = this.#lastAlertAt.get(entry.routeId);
      return last === undefined || now - last >= this.#quietMs;
    });
    if (due.length === 0) return null;
    for (const entry of due) this.#lastAlertAt.set(entry.routeId, now);

    const byId = new Map(routes.map((route) => [route.id, route]));
    const labels = due.map((entry) => routeLabel(byId.get(entry.routeId), entry.upstream));
    const routeIds = due.map((entry) => entry.routeId);
    const [first] = due;
    if (due.length === 1 && first) {
      return { title: `${labels[0]} is down`, body: problemText(first.problem), routeIds };
    }
    const shown = labels.length <= 3 ? labels.join(', ') : `${labels.slice(0, 3).join(', ')} and ${labels.length - 3} more`;
    return { title: `${due.length} services are down`, body: `${shown} stopped answering.`, routeIds };
  }
}

/** When to tell the user that a route failed over to another upstream, and that it came back. */
export class FailoverAlerts {
  readonly #quietMs: number;
  readonly #now: () => number;
  /** Routes whose upstreams have all been checked at least once: their failovers are news. */
  readonly #settled = new Set<string>();
  /** Routes whose trouble was announced, so their return is worth a word. */
  readonly #troubled = new Set<string>();
  readonly #lastAlertAt = new Map<string, number>();

  constructor(options: DownAlertOptions = {}) {
    this.#quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Takes every `health` event: a route counts once each of its upstreams (not drained) was checked. */
  health(health: readonly RouteHealth[]): void {
    const present = new Set(health.map((entry) => entry.routeId));
    for (const id of [...this.#settled]) if (!present.has(id)) this.#settled.delete(id);
    for (const id of [...this.#troubled]) if (!present.has(id)) this.#troubled.delete(id);
    for (const entry of health) {
      const usable = (entry.upstreams ?? []).filter((upstream) => !upstream.drained);
      if (entry.state !== 'unknown' && usable.every((upstream) => upstream.state !== 'unknown')) this.#settled.add(entry.routeId);
    }
  }

  /** DownAlerts announced these routes down: their return is announced too. */
  troubleAnnounced(routeIds: readonly string[]): void {
    for (const id of routeIds) this.#troubled.add(id);
  }

  /** Takes every `failover` event; returns the notification it calls for, or null. */
  update(event: FailoverEvent, routes: readonly Route[]): DownAlert | null {
    const label = routeLabel(
      routes.find((route) => route.id === event.routeId),
      event.title || event.routeId,
    );
    if (!this.#settled.has(event.routeId)) return null;
    if (event.kind === 'recovered') {
      if (!this.#troubled.delete(event.routeId)) return null;
      return { title: `${label} is back on ${event.to}`, body: event.reason, routeIds: [event.routeId] };
    }
    if (event.kind === 'no_upstream') return null;
    const now = this.#now();
    const last = this.#lastAlertAt.get(event.routeId);
    this.#troubled.add(event.routeId);
    if (last !== undefined && now - last < this.#quietMs) return null;
    this.#lastAlertAt.set(event.routeId, now);
    return { title: `${label} failed over to ${event.to}`, body: event.reason, routeIds: [event.routeId] };
  }
}
