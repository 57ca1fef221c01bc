// What the route page's graphs and the dashboard's sparklines read: the history polled while the page
// is shown and the window visible (history has no event: a bucket fills every 10 s), at the pace of
// the range (10 s for 1 h, 1 min for 24 h, 5 min for 30 d; the dashboard's summary every 30 s).
// A slow answer is never piled on, and an answer for a range no longer chosen is dropped.
import type { ApiClient, ApiError } from '../../shared/api.js';
import type { HistoryRange, HistorySummary, RouteHistory } from '../../shared/insight.js';
import { asApiError } from '../app/errors.js';
import type { IntervalTimers, PageVisibility } from '../pages/dashboard/stats-poller.svelte.js';
import { REFRESH_MS } from './history-shape.js';

export const SUMMARY_INTERVAL_MS = 30_000;

const browserTimers: IntervalTimers = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as number),
};

/** Runs `poll` now and every `ms()` while the page is visible; `restart()` after `ms()` changes. */
export class VisiblePoller {
  readonly #poll: () => void;
  readonly #ms: () => number;
  readonly #page: PageVisibility;
  readonly #timers: IntervalTimers;
  #interval: unknown = null;
  #started = false;

  constructor(poll: () => void, ms: () => number, page: PageVisibility, timers: IntervalTimers = browserTimers) {
    this.#poll = poll;
    this.#ms = ms;
    this.#page = page;
    this.#timers = timers;
  }

  start(): () => void {
    const follow = () => this.#follow();
    this.#started = true;
    this.#page.addEventListener('visibilitychange', follow);
    this.#follow();
    return () => {
      this.#started = false;
      this.#page.removeEventListener('visibilitychange', follow);
      this.#stop();
    };
  }

  /** A new pace (another range): poll now and at the new pace. */
  restart(): void {
    this.#stop();
    if (this.#started) this.#follow();
  }

  #follow(): void {
    if (this.#page.visibilityState !== 'visible') {
      this.#stop();
      return;
    }
    if (this.#interval !== null) return;
    this.#poll();
    this.#interval = this.#timers.setInterval(() => this.#poll(), this.#ms());
  }

  #stop(): void {
    if (this.#interval === null) return;
    this.#timers.clearInterval(this.#interval);
    this.#interval = null;
  }
}

/** One route's history over the chosen range. */
export class RouteHistoryFeed {
  range = $state<HistoryRange>('1h');
  /** The last answer for the chosen range; null until the first one (or after switching range). */
  history = $state.raw<RouteHistory | null>(null);
  /** Why the last read failed; the last good history stays shown under it. */
  error = $state.raw<ApiError | null>(null);
  loading = $state(false);

  readonly #api: Pick<ApiClient, 'getHistory'>;
  readonly #routeId: string;
  readonly #poller: VisiblePoller;
  #inFlight: HistoryRange | null = null;

  constructor(api: Pick<ApiClient, 'getHistory'>, routeId: string, page: PageVisibility, timers?: IntervalTimers) {
    this.#api = api;
    this.#routeId = routeId;
    this.#poller = new VisiblePoller(() => void this.reload(), () => REFRESH_MS[this.range], page, timers);
  }

  start(): () => void {
    return this.#poller.start();
  }

  choose(range: HistoryRange): void {
    if (range === this.range) return;
    this.range = range;
    this.history = null;
    this.error = null;
    this.#inFlight = null;
    this.#poller.restart();
  }

  async reload(): Promise<void> {
    const range = this.range;
    if (this.#inFlight === range) return;
    this.#inFlight = range;
    this.loading = true;
    try {
      const history = await this.#api.getHistory({ routeId: this.#routeId, range });
      if (range !== this.range) return;
      this.history = history;
      this.error = null;
    } catch (error) {
      if (range === this.range) this.error = asApiError(error);
    } finally {
      if (this.#inFlight === range) {
        this.#inFlight = null;
        this.loading = false;
      }
    }
  }
}

/** Every route's last hour for the dashboard's sparklines: one call for all routes every 30 s. */
export class HistorySummaryFeed {
  byRoute = $state.raw<ReadonlyMap<string, HistorySummary['routes'][number]>>(new Map());
  summary = $state.raw<HistorySummary | null>(null);
  /** False when the last read failed (the sparklines keep the last good ones, or none). */
  fresh = $state(true);

  readonly #api: Pick<ApiClient, 'getHistorySummary'>;
  readonly #poller: VisiblePoller;
  #inFlight = false;

  constructor(api: Pick<ApiClient, 'getHistorySummary'>, page: PageVisibility, timers?: IntervalTimers) {
    this.#api = api;
    this.#poller = new VisiblePoller(() => void this.reload(), () => SUMMARY_INTERVAL_MS, page, timers);
  }

  start(): () => void {
    return this.#poller.start();
  }

  async reload(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const summary = await this.#api.getHistorySummary({ range: '1h' });
      this.summary = summary;
      this.byRoute = new Map(summary.routes.map((route) => [route.routeId, route]));
      this.fresh = true;
    } catch {
      this.fresh = false;
    } finally {
      this.#inFlight = false;
    }
  }
}
