// "Features on" against "features off" (issue 18), as one section of `npm run bench`: on the same
// `gatehouse serve` as the load table, the plain bench.test route (features off: one upstream, the
// shipped defaults) against a second route with the typical home-lab set on:
// - this network only (exposure "lan": loopback is this network, docs/access.md),
// - one access list, consulted on every request (entries that do not match 127.0.0.1, so the
//   exposure and the rest still run),
// - a rate limit high enough never to refuse, applied to this network too (limits.limitLan), so
//   the limiter's bookkeeping runs for the bench's loopback client,
// - two upstreams (the backend's two ports), round robin, active health checks on.
// The route is read back (GET /api/routes/:id) and a request must pass with the backend's body
// before anything is measured. Small responses, wrk -c64 as in the load table, interleaved reps.
import { BENCH_HOST, SMALL_BODY, SMALL_PATH } from './content.mjs';
import { serveApi } from './gatehouse.mjs';
import { get } from './processes.mjs';
import { fmt, median, range, withSpread } from './report.mjs';
import { invalidReason, runWrk } from './wrk.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

export const FEATURES_HOST = 'features.bench.test';
const CONNECTIONS = 64;

/** The access list: a typical one (a tailnet allowed, an office network denied), matching no loopback address. */
const LIST = {
  name: 'Bench home lab',
  entries: [
    { action: 'allow', range: '100.64.0.0/10', note: 'tailnet' },
    { action: 'deny', range: '203.0.113.0/24', note: 'old office' },
  ],
};

/** What the features-on route must have once read back; the first thing missing, or null. */
export function missingFeature(route, listId, ports) {
  const a = route.access ?? {};
  if (a.exposure !== 'lan') return `exposure is ${JSON.stringify(a.exposure)}, not "lan"`;
  if (!Array.isArray(a.lists) || !a.lists.includes(listId)) return `the access list ${listId} is not attached (lists ${JSON.stringify(a.lists)})`;
  if (!(a.limits?.requestsPerMinute > 0) || a.limits?.limitLan !== true) return `no rate limit applied to this network (limits ${JSON.stringify(a.limits)})`;
  const urls = (route.upstreams ?? []).map((u) => u.url);
  if (urls.length !== 2 || !ports.every((port) => urls.some((url) => url.endsWith(`:${port}`)))) return `upstreams are ${JSON.stringify(urls)}, not the backend's two ports`;
  if (route.healthCheck?.active?.enabled !== true) return 'active health checks are off';
  return null;
}

/** Adds the features-on route to the serve and checks it; resolves {routeId, listId, route, verdict, health}. */
export async function addFeaturesRoute(serve, backendPorts) {
  const list = await serveApi(serve, 'POST', '/api/access/lists', LIST);
  const created = await serveApi(serve, 'POST', '/api/routes', {
    names: [FEATURES_HOST],
    upstreams: backendPorts.map((port) => ({ url: `http://127.0.0.1:${port}` })),
    balancing: { policy: 'round_robin' },
    healthCheck: { active: { enabled: true } },
    access: {
      exposure: 'lan',
      lists: [list.id],
      // The most the model allows (16,667/s from one address): above what one core serves here.
      limits: { requestsPerMinute: 1_000_000, loginPerMinute: 10, maxBodyBytes: 0, limitLan: true },
    },
  });
  const route = await serveApi(serve, 'GET', `/api/routes/${created.id}`);
  const missing = missingFeature(route, list.id, backendPorts);
  if (missing) throw new Error(`the features-on route does not have its features: ${missing}`);
  const verdict = await serveApi(serve, 'POST', '/api/access/check', { routeId: route.id, address: '127.0.0.1' });
  if (!verdict.admitted) throw new Error(`127.0.0.1 would not be admitted to the features-on route: ${JSON.stringify(verdict.steps)}`);
  // The active checks have run once both upstreams are up.
  const deadline = Date.now() + 10_000;
  let health;
  for (;;) {
    health = (await serveApi(serve, 'GET', '/api/health')).find((h) => h.routeId === route.id);
    if (health?.upstreams?.length === 2 && health.upstreams.every((u) => u.state === 'up')) break;
    if (Date.now() > deadline) throw new Error(`the features-on route's upstreams are not both up after 10 s: ${JSON.stringify(health)}`);
    await sleep(200);
  }
  for (let i = 0; i < 4; i++) {
    const answer = await get(serve.port, SMALL_PATH, FEATURES_HOST);
    if (answer.status !== 200 || answer.body !== SMALL_BODY) throw new Error(`GET ${SMALL_PATH} for ${FEATURES_HOST} answered HTTP ${answer.status} "${answer.body.slice(0, 80)}"`);
  }
  return { routeId: route.id, listId: list.id, route, verdict, health };
}

function wrkRun(ctx, port, host, durationS) {
  return runWrk(ctx.processes, ctx.tools.wrk, ctx.loadCpu, { url: `http://127.0.0.1:${port}${SMALL_PATH}`, connections: CONNECTIONS, durationS, host });
}

/**
 * Measures features off (bench.test) against features on on `gatehouse` ({port, adminUrl, token}),
 * `reps` interleaved repetitions of `durationS`, alternating which goes first. Never throws: an
 * error is in `error`.
 */
export async function measureFeatures(ctx, gatehouse, backendPorts, { reps, durationS, warmupS }) {
  const result = { off: [], on: [], setup: null, error: null };
  try {
    if (!gatehouse) throw new Error('Gatehouse did not start');
    const setup = await addFeaturesRoute(gatehouse, backendPorts);
    result.setup = { routeId: setup.routeId, verdict: setup.verdict.steps.map((s) => `${s.step} ${s.outcome}`).join(', '), upstreams: setup.health.upstreams.map((u) => `${u.url} ${u.state}`) };
    console.log(`Features-on route ${FEATURES_HOST}: LAN-only, list "${LIST.name}", rate limit on (LAN too), 2 upstreams up (${result.setup.upstreams.join(', ')}); 127.0.0.1: ${result.setup.verdict}`);
    if (warmupS > 0) {
      await wrkRun(ctx, gatehouse.port, BENCH_HOST, warmupS);
      await wrkRun(ctx, gatehouse.port, FEATURES_HOST, warmupS);
    }
    for (let rep = 0; rep < reps; rep++) {
      const pairs = [['off', BENCH_HOST], ['on', FEATURES_HOST]];
      for (const [which, host] of rep % 2 === 0 ? pairs : pairs.reverse()) {
        await sleep(500);
        const run = await wrkRun(ctx, gatehouse.port, host, durationS);
        const invalid = invalidReason(run);
        if (invalid) throw new Error(`features ${which} (${host}): ${invalid}`);
        result[which].push({ reqPerSec: run.reqPerSec, latencyMs: run.latencyMs, requests: run.requests, errors: run.errors });
        console.log(`  rep ${rep + 1}/${reps}  features ${which.padEnd(3)}  ${fmt(run.reqPerSec).padStart(7)} req/s  p99 ${fmt(run.latencyMs.p99, 2).padStart(7)} ms`);
      }
    }
  } catch (error) {
    result.error = String(error?.message ?? error).split('\n')[0];
  }
  result.summary = summarizeFeatures(result);
  result.failed = result.error !== null;
  return result;
}

/** Medians and spreads of both sides, and on ÷ off (req/s). */
export function summarizeFeatures({ off, on, error }) {
  const side = (runs) => ({
    rps: median(runs.map((r) => r.reqPerSec)),
    rpsRange: range(runs.map((r) => r.reqPerSec)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    p99MsRange: range(runs.map((r) => r.latencyMs.p99)),
  });
  const o = side(off);
  const n = side(on);
  const ratio = o.rps && n.rps ? n.rps / o.rps : null;
  const p99Ratio = o.p99Ms && n.p99Ms ? n.p99Ms / o.p99Ms : null;
  return { offRps: o.rps, onRps: n.rps, ratio, off: o, on: n, p99Ratio, ...(error && ratio === null ? { error } : {}) };
}

export function describeFeatures(features) {
  if (!features) return 'Features on/off: not run (--sections)';
  const lines = [`Features on against off (same gatehouse serve, one core; wrk -c${CONNECTIONS} small responses, median of ${features.off.length}):`];
  if (features.error) lines.push(`  ERROR: ${features.error}`);
  const s = features.summary ?? {};
  if (s.offRps) lines.push(`  off (${BENCH_HOST}, one upstream, defaults):  ${withSpread(s.off.rps, s.off.rpsRange)} req/s, p99 ${withSpread(s.off.p99Ms, s.off.p99MsRange, 2)} ms`);
  if (s.onRps) lines.push(`  on  (${FEATURES_HOST}: LAN-only, list, rate limit, 2 upstreams + health): ${withSpread(s.on.rps, s.on.rpsRange)} req/s, p99 ${withSpread(s.on.p99Ms, s.on.p99MsRange, 2)} ms`);
  if (s.ratio) lines.push(`  on ÷ off: req/s ${s.ratio.toFixed(3)}×, p99 ${s.p99Ratio?.toFixed(2) ?? '—'}×`);
  return lines.join('\n');
}
