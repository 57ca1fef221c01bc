// What "who may come in" costs a request, measured against a real `gatehouse serve` on 127.0.0.1:
// small requests through a route with every access check on (a 1,000-entry access list that does
// not match, country rules, a per-client rate limit, the scanner list) against the same route with
// none of them, interleaved, same backend, same wrk. The client poses as an internet visitor
// (198.51.100.7 behind a trusted proxy, X-Forwarded-For), so every check really runs: an address on
// this machine's own network would skip the country lookup and the rate limit.
// Called by bench/run.mjs as one section; also runs alone: node bench/access.mjs [--quick].
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveApi as api, startBenchServe } from './gatehouse.mjs';
import { startBackend } from './peers.mjs';
import { Processes, cpuPressure, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { parseWrkOutput, runLoadTool, WRK_REPORT_SCRIPT } from './wrk.mjs';

const PLAIN_HOST = 'open.bench.test';
const GUARDED_HOST = 'guarded.bench.test';
/** An internet address (TEST-NET-2; the country database places it in AU). */
const VISITOR = '198.51.100.7';

export const ACCESS_TARGETS = [{ id: 'access-overhead', text: 'every access check on serves ≥ 0.9× the same route with none', limit: 0.9 }];

/** 1,000 entries none of which matches the visitor: the whole list is consulted on every request. */
function bigList() {
  const entries = [];
  for (let i = 0; i < 1000; i++) {
    const a = 11 + (i % 200);
    const b = Math.floor(i / 200);
    entries.push(i % 3 === 0 ? { action: 'deny', range: `${a}.${b}.0.0/16`, note: `n${i}` } : { action: 'allow', range: `${a}.${b}.${i % 250}.${i % 251}` });
  }
  return entries;
}

async function configure(serve, backendPort) {
  // 127.0.0.1 (wrk) is the trusted proxy in front; the visitor is whom its X-Forwarded-For names.
  await api(serve, 'PATCH', '/api/settings', { proxy: { trustedProxies: ['127.0.0.1'] } });
  const list = await api(serve, 'POST', '/api/access/lists', { name: 'Bench', entries: bigList() });
  const none = { exposure: 'anyone', lists: [], countries: { mode: 'off', countries: [] }, limits: { requestsPerMinute: 0, loginPerMinute: 0, maxBodyBytes: 0, limitLan: false }, blockScanners: false };
  await api(serve, 'POST', '/api/routes', { names: [PLAIN_HOST], upstream: `127.0.0.1:${backendPort}`, tls: { mode: 'none' }, access: none });
  const every = {
    exposure: 'anyone',
    lists: [list.id],
    countries: { mode: 'deny', countries: ['CN', 'RU', 'KP'] },
    // High enough never to refuse during the run, so the limiter's bookkeeping is what is measured.
    limits: { requestsPerMinute: 1_000_000, loginPerMinute: 10, maxBodyBytes: 10_000_000, limitLan: true },
    blockScanners: true,
  };
  await api(serve, 'POST', '/api/routes', { names: [GUARDED_HOST], upstream: `127.0.0.1:${backendPort}`, tls: { mode: 'none' }, access: every });
  const verdict = await api(serve, 'POST', '/api/access/check', { routeId: (await api(serve, 'GET', '/api/routes')).find((r) => r.names[0] === GUARDED_HOST).id, address: VISITOR });
  return verdict;
}

function wrkRun(ctx, wrk, port, host, durationS) {
  const args = ['-t1', '-c16', `-d${durationS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${host}`, '-H', `X-Forwarded-For: ${VISITOR}`, '-s', WRK_REPORT_SCRIPT, `http://127.0.0.1:${port}/`];
  return runLoadTool(ctx.processes, `wrk ${host}`, wrk, ctx.loadCpu ?? null, args, parseWrkOutput);
}

/** Measures the access section. Never throws: errors are in `error`. */
export async function measureAccess(ctx, options = {}) {
  const reps = options.quick ? 1 : 3;
  const durationS = options.durationS ?? (options.quick ? 3 : 8); // run.mjs: BENCH_DURATION (4 s)
  const result = { plain: [], guarded: [], verdict: null, cpuPressure: cpuPressure(), error: null };
  try {
    const wrk = ctx.tools?.wrk ?? which('wrk');
    if (!wrk) throw new Error('wrk is not installed (apt-get install wrk)');
    const dir = mkdtempSync(join(ctx.tmp, 'access-'));
    const backend = ctx.backendPort ? { port: ctx.backendPort } : await startBackend({ ...ctx, tools: ctx.tools ?? { nginx: which('nginx') } });
    const serve = await startBenchServe(ctx, dir, 'gatehouse-access');
    result.verdict = await configure(serve, backend.port);
    // Warm-up of both, then interleaved repetitions, alternating which goes first.
    await wrkRun(ctx, wrk, serve.port, PLAIN_HOST, 1);
    await wrkRun(ctx, wrk, serve.port, GUARDED_HOST, 1);
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 === 0 ? [[PLAIN_HOST, result.plain], [GUARDED_HOST, result.guarded]] : [[GUARDED_HOST, result.guarded], [PLAIN_HOST, result.plain]];
      for (const [host, runs] of order) {
        const run = await wrkRun(ctx, wrk, serve.port, host, durationS);
        if (run.errors.status > 0) throw new Error(`${host}: ${run.errors.status} of ${run.requests} answers were not 2xx/3xx (was the visitor refused?)`);
        runs.push(run);
      }
    }
  } catch (error) {
    result.error = error.message.split('\n')[0];
  }
  const rps = (runs) => (runs.length ? median(runs.map((r) => r.reqPerSec)) : null);
  const p99 = (runs) => (runs.length ? median(runs.map((r) => r.latencyMs.p99)) : null);
  result.summary = { plainRps: rps(result.plain), guardedRps: rps(result.guarded), plainP99Ms: p99(result.plain), guardedP99Ms: p99(result.guarded) };
  result.summary.ratio = result.summary.plainRps && result.summary.guardedRps ? result.summary.guardedRps / result.summary.plainRps : null;
  result.failed = result.error !== null;
  return result;
}

export function accessTargets(access) {
  const [target] = ACCESS_TARGETS;
  const ratio = access.summary?.ratio;
  if (typeof ratio !== 'number') return [{ id: target.id, text: target.text, status: 'MISS', detail: `not measured: ${access.error}` }];
  return [{ id: target.id, text: target.text, status: ratio >= target.limit ? 'PASS' : 'MISS', detail: `${fmt(ratio, 3)}× (${fmt(access.summary.guardedRps)} vs ${fmt(access.summary.plainRps)} req/s)` }];
}

export function describeAccess(access) {
  const lines = ['Access checks (gatehouse serve on 127.0.0.1; wrk -c16 as a trusted proxy for visitor 198.51.100.7):'];
  if (access.cpuPressure && access.cpuPressure.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${access.cpuPressure.avg60}% of the last minute).`);
  if (access.error) lines.push(`  ERROR: ${access.error}`);
  const s = access.summary ?? {};
  if (s.plainRps) lines.push(`  route with no checks:      ${fmt(s.plainRps)} req/s, p99 ${fmt(s.plainP99Ms, 2)} ms (median of ${access.plain.length})`);
  if (s.guardedRps) lines.push(`  route with every check on: ${fmt(s.guardedRps)} req/s, p99 ${fmt(s.guardedP99Ms, 2)} ms (1,000-entry list, country deny CN/RU/KP, rate limit, scanner list)`);
  if (s.ratio) lines.push(`  every check ÷ none: ${fmt(s.ratio, 3)}×`);
  if (access.verdict) lines.push(`  verdict for ${access.verdict.address}: ${access.verdict.admitted ? 'admitted' : 'refused'}, country ${access.verdict.country ?? 'unknown'}, steps: ${access.verdict.steps.map((step) => `${step.step} ${step.outcome}`).join(', ')}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-access-'));
  const quick = process.argv.includes('--quick');
  try {
    const access = await measureAccess({ processes, tmp, serverCpu: null, loadCpu: null }, { quick });
    console.log(describeAccess(access));
    for (const t of accessTargets(access)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
    process.exitCode = access.failed ? 1 : 0;
  } finally {
    await processes.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
