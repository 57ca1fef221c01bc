#!/usr/bin/env node
// `npm run bench:soak`: does `gatehouse serve` keep its memory flat under a long mixed load (issue
// 18, deliverable 5)? Not part of `npm run bench`. Loopback only, bounded in time, stops what it
// starts by PID.
//
// One gatehouse serve (fresh data directory, access log on as shipped) in front of the bench's
// backend, with bench.test (HTTP), bench.home.arpa (HTTPS, local CA) and broken.bench.test (an
// upstream port nobody listens on: 502s). In every 10 s slice, at once: small responses (wrk
// -c16), 1 MiB bodies (wrk -c2), TLS small responses (wrk -c8), HTTP/2 (h2load -c4 -m4), a host no
// route has (404s, wrk -c2) and the broken route (wrk -c2). After each slice: the serve's RSS and,
// from a probe preloaded into it (bench/soak-probe.mjs, which collects garbage first), its heap.
//
// Verdict: growth from the 2nd minute to the end. The first minute (a third of a run shorter
// than 3 minutes) is warm-up; the baseline is the median of the next minute's samples, the end
// the median of the last minute's (windows shrink with the run). PASS when RSS grew ≤ 20 MiB and
// the heap after GC ≤ 5 MiB.
//
// Env: SOAK_MINUTES (default 10), BENCH_KEEP_TMP=1 keeps the temp dir. Exit: 0 PASS, 2 growth
// over a limit, 1 something did not run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BENCH_HOST, ONE_MIB_PATH, SMALL_PATH, TLS_HOST } from './content.mjs';
import { serveApi, startGatehouse } from './gatehouse.mjs';
import { runH2load } from './h2load.mjs';
import { startBackend } from './peers.mjs';
import { Processes, freePort, treeRssMiB, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { runWrk } from './wrk.mjs';

process.env.GATEHOUSE_MDNS = 'off';

const PROBE = fileURLToPath(new URL('./soak-probe.mjs', import.meta.url));
const SLICE_S = 10;
export const SOAK_LIMITS = { rssMiB: 20, heapMiB: 5 };
const BROKEN_HOST = 'broken.bench.test';
const NO_ROUTE_HOST = 'nobody.bench.test';

/**
 * The baseline and end windows (seconds from the start) of a run of `totalS`: warm-up the first
 * minute (a third of a run under 3 minutes), baseline the next minute, end the last minute; both
 * windows as long as fits.
 */
export function soakWindows(totalS) {
  const warm = totalS >= 180 ? 60 : totalS / 3;
  const window = Math.min(60, (totalS - warm) / 2);
  return { baseline: [warm, warm + window], end: [totalS - window, totalS] };
}

/** Growth between the windows' medians of samples [{t, rssMiB, heapMiB}], and the verdict. */
export function soakVerdict(samples, totalS, limits = SOAK_LIMITS) {
  const { baseline, end } = soakWindows(totalS);
  const inWindow = ([from, to]) => samples.filter((s) => s.t >= from && s.t <= to);
  const b = inWindow(baseline);
  const e = inWindow(end).filter((s) => !b.includes(s));
  if (!b.length || !e.length) return { pass: false, reason: `too few samples (baseline ${b.length}, end ${e.length})`, baseline, end };
  const growth = (key) => {
    const before = median(b.map((s) => s[key]));
    const after = median(e.map((s) => s[key]));
    return before === null || after === null ? null : { before, after, growth: after - before };
  };
  const rss = growth('rssMiB');
  const heap = growth('heapMiB');
  const over = [rss && rss.growth > limits.rssMiB && `RSS +${fmt(rss.growth, 1)} MiB > ${limits.rssMiB}`, heap && heap.growth > limits.heapMiB && `heap +${fmt(heap.growth, 1)} MiB > ${limits.heapMiB}`].filter(Boolean);
  if (!rss) over.push('no RSS samples');
  return { pass: over.length === 0, reason: over.join('; ') || null, rss, heap, baseline, end, baselineSamples: b.length, endSamples: e.length };
}

function readProbe(dir, pid) {
  const file = join(dir, `${pid}.json`);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** One slice: every load at once for `seconds`; resolves {name: {requests, non2xx, errors}}. */
async function slice(ctx, gatehouse, seconds) {
  const { processes, tools } = ctx;
  const wrk = (name, url, connections, host) =>
    runWrk(processes, tools.wrk, null, { url, connections, durationS: seconds, host }).then((r) => ({
      name,
      requests: r.requests,
      non2xx: r.errors.status,
      socketErrors: r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout,
    }));
  const http = (path) => `http://127.0.0.1:${gatehouse.port}${path}`;
  const jobs = [
    wrk('small', http(SMALL_PATH), 16, BENCH_HOST),
    wrk('1 MiB', http(ONE_MIB_PATH), 2, BENCH_HOST),
    wrk('404', http('/missing'), 2, NO_ROUTE_HOST),
    wrk('502', http(SMALL_PATH), 2, BROKEN_HOST),
  ];
  if (gatehouse.tlsPort) {
    jobs.push(wrk('tls', `https://${TLS_HOST}:${gatehouse.tlsPort}${SMALL_PATH}`, 8, TLS_HOST));
    if (tools.h2load) {
      jobs.push(
        runH2load(processes, tools.h2load, null, { url: `https://${TLS_HOST}:${gatehouse.tlsPort}${SMALL_PATH}`, connectTo: `127.0.0.1:${gatehouse.tlsPort}`, connections: 4, streams: 4, durationS: seconds }).then((r) => ({
          name: 'h2',
          requests: r.requests,
          non2xx: r.errors.status,
          socketErrors: r.errors.failed + r.errors.errored + r.errors.timeout - r.errors.status,
        })),
      );
    }
  }
  const settled = await Promise.allSettled(jobs);
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : { name: '?', error: String(s.reason?.message ?? s.reason).split('\n')[0] }));
}

async function main() {
  const minutes = Number(process.env.SOAK_MINUTES ?? 10);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 60) throw new Error(`SOAK_MINUTES must be a number of minutes in (0, 60], not "${process.env.SOAK_MINUTES}"`);
  const totalS = Math.round(minutes * 60);
  const tools = Object.fromEntries(['wrk', 'h2load', 'nginx'].map((name) => [name, which(name)]));
  if (!tools.wrk) {
    console.error('ERROR: wrk is not installed: apt-get install wrk');
    return 1;
  }
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-soak-'));
  chmodSync(tmp, 0o755);
  const probeDir = join(tmp, 'probe');
  mkdirSync(probeDir);
  const cleanup = () => {
    processes.killAllNow();
    if (process.env.BENCH_KEEP_TMP) console.error(`Kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => processes.stopAll(2000).then(() => process.exit(130)));

  const ctx = { processes, tools, tmp, serverCpu: null, loadCpu: null };
  try {
    const backend = await startBackend(ctx);
    ctx.backendPort = backend.port;
    ctx.backendPid = backend.pid;
    // The probe rides in through NODE_OPTIONS, for the serve only.
    const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS };
    Object.assign(process.env, { NODE_OPTIONS: `--expose-gc --import=${PROBE}`, GATEHOUSE_SOAK_PROBE_DIR: probeDir, GATEHOUSE_SOAK_PROBE_MS: String(SLICE_S * 1000) });
    let gatehouse;
    try {
      gatehouse = await startGatehouse(ctx);
    } finally {
      if (saved.NODE_OPTIONS === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved.NODE_OPTIONS;
      delete process.env.GATEHOUSE_SOAK_PROBE_DIR;
    }
    if (gatehouse.httpsError) console.error(`WARNING: ${gatehouse.httpsError} (TLS and HTTP/2 left out of the mix)`);
    await serveApi(gatehouse, 'POST', '/api/routes', { names: [BROKEN_HOST], upstream: `127.0.0.1:${await freePort()}` });
    console.log(
      `Soak: ${minutes} min of mixed load on gatehouse serve (pid ${gatehouse.pid}) at 127.0.0.1:${gatehouse.port}${gatehouse.tlsPort ? `, https :${gatehouse.tlsPort}` : ''}; ` +
        `a sample every ${SLICE_S} s (heap after a forced GC)\n`,
    );
    const samples = [];
    const started = performance.now();
    const idle = { rssMiB: treeRssMiB(gatehouse.pid), heapMiB: (readProbe(probeDir, gatehouse.pid)?.heapUsed ?? NaN) / 2 ** 20 };
    console.log(`  idle before the load: RSS ${fmt(idle.rssMiB, 1)} MiB, heap ${fmt(idle.heapMiB, 1)} MiB`);
    console.log('     t   RSS MiB  heap MiB   requests (non-2xx) per load');
    while ((performance.now() - started) / 1000 < totalS - 1) {
      const left = totalS - (performance.now() - started) / 1000;
      const outcome = await slice(ctx, gatehouse, Math.max(1, Math.min(SLICE_S - 1, Math.floor(left) - 1)));
      if (gatehouse.child.exitCode !== null || gatehouse.child.signalCode !== null) throw new Error('gatehouse serve exited during the soak');
      await sleep(1000); // the probe's next sample lands inside this second or just before
      const probe = readProbe(probeDir, gatehouse.pid);
      const sample = { t: Math.round((performance.now() - started) / 1000), rssMiB: treeRssMiB(gatehouse.pid), heapMiB: probe ? probe.heapUsed / 2 ** 20 : null, externalMiB: probe ? probe.external / 2 ** 20 : null, loads: outcome };
      samples.push(sample);
      const loads = outcome.map((o) => (o.error ? `${o.name} ERROR ${o.error}` : `${o.name} ${fmt(o.requests)}${o.non2xx ? ` (${fmt(o.non2xx)})` : ''}${o.socketErrors ? ` [${o.socketErrors} socket errors]` : ''}`)).join(', ');
      console.log(`  ${String(sample.t).padStart(4)}  ${fmt(sample.rssMiB, 1).padStart(8)}  ${fmt(sample.heapMiB, 1).padStart(8)}   ${loads}`);
    }
    const verdict = soakVerdict(samples, totalS);
    console.log('');
    if (verdict.rss) {
      console.log(
        `Growth from the baseline (${verdict.baseline[0].toFixed(0)}–${verdict.baseline[1].toFixed(0)} s, ${verdict.baselineSamples} samples) to the end ` +
          `(${verdict.end[0].toFixed(0)}–${verdict.end[1].toFixed(0)} s, ${verdict.endSamples}): RSS ${fmt(verdict.rss.before, 1)} → ${fmt(verdict.rss.after, 1)} MiB ` +
          `(${verdict.rss.growth >= 0 ? '+' : ''}${fmt(verdict.rss.growth, 1)}, limit +${SOAK_LIMITS.rssMiB}); heap after GC ${fmt(verdict.heap?.before, 1)} → ${fmt(verdict.heap?.after, 1)} MiB ` +
          `(${(verdict.heap?.growth ?? 0) >= 0 ? '+' : ''}${fmt(verdict.heap?.growth, 1)}, limit +${SOAK_LIMITS.heapMiB})`,
      );
    }
    const requests = samples.flatMap((s) => s.loads).reduce((sum, o) => sum + (o.requests ?? 0), 0);
    console.log(`${fmt(requests)} requests in ${samples.length} slices`);
    console.log(`Verdict: ${verdict.pass ? 'PASS' : 'MISS'}${verdict.reason ? ` (${verdict.reason})` : ''}`);
    return verdict.pass ? 0 : 2;
  } finally {
    await processes.stopAll();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`ERROR: ${error.stack ?? error}`);
      process.exit(1);
    },
  );
}
