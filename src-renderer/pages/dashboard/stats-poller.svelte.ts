// Per-route numbers for the dashboard (requests per minute, errors, p99). Stats have no event, so
// they are polled: every 2 s while the page is visible, never while the window is hidden or another
// page is shown (the dashboard starts and stops the poller with its own lifetime).
import type { RouteStats, StatsSnapshot } from '../../../shared/status.js';

export const STATS_INTERVAL_MS = 2_000;

/** The parts of `document` the poller uses. */
export interface PageVisibility {
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

export interface IntervalTimers {
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const browserTimers: IntervalTimers = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as number),
};

export class StatsPoller {
  byRoute = $state.raw<ReadonlyMap<string, RouteStats>>(new Map());
  /** Requests for names no route claims. */
  unmatched = $state(0);
  /** False when the last poll failed; the numbers shown are then the last good ones. */
  fresh = $state(true);

  readonly #load: () => Promise<StatsSnapshot>;
  readonly #page: PageVisibility;
  readonly #timers: IntervalTimers;
  #interval: unknown = null;
  #inFlight = false;

  constructor(load: () => Promise<StatsSnapshot>, page: PageVisibility, timers: IntervalTimers = browserTimers) {
    this.#load = load;
    this.#page = page;
    this.#timers = timers;
  }

  /** Polls now and every 2 s while visible; returns the function that stops it for good. */
  start(): () => void {
    const follow = () => this.#followVisibility();
    this.#page.addEventListener('visibilitychange', follow);
    this.#followVisibility();
    return () => {
      this.#page.removeEventListener('visibilitychange', follow);
      this.#stopInterval();
    };
  }

  #followVisibility(): void {
    if (this.#page.visibilityState !== 'visible') {
      this.#stopInterval();
      return;
    }
    if (this.#interval !== null) return;
    // Back in view: show current numbers at once rather than after the first tick.
    void this.poll();
    this.#interval = this.#timers.setInterval(() => void this.poll(), STATS_INTERVAL_MS);
  }

  #stopInterval(): void {
    if (this.#interval === null) return;
    this.#timers.clearInterval(this.#interval);
    this.#interval = null;
  }

  /** One poll; skipped while the previous one is still on its way (a slow server is not piled on). */
  async poll(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const snapshot = await this.#load();
      this.byRoute = new Map(snapshot.routes.map((stats) => [stats.routeId, stats]));
      this.unmatched = snapshot.unmatched;
      this.fresh = true;
    } catch {
      this.fresh = false;
    } finally {
      this.#inFlight = false;
    }
  }
}
