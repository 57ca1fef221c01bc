// Traffic and up/down history kept on disk (DATA_DIR/history/, docs/history.md): one folder per
// route, holding a fixed-size file for the route's series and one per upstream (history-file.ts),
// and its up/down transitions (history-availability.ts). A sampler drains the proxy's counters
// every 10 s (proxy/stats.ts: the request path only adds to arrays) and writes one bucket per
// series; the 5-minute bucket under way is rewritten each time, so a crash loses at most 10 s.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../../shared/api.js';
import type { HistoryRange, HistorySummary, RouteHistory } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import type { RouteHealth } from '../../../shared/status.js';
import type { BucketCounts } from '../proxy/stats.js';
import { hostPort } from '../upstreams/registry.js';
import { AvailabilityLog, ROUTE_KEY, type UpState } from './history-availability.js';
import { SeriesFile, type SeriesIdentity } from './history-file.js';
import { periodsOf, ROUTE_PLANS, seriesOf, SUMMARY_PLANS, windowOf } from './history-query.js';
import { addInto, newSeries, SAMPLE_SECONDS, writeSeries, type Series } from './history-series.js';

export { SAMPLE_SECONDS };

export type HistoryRoute = Pick<Route, 'id' | 'enabled' | 'upstreams'>;
export type Drain = (visit: (routeId: string, route: BucketCounts, upstreams: ReadonlyMap<string, BucketCounts>) => void) => void;

export interface HistoryStoreOptions {
  /** The folder (DATA_DIR/history). */
  dir: string;
  /** The clock, in ms. Default: Date.now (tests pass a fake one). */
  now?: () => number;
  /** Reads the proxy's counters since the last sample (ProxyEngine.drainHistory). Default: none. */
  drain?: Drain;
  /** Upstream health now, for the up/down history. Default: none. */
  health?: () => RouteHealth[];
  /** Told about damaged files and failed writes. Default: console.warn. */
  warn?: (message: string) => void;
}

interface RouteEntry {
  route: HistoryRoute;
  dir: string;
  own: Series;
  /** By upstream URL, in the route's order. */
  upstreams: Map<string, Series>;
  /** Upstream address (`host:port`) → URL: the proxy counts by address. */
  byAddress: Map<string, string>;
  availability: AvailabilityLog;
}

/** Longest file name made by fileNameOf: well under the file systems' 255 bytes, with room for "up-" and ".ghh". */
export const FILE_NAME_MAX = 200;

/**
 * A route id or URL as a file name: letters, digits, dot and dash kept, the rest as _XX. A longer
 * name (a long URL, or an id of non-ASCII characters, 9 bytes each) is cut to `max` characters
 * ending in "~" and a hash of the whole text ("~" is never written otherwise), so two texts that
 * differ only after the cut still get names of their own.
 */
export function fileNameOf(text: string, max = FILE_NAME_MAX): string {
  const escaped = Buffer.from(text, 'utf8').reduce((out, byte) => {
    const char = String.fromCharCode(byte);
    return out + (/[A-Za-z0-9.-]/.test(char) ? char : `_${byte.toString(16).padStart(2, '0')}`);
  }, '');
  const name = escaped.startsWith('.') ? `_2e${escaped.slice(1)}` : escaped;
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
  return `${name.slice(0, max - hash.length - 1)}~${hash}`;
}

export class HistoryStore {
  private readonly entries = new Map<string, RouteEntry>();
  private readonly now: () => number;
  private readonly warnings = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private pruned = 0;
  private cleaned = false;
  private closed = false;
  private known: ((routeId: string) => boolean) | null = null;
  /** Answers given since the last write (the files do not change in between; the dashboard asks often). */
  private readonly answers = new Map<string, { at: number; value: RouteHistory | HistorySummary }>();

  private constructor(private readonly options: HistoryStoreOptions) {
    this.now = options.now ?? Date.now;
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (error) {
      // Gatehouse runs without a history rather than not at all; each route says why when opened.
      this.warn(`gatehouse: could not make the history folder ${options.dir}: ${(error as Error).message}`);
    }
  }

  static open(options: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(options);
  }

  /** Samples every 10 s, just after each bucket ends (the timer does not keep the process alive). */
  start(): void {
    if (this.timer || this.closed) return;
    const schedule = () => {
      const wait = SAMPLE_SECONDS * 1000 - (this.now() % (SAMPLE_SECONDS * 1000)) + 25;
      this.timer = setTimeout(() => {
        this.tick();
        if (!this.closed) schedule();
      }, wait);
      this.timer.unref();
    };
    schedule();
  }

  /** Follows the route list: series for new routes and upstreams; the files of removed ones are deleted. */
  setRoutes(routes: readonly HistoryRoute[]): void {
    if (this.closed) return;
    const wanted = new Set(routes.map((route) => route.id));
    this.known = (routeId) => wanted.has(routeId);
    this.answers.clear();
    for (const [id, entry] of this.entries) {
      if (wanted.has(id)) continue;
      this.entries.delete(id);
      try {
        rmSync(entry.dir, { recursive: true, force: true });
      } catch (error) {
        this.warn(`gatehouse: could not remove the history of route ${id}: ${(error as Error).message}`);
      }
    }
    for (const route of routes) {
      try {
        const entry = this.entries.get(route.id);
        if (entry) this.updateEntry(entry, route);
        else this.entries.set(route.id, this.openEntry(route));
      } catch (error) {
        // The route works without its history; the page then says it has none.
        this.warn(`gatehouse: could not open the history of route ${route.id}: ${(error as Error).message}`);
      }
    }
    if (!this.cleaned) {
      // Folders of routes removed while Gatehouse was not running.
      this.cleaned = true;
      const dirs = new Set([...this.entries.values()].map((entry) => entry.dir));
      try {
        for (const name of readdirSync(this.options.dir)) {
          const path = join(this.options.dir, name);
          if (!dirs.has(path)) rmSync(path, { recursive: true, force: true });
        }
      } catch (error) {
        this.warn(`gatehouse: could not tidy the history folder ${this.options.dir}: ${(error as Error).message}`);
      }
    }
  }

  /** Adds drained counts (the proxy's, by route id and upstream address) to the bucket under way. */
  take(routeId: string, route: BucketCounts, upstreams: ReadonlyMap<string, BucketCounts>): void {
    const entry = this.entries.get(routeId);
    if (!entry) return;
    addInto(entry.own, route);
    for (const [address, counts] of upstreams) {
      const url = entry.byAddress.get(address);
      const series = url === undefined ? undefined : entry.upstreams.get(url);
      if (series) addInto(series, counts);
    }
  }

  /** Notes the routes' and upstreams' up/down state now (only changes are stored). */
  observeHealth(snapshot: readonly RouteHealth[]): void {
    if (this.closed) return;
    const at = Math.floor(this.now() / 1000);
    for (const health of snapshot) {
      const entry = this.entries.get(health.routeId);
      if (!entry) continue;
      try {
        if (!entry.route.enabled) {
          for (const key of entry.availability.keys()) entry.availability.set(key, 'off', at);
          continue;
        }
        const anyAvailable = health.upstreams.some((upstream) => upstream.available);
        const routeState: UpState = health.state === 'down' ? 'down' : health.state === 'up' || anyAvailable ? 'up' : 'down';
        entry.availability.set(ROUTE_KEY, routeState, at);
        for (const upstream of health.upstreams) {
          if (!entry.upstreams.has(upstream.url)) continue;
          entry.availability.set(upstream.url, upstream.state === 'down' || upstream.coolingUntil !== null ? 'down' : 'up', at);
        }
      } catch (error) {
        this.warn(`gatehouse: could not write the up/down history of route ${health.routeId}: ${(error as Error).message}`);
      }
    }
  }

  /** One sample: drain the proxy's counters, note health, write the bucket that just ended. */
  tick(): void {
    if (this.closed) return;
    this.options.drain?.((routeId, route, upstreams) => this.take(routeId, route, upstreams));
    if (this.options.health) this.observeHealth(this.options.health());
    this.flush(Math.floor(this.now() / 1000 / SAMPLE_SECONDS) - 1);
    if (this.now() - this.pruned > 3600_000) this.prune();
  }

  /** Writes what was taken as the 10-second bucket `period` (and into its 5-minute bucket). */
  flush(period: number): void {
    this.answers.clear();
    for (const entry of this.entries.values()) {
      for (const series of [entry.own, ...entry.upstreams.values()]) {
        try {
          writeSeries(series, period);
        } catch (error) {
          this.warn(`gatehouse: could not write the traffic history to ${series.file.path}: ${(error as Error).message}`);
        }
      }
    }
  }

  /** One route's history over a range (its up/down spans run on to now, past the last complete bucket). */
  history(routeId: string, range: HistoryRange): RouteHistory {
    return this.remembered(`route ${range} ${routeId}`, () => this.readHistory(routeId, range));
  }

  /** Every route's requests and errors (5xx and Gatehouse's own; 4xx left out) for the dashboard. */
  summary(range: HistoryRange): HistorySummary {
    return this.remembered(`summary ${range}`, () => this.readSummary(range));
  }

  /** The answer given for `key` this second since the last write, else a new one. */
  private remembered<T extends RouteHistory | HistorySummary>(key: string, read: () => T): T {
    const second = Math.floor(this.now() / 1000);
    const known = this.answers.get(key);
    if (known && known.at === second) return known.value as T;
    const value = read();
    if (this.answers.size > 200) this.answers.clear();
    this.answers.set(key, { at: second, value });
    return value;
  }

  private readHistory(routeId: string, range: HistoryRange): RouteHistory {
    const entry = this.entries.get(routeId);
    if (!entry) {
      if (this.known?.(routeId)) throw new ApiError('internal', `The history of route ${routeId} could not be opened; the console says why.`);
      throw new ApiError('not_found', `No route has the id "${routeId}"; list the routes to see their ids.`);
    }
    const plan = ROUTE_PLANS[range];
    const window = windowOf(plan, this.now());
    const periods = periodsOf(plan, window);
    const nowSeconds = Math.floor(this.now() / 1000);
    const read = (series: Series) => seriesOf(plan, window.from, series.file.read(plan.r, periods.from, periods.to));
    return {
      routeId,
      range,
      stepSeconds: plan.step,
      from: window.from,
      to: window.to,
      series: read(entry.own),
      availability: entry.availability.availability(ROUTE_KEY, window.from, Math.max(window.to, nowSeconds), nowSeconds),
      upstreams: [...entry.upstreams].map(([url, series]) => ({
        url,
        series: read(series),
        availability: entry.availability.availability(url, window.from, Math.max(window.to, nowSeconds), nowSeconds),
      })),
    };
  }

  private readSummary(range: HistoryRange): HistorySummary {
    const plan = SUMMARY_PLANS[range];
    const window = windowOf(plan, this.now());
    const periods = periodsOf(plan, window);
    const nowSeconds = Math.floor(this.now() / 1000);
    return {
      range,
      stepSeconds: plan.step,
      from: window.from,
      to: window.to,
      routes: [...this.entries.values()].map((entry) => {
        const series = seriesOf(plan, window.from, entry.own.file.read(plan.r, periods.from, periods.to), false);
        return {
          routeId: entry.route.id,
          requests: series.requests,
          errors: series.errors5xx.map((errors, i) => errors + (series.proxyErrors[i] as number)),
          upFraction: entry.availability.availability(ROUTE_KEY, window.from, Math.max(window.to, nowSeconds), nowSeconds).upFraction,
        };
      }),
    };
  }

  /** Every series' file (the bench fills them directly). */
  seriesFiles(): SeriesFile[] {
    return [...this.entries.values()].flatMap((entry) => [entry.own.file, ...[...entry.upstreams.values()].map((series) => series.file)]);
  }

  /** Writes what the current bucket holds, marks every route off from now, and stops sampling. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.options.drain?.((routeId, route, upstreams) => this.take(routeId, route, upstreams));
    // The bucket under way, partly filled: the next run adds to it if it starts within it.
    this.flush(Math.floor(this.now() / 1000 / SAMPLE_SECONDS));
    const at = Math.floor(this.now() / 1000);
    for (const entry of this.entries.values()) {
      try {
        for (const key of entry.availability.keys()) entry.availability.set(key, 'off', at);
      } catch (error) {
        this.warn(`gatehouse: could not write the up/down history of route ${entry.route.id}: ${(error as Error).message}`);
      }
    }
    this.closed = true;
  }

  private openEntry(route: HistoryRoute): RouteEntry {
    const dir = join(this.options.dir, fileNameOf(route.id));
    mkdirSync(dir, { recursive: true });
    const own = this.openSeries(join(dir, 'route.ghh'), { kind: 'route', routeId: route.id, url: null });
    const availability = AvailabilityLog.open(join(dir, 'availability.log'), (message) => this.warn(message));
    const entry: RouteEntry = { route, dir, own, upstreams: new Map(), byAddress: new Map(), availability };
    this.updateEntry(entry, route);
    // Gatehouse stopped without saying so (a crash): off from the last bucket it wrote.
    const head = own.file.heads[0];
    if (head !== 0) {
      const lastAlive = (head + 1) * SAMPLE_SECONDS;
      for (const key of availability.keys()) if (availability.current(key) !== 'off') availability.set(key, 'off', lastAlive);
    }
    return entry;
  }

  private updateEntry(entry: RouteEntry, route: HistoryRoute): void {
    entry.route = route;
    const urls = route.upstreams.map((upstream) => upstream.url);
    for (const [url, series] of entry.upstreams) {
      if (urls.includes(url)) continue;
      entry.upstreams.delete(url);
      rmSync(series.file.path, { force: true });
    }
    const ordered = new Map<string, Series>();
    entry.byAddress.clear();
    for (const url of urls) {
      const series = entry.upstreams.get(url) ?? this.openSeries(join(entry.dir, `up-${fileNameOf(url)}.ghh`), { kind: 'upstream', routeId: route.id, url });
      ordered.set(url, series);
      const address = hostPort(url).address;
      if (!entry.byAddress.has(address)) entry.byAddress.set(address, url);
    }
    entry.upstreams = ordered;
    if (existsSync(entry.dir)) {
      const files = new Set(['route.ghh', 'availability.log', ...[...ordered.values()].map((series) => series.file.path.slice(entry.dir.length + 1))]);
      for (const name of readdirSync(entry.dir)) if (!files.has(name)) rmSync(join(entry.dir, name), { force: true });
    }
  }

  private openSeries(path: string, identity: SeriesIdentity): Series {
    const file = SeriesFile.open(path, identity, Math.floor(this.now() / 1000), (message) => this.warn(message));
    return newSeries(file);
  }

  private prune(): void {
    this.pruned = this.now();
    const at = Math.floor(this.now() / 1000);
    for (const entry of this.entries.values()) {
      try {
        entry.availability.prune(new Set([ROUTE_KEY, ...entry.upstreams.keys()]), at);
      } catch (error) {
        this.warn(`gatehouse: could not prune the up/down history of route ${entry.route.id}: ${(error as Error).message}`);
      }
    }
  }

  /** Each distinct problem once per run (a full disk would otherwise repeat every 10 s). */
  private warn(message: string): void {
    if (this.warnings.has(message)) return;
    this.warnings.add(message);
    (this.options.warn ?? console.warn)(message);
  }
}
