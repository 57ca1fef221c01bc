// The load itself: each scenario as one wrk run against one proxy, measured together with the
// proxy's CPU time, then every proxy in turn, repetition after repetition.
import { setTimeout as sleep } from 'node:timers/promises';
import { ONE_MIB_PATH, SMALL_PATH } from './content.mjs';
import { cpuBusySeconds, treeCpuSeconds } from './processes.mjs';
import { fmt } from './report.mjs';
import { invalidReason, runWrk } from './wrk.mjs';

/** Small responses over 64 keep-alive connections; 1 MiB bodies over 8. */
export const SCENARIOS = [
  { id: 'small', title: 'small responses', path: SMALL_PATH, connections: 64 },
  { id: 'large', title: '1 MiB bodies', path: ONE_MIB_PATH, connections: 8 },
];

/** Share of the servers' CPU others used during a run above which the run is marked disturbed. */
export const MAX_FOREIGN_SHARE = 0.1;

/**
 * One measured wrk run against one proxy, with the proxy's CPU time over the same interval, and
 * how much of the servers' core went to anything but this proxy and the backend (other programs
 * on a shared machine, some kernel network work): a high share marks a disturbed sample.
 */
async function measure(ctx, proxy, scenario, durationS) {
  const cpuBefore = treeCpuSeconds(proxy.pid);
  const backendBefore = treeCpuSeconds(ctx.backendPid);
  const coreBefore = ctx.serverCpu === null ? null : cpuBusySeconds(ctx.serverCpu);
  const wallBefore = process.hrtime.bigint();
  const run = await runWrk(ctx.processes, ctx.tools.wrk, ctx.loadCpu, {
    url: `http://127.0.0.1:${proxy.port}${scenario.path}`,
    connections: scenario.connections,
    durationS,
  });
  const wallSeconds = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpuSeconds = treeCpuSeconds(proxy.pid) - cpuBefore;
  const backendSeconds = treeCpuSeconds(ctx.backendPid) - backendBefore;
  const foreignShare =
    coreBefore === null ? null : Math.max(0, cpuBusySeconds(ctx.serverCpu) - coreBefore - cpuSeconds - backendSeconds) / wallSeconds;
  let invalid = invalidReason(run);
  if (proxy.child.exitCode !== null || proxy.child.signalCode !== null) invalid = `${proxy.label} exited during the run`;
  return {
    reqPerSec: run.reqPerSec,
    latencyMs: run.latencyMs,
    mbPerSec: run.mbPerSec,
    requests: run.requests,
    errors: run.errors,
    cpuSeconds,
    cpuMsPer1000: run.requests > 0 ? (cpuSeconds * 1e6) / run.requests : null,
    backendCpuSeconds: backendSeconds,
    foreignShare,
    invalid,
    raw: run.raw,
  };
}

function progressLine(ctx, rep, reps, scenario, proxy, run) {
  const main =
    scenario.id === 'small'
      ? `${fmt(run.reqPerSec).padStart(7)} req/s  p99 ${fmt(run.latencyMs.p99, 2).padStart(7)} ms`
      : `${fmt(run.mbPerSec).padStart(7)} MB/s`;
  const cpu = `CPU ${fmt(run.cpuMsPer1000, 1)} ms/1000 req`;
  const disturbed = run.foreignShare > MAX_FOREIGN_SHARE ? `  (other programs took ${Math.round(run.foreignShare * 100)}% of CPU ${ctx.serverCpu})` : '';
  const invalid = run.invalid ? `  DISCARDED: ${run.invalid}` : '';
  return `  rep ${rep}/${reps}  ${scenario.id.padEnd(5)}  ${proxy.label.padEnd(24)} ${main}  ${cpu}${disturbed}${invalid}`;
}

/**
 * Warm-up (unmeasured, before repetition 1), then `reps` interleaved repetitions: in each, every
 * scenario runs on every proxy, in an order rotated per repetition so no proxy always goes first.
 * Returns proxy id → {small: [runs], large: [runs]}.
 */
export async function runLoad(ctx, proxies, { reps, durationS, warmupS }) {
  const runs = Object.fromEntries(proxies.map((p) => [p.id, { small: [], large: [] }]));
  if (proxies.length === 0) return runs;
  if (warmupS > 0) {
    console.log(`Warming up (${warmupS} s per proxy and scenario, not measured)…`);
    for (const proxy of proxies) for (const scenario of SCENARIOS) await measure(ctx, proxy, scenario, warmupS);
  }
  for (let rep = 1; rep <= reps; rep++) {
    const order = proxies.map((_, i) => proxies[(i + rep - 1) % proxies.length]);
    for (const scenario of SCENARIOS) {
      for (const proxy of order) {
        await sleep(500); // lets the previous run's connections close
        const run = await measure(ctx, proxy, scenario, durationS);
        runs[proxy.id][scenario.id].push(run);
        console.log(progressLine(ctx, rep, reps, scenario, proxy, run));
      }
    }
  }
  return runs;
}
