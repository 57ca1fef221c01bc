// What the request inspector costs a request, measured against a real `gatehouse serve` on
// 127.0.0.1: small requests through route A with no route inspected (the baseline), through the
// same route A while route B is inspected (the inspector is "off" for A: one lookup per request),
// and through route B while it is inspected (keep 50, 4096 body bytes, every request captured).
// Same backend, same wrk, repetitions interleaved, medians reported.
// Called by bench/front-door.mjs as part of its section; also runs alone: node bench/inspector.mjs [--quick].
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveApi as api, startBenchServe } from './gatehouse.mjs';
import { startBackend } from './peers.mjs';
import { Processes, cpuPressure, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { parseWrkOutput, runLoadTool, WRK_REPORT_SCRIPT } from './wrk.mjs';

const OFF_HOST = 'plain.inspector.test';
const ON_HOST = 'inspected.inspector.test';

export const INSPECTOR_TARGETS = [
  { id: 'inspector-off', text: 'a route not inspected serves ≥ 0.97× itself with no route inspected', limit: 0.97 },
  { id: 'inspector-on', text: 'an inspected route serves ≥ 0.85× a route with none', limit: 0.85 },
];

function wrkRun(ctx, wrk, port, host, durationS) {
  const args = ['-t1', '-c16', `-d${durationS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${host}`, '-s', WRK_REPORT_SCRIPT, `http://127.0.0.1:${port}/`];
  return runLoadTool(ctx.processes, `wrk ${host}`, wrk, ctx.loadCpu ?? null, args, parseWrkOutput);
}

/** Measures the inspector's cost. Never throws: errors are in `error`. */
export async function measureInspector(ctx, options = {}) {
  const reps = options.quick ? 1 : 3;
  const durationS = options.durationS ?? (options.quick ? 3 : 8); // run.mjs: BENCH_DURATION (4 s)
  const result = { baseline: [], off: [], on: [], held: null, cpuPressure: cpuPressure(), error: null };
  try {
    const wrk = ctx.tools?.wrk ?? which('wrk');
    if (!wrk) throw new Error('wrk is not installed (apt-get install wrk)');
    const dir = mkdtempSync(join(ctx.tmp, 'inspector-'));
    const backend = ctx.backendPort ? { port: ctx.backendPort } : await startBackend({ ...ctx, tools: ctx.tools ?? { nginx: which('nginx') } });
    const serve = await startBenchServe(ctx, dir, 'gatehouse-inspector');
    await api(serve, 'POST', '/api/routes', { names: [OFF_HOST], upstream: `127.0.0.1:${backend.port}`, tls: { mode: 'none' } });
    const inspected = await api(serve, 'POST', '/api/routes', { names: [ON_HOST], upstream: `127.0.0.1:${backend.port}`, tls: { mode: 'none' } });
    const inspect = (enabled) => api(serve, 'PUT', `/api/inspector/${inspected.id}`, { enabled });
    // Warm-up of both routes (the JIT sees the capturing path too), then interleaved repetitions.
    await inspect(true);
    await wrkRun(ctx, wrk, serve.port, OFF_HOST, options.quick ? 1 : 2);
    await wrkRun(ctx, wrk, serve.port, ON_HOST, options.quick ? 1 : 2);
    for (let rep = 0; rep < reps; rep++) {
      await inspect(false);
      result.baseline.push(await wrkRun(ctx, wrk, serve.port, OFF_HOST, durationS));
      await inspect(true);
      const order = rep % 2 === 0 ? [[OFF_HOST, result.off], [ON_HOST, result.on]] : [[ON_HOST, result.on], [OFF_HOST, result.off]];
      for (const [host, runs] of order) runs.push(await wrkRun(ctx, wrk, serve.port, host, durationS));
      for (const run of [...result.baseline, ...result.off, ...result.on]) if (run.errors.status > 0) throw new Error(`${run.errors.status} of ${run.requests} answers were not 2xx/3xx`);
    }
    result.held = (await api(serve, 'GET', `/api/inspector/${inspected.id}`)).bytesHeld;
  } catch (error) {
    result.error = error.message.split('\n')[0];
  }
  const rps = (runs) => (runs.length ? median(runs.map((r) => r.reqPerSec)) : null);
  const s = (result.summary = { baselineRps: rps(result.baseline), offRps: rps(result.off), onRps: rps(result.on) });
  s.offRatio = s.baselineRps && s.offRps ? s.offRps / s.baselineRps : null;
  s.onRatio = s.baselineRps && s.onRps ? s.onRps / s.baselineRps : null;
  result.failed = result.error !== null;
  return result;
}

export function inspectorTargets(inspector) {
  const [off, on] = INSPECTOR_TARGETS;
  const s = inspector.summary ?? {};
  const one = (target, ratio, rps) =>
    typeof ratio !== 'number'
      ? { id: target.id, text: target.text, status: 'MISS', detail: `not measured: ${inspector.error}` }
      : { id: target.id, text: target.text, status: ratio >= target.limit ? 'PASS' : 'MISS', detail: `${fmt(ratio, 3)}× (${fmt(rps)} vs ${fmt(s.baselineRps)} req/s)` };
  return [one(off, s.offRatio, s.offRps), one(on, s.onRatio, s.onRps)];
}

export function describeInspector(inspector) {
  const lines = ['Request inspector (gatehouse serve on 127.0.0.1; wrk -c16, small answers):'];
  if (inspector.cpuPressure && inspector.cpuPressure.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${inspector.cpuPressure.avg60}% of the last minute).`);
  if (inspector.error) lines.push(`  ERROR: ${inspector.error}`);
  const s = inspector.summary ?? {};
  if (s.baselineRps) lines.push(`  no route inspected:             ${fmt(s.baselineRps)} req/s (median of ${inspector.baseline.length})`);
  if (s.offRps) lines.push(`  this route off, another on:     ${fmt(s.offRps)} req/s (${fmt(s.offRatio, 3)}×)`);
  if (s.onRps) lines.push(`  this route inspected (50/4096): ${fmt(s.onRps)} req/s (${fmt(s.onRatio, 3)}×)`);
  if (inspector.held !== null) lines.push(`  memory the 50 captures held afterwards: ${fmt(inspector.held)} bytes`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-inspector-'));
  const quick = process.argv.includes('--quick');
  try {
    const inspector = await measureInspector({ processes, tmp, serverCpu: null, loadCpu: null }, { quick });
    console.log(describeInspector(inspector));
    for (const t of inspectorTargets(inspector)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
    process.exitCode = inspector.failed ? 1 : 0;
  } finally {
    await processes.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
