// Several upstreams per route (issue 14), as one section of `npm run bench`, against a real
// `gatehouse serve` on 127.0.0.1:
// - spreading: small requests through a route with three round-robin upstreams against a route
//   with one, interleaved, same backend process (bench/multi-backend.mjs listens on all ports);
// - a kill under load: wrk -c32 for 20 s on a route with two round-robin upstreams, one of which
//   is SIGKILLed after 5 s. Failed requests are counted by wrk and placed in time from the access
//   log: a request that found the dead upstream refusing must be retried on the other;
// - detection: with no traffic, how long until a killed upstream is out of rotation (the admin
//   API says it is not available), and until a restarted one is back, against its check interval
//   and its fails/passes thresholds.
// Also runs alone: node bench/failover.mjs [--quick]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { serveApi as api, startBenchServe } from './gatehouse.mjs';
import { Processes, cpuPressure, freePort, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { parseWrkOutput, runLoadTool, WRK_REPORT_SCRIPT } from './wrk.mjs';

const BACKEND = fileURLToPath(new URL('./multi-backend.mjs', import.meta.url));
const ONE_HOST = 'one.bench.test';
const THREE_HOST = 'three.bench.test';
const KILL_HOST = 'kill.bench.test';
const DETECT_HOST = 'detect.bench.test';
/** The detection route's active check: every second, two fails out, two passes back. */
const DETECT_CHECK = { intervalMs: 1000, timeoutMs: 500, fails: 2, passes: 2 };

export const FAILOVER_TARGETS = [
  { id: 'failover-kill', text: 'killing one of two upstreams under wrk -c32 (20 s): ≤ 0.1% of requests fail, none after the first second (retried elsewhere)', limit: 0.001 },
  { id: 'failover-spread', text: 'three round-robin upstreams serve small requests at ≥ 0.95× a route with one', limit: 0.95 },
  { id: 'failover-detect', text: 'a dead upstream is out within one check interval plus its fail threshold; a restored one back within its pass threshold' },
];

/** Starts the backend on `ports`; resolves the child once it prints "ready". */
async function startBackend(ctx, name, ports) {
  const child = ctx.processes.start(name, process.execPath, [BACKEND, ...ports.map(String)], { cpu: ctx.serverCpu ?? null, capture: true });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the backend on ${ports.join(', ')} exited (${code}) before it listened`)));
  });
  return child;
}

function wrk(ctx, wrkPath, port, host, durationS, connections = 16) {
  const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${host}`, '-s', WRK_REPORT_SCRIPT, `http://127.0.0.1:${port}/`];
  return runLoadTool(ctx.processes, `wrk ${host}`, wrkPath, ctx.loadCpu ?? null, args, parseWrkOutput);
}

const failures = (run) => run.errors.connect + run.errors.read + run.errors.write + run.errors.timeout + run.errors.status;

async function routeId(serve, host) {
  return (await api(serve, 'GET', '/api/routes')).find((route) => route.names[0] === host).id;
}

async function upstreamHealth(serve, id, url) {
  const health = await api(serve, 'GET', '/api/health');
  return health.find((route) => route.routeId === id)?.upstreams.find((upstream) => upstream.url === url) ?? null;
}

/** Polls the admin API every 25 ms until `test(upstream health)`; resolves the ms it took. */
async function timeUntil(serve, id, url, test, limitMs) {
  const started = performance.now();
  for (;;) {
    const seen = await upstreamHealth(serve, id, url);
    if (seen && test(seen)) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`${url} did not change within ${limitMs} ms (last seen: ${JSON.stringify(seen)})`);
    await sleep(25);
  }
}

/** Access-log entries for `host` (every rotated file too), oldest first. */
function loggedFor(dataDir, host) {
  const files = readdirSync(dataDir).filter((name) => /^access\.log(\.\d+)?$/.test(name));
  const entries = [];
  for (const file of files) {
    for (const line of readFileSync(join(dataDir, file), 'utf8').split('\n')) {
      if (!line.includes(host)) continue;
      try {
        entries.push(JSON.parse(line));
      } catch {
        // a line cut by rotation
      }
    }
  }
  return entries.sort((a, b) => a.time.localeCompare(b.time));
}

async function measureSpread(ctx, serve, wrkPath, result, reps, durationS) {
  const ports = [await freePort(), await freePort(), await freePort()];
  await startBackend(ctx, 'failover-backend', ports);
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  await api(serve, 'POST', '/api/routes', { names: [ONE_HOST], upstream: urls[0] });
  await api(serve, 'POST', '/api/routes', { names: [THREE_HOST], upstreams: urls.map((url) => ({ url })), balancing: { policy: 'round_robin' } });
  await wrk(ctx, wrkPath, serve.port, ONE_HOST, 1);
  await wrk(ctx, wrkPath, serve.port, THREE_HOST, 1);
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? [[ONE_HOST, result.one], [THREE_HOST, result.three]] : [[THREE_HOST, result.three], [ONE_HOST, result.one]];
    for (const [host, runs] of order) {
      const run = await wrk(ctx, wrkPath, serve.port, host, durationS);
      if (failures(run) > 0) throw new Error(`${host}: ${failures(run)} of ${run.requests} requests failed`);
      runs.push(run);
    }
  }
}

async function measureKill(ctx, serve, wrkPath, durationS, killAfterS) {
  const [a, b] = [await freePort(), await freePort()];
  const victim = await startBackend(ctx, 'failover-victim', [a]);
  await startBackend(ctx, 'failover-survivor', [b]);
  await api(serve, 'POST', '/api/routes', {
    names: [KILL_HOST],
    upstreams: [{ url: `http://127.0.0.1:${a}` }, { url: `http://127.0.0.1:${b}` }],
    balancing: { policy: 'round_robin' },
  });
  await wrk(ctx, wrkPath, serve.port, KILL_HOST, 1, 32);
  const load = wrk(ctx, wrkPath, serve.port, KILL_HOST, durationS, 32);
  await sleep(killAfterS * 1000);
  const killedAt = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  const run = await load;
  const failed = loggedFor(serve.dataDir, KILL_HOST).filter((entry) => entry.status >= 500 && Date.parse(entry.time) >= killedAt - 100);
  const afterFirstSecond = failed.filter((entry) => Date.parse(entry.time) > killedAt + 1000);
  return {
    requests: run.requests,
    reqPerSec: run.reqPerSec,
    failed: failures(run),
    share: run.requests ? failures(run) / run.requests : 1,
    logged: failed.length,
    loggedAfterFirstSecond: afterFirstSecond.length,
    codes: [...new Set(failed.map((entry) => entry.error))],
    p99Ms: run.latencyMs.p99,
  };
}

async function measureDetection(ctx, serve) {
  const [a, b] = [await freePort(), await freePort()];
  let victim = await startBackend(ctx, 'detect-victim', [a]);
  await startBackend(ctx, 'detect-survivor', [b]);
  const url = `http://127.0.0.1:${a}`;
  await api(serve, 'POST', '/api/routes', {
    names: [DETECT_HOST],
    upstreams: [{ url }, { url: `http://127.0.0.1:${b}` }],
    healthCheck: { active: { ...DETECT_CHECK } },
  });
  const id = await routeId(serve, DETECT_HOST);
  await timeUntil(serve, id, url, (u) => u.state === 'up', 15_000);
  // Let the first check after "up" settle, so the kill lands at a random point of an interval.
  await sleep(DETECT_CHECK.intervalMs * 0.37);
  process.kill(victim.pid, 'SIGKILL');
  const outMs = await timeUntil(serve, id, url, (u) => !u.available, 30_000);
  victim = await startBackend(ctx, 'detect-victim', [a]);
  const backMs = await timeUntil(serve, id, url, (u) => u.available && u.state === 'up', 30_000);
  const { intervalMs, fails, passes } = DETECT_CHECK;
  return { outMs, backMs, outLimitMs: intervalMs * (1 + fails), backLimitMs: intervalMs * (1 + passes), check: DETECT_CHECK };
}

/** Measures the section. Never throws: errors are in `error`. */
export async function measureFailover(ctx, options = {}) {
  const reps = options.quick ? 1 : 3;
  const durationS = options.durationS ?? (options.quick ? 3 : 8); // run.mjs: BENCH_DURATION (4 s)
  const result = { one: [], three: [], kill: null, detect: null, cpuPressure: cpuPressure(), error: null };
  let serve = null;
  try {
    const wrkPath = ctx.tools?.wrk ?? which('wrk');
    if (!wrkPath) throw new Error('wrk is not installed (apt-get install wrk)');
    serve = await startBenchServe(ctx, mkdtempSync(join(ctx.tmp, 'failover-')), 'gatehouse-failover');
    await measureSpread(ctx, serve, wrkPath, result, reps, durationS);
    result.kill = await measureKill(ctx, serve, wrkPath, options.quick ? 8 : 20, options.quick ? 2 : 5);
    result.detect = await measureDetection(ctx, serve);
  } catch (error) {
    result.error = error.message.split('\n')[0];
  }
  const rps = (runs) => (runs.length ? median(runs.map((r) => r.reqPerSec)) : null);
  result.summary = { oneRps: rps(result.one), threeRps: rps(result.three) };
  result.summary.ratio = result.summary.oneRps && result.summary.threeRps ? result.summary.threeRps / result.summary.oneRps : null;
  result.failed = result.error !== null;
  return result;
}

export function failoverTargets(failover) {
  const [kill, spread, detect] = FAILOVER_TARGETS;
  const notMeasured = (target) => ({ id: target.id, text: target.text, status: 'MISS', detail: `not measured: ${failover.error}` });
  const out = [];
  const k = failover.kill;
  if (!k) out.push(notMeasured(kill));
  else {
    const ok = k.share <= kill.limit && k.loggedAfterFirstSecond === 0;
    out.push({ id: kill.id, text: kill.text, status: ok ? 'PASS' : 'MISS', detail: `${k.failed} of ${fmt(k.requests)} failed (${fmt(k.share * 100, 3)}%); ${k.loggedAfterFirstSecond} after the first second` });
  }
  const ratio = failover.summary?.ratio;
  if (typeof ratio !== 'number') out.push(notMeasured(spread));
  else out.push({ id: spread.id, text: spread.text, status: ratio >= spread.limit ? 'PASS' : 'MISS', detail: `${fmt(ratio, 3)}× (${fmt(failover.summary.threeRps)} vs ${fmt(failover.summary.oneRps)} req/s)` });
  const d = failover.detect;
  if (!d) out.push(notMeasured(detect));
  else {
    const ok = d.outMs <= d.outLimitMs && d.backMs <= d.backLimitMs;
    out.push({ id: detect.id, text: detect.text, status: ok ? 'PASS' : 'MISS', detail: `out in ${fmt(d.outMs)} ms (limit ${fmt(d.outLimitMs)}), back in ${fmt(d.backMs)} ms (limit ${fmt(d.backLimitMs)})` });
  }
  return out;
}

export function describeFailover(failover) {
  const lines = ['Several upstreams (gatehouse serve on 127.0.0.1; backends: node, one process per group of ports):'];
  if (failover.cpuPressure && failover.cpuPressure.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${failover.cpuPressure.avg60}% of the last minute).`);
  if (failover.error) lines.push(`  ERROR: ${failover.error}`);
  const s = failover.summary ?? {};
  if (s.oneRps) lines.push(`  one upstream:               ${fmt(s.oneRps)} req/s, p99 ${fmt(median(failover.one.map((r) => r.latencyMs.p99)), 2)} ms (wrk -c16, median of ${failover.one.length})`);
  if (s.threeRps) lines.push(`  three upstreams, round robin: ${fmt(s.threeRps)} req/s, p99 ${fmt(median(failover.three.map((r) => r.latencyMs.p99)), 2)} ms`);
  const k = failover.kill;
  if (k) {
    lines.push(`  kill one of two under wrk -c32: ${fmt(k.requests)} requests (${fmt(k.reqPerSec)}/s, p99 ${fmt(k.p99Ms, 1)} ms), ${k.failed} failed per wrk`);
    lines.push(`    access log since the kill: ${k.logged} answers ≥ 500${k.codes.length ? ` (${k.codes.join(', ')})` : ''}, ${k.loggedAfterFirstSecond} of them after the first second`);
  }
  const d = failover.detect;
  if (d) lines.push(`  detection (check every ${d.check.intervalMs} ms, ${d.check.fails} fails / ${d.check.passes} passes, no traffic): out of rotation ${fmt(d.outMs)} ms after the kill, back ${fmt(d.backMs)} ms after the restart`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-failover-'));
  const quick = process.argv.includes('--quick');
  try {
    const failover = await measureFailover({ processes, tmp, serverCpu: null, loadCpu: null }, { quick });
    console.log(describeFailover(failover));
    for (const t of failoverTargets(failover)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
    process.exitCode = failover.failed ? 1 : 0;
  } finally {
    await processes.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
