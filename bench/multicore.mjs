// Every core (issue 18, deliverable 4), as one section of `npm run bench`: what running the data
// path in several processes gives, and what keeping state shared between them costs.
//
// Measured in one run, repetitions interleaved, small responses with wrk -c64 (bench/wrk.mjs):
// - Gatehouse's gateway (compiled; access log, history and health as shipped) in one process, and
//   in two node:cluster workers, with the primary handing connections round robin (Node's default)
//   and with SCHED_NONE (every worker accepts). Each worker is an independent gateway with its own
//   data directory: the UPPER BOUND of what several processes can give (bench/multicore-worker.mjs);
// - the same two workers asking the primary for a rate-limit token before every request (one IPC
//   round trip each) and with tokens leased 64 at a time: what a limit kept exactly in one place costs;
// - for reference the bare forwarder (bench/bare-forwarder.mjs) in one process and two workers;
// - each in the one-core layout (servers and backend on the servers' CPU, wrk on the other) and the
//   two-core layout (everything on every CPU, wrk included: on a 2-CPU machine wrk takes a share of
//   the cores the workers would use, so the two-core ratio here is a floor, not what a 2-core
//   server with its clients elsewhere would see);
// - and process IPC on its own: one message's round trip, pipelined messages per second, and
//   access-log entries sent in batches, with the CPU each costs both ends.
// Also runs alone: node bench/multicore.mjs [--full] [--reps=N] [--only=gh-1,gh-2rr,…]
// (default 2 reps × 3 s, ~2.5 minutes; --full 3 reps × 5 s, ~4.5 minutes). In `npm run bench`,
// options.quick picks the short form; the section needs ctx {processes, tools, tmp, serverCpu,
// loadCpu, backendPort, backendPid} and moves the backend to every CPU for the two-core layout,
// back to serverCpu after.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SMALL_BODY, SMALL_PATH } from './content.mjs';
import { startBackend } from './peers.mjs';
import { Processes, cpuBusySeconds, cpuPressure, freePort, get, pinSelf, processTree, runStandalone, treeCpuSeconds, treeRssMiB, which } from './processes.mjs';
import { fmt, median } from './report.mjs';
import { invalidReason, runWrk } from './wrk.mjs';

const RUNNER = fileURLToPath(new URL('./multicore-worker.mjs', import.meta.url));
const GATEWAY = fileURLToPath(new URL('../dist/node/src-main/core/gateway.js', import.meta.url));
const CONNECTIONS = 64;
const CLOCK_TICKS = Number.parseInt(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout, 10) || 100;
/** Tokens a worker leases from the primary at a time in the "lease" variant. */
const LEASE = 64;

/** The variants; `base` is the one-process row a variant's ratio is taken against. */
export const VARIANTS = [
  { id: 'gh-1', label: 'Gatehouse, 1 process', kind: 'gatehouse', workers: 0, base: 'gh-1' },
  { id: 'gh-2rr', label: 'Gatehouse, 2 workers (RR)', kind: 'gatehouse', workers: 2, sched: 'rr', base: 'gh-1' },
  { id: 'gh-2none', label: 'Gatehouse, 2 workers (NONE)', kind: 'gatehouse', workers: 2, sched: 'none', base: 'gh-1' },
  { id: 'gh-2ask', label: 'Gatehouse, 2 w., IPC/request', kind: 'gatehouse', workers: 2, sched: 'rr', ask: 'each', base: 'gh-1', twoCoreOnly: true },
  { id: 'gh-2lease', label: `Gatehouse, 2 w., lease ${LEASE}`, kind: 'gatehouse', workers: 2, sched: 'rr', ask: `lease:${LEASE}`, base: 'gh-1', twoCoreOnly: true },
  { id: 'gh-2shim', label: 'Gatehouse, 2 w., shim, no IPC', kind: 'gatehouse', workers: 2, sched: 'rr', ask: 'shim', base: 'gh-1', twoCoreOnly: true, probe: true },
  { id: 'bare-1', label: 'bare forwarder, 1 process', kind: 'bare', workers: 0, base: 'bare-1' },
  { id: 'bare-2rr', label: 'bare forwarder, 2 workers (RR)', kind: 'bare', workers: 2, sched: 'rr', base: 'bare-1' },
];

export const MULTICORE_TARGET = {
  id: 'multicore-2x',
  text: 'two workers ≥ 1.6× one process on two cores (small, wrk -c64) with shared rate limits (leased tokens): ship multi-core only then',
  limit: 1.6,
};

/**
 * The machine's CPUs: ctx.cpuCount, else os.cpus() (availableParallelism() would count only the
 * CPUs this process is pinned to, and run.mjs pins itself to the load CPU).
 */
function machineCpus(ctx) {
  return ctx.cpuCount ?? cpus().length;
}

/** The CPU layouts this machine allows: one-core (servers on one CPU, wrk on another) and two-core (all on all). */
function layoutsFor(ctx, taskset) {
  const cpuCount = machineCpus(ctx);
  const all = `0-${Math.max(0, cpuCount - 1)}`;
  if (!taskset || ctx.serverCpu === null || ctx.serverCpu === undefined || cpuCount < 2) {
    return [{ id: 'unpinned', label: 'unpinned', servers: null, load: null }];
  }
  return [
    { id: 'one', label: `one core (servers CPU ${ctx.serverCpu}, wrk CPU ${ctx.loadCpu})`, servers: String(ctx.serverCpu), load: ctx.loadCpu },
    { id: 'two', label: `two cores (all on CPUs ${all}, wrk too)`, servers: all, load: all },
  ];
}

/** Moves a process and every descendant (all threads) to `cpus`. */
function pinTree(taskset, pid, cpus) {
  if (!taskset || cpus === null || !pid) return;
  for (const member of processTree(pid)) spawnSync(taskset, ['-a', '-p', '-c', cpus, String(member)], { stdio: 'ignore' });
}

/** Starts one variant's runner; resolves {variant, child, pid, port, dir} once every worker listens. */
async function startVariant(ctx, variant, tmp, startCpus) {
  const dir = join(tmp, variant.id);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [RUNNER, '--kind', variant.kind, '--workers', String(variant.workers), '--sched', variant.sched ?? 'rr', '--port', String(port), '--upstream', `127.0.0.1:${ctx.backendPort}`, '--dir', dir];
  if (variant.kind === 'gatehouse') args.push('--https-port', String(await freePort()));
  if (variant.ask) args.push('--ask', variant.ask);
  const logPath = join(dir, 'output.log');
  const child = ctx.processes.start(`multicore ${variant.id}`, process.execPath, args, { cpu: startCpus, logPath, env: { ...process.env, GATEHOUSE_MDNS: 'off' } });
  const deadline = Date.now() + 120_000;
  while (!existsSync(join(dir, 'ready'))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${variant.label} exited before listening:\n${Processes.logTail(logPath)}`);
    if (Date.now() > deadline) throw new Error(`${variant.label} did not listen within 120 s:\n${Processes.logTail(logPath)}`);
    await sleep(100);
  }
  // Every worker must pass the body through before its numbers mean anything.
  for (let i = 0; i < 4; i++) {
    const answer = await get(port, SMALL_PATH);
    if (answer.status !== 200 || answer.body !== SMALL_BODY) throw new Error(`${variant.label} answered HTTP ${answer.status} "${answer.body.slice(0, 80)}"`);
  }
  return { variant, child, pid: child.pid, port, dir };
}

/** Busy seconds of every CPU together, or null where /proc/stat cannot be read. */
function machineBusy(cpuCount) {
  let total = 0;
  for (let cpu = 0; cpu < cpuCount; cpu++) {
    const busy = cpuBusySeconds(cpu);
    if (busy === null) return null;
    total += busy;
  }
  return total;
}

/** CPU seconds of each member of a process tree, the root's own (without its children's) first. */
function memberCpu(pid) {
  const members = processTree(pid);
  const each = members.map((member) => treeCpuSeconds(member));
  const children = each.slice(1).reduce((a, b) => a + b, 0);
  return [each[0] - children, ...each.slice(1)];
}

/** CPU seconds of this process's reaped children (wrk, once it has exited), from /proc/self/stat. */
function reapedChildrenCpu() {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[16 - 3]) + Number(rest[17 - 3])) / CLOCK_TICKS;
}

/** One wrk run against a running variant, with the CPU its processes, the backend and the rest used. */
async function measureRun(ctx, wrkPath, running, layout, durationS, cpuCount) {
  const before = { tree: memberCpu(running.pid), backend: treeCpuSeconds(ctx.backendPid), busy: machineBusy(cpuCount), wrk: reapedChildrenCpu(), wall: performance.now() };
  const run = await runWrk(ctx.processes, wrkPath, layout.load, { url: `http://127.0.0.1:${running.port}${SMALL_PATH}`, connections: CONNECTIONS, durationS });
  const wallS = (performance.now() - before.wall) / 1000;
  const tree = memberCpu(running.pid).map((seconds, i) => seconds - (before.tree[i] ?? 0));
  const serverS = tree.reduce((a, b) => a + b, 0);
  const backendS = treeCpuSeconds(ctx.backendPid) - before.backend;
  const busyS = before.busy === null ? null : machineBusy(cpuCount) - before.busy;
  const wrkS = reapedChildrenCpu() - before.wrk;
  let invalid = invalidReason(run);
  if (running.child.exitCode !== null || running.child.signalCode !== null) invalid = `${running.variant.label} exited during the run`;
  return {
    reqPerSec: run.reqPerSec,
    requests: run.requests,
    latencyMs: run.latencyMs,
    cpuMsPer1000: run.requests > 0 ? (serverS * 1e6) / run.requests : null,
    // cores in use over the run: the servers, the backend, and everything else (wrk, other programs)
    serverCores: serverS / wallS,
    perProcessCores: tree.map((s) => s / wallS),
    backendCores: backendS / wallS,
    wrkCores: wrkS / wallS,
    // what other programs on the machine (and kernel work not charged to a process) used meanwhile
    otherCores: busyS === null ? null : Math.max(0, busyS - serverS - backendS - wrkS) / wallS,
    invalid,
  };
}

/** One process's IPC against an echo child: round trips, pipelined messages, batched log entries. */
export async function measureIpc({ roundTrips = 5000, messages = 100_000, window = 256, entries = 100_000, batch = 100 } = {}) {
  const child = fork(RUNNER, ['--echo'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let onMessage = null;
  child.on('message', (message) => onMessage?.(message));
  const cpu = (since) => process.cpuUsage(since);
  const cpuS = (u) => (u.user + u.system) / 1e6;
  try {
    await new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // warm-up
    for (let i = 0; i < 200; i++) await new Promise((resolve) => ((onMessage = resolve), child.send({ t: 'take', id: i, key: '192.168.1.20' })));
    // 1. sequential round trips: what a request waiting for the primary's decision waits
    const rtt = [];
    for (let i = 0; i < roundTrips; i++) {
      const t0 = performance.now();
      await new Promise((resolve) => ((onMessage = resolve), child.send({ t: 'take', id: i, key: '192.168.1.20' })));
      rtt.push((performance.now() - t0) * 1000);
    }
    rtt.sort((a, b) => a - b);
    // 2. pipelined: `window` messages in flight, as many workers' requests would be
    const pipelined = await new Promise((resolve) => {
      let sent = 0;
      let received = 0;
      const [c0, k0, t0] = [cpu(), treeCpuSeconds(child.pid), performance.now()];
      const send = () => child.send({ t: 'take', id: sent++, key: '192.168.1.20' });
      onMessage = () => {
        if (++received === messages) {
          const wall = (performance.now() - t0) / 1000;
          resolve({ perSecond: messages / wall, cpuUsPerMessage: ((cpuS(cpu(c0)) + treeCpuSeconds(child.pid) - k0) * 1e6) / messages });
        } else if (sent < messages) send();
      };
      for (let i = 0; i < window; i++) send();
    });
    // 3. access-log entries in batches (a worker's deltas to the primary), each batch acknowledged
    const entry = {
      time: new Date().toISOString(), client: '192.168.1.20', host: 'bench.test', method: 'GET', path: '/', status: 200, bytes: 29,
      durationMs: 0.42, routeId: 'kktmlpovxd', upstream: '127.0.0.1:8080', error: null, detail: null, rule: null, user: null,
    };
    const sendBatches = (payload) =>
      new Promise((resolve) => {
        const batches = Math.ceil(entries / batch);
        let received = 0;
        const [c0, k0, t0] = [cpu(), treeCpuSeconds(child.pid), performance.now()];
        onMessage = () => {
          if (++received === batches) {
            const wall = (performance.now() - t0) / 1000;
            resolve({ batch, entriesPerSecond: entries / wall, cpuUsPerEntry: ((cpuS(cpu(c0)) + treeCpuSeconds(child.pid) - k0) * 1e6) / entries });
          }
        };
        for (let i = 0; i < batches; i++) child.send(payload());
      });
    // as objects (the primary gets entries it can hand to the live log as they are) …
    const objects = Array.from({ length: batch }, () => entry);
    const batched = await sendBatches(() => ({ t: 'log', entries: objects }));
    // … and as the JSON lines the worker's access log writes anyway, joined into one string
    const batchedLines = await sendBatches(() => ({ t: 'log', entries: { length: batch }, lines: objects.map((e) => JSON.stringify(e)).join('\n') }));
    return {
      roundTripUs: { p50: rtt[rtt.length >> 1], p99: rtt[Math.floor(rtt.length * 0.99)], count: rtt.length },
      pipelined: { ...pipelined, window, messages },
      batched: { ...batched, entries, entryBytes: JSON.stringify(entry).length },
      batchedLines,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

const ratioOf = (a, b) => (a && b ? a / b : null);

/** Medians per variant and layout, with each variant's ratio to its base, paired per repetition. */
export function summarizeRuns(result) {
  const summary = {};
  for (const layout of result.layouts) {
    summary[layout.id] = {};
    for (const variant of VARIANTS) {
      const runs = (result.runs[layout.id]?.[variant.id] ?? []).filter((r) => !r.invalid);
      if (!runs.length) continue;
      const base = result.runs[layout.id]?.[variant.base] ?? [];
      const paired = runs.map((r) => ratioOf(r.reqPerSec, base.find((b) => b.rep === r.rep && !b.invalid)?.reqPerSec)).filter((x) => x !== null);
      summary[layout.id][variant.id] = {
        reqPerSec: median(runs.map((r) => r.reqPerSec)),
        p99Ms: median(runs.map((r) => r.latencyMs.p99)),
        cpuMsPer1000: median(runs.map((r) => r.cpuMsPer1000)),
        serverCores: median(runs.map((r) => r.serverCores)),
        perProcessCores: runs.at(-1).perProcessCores,
        backendCores: median(runs.map((r) => r.backendCores)),
        wrkCores: median(runs.map((r) => r.wrkCores)),
        otherCores: median(runs.map((r) => r.otherCores)),
        ratio: median(paired),
        ratioSpread: paired.length ? [Math.min(...paired), Math.max(...paired)] : null,
        runs: runs.length,
      };
    }
  }
  return summary;
}

/**
 * Measures the section. `options`: quick, reps (default 3; quick 2), durationS (5; quick 3),
 * warmupS (1). Never throws: errors are in `error`.
 */
export async function measureMulticore(ctx, options = {}) {
  const reps = options.reps ?? (options.quick ? 2 : 3);
  const durationS = options.durationS ?? (options.quick ? 3 : 5);
  const warmupS = options.warmupS ?? 1;
  const cpuCount = machineCpus(ctx);
  const taskset = ctx.tools?.taskset ?? which('taskset');
  const layouts = layoutsFor(ctx, taskset);
  const result = { reps, durationS, connections: CONNECTIONS, cpuCount, layouts: layouts.map(({ id, label }) => ({ id, label })), runs: {}, ipc: null, cpuPressure: cpuPressure(), error: null, started: {} };
  const tmp = mkdtempSync(join(ctx.tmp, 'multicore-'));
  const running = [];
  try {
    const wrkPath = ctx.tools?.wrk ?? which('wrk');
    if (!wrkPath) throw new Error('wrk is not installed (apt-get install wrk)');
    if (!existsSync(GATEWAY)) throw new Error('dist/node is not built: run npm run build:main');
    // All at once, on every CPU (each run pins it to its layout's), to keep the section short.
    const startCpus = layouts.at(-1).servers;
    const wanted = options.only ? VARIANTS.filter((v) => options.only.includes(v.id)) : VARIANTS.filter((v) => !v.probe);
    const starting = wanted.map((variant) => startVariant(ctx, variant, tmp, startCpus));
    const settled = await Promise.allSettled(starting);
    for (const outcome of settled) if (outcome.status === 'fulfilled') running.push(outcome.value);
    const failedStart = settled.find((outcome) => outcome.status === 'rejected');
    if (failedStart) throw failedStart.reason;
    await sleep(1000);
    for (const r of running) result.started[r.variant.id] = { rssMiB: treeRssMiB(r.pid) };
    for (const layout of layouts) result.runs[layout.id] = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
    const applies = (layout, r) => !(r.variant.twoCoreOnly && layout.id === 'one');
    for (const layout of layouts) {
      pinTree(taskset, ctx.backendPid, layout.servers);
      for (const r of running) {
        if (!applies(layout, r)) continue;
        pinTree(taskset, r.pid, layout.servers);
        if (warmupS > 0) await measureRun(ctx, wrkPath, r, layout, warmupS, cpuCount);
      }
    }
    for (let rep = 1; rep <= reps; rep++) {
      for (const layout of layouts) {
        pinTree(taskset, ctx.backendPid, layout.servers);
        const order = running.filter((r) => applies(layout, r));
        const rotated = order.map((_, i) => order[(i + rep - 1) % order.length]);
        for (const r of rotated) {
          pinTree(taskset, r.pid, layout.servers);
          await sleep(300);
          const run = { rep, ...(await measureRun(ctx, wrkPath, r, layout, durationS, cpuCount)) };
          result.runs[layout.id][r.variant.id].push(run);
          if (options.progress !== false) {
            const cores = run.perProcessCores.map((c) => fmt(c, 2)).join('+');
            console.log(`  rep ${rep}/${reps}  ${layout.id.padEnd(3)}  ${r.variant.label.padEnd(32)} ${fmt(run.reqPerSec).padStart(7)} req/s  p99 ${fmt(run.latencyMs.p99, 2).padStart(6)} ms  CPU ${fmt(run.cpuMsPer1000, 1)} ms/1000 req  cores ${cores}, wrk ${fmt(run.wrkCores, 2)}, others ${fmt(run.otherCores, 2)}${run.invalid ? `  DISCARDED: ${run.invalid}` : ''}`);
          }
        }
      }
    }
    result.ipc = await measureIpc(options.quick ? { roundTrips: 3000, messages: 50_000, entries: 50_000 } : {});
  } catch (error) {
    result.error = String(error?.message ?? error).split('\n').slice(0, 4).join(' / ');
  } finally {
    // The backend goes back where the rest of the bench expects it.
    if (ctx.serverCpu !== null && ctx.serverCpu !== undefined) pinTree(taskset, ctx.backendPid, String(ctx.serverCpu));
    for (const r of running) r.child.kill('SIGTERM');
    await sleep(500);
    rmSync(tmp, { recursive: true, force: true });
  }
  result.summary = summarizeRuns(result);
  result.failed = result.error !== null;
  return result;
}

/** The decision figures: the two-core (or only) layout's ratios. */
function decisive(result) {
  const layout = result.summary?.two ? 'two' : result.layouts?.[0]?.id;
  return { layout, s: result.summary?.[layout] ?? {} };
}

export function multicoreTargets(result) {
  const { s } = decisive(result);
  const lease = s['gh-2lease']?.ratio;
  const upper = Math.max(s['gh-2rr']?.ratio ?? 0, s['gh-2none']?.ratio ?? 0);
  if (typeof lease !== 'number') {
    return [{ ...MULTICORE_TARGET, status: 'MISS', detail: `not measured: ${result.error ?? 'no two-worker run'}` }];
  }
  return [
    {
      id: MULTICORE_TARGET.id,
      text: MULTICORE_TARGET.text,
      status: lease >= MULTICORE_TARGET.limit ? 'PASS' : 'MISS',
      detail: `${fmt(lease, 2)}× with leased tokens; upper bound (independent workers) ${fmt(upper, 2)}×; bare forwarder ${fmt(s['bare-2rr']?.ratio, 2)}× (wrk shares the cores on a ${result.cpuCount}-CPU machine)`,
    },
  ];
}

export function describeMulticore(result) {
  const lines = [`Every core (small responses, wrk -c${result.connections}, ${result.reps} interleaved rep(s) × ${result.durationS} s; ${result.cpuCount} CPUs):`];
  if (result.cpuPressure && result.cpuPressure.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${result.cpuPressure.avg60}% of the last minute).`);
  if (result.error) lines.push(`  ERROR: ${result.error}`);
  for (const layout of result.layouts) {
    const s = result.summary?.[layout.id];
    if (!s || !Object.keys(s).length) continue;
    lines.push(`  ${layout.label}:`);
    lines.push(`    ${'variant'.padEnd(32)} ${'req/s'.padStart(7)} ${'× 1 proc'.padStart(16)} ${'p99 ms'.padStart(7)} ${'CPU ms/1k'.padStart(9)}  cores: server (per process) / backend / wrk / other programs`);
    for (const variant of VARIANTS) {
      const v = s[variant.id];
      if (!v) continue;
      const ratio = variant.id === variant.base ? '' : `${fmt(v.ratio, 2)}× (${fmt(v.ratioSpread?.[0], 2)}–${fmt(v.ratioSpread?.[1], 2)})`;
      lines.push(
        `    ${variant.label.padEnd(32)} ${fmt(v.reqPerSec).padStart(7)} ${ratio.padStart(16)} ${fmt(v.p99Ms, 2).padStart(7)} ${fmt(v.cpuMsPer1000, 1).padStart(9)}  ${fmt(v.serverCores, 2)} (${v.perProcessCores.map((c) => fmt(c, 2)).join('+')}) / ${fmt(v.backendCores, 2)} / ${fmt(v.wrkCores, 2)} / ${fmt(v.otherCores, 2)}`,
      );
    }
  }
  const started = Object.entries(result.started ?? {}).map(([id, s]) => `${id} ${fmt(s.rssMiB)} MiB`);
  if (started.length) lines.push(`  RSS once started, every process of the variant together: ${started.join('; ')}`);
  const ipc = result.ipc;
  if (ipc) {
    lines.push('  process IPC (node child_process/cluster channel, JSON):');
    lines.push(`    one message and its answer, waited for: p50 ${fmt(ipc.roundTripUs.p50, 1)} µs, p99 ${fmt(ipc.roundTripUs.p99, 1)} µs (${fmt(ipc.roundTripUs.count)} round trips)`);
    lines.push(`    pipelined (${ipc.pipelined.window} in flight): ${fmt(ipc.pipelined.perSecond)} messages+answers/s, ${fmt(ipc.pipelined.cpuUsPerMessage, 1)} µs CPU per round trip (both ends)`);
    lines.push(`    access-log entries in batches of ${ipc.batched.batch} (${ipc.batched.entryBytes} B each), acknowledged: as objects ${fmt(ipc.batched.entriesPerSecond)} entries/s, ${fmt(ipc.batched.cpuUsPerEntry, 2)} µs CPU per entry; as JSON lines in one string ${fmt(ipc.batchedLines.entriesPerSecond)} entries/s, ${fmt(ipc.batchedLines.cpuUsPerEntry, 2)} µs CPU per entry (both ends; the worker's JSON.stringify included)`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.GATEHOUSE_MDNS = 'off';
  const tools = { wrk: which('wrk'), taskset: which('taskset'), nginx: which('nginx') };
  const cpuCount = availableParallelism();
  const pinned = Boolean(tools.taskset) && cpuCount >= 2;
  if (pinned) pinSelf(1, tools.taskset);
  const quick = !process.argv.includes('--full');
  await runStandalone(
    'multicore',
    async ({ processes, tmp }) => {
      const ctx = { processes, tools, tmp, cpuCount, serverCpu: pinned ? 0 : null, loadCpu: pinned ? 1 : null };
      const backend = await startBackend(ctx);
      Object.assign(ctx, { backendPort: backend.port, backendPid: backend.pid });
      console.log(`Backend: ${backend.kind} on 127.0.0.1:${backend.port}`);
      const started = performance.now();
      const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice(7).split(',');
      const reps = process.argv.find((arg) => arg.startsWith('--reps='))?.slice(7);
      const result = await measureMulticore(ctx, { quick, ...(only ? { only } : {}), ...(reps ? { reps: Number(reps) } : {}) });
      console.log(describeMulticore(result));
      for (const t of multicoreTargets(result)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
      console.log(`(${fmt((performance.now() - started) / 1000)} s)`);
      process.exitCode = result.failed ? 1 : 0;
    },
    { taskset: pinned ? tools.taskset : null },
  );
}
