// Per-route counters and latency percentiles. Recording is a few array writes on the request path;
// percentiles are computed only when someone asks. Latency lives in a ring of 10-second log-scale
// histograms covering the last five minutes, so p50/p99 describe now, not the day's average.
import type { RouteStats, StatsSnapshot } from '../../../shared/status.js';

const SLOT_MS = 10_000;
const SLOTS = 30; // 5 minutes
/** Bucket i holds latencies in [BASE^i, BASE^(i+1)) tenths of a millisecond: ±5% resolution. */
const BASE = 1.1;
const LOG_BASE = Math.log(BASE);
const BUCKETS = 200; // up to ~ 1.1^200 / 10 ms ≈ 19 000 s

/** The latency bin of `ms` (shared with the history store, insight/history-codec.ts). */
export function bucketOf(ms: number): number {
  const tenths = ms * 10;
  if (tenths < 1) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log(tenths) / LOG_BASE));
}

/** The upper edge of a bucket, in ms: reporting the edge never understates a latency. */
export const bucketEdgeMs = (bucket: number) => Math.round(BASE ** (bucket + 1)) / 10;
export const LATENCY_BINS = BUCKETS;

// What the history store (insight/history-store.ts) keeps per 10-second bucket, per route and per
// upstream: the sampler drains these every 10 s. The request path only adds to typed arrays.
export const F_REQUESTS = 0;
export const F_4XX = 1;
export const F_5XX = 2;
/** Gatehouse's own failures (502/503/504 it answered itself; passthrough connections that failed). */
export const F_PROXY = 3;
export const F_REFUSED = 4;
export const F_UPGRADED = 5;
export const F_BYTES_IN = 6;
export const F_BYTES_OUT = 7;
export const BUCKET_FIELDS = 8;
/** A request's class for the history: F_4XX, F_5XX, F_PROXY, or -1 (answered, not an error). */
export type Outcome = -1 | typeof F_4XX | typeof F_5XX | typeof F_PROXY;

/**
 * The class of an answer: 5xx Gatehouse answered itself (a failure of its own: `ownFailure`) count
 * as proxy errors, other 5xx as the upstream's; 400–498 as 4xx. 499 (the client went away) is none.
 */
export function outcomeOf(status: number, ownFailure: boolean): Outcome {
  if (status >= 500) return ownFailure ? F_PROXY : F_5XX;
  if (status >= 400 && status !== 499) return F_4XX;
  return -1;
}

/** Counts since the history sampler's last drain. */
export class BucketCounts {
  readonly counts = new Float64Array(BUCKET_FIELDS);
  /** Latencies by bin (bucketOf). */
  readonly latency = new Uint32Array(BUCKETS);

  add(outcome: Outcome, bytesIn: number, bytesOut: number): void {
    const counts = this.counts;
    if (outcome !== -1) counts[outcome]!++;
    counts[F_BYTES_IN]! += bytesIn;
    counts[F_BYTES_OUT]! += bytesOut;
  }

  clear(): void {
    this.counts.fill(0);
    this.latency.fill(0);
  }

  /** Nothing counted since the last clear. */
  get empty(): boolean {
    return this.counts.every((value) => value === 0);
  }
}

class RouteCounters {
  requests = 0;
  errors = 0;
  bytesIn = 0;
  bytesOut = 0;
  openWebSockets = 0;
  /** Requests refused by access, limits, scanner blocking or sign-in: counted here, not as requests. */
  refused = 0;
  private readonly refusedPerSlot = new Uint32Array(SLOTS);
  private readonly refusedPeriods = new Float64Array(SLOTS).fill(-1);
  private readonly histograms = Array.from({ length: SLOTS }, () => new Uint32Array(BUCKETS));
  /** Which 10-second period each slot currently holds. */
  private readonly periods = new Float64Array(SLOTS).fill(-1);
  private readonly requestsPerSlot = new Uint32Array(SLOTS);
  /** Latencies in each slot's histogram: requests minus upgraded connections. */
  private readonly timedPerSlot = new Uint32Array(SLOTS);
  /** The history's current bucket (drained by ProxyStats.drain), the route's and each upstream's by address. */
  readonly bucket = new BucketCounts();
  readonly upstreamBuckets = new Map<string, BucketCounts>();

  /** `history`: false keeps no history buckets (GATEHOUSE_HISTORY=off, the bench's baseline). */
  constructor(private readonly history = true) {}

  private upstreamBucket(address: string): BucketCounts {
    let bucket = this.upstreamBuckets.get(address);
    if (bucket === undefined) this.upstreamBuckets.set(address, (bucket = new BucketCounts()));
    return bucket;
  }

  /** One finished request; `outcome` (outcomeOf) and the upstream address (`host:port`) feed the history. */
  record(durationMs: number, failed: boolean, bytesIn: number, bytesOut: number, now: number, outcome: Outcome = -1, upstream: string | null = null): void {
    const slot = this.count(failed, bytesIn, bytesOut, now);
    const bin = bucketOf(durationMs);
    (this.histograms[slot] as Uint32Array)[bin]!++;
    this.timedPerSlot[slot]!++;
    if (!this.history) return;
    this.bucket.counts[F_REQUESTS]!++;
    this.bucket.latency[bin]!++;
    this.bucket.add(outcome, bytesIn, bytesOut);
    if (upstream !== null) {
      const bucket = this.upstreamBucket(upstream);
      bucket.counts[F_REQUESTS]!++;
      bucket.latency[bin]!++;
      bucket.add(outcome, bytesIn, bytesOut);
    }
  }

  /**
   * One upgraded connection (a WebSocket) that has closed: a request for the counts and the rate,
   * but its lifetime is how long someone kept a page open, not how fast the service answered, so it
   * stays out of the latency percentiles.
   */
  recordUpgraded(failed: boolean, bytesIn: number, bytesOut: number, now: number, upstream: string | null = null): void {
    this.count(failed, bytesIn, bytesOut, now);
    if (!this.history) return;
    // In the history an upgraded connection is counted apart from requests (and a failed one as
    // Gatehouse's own failure): never a request, never a latency.
    this.bucket.counts[F_UPGRADED]!++;
    this.bucket.add(failed ? F_PROXY : -1, bytesIn, bytesOut);
    if (upstream !== null) {
      const bucket = this.upstreamBucket(upstream);
      bucket.counts[F_UPGRADED]!++;
      bucket.add(failed ? F_PROXY : -1, bytesIn, bytesOut);
    }
  }

  /** One request refused before it reached the service (kept out of the requests and latencies). */
  recordRefused(now: number): void {
    this.refused++;
    this.bucket.counts[F_REFUSED]!++;
    const period = Math.floor(now / SLOT_MS);
    const slot = period % SLOTS;
    if (this.refusedPeriods[slot] !== period) {
      this.refusedPerSlot[slot] = 0;
      this.refusedPeriods[slot] = period;
    }
    this.refusedPerSlot[slot]!++;
  }

  /** Counts a request in the totals and in its slot; returns the slot. */
  private count(failed: boolean, bytesIn: number, bytesOut: number, now: number): number {
    this.requests++;
    if (failed) this.errors++;
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    const period = Math.floor(now / SLOT_MS);
    const slot = period % SLOTS;
    if (this.periods[slot] !== period) {
      (this.histograms[slot] as Uint32Array).fill(0);
      this.requestsPerSlot[slot] = 0;
      this.timedPerSlot[slot] = 0;
      this.periods[slot] = period;
    }
    this.requestsPerSlot[slot]!++;
    return slot;
  }

  snapshot(routeId: string, now: number): RouteStats {
    const current = Math.floor(now / SLOT_MS);
    const merged = new Float64Array(BUCKETS);
    let timed = 0;
    let lastMinute = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const age = current - (this.periods[slot] as number);
      if (age < 0 || age >= SLOTS) continue;
      const histogram = this.histograms[slot] as Uint32Array;
      for (let b = 0; b < BUCKETS; b++) merged[b]! += histogram[b] as number;
      timed += this.timedPerSlot[slot] as number;
      if (age < 60_000 / SLOT_MS) lastMinute += this.requestsPerSlot[slot] as number;
    }
    let refusedLastMinute = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const age = current - (this.refusedPeriods[slot] as number);
      if (age >= 0 && age < 60_000 / SLOT_MS) refusedLastMinute += this.refusedPerSlot[slot] as number;
    }
    return {
      routeId,
      requests: this.requests,
      errors: this.errors,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      p50Ms: percentile(merged, timed, 0.5),
      p99Ms: percentile(merged, timed, 0.99),
      requestsPerMinute: lastMinute,
      openWebSockets: this.openWebSockets,
      refused: this.refused,
      refusedPerMinute: refusedLastMinute,
    };
  }
}

function percentile(histogram: Float64Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += histogram[b] as number;
    if (seen >= rank) return bucketEdgeMs(b);
  }
  return bucketEdgeMs(BUCKETS - 1);
}

/** Counters for every route, kept by route id so an edited route keeps its history. */
export class ProxyStats {
  private readonly byRoute = new Map<string, RouteCounters>();
  private unmatched = 0;

  /** `history`: false records the live counters only, no history buckets (the bench's baseline). */
  constructor(private readonly history = true) {}

  /** The counters of a route, created on first use; the request path holds on to this object. */
  counters(routeId: string): RouteCounters {
    let counters = this.byRoute.get(routeId);
    if (!counters) this.byRoute.set(routeId, (counters = new RouteCounters(this.history)));
    return counters;
  }

  recordUnmatched(): void {
    this.unmatched++;
  }

  /**
   * Hands each route's history bucket (and its upstreams', by address) to `visit`, which copies
   * them; then empties them for the next period. The history sampler calls this every 10 s.
   */
  drain(visit: (routeId: string, route: BucketCounts, upstreams: ReadonlyMap<string, BucketCounts>) => void): void {
    for (const [routeId, counters] of this.byRoute) {
      visit(routeId, counters.bucket, counters.upstreamBuckets);
      counters.bucket.clear();
      // An upstream with nothing since the last drain goes: one removed from its route (or from
      // Gatehouse) is not kept for ever; a busy one keeps its bucket (made again on its next request).
      for (const [address, bucket] of counters.upstreamBuckets) {
        if (bucket.empty) counters.upstreamBuckets.delete(address);
        else bucket.clear();
      }
    }
  }

  /** Drops the counters of routes that no longer exist. */
  retainOnly(routeIds: ReadonlySet<string>): void {
    for (const id of this.byRoute.keys()) if (!routeIds.has(id)) this.byRoute.delete(id);
  }

  snapshot(routeIds: readonly string[], now = Date.now()): StatsSnapshot {
    return {
      time: new Date(now).toISOString(),
      routes: routeIds.map((id) => this.counters(id).snapshot(id, now)),
      unmatched: this.unmatched,
    };
  }
}

export type { RouteCounters };
