// The load itself: each scenario as one wrk (or h2load) run against one proxy, measured together
// with the proxy's CPU time, then every proxy in turn, repetition after repetition.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ONE_MIB_PATH, SMALL_PATH, TLS_HOST } from './content.mjs';
import { h2InvalidReason, runH2load } from './h2load.mjs';
import { cpuBusySeconds, treeCpuSeconds } from './processes.mjs';
import { fmt } from './report.mjs';
import { invalidReason, runWrk } from './wrk.mjs';

/**
 * Small responses over 64 keep-alive connections; 1 MiB bodies over 8; the small responses again
 * over HTTPS (HTTP/1.1 keep-alive, TLS 1.3, 64 connections); and over HTTP/2 (h2load, 16
 * connections × 8 streams). HTTPS scenarios run where the proxy has a TLS port (`tlsPort`), HTTP/2
 * where it offers h2 (`h2`) and h2load is installed.
 */
export const SCENARIOS = [
  { id: 'small', title: 'small responses', path: SMALL_PATH, connections: 64, tool: 'wrk', https: false },
  { id: 'large', title: '1 MiB bodies', path: ONE_MIB_PATH, connections: 8, tool: 'wrk', https: false },
  { id: 'tls', title: 'TLS small responses (HTTP/1.1)', path: SMALL_PATH, connections: 64, tool: 'wrk', https: true },
  { id: 'h2', title: 'HTTP/2 small responses', path: SMALL_PATH, connections: 16, streams: 8, tool: 'h2load', https: true },
];

/** Whether `scenario` runs against `proxy` in this run (and in this layout: `ctx.scenarios`, default all). */
export function scenarioApplies(ctx, proxy, scenario) {
  if (ctx.scenarios && !ctx.scenarios.includes(scenario.id)) return false;
  if (!scenario.https) return true;
  if (!proxy.tlsPort) return false;
  return scenario.tool !== 'h2load' || (proxy.h2 && Boolean(ctx.tools.h2load));
}

/** The load tool's run for one scenario, parsed, with `invalid` saying why it is not a result. */
async function runTool(ctx, proxy, scenario, durationS) {
  if (scenario.tool === 'h2load') {
    const run = await runH2load(ctx.processes, ctx.tools.h2load, ctx.loadCpu, {
      url: `https://${TLS_HOST}:${proxy.tlsPort}${scenario.path}`,
      connectTo: `127.0.0.1:${proxy.tlsPort}`,
      connections: scenario.connections,
      streams: scenario.streams,
      durationS,
      logFile: join(ctx.tmp, `h2load-${proxy.id}.log`),
    });
    return { ...run, mbPerSec: null, invalid: h2InvalidReason(run) };
  }
  const url = scenario.https ? `https://${TLS_HOST}:${proxy.tlsPort}${scenario.path}` : `http://127.0.0.1:${proxy.port}${scenario.path}`;
  const run = await runWrk(ctx.processes, ctx.tools.wrk, ctx.loadCpu, {
    url,
    connections: scenario.connections,
    durationS,
    ...(scenario.https ? { host: TLS_HOST } : {}),
  });
  return { ...run, invalid: invalidReason(run) };
}

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
  // Only a layout with the servers on one CPU can say what else ran there.
  const core = typeof ctx.serverCpu === 'number' ? ctx.serverCpu : null;
  const coreBefore = core === null ? null : cpuBusySeconds(core);
  const wallBefore = process.hrtime.bigint();
  const run = await runTool(ctx, proxy, scenario, durationS);
  const wallSeconds = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpuSeconds = treeCpuSeconds(proxy.pid) - cpuBefore;
  const backendSeconds = treeCpuSeconds(ctx.backendPid) - backendBefore;
  const foreignShare =
    coreBefore === null ? null : Math.max(0, cpuBusySeconds(core) - coreBefore - cpuSeconds - backendSeconds) / wallSeconds;
  let invalid = run.invalid;
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
  const p99 = `p99 ${fmt(run.latencyMs.p99, 2).padStart(7)} ms`;
  const main = scenario.id !== 'large' ? `${fmt(run.reqPerSec).padStart(7)} req/s  ${p99}` : `${fmt(run.mbPerSec).padStart(7)} MB/s   ${p99}`;
  const cpu = `CPU ${fmt(run.cpuMsPer1000, 1)} ms/1000 req`;
  const disturbed = run.foreignShare > MAX_FOREIGN_SHARE ? `  (other programs took ${Math.round(run.foreignShare * 100)}% of CPU ${ctx.serverCpu})` : '';
  const invalid = run.invalid ? `  DISCARDED: ${run.invalid}` : '';
  const layout = ctx.layoutLabel ? `${ctx.layoutLabel.padEnd(9)}  ` : '';
  return `  rep ${rep}/${reps}  ${layout}${scenario.id.padEnd(5)}  ${proxy.label.padEnd(24)} ${main}  ${cpu}${disturbed}${invalid}`;
}

/**
 * The layouts the load runs in: each {id, ctx, proxies}, where `ctx` says where the servers and
 * the load tool run (serverCpu, loadCpu, backendPid, layoutLabel) and `proxies` are started for it.
 */

/**
 * Warm-up (unmeasured, before repetition 1), then `reps` interleaved repetitions: in each, every
 * layout in turn, and in it every scenario on every proxy, in an order rotated per repetition so
 * no proxy always goes first. Returns layout id → proxy id → {small, large, tls, h2: [runs]}.
 */
export async function runLoadLayouts(layouts, { reps, durationS, warmupS }) {
  const out = {};
  for (const { id, proxies } of layouts) out[id] = Object.fromEntries(proxies.map((p) => [p.id, Object.fromEntries(SCENARIOS.map((s) => [s.id, []]))]));
  const busy = layouts.filter((l) => l.proxies.length > 0);
  if (busy.length === 0) return out;
  if (warmupS > 0) {
    console.log(`Warming up (${warmupS} s per layout, proxy and scenario, not measured)…`);
    for (const { ctx, proxies } of busy) {
      for (const proxy of proxies) {
        for (const scenario of SCENARIOS) if (scenarioApplies(ctx, proxy, scenario)) await measure(ctx, proxy, scenario, warmupS);
      }
    }
  }
  for (let rep = 1; rep <= reps; rep++) {
    // Which layout goes first alternates too.
    const layoutOrder = busy.map((_, i) => busy[(i + rep - 1) % busy.length]);
    for (const { id, ctx, proxies } of layoutOrder) {
      const order = proxies.map((_, i) => proxies[(i + rep - 1) % proxies.length]);
      for (const scenario of SCENARIOS) {
        for (const proxy of order) {
          if (!scenarioApplies(ctx, proxy, scenario)) continue;
          await sleep(500); // lets the previous run's connections close
          const run = await measure(ctx, proxy, scenario, durationS);
          out[id][proxy.id][scenario.id].push(run);
          console.log(progressLine(ctx, rep, reps, scenario, proxy, run));
        }
      }
    }
  }
  return out;
}

/** One layout: proxy id → {small, large, tls, h2: [runs]}. */
export async function runLoad(ctx, proxies, options) {
  return (await runLoadLayouts([{ id: 'one', ctx, proxies }], options)).one;
}
