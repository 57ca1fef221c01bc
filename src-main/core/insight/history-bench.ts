// For `npm run bench` (and the store's tests): a month of synthetic history for N routes, written
// the way the store writes it, so the space it takes on disk can be measured.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUCKET_FIELDS, F_4XX, F_5XX, F_BYTES_IN, F_BYTES_OUT, F_PROXY, F_REFUSED, F_REQUESTS, F_UPGRADED } from '../proxy/stats.js';
import type { Bucket } from './history-codec.js';
import { RESOLUTIONS } from './history-file.js';
import { HistoryStore, type HistoryRoute } from './history-store.js';

export interface FilledHistory {
  routes: number;
  upstreamsPerRoute: number;
  /** Files written (route and upstream series, up/down logs). */
  files: number;
  /** Their total size in bytes (what `du --apparent-size` counts). */
  bytes: number;
  /** Bytes the file system allocated for them (what `du` counts). */
  allocatedBytes: number;
}

/** N routes, each with `upstreamsPerRoute` upstreams (ids bench-route-0…, 10.99.x.y:8000). */
export function benchRoutes(routes: number, upstreamsPerRoute = 2): HistoryRoute[] {
  return Array.from({ length: routes }, (_, r) => ({
    id: `bench-route-${r}`,
    enabled: true,
    upstreams: Array.from({ length: upstreamsPerRoute }, (_, u) => ({ url: `http://10.99.${r % 250}.${u + 1}:${8000 + r}` })) as HistoryRoute['upstreams'],
  }));
}

function syntheticBucket(period: number, scale: number): Bucket {
  const counts = new Float64Array(BUCKET_FIELDS);
  const requests = Math.round(scale * (50 + 40 * Math.sin(period / 97)));
  counts[F_REQUESTS] = requests;
  counts[F_4XX] = Math.round(requests * 0.03);
  counts[F_5XX] = Math.round(requests * 0.005);
  counts[F_PROXY] = period % 50 === 0 ? 1 : 0;
  counts[F_REFUSED] = period % 7;
  counts[F_UPGRADED] = period % 3;
  counts[F_BYTES_IN] = requests * 700;
  counts[F_BYTES_OUT] = requests * 24_000;
  return { counts, bins: [60, 85, 100] };
}

/**
 * Fills `dir` (a history folder) with a full month for `routes` routes: every slot of both rings
 * of every series written with non-trivial numbers, and a transition a day in the up/down log.
 */
export function fillHistoryMonth(dir: string, routes = 50, upstreamsPerRoute = 2, nowMs = Date.now()): FilledHistory {
  let clock = nowMs - 30 * 24 * 3600_000;
  const store = HistoryStore.open({ dir, now: () => clock, warn: () => {} });
  const list = benchRoutes(routes, upstreamsPerRoute);
  store.setRoutes(list);
  for (const series of store.seriesFiles()) {
    for (const r of [0, 1] as const) {
      const { seconds, slots } = RESOLUTIONS[r];
      const last = Math.floor(nowMs / 1000 / seconds);
      const writes = Array.from({ length: slots }, (_, i) => {
        const period = last - slots + 1 + i;
        return { r, period, bucket: syntheticBucket(period, r === 0 ? 1 : 30) };
      });
      series.write(writes);
    }
  }
  for (let day = 0; day < 30; day++) {
    clock = nowMs - (30 - day) * 24 * 3600_000;
    store.observeHealth(list.map((route) => ({ routeId: route.id, state: day % 2 ? 'up' : 'down', upstreams: route.upstreams.map((u) => ({ url: u.url, state: 'up', available: true, coolingUntil: null })) })) as never);
  }
  clock = nowMs;
  store.close();
  return { routes, upstreamsPerRoute, ...sizeOf(dir) };
}

function sizeOf(dir: string): { files: number; bytes: number; allocatedBytes: number } {
  let files = 0;
  let bytes = 0;
  let allocatedBytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const stat = statSync(join(entry.parentPath, entry.name));
    files++;
    bytes += stat.size;
    allocatedBytes += stat.blocks * 512;
  }
  return { files, bytes, allocatedBytes };
}
