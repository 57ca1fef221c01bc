// What keeping history costs (issue 17), measured against real `gatehouse serve` processes on
// 127.0.0.1: small requests through a serve that records history (as shipped) against a serve
// started with GATEHOUSE_HISTORY=off (the switch that records none), interleaved, same backend, same
// wrk; and the space a month of history takes for 50 routes with 2 upstreams each, written through
// the real store. The inspector's cost is measured in the front-door section (bench/inspector.mjs),
// the doctor's time by bench/doctor.mjs, the route page's render time by the UI section (bench/ui.mjs).
// Called by bench/run.mjs as one section; also runs alone: node bench/insight.mjs [--quick].
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveApi as api, startBenchServe } from './gatehouse.mjs';
import { startBackend } from './peers.mjs';
import { Processes, cpuPressure, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { parseWrkOutput, runLoadTool, WRK_REPORT_SCRIPT } from './wrk.mjs';

const PLAIN_HOST = 'plain.bench.test';

export const INSIGHT_TARGETS = {
  history: { id: 'history-overhead', text: 'history on (inspector off) serves ≥ 0.97× a serve recording no history', limit: 0.97 },
  disk: { id: 'history-disk', text: 'a month of history for 50 routes (2 upstreams each) takes ≤ 50 MB on disk', limit: 50 },
};

async function addRoute(serve, host, backendPort) {
  return api(serve, 'POST', '/api/routes', { names: [host], upstream: `127.0.0.1:${backendPort}`, tls: { mode: 'none' }, access: { exposure: 'anyone' } });
}

function wrkRun(ctx, wrk, port, host, durationS) {
  const args = ['-t1', '-c16', `-d${durationS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${host}`, '-s', WRK_REPORT_SCRIPT, `http://127.0.0.1:${port}/`];
  return runLoadTool(ctx.processes, `wrk ${host}`, wrk, ctx.loadCpu ?? null, args, parseWrkOutput);
}

async function attempt(what) {
  try {
    return await what();
  } catch (error) {
    return { error: String(error?.message ?? error).split('\n')[0] };
  }
}

/** Throughput with and without history. Never throws. */
async function measureThroughput(ctx, options) {
  const reps = options.quick ? 1 : 3;
  const durationS = options.durationS ?? (options.quick ? 3 : 8); // run.mjs: BENCH_DURATION (4 s)
  const result = { withHistory: [], withoutHistory: [], error: null };
  try {
    const wrk = ctx.tools?.wrk ?? which('wrk');
    if (!wrk) throw new Error('wrk is not installed (apt-get install wrk)');
    const backend = ctx.backendPort ? { port: ctx.backendPort } : await startBackend({ ...ctx, tools: ctx.tools ?? { nginx: which('nginx') } });
    const shipped = await startBenchServe(ctx, mkdtempSync(join(ctx.tmp, 'insight-on-')), 'gatehouse-history-on');
    const bare = await startBenchServe(ctx, mkdtempSync(join(ctx.tmp, 'insight-off-')), 'gatehouse-history-off', { env: { ...process.env, GATEHOUSE_HISTORY: 'off' } });
    await addRoute(shipped, PLAIN_HOST, backend.port);
    await addRoute(bare, PLAIN_HOST, backend.port);
    const runs = [
      [shipped.port, PLAIN_HOST, result.withHistory],
      [bare.port, PLAIN_HOST, result.withoutHistory],
    ];
    for (const [port, host] of runs) await wrkRun(ctx, wrk, port, host, 1); // warm-up
    for (let rep = 0; rep < reps; rep++) {
      // Rotate which goes first, so no configuration always runs on a fresher machine.
      const order = [...runs.slice(rep % runs.length), ...runs.slice(0, rep % runs.length)];
      for (const [port, host, into] of order) {
        const run = await wrkRun(ctx, wrk, port, host, durationS);
        if (run.errors.status > 0) throw new Error(`${host}: ${run.errors.status} of ${run.requests} answers were not 2xx/3xx`);
        into.push(run);
      }
    }
    // The shipped serve really kept what it served (the sampler writes every 10 s).
    const routes = await api(shipped, 'GET', '/api/routes');
    const history = await api(shipped, 'GET', `/api/history/routes/${routes[0].id}?range=1h`);
    result.recorded = history.series.requests.reduce((sum, n) => sum + (n ?? 0), 0);
  } catch (error) {
    result.error = error.message.split('\n')[0];
  }
  const rps = (runs) => (runs.length ? median(runs.map((r) => r.reqPerSec)) : null);
  result.summary = { withHistoryRps: rps(result.withHistory), withoutHistoryRps: rps(result.withoutHistory) };
  const s = result.summary;
  s.historyRatio = s.withHistoryRps && s.withoutHistoryRps ? s.withHistoryRps / s.withoutHistoryRps : null;
  return result;
}

/** A month of history for 50 routes with 2 upstreams each, written through the real store: bytes on disk. */
async function measureDisk(ctx) {
  const { fillHistoryMonth } = await import('../dist/node/src-main/core/insight/history-bench.js');
  const dir = mkdtempSync(join(ctx.tmp, 'history-disk-'));
  const started = performance.now();
  const filled = fillHistoryMonth(dir, 50, 2);
  return { ...filled, series: filled.routes * (1 + filled.upstreamsPerRoute), ms: performance.now() - started };
}

export async function measureInsight(ctx, options = {}) {
  const pressure = cpuPressure();
  const throughput = await measureThroughput(ctx, options);
  const disk = await attempt(() => measureDisk(ctx));
  return { throughput, disk, cpuPressure: pressure, failed: Boolean(throughput.error || disk.error) };
}

export function insightTargets({ throughput, disk }) {
  const out = [];
  const s = throughput.summary ?? {};
  const { history } = INSIGHT_TARGETS;
  if (typeof s.historyRatio !== 'number') out.push({ ...history, status: 'MISS', detail: `not measured: ${throughput.error}` });
  else out.push({ ...history, status: s.historyRatio >= history.limit ? 'PASS' : 'MISS', detail: `${fmt(s.historyRatio, 3)}× (${fmt(s.withHistoryRps)} vs ${fmt(s.withoutHistoryRps)} req/s)` });
  const { disk: diskTarget } = INSIGHT_TARGETS;
  if (disk.error) out.push({ ...diskTarget, status: 'MISS', detail: `not measured: ${disk.error}` });
  else {
    const mb = disk.bytes / 1e6;
    out.push({ ...diskTarget, status: mb <= diskTarget.limit ? 'PASS' : 'MISS', detail: `${fmt(mb, 1)} MB in ${fmt(disk.files)} files (${fmt(disk.series)} series; ${fmt(disk.allocatedBytes / 1e6, 1)} MB allocated)` });
  }
  return out;
}

export function describeInsight({ throughput, disk, cpuPressure: pressure }) {
  const lines = ['History (gatehouse serve on 127.0.0.1, wrk -c16, small responses):'];
  if (pressure && pressure.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${pressure.avg60}% of the last minute).`);
  if (throughput.error) lines.push(`  ERROR: ${throughput.error}`);
  const s = throughput.summary ?? {};
  if (s.withoutHistoryRps) lines.push(`  no history (GATEHOUSE_HISTORY=off):   ${fmt(s.withoutHistoryRps)} req/s (median of ${throughput.withoutHistory.length})`);
  if (s.withHistoryRps) lines.push(`  history on, inspector off (shipped):   ${fmt(s.withHistoryRps)} req/s (median of ${throughput.withHistory.length}; ${fmt(throughput.recorded ?? 0)} requests in its last hour's history)`);
  if (s.historyRatio) lines.push(`  history on ÷ off: ${fmt(s.historyRatio, 3)}×`);
  if (disk.error) lines.push(`  disk: ERROR ${disk.error}`);
  else lines.push(`  disk: a month for 50 routes × 2 upstreams: ${fmt(disk.bytes / 1e6, 1)} MB (${fmt(disk.series)} series, ${fmt(disk.files)} files, written in ${fmt(disk.ms)} ms)`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-insight-'));
  const quick = process.argv.includes('--quick');
  try {
    const insight = await measureInsight({ processes, tmp, serverCpu: null, loadCpu: null }, { quick });
    console.log(describeInsight(insight));
    for (const t of insightTargets(insight)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
    process.exitCode = insight.failed ? 1 : 0;
  } finally {
    await processes.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
