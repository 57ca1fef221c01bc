// When to tell the user, with a desktop notification, that a service stopped answering. Kept free of
// electron so the decision is tested under node; notifications.ts shows what this returns.
//
// The rule: a notification only for an upstream that was seen `up` and is now `down`.
// - The first report after launch is a baseline: everything there is new, nothing "went" down. At
//   startup every route goes unknown → up/down as the first checks finish, and a service that was
//   already off when the app started is shown in the window and the tray, not announced.
// - unknown → down never notifies, for the same reason, and because a route just added or enabled
//   starts unknown while the user is looking at it.
// - A route whose upstream address changed starts over (its old address's health says nothing).
// - Several services going down in one report (the network went away, the NAS rebooted) make one
//   notification naming them, not a burst of them.
// - A service that flaps is announced at most once per `quietMs` (default 10 minutes).
import type { Route } from '../../shared/model.js';
import type { Problem, RouteHealth } from '../../shared/status.js';

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
      next.set(entry.routeId, { state: entry.state, upstream: entry.upstream });
      if (!this.#baselineSeen || !before || before.upstream !== entry.upstream) continue;
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
