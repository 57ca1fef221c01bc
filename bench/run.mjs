#!/usr/bin/env node
// `npm run bench`: Gatehouse against the proxies a home lab would otherwise run, same machine, same
// backend, same load, in the same run. Proxies and backend share CPU 0; wrk (and this script)
// run on CPU 1. Repetitions are interleaved (rep 1 of every proxy, then rep 2 …) and reported as
// medians, so a noisy moment hurts everyone alike. Installs nothing; says what is missing.
//
// HTTPS (bench/https.mjs): the small responses again over TLS 1.3 (wrk, HTTP/1.1 keep-alive) and
// over HTTP/2 (h2load, 16 connections × 8 streams), every server with an RSA 2048 leaf for
// bench.home.arpa; then the time from adding a local-CA route to its certificate being served.
//
// The sign-in section (bench/signin.mjs) measures one sign-in (argon2id included) and what the
// session check adds to an API call, against its own gatehouse serve.
//
// The front-door section (bench/front-door.mjs) measures what the access checks cost a request
// (every check on against none), a flood from 50,000 addresses (RSS growth, a normal client's p99)
// and what forward auth adds to a request.
//
// The several-upstreams section (bench/failover.mjs) compares three round-robin upstreams with one,
// kills one of two under load, and times how fast a dead upstream leaves rotation and rejoins it.
//
// The ACME section (bench/acme.mjs) times HTTP-01 orders against a real Pebble through a gatehouse
// serve's own HTTP listener, swaps certificates under a TLS load, and times the pre-flight
// (bench/acme-preflight.mjs), also with a DNS server that never answers.
//
// The streams section (bench/streams.mjs) sends 1 GiB through a TCP stream and through HAProxy in
// TCP mode, compares their connection setup rates, floods a UDP stream from 10,000 addresses and
// counts the sockets left after the idle timeout, and fetches 100 MB over FTP directly and through
// Gatehouse's FTP stream.
//
// The UI section (bench/ui.mjs) then measures the renderer bundle, the dashboard's interactive
// time and the time to show a route Down, in headless Chromium against its own gatehouse serve.
//
// Two layouts of the load table, measured in the same run with their repetitions interleaved:
// "one core" (servers and backend on CPU 0, the load tool on CPU 1, every peer with one worker) and
// "two cores" (servers, backend and load tool may all use both CPUs; the peers as they run stock on
// a 2-core box: nginx worker_processes auto, HAProxy without nbthread, Caddy's default GOMAXPROCS).
// Gatehouse is one process in both. The features section compares, on the one-core Gatehouse, a
// route with the typical home-lab set on (bench/features.mjs) against the plain one.
//
// Usage: node bench/run.mjs [--quick] [--proxies=gatehouse,bare,nginx,caddy,haproxy] [--sections=…]
//                           [--layouts=one,two] [--check]
//   --sections      comma list of sections to run (default all): http, memory, features, signin,
//                   ui, discovery, front-door, failover, acme, streams, insight, doctor. The others
//                   print "not run (--sections)" and their targets are SKIP.
//   --layouts       the load table's layouts (default one,two)
//   BENCH_DURATION  seconds per measured run (default 4; --quick 3), here and in the sections' A/B comparisons
//   BENCH_REPS      interleaved repetitions (default 3; --quick 1)
//   BENCH_WARMUP    seconds of unmeasured load per proxy and scenario before rep 1 (1; --quick 1)
//   BENCH_KEEP_TMP=1 keeps the generated configs and logs (path printed)
//   --check         exit 2 when a target is missed (default: report only)
// Exit code: 0 measured; 1 something did not run (Gatehouse, an installed peer, a scenario).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_HOST, ONE_MIB, ONE_MIB_PATH, SMALL_BODY, SMALL_PATH, TLS_HOST } from './content.mjs';
import { GatehouseUnavailable, startGatehouse } from './gatehouse.mjs';
import { describeHttps, httpsProblem } from './https.mjs';
import { measureIssuance } from './issuance.mjs';
import { MAX_FOREIGN_SHARE, runLoadLayouts } from './load.mjs';
import { measureIdleConnections, measureMemory } from './memory.mjs';
import { PEERS, serverDir, startBackend, startPeer } from './peers.mjs';
import { Processes, cpuPressure, get, pinSelf, treeRssMiB, waitForHttp, which } from './processes.mjs';
import { NOT_RUN, evaluateTargets, fmt, formatRatios, formatTable, skipTargets, summarize } from './report.mjs';
import { describeFeatures, measureFeatures } from './features.mjs';
import { serveApi, startBenchServe } from './gatehouse.mjs';
import { describeDiscovery, discoveryTargets, measureDiscovery } from './discovery.mjs';
import { makeBenchCertificate } from './tls.mjs';
import { describeSignin, measureSignin, signinTargets } from './signin.mjs';
import { describeUi, measureUi, uiTargets } from './ui.mjs';
import { describeFrontDoor, frontDoorTargets, measureFrontDoor } from './front-door.mjs';
import { describeFailover, failoverTargets, measureFailover } from './failover.mjs';
import { acmeTargets, describeAcme, measureAcme } from './acme.mjs';
import { describeStreams, measureStreams, streamTargets } from './streams.mjs';
import { describeInsight, insightTargets, measureInsight } from './insight.mjs';
import { toolVersions } from './versions.mjs';
import { run as runDoctorBench, doctorTarget } from './doctor.mjs';
import { describeMulticore, measureMulticore, multicoreTargets } from './multicore.mjs';

// The bench runs on the host network, where multicast DNS would leave the machine: every
// gatehouse serve it starts inherits mDNS off. (bench/discovery.mjs turns it on inside a namespace.)
process.env.GATEHOUSE_MDNS = 'off';

const SERVER_CPU = 0;
const LOAD_CPU = 1;
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const GATEHOUSE = { id: 'gatehouse', label: 'Gatehouse' };
const ALL_IDS = [GATEHOUSE.id, ...PEERS.map((p) => p.id)];
/** CPU pressure (% of time some task waited for a CPU) above which the header warns. */
const BUSY_PRESSURE = 5;

/**
 * The bench's sections, in the order they run. `http`: the load table (small, 1 MiB, TLS, HTTP/2
 * in both layouts) and leaf issuance; `memory`: idle RSS, a 1 GiB transfer, 10,000 idle
 * connections; `features`: features on against off.
 */
const SECTIONS = ['memory', 'http', 'features', 'signin', 'ui', 'discovery', 'front-door', 'failover', 'acme', 'streams', 'insight', 'doctor', 'multicore'];
/**
 * What `npm run bench` runs without --sections. The multicore study (bench/multicore.mjs: the
 * proxy in one process against two cluster workers, docs/multicore.md) takes minutes of its own
 * and decides no shipped target, so it runs when asked: --sections=multicore.
 */
const DEFAULT_SECTIONS = SECTIONS.filter((id) => id !== 'multicore');
const LAYOUTS = { one: 'one core', two: 'two cores' };
/** The load cases of the two-core layout: 1 MiB bodies are left to the one-core layout, for time. */
const TWO_CORE_SCENARIOS = ['small', 'tls', 'h2'];

/** The comma list of an option, each checked against `known`. */
function listOption(arg, name, known) {
  const list = arg.slice(name.length + 3).split(',').filter(Boolean);
  const unknown = list.filter((id) => !known.includes(id));
  if (unknown.length) throw new Error(`unknown ${name} ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return list;
}

function parseOptions(argv, env) {
  const options = { quick: false, check: false, only: null, help: false, sections: [...DEFAULT_SECTIONS], layouts: Object.keys(LAYOUTS) };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--check') options.check = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('--proxies=')) options.only = arg.slice('--proxies='.length).split(',').filter(Boolean);
    else if (arg.startsWith('--sections=')) options.sections = listOption(arg, 'sections', SECTIONS);
    else if (arg.startsWith('--layouts=')) options.layouts = listOption(arg, 'layouts', Object.keys(LAYOUTS));
    else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  options.skipped = SECTIONS.filter((id) => !options.sections.includes(id));
  const number = (name, fallback) => {
    if (env[name] === undefined || env[name] === '') return fallback;
    const value = Number(env[name]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, not "${env[name]}"`);
    return value;
  };
  // 3 s × 3 reps in two layouts keeps `npm run bench` within 15 minutes (docs/benchmark.md: a
  // full run at 4 s took 16 min); the access, inspector, history and several-upstreams comparisons
  // use the same duration.
  options.durationS = number('BENCH_DURATION', 3);
  options.reps = number('BENCH_REPS', options.quick ? 1 : 3);
  options.warmupS = number('BENCH_WARMUP', 2);
  const unknown = (options.only ?? []).filter((id) => !ALL_IDS.includes(id));
  if (unknown.length) throw new Error(`unknown proxy ${unknown.join(', ')} (known: ${ALL_IDS.join(', ')})`);
  return options;
}

/** Stops everything this run started on Ctrl-C, termination, or any way out of the process. */
function installCleanup(processes, tmp) {
  const removeTmp = () => {
    if (process.env.BENCH_KEEP_TMP) console.error(`Kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  };
  let stopping = false;
  const onSignal = (signal, code) => async () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping every process the bench started…`);
    await processes.stopAll(2000);
    process.exit(code); // the 'exit' handler removes the temp dir
  };
  process.once('SIGINT', onSignal('SIGINT', 130));
  process.once('SIGTERM', onSignal('SIGTERM', 143));
  process.once('SIGHUP', onSignal('SIGHUP', 129));
  process.once('exit', () => {
    processes.killAllNow();
    removeTmp();
  });
}

/** Every proxy must pass the backend's bodies through intact before its numbers mean anything. */
async function checkPassThrough(proxy) {
  const small = await get(proxy.port, SMALL_PATH);
  if (small.status !== 200 || small.body !== SMALL_BODY) {
    throw new Error(`GET ${SMALL_PATH} for ${BENCH_HOST} answered HTTP ${small.status} "${small.body.slice(0, 80)}"`);
  }
  const large = await get(proxy.port, ONE_MIB_PATH);
  if (large.status !== 200 || large.bytes !== ONE_MIB) {
    throw new Error(`GET ${ONE_MIB_PATH} answered HTTP ${large.status} with ${large.bytes} of ${ONE_MIB} bytes`);
  }
}

/**
 * Starts Gatehouse and the installed peers; `absent` says why any peer is not in `proxies`, and
 * `httpsAbsent` why a proxy's HTTPS scenarios do not run (its tlsPort is then null).
 */
async function startProxies(ctx, ids) {
  const wanted = (id) => ids.includes(id);
  const proxies = [];
  const absent = {};
  const httpsAbsent = {};
  let gatehouseError = null;
  if (wanted(GATEHOUSE.id)) {
    try {
      const gatehouse = { ...GATEHOUSE, ...(await startGatehouse(ctx)) };
      if (gatehouse.httpsError) httpsAbsent.gatehouse = gatehouse.httpsError;
      proxies.push(gatehouse);
    } catch (error) {
      gatehouseError = error instanceof GatehouseUnavailable ? error.message : `Gatehouse failed to start: ${error.stack ?? error}`;
      console.error(`\nERROR: Gatehouse is not measured in this run.\n${gatehouseError}\n`);
    }
  }
  for (const peer of PEERS.filter((p) => wanted(p.id))) {
    if (peer.tool && !ctx.tools[peer.tool[0]]) {
      absent[peer.id] = `not installed (apt-get install ${peer.tool[1]})`;
      continue;
    }
    try {
      proxies.push({ id: peer.id, label: peer.label, ...(await startPeer(peer, ctx)) });
    } catch (error) {
      absent[peer.id] = `failed to start: ${error.message}`;
      console.error(`ERROR: ${peer.label} ${absent[peer.id]}`);
    }
  }
  for (const proxy of [...proxies]) {
    try {
      await checkPassThrough(proxy);
    } catch (error) {
      proxies.splice(proxies.indexOf(proxy), 1);
      const reason = `does not proxy correctly: ${error.message}`;
      if (proxy.id === GATEHOUSE.id) gatehouseError = `Gatehouse ${reason}`;
      else absent[proxy.id] = reason;
      console.error(`ERROR: ${proxy.label} ${reason}`);
    }
  }
  for (const proxy of proxies.filter((p) => p.tlsPort)) {
    const problem = await httpsProblem(proxy);
    if (!problem) continue;
    httpsAbsent[proxy.id] = `HTTPS not measured: ${problem}`;
    proxy.tlsPort = null;
  }
  for (const [id, why] of Object.entries(httpsAbsent)) console.error(`ERROR: ${[GATEHOUSE, ...PEERS].find((p) => p.id === id)?.label} ${why}`);
  return { proxies, absent, httpsAbsent, gatehouseError };
}

/** The leaf issuance scenario on the bench's Gatehouse, after the load; {error, failed} when it fails. */
async function runIssuance(ctx, gatehouse) {
  console.log('Measuring leaf issuance (new local-CA routes until each one\'s certificate is served)…');
  try {
    return await measureIssuance(gatehouse, ctx.backendPort, { tmp: ctx.tmp });
  } catch (error) {
    console.error(`ERROR: leaf issuance scenario: ${error.message}`);
    return { error: error.message, failed: true };
  }
}

/** Gatehouse's memory scenario, and the same for the bare forwarder as what Node alone costs. */
async function runMemory(proxies) {
  const out = {};
  for (const id of [GATEHOUSE.id, 'bare']) {
    const proxy = proxies.find((p) => p.id === id);
    if (!proxy) continue;
    console.log(`Measuring ${proxy.label} memory (idle, then across a 1 GiB transfer)…`);
    try {
      // The bare forwarder is a reference: its RSS after the transfer is read for 2 s, not waited on.
      out[id] = await measureMemory(proxy.pid, proxy.port, id === 'bare' ? { backWithinMs: 2000 } : {});
    } catch (error) {
      out[id] = { error: error.message, failed: true };
      console.error(`ERROR: ${proxy.label} memory scenario: ${error.message}`);
    }
  }
  return out;
}

/**
 * A gatehouse serve with the load table's two routes that gets no traffic at all: its RSS, read
 * once it has settled, is the idle target's number. Right after start a serve holds what start-up
 * allocated (V8's young generation grown to its limit) until V8's memory reducer runs, 35–70 s
 * into idleness here; the memory section's own serve is read 1 s after start (`justStartedMiB`).
 */
async function startIdleServe(ctx) {
  const dir = serverDir(ctx.tmp, 'idle-serve');
  const serve = await startBenchServe(ctx, dir, 'gatehouse-idle');
  await serveApi(serve, 'POST', '/api/routes', { names: [BENCH_HOST], upstream: `127.0.0.1:${ctx.backendPort}` });
  await serveApi(serve, 'POST', '/api/routes', { names: [TLS_HOST], upstream: `127.0.0.1:${ctx.backendPort}`, tls: { mode: 'local' } });
  return { ...serve, startedAt: Date.now() };
}

/** Samples the idle serve every 5 s until three samples agree within 1 MiB, 90–150 s after its start. */
async function settledIdleRss(serve) {
  const samples = [];
  for (;;) {
    samples.push(treeRssMiB(serve.child.pid));
    const age = Date.now() - serve.startedAt;
    const last = samples.slice(-3);
    if (age >= 150_000 || (age >= 90_000 && last.length === 3 && Math.max(...last) - Math.min(...last) <= 1)) {
      return { settledMiB: Math.round(last.at(-1) * 10) / 10, afterSeconds: Math.round(age / 1000) };
    }
    await sleep(5000);
  }
}

/**
 * 10,000 idle keep-alive connections on a fresh gatehouse serve (the load table's has a 5 s
 * keep-alive timeout, as shipped): its keep-alive timeout raised to 2 minutes for the measurement.
 */
async function runIdleConnections(ctx, count) {
  console.log(`Measuring Gatehouse with ${fmt(count)} idle keep-alive connections (fresh gatehouse serve)…`);
  let serve;
  try {
    serve = await startBenchServe(ctx, serverDir(ctx.tmp, 'gatehouse-connections'), 'gatehouse-connections');
    const settings = await serveApi(serve, 'GET', '/api/settings');
    await serveApi(serve, 'PATCH', '/api/settings', { proxy: { timeouts: { ...settings.proxy.timeouts, keepAliveMs: 120_000 } } });
    await serveApi(serve, 'POST', '/api/routes', { names: [BENCH_HOST], upstream: `127.0.0.1:${ctx.backendPort}` });
    await waitForHttp(serve.port, SMALL_PATH, { child: serve.child });
    return await measureIdleConnections(serve.child.pid, serve.port, { count });
  } catch (error) {
    console.error(`ERROR: idle connections: ${error.message}`);
    return { error: error.message.split('\n')[0], failed: true };
  } finally {
    serve?.child.kill('SIGTERM'); // by its PID; stopAll still ends it if it lingers
  }
}

function describeIdleConnections(c) {
  if (!c || c.error) return `Gatehouse with 10,000 idle keep-alive connections: not measured${c?.error ? ` (${c.error})` : ''}`;
  const limit = c.openFiles?.proxy ? `; open-file limit ${c.openFiles.proxy.soft}` : '';
  const refused = c.refused ? `; ${fmt(c.refused)} not opened (first: ${c.firstRefusal})` : '';
  return (
    `Gatehouse with ${fmt(c.count)} idle keep-alive connections (one request each, opened in ${fmt(c.openSeconds, 1)} s${limit}${refused}): ` +
    `RSS idle ${c.idleMiB} MiB, with ${fmt(c.stillOpen)} open ${c.openMiB} MiB (+${fmt(c.perConnectionKiB, 1)} KiB each; peak ${c.peakMiB}), ` +
    `after they close ${c.afterMiB} MiB (${c.afterLaterMiB} MiB 2 s later)`
  );
}

function describeMemory(label, m) {
  if (!m || m.error) return `${label} memory: not measured${m?.error ? ` (${m.error})` : ''}`;
  return (
    `${label} memory: idle RSS ${m.idleMiB} MiB${m.idleAfterSeconds ? ` (a serve with no traffic, ${m.idleAfterSeconds} s after its start; ${m.justStartedMiB} MiB 1 s after start)` : ''}; across a 1 GiB transfer (${m.transferMBps} MB/s): before ${m.beforeMiB}, ` +
    `during ${m.duringMinMiB}–${m.duringMaxMiB}, after ${m.afterMiB} MiB (${m.afterDeltaMiB >= 0 ? '+' : ''}${m.afterDeltaMiB} from idle${m.backAfterSeconds === null || m.backAfterSeconds === undefined ? `, not back within 10 MiB in the ${m.afterSampledSeconds} s sampled` : `, back within 10 MiB ${m.backAfterSeconds} s after the transfer`}; max deviation ±${m.maxDeviationMiB} MiB)`
  );
}

const isHttpsProblem = (problem) => /^(tls|h2): /.test(problem);

/** Table rows for the HTTP (`https` false) or HTTPS table, each with the note that explains gaps. */
function tableRows({ results, absent, httpsAbsent, gatehouseError, ids }, https) {
  const selected = [GATEHOUSE, ...PEERS].filter(({ id }) => ids.includes(id));
  return selected.map(({ id, label }) => {
    const summary = results[id];
    const problems = (summary?.problems ?? []).filter((p) => isHttpsProblem(p) === https);
    let note = '';
    if (id === GATEHOUSE.id && gatehouseError) note = 'NOT MEASURED (see ERROR above)';
    else if (absent[id]) note = absent[id].split('\n')[0];
    else if (https && httpsAbsent[id]) note = httpsAbsent[id].split('\n')[0];
    else if (problems.length) note = `${problems.length} run(s) discarded: ${problems[0]}`;
    if (id === 'bare' && !note) note = https ? 'reference: node:https + undici (no HTTP/2)' : 'reference: the least a Node proxy does';
    return { label, ...summary, note };
  });
}

/** The load table, ratios and HTTPS table of one layout. */
function printLayout(layout, { meta, issuance }) {
  const { options } = meta;
  const { results, ctx } = layout;
  const where = ctx.serverCpu === null || ctx.serverCpu === undefined ? 'unpinned' : typeof ctx.serverCpu === 'number' ? `on CPU ${ctx.serverCpu}` : `on CPUs ${ctx.serverCpu}`;
  const tool = ctx.loadCpu === null || ctx.loadCpu === undefined ? 'unpinned' : typeof ctx.loadCpu === 'number' ? `on CPU ${ctx.loadCpu}` : `on CPUs ${ctx.loadCpu}`;
  const workers =
    layout.id === 'two'
      ? '; peers stock: nginx worker_processes auto, HAProxy one thread per CPU, Caddy GOMAXPROCS default; Gatehouse one process; wrk/h2load one thread; 1 MiB measured on one core only'
      : '; every server one worker';
  console.log(`\n=== ${LAYOUTS[layout.id]}: proxies + ${meta.backend} backend ${where}, load tool ${tool}${workers}`);
  console.log(
    `Results: median of ${options.reps} × ${options.durationS} s (± the farthest rep from the median); small: wrk -c64 keep-alive GET ${SMALL_PATH} ` +
      `(${SMALL_BODY.length} B body) · 1 MiB: wrk -c8 GET ${ONE_MIB_PATH} · CPU: the proxy's user+system time per 1000 small requests\n`,
  );
  console.log(formatTable(tableRows(layout, false)));
  const ratioText = formatRatios(results, PEERS);
  if (ratioText) console.log(`\nGatehouse ÷ peer, ${LAYOUTS[layout.id]} (req/s, MB/s: higher is better; p50, p99, CPU/req: lower is better)\n${ratioText}`);
  console.log(describeHttps({ rows: tableRows(layout, true), results, peers: PEERS, issuance: layout.id === 'one' ? issuance : undefined, meta }).replace(/\nLeaf issuance: not measured \(Gatehouse HTTPS did not run\)$/, ''));
}

function printReport({ layouts, memory, connections, issuance, features, signin, ui, discovery, frontDoor, failover, acme, streams, insight, multicore, targets, timings, meta }) {
  const { options } = meta;
  const ran = (id) => options.sections.includes(id);
  const notRun = (title) => `${title}: ${NOT_RUN}`;
  if (ran('http')) for (const layout of layouts) printLayout(layout, { meta, issuance });
  else console.log(`\n${notRun('Load table (small, 1 MiB, TLS, HTTP/2; one core and two cores)')}`);
  console.log('');
  if (ran('memory')) {
    if (memory.gatehouse || !meta.gatehouseError) console.log(describeMemory('Gatehouse', memory.gatehouse));
    if (memory.bare) console.log(describeMemory('bare forwarder (reference)', memory.bare));
    console.log(describeIdleConnections(connections));
    console.log('Electron main process idle RSS: not measured here: no Electron binary on this machine (measure it with the desktop app: docs/benchmark.md)');
  } else console.log(notRun('Memory'));
  if (meta.accessLogBytes !== null) console.log(`Gatehouse access log (on, as shipped): ${fmt(meta.accessLogBytes)} bytes written in this run`);
  const disturbed = layouts.flatMap((l) => Object.values(l.runs).flatMap((r) => Object.values(r).flat())).filter((r) => r.foreignShare > MAX_FOREIGN_SHARE).length;
  if (disturbed) console.log(`WARNING: in ${disturbed} run(s) other programs took over ${MAX_FOREIGN_SHARE * 100}% of CPU ${SERVER_CPU}; rerun on a quiet machine.`);
  console.log(`\n${ran('features') ? describeFeatures(features) : notRun('Features on/off')}`);
  console.log(`\n${ran('signin') ? describeSignin(signin) : notRun('Sign-in')}`);
  console.log(`\n${ran('ui') ? describeUi(ui) : notRun('UI')}`);
  console.log(`\n${ran('discovery') ? describeDiscovery(discovery) : notRun('Discovery')}`);
  console.log(`\n${ran('front-door') ? describeFrontDoor(frontDoor) : notRun('Front door')}`);
  console.log(`\n${ran('failover') ? describeFailover(failover) : notRun('Several upstreams')}`);
  console.log(`\n${ran('acme') ? describeAcme(acme) : notRun('ACME')}`);
  console.log(`\n${ran('streams') ? describeStreams(streams) : notRun('Streams')}`);
  console.log(`\n${ran('insight') ? describeInsight(insight) : notRun('History')}`);
  if (!ran('doctor')) console.log(`\n${notRun('Route doctor')}`);
  if (ran('multicore')) console.log(`\n${describeMulticore(multicore)}`);
  console.log('\nTargets (Gatehouse, access log on):');
  const width = Math.max(...targets.map((t) => t.text.length));
  for (const t of targets) console.log(`  ${t.status.padEnd(4)}  ${t.text.padEnd(width)}  ${t.detail}`);
  console.log(`\nWall time per section: ${timings.map((t) => `${t.section} ${fmt(t.seconds)} s`).join(', ')}; total ${fmt(timings.reduce((sum, t) => sum + t.seconds, 0))} s`);
}

/**
 * The target lines of the sections measured outside report.mjs, SKIP when the section was not
 * run: each section's own target function given "not run" in place of a result.
 */
function sectionTargets(options, measured) {
  const notRun = { error: NOT_RUN };
  const producers = {
    signin: (r) => signinTargets(r ?? notRun),
    ui: (r) => uiTargets(r ?? { errors: {} }),
    discovery: (r) => discoveryTargets(r ?? notRun),
    'front-door': (r) => frontDoorTargets(r ?? { access: notRun, flood: notRun, forwardAuth: notRun, inspector: notRun }),
    failover: (r) => failoverTargets(r ?? notRun),
    acme: (r) => acmeTargets(r ?? notRun),
    streams: (r) => streamTargets(r ?? notRun),
    insight: (r) => insightTargets(r ?? { throughput: notRun, disk: notRun }),
    doctor: (r) => [doctorTarget(r ?? notRun)],
    multicore: (r) => multicoreTargets(r ?? notRun),
  };
  return Object.entries(producers).flatMap(([section, producer]) => {
    if (options.sections.includes(section)) return producer(measured[section]);
    try {
      return skipTargets(producer(undefined));
    } catch {
      return [{ id: section, text: `${section} targets`, status: 'SKIP', detail: NOT_RUN }];
    }
  });
}

function accessLogBytes(dataDir) {
  if (!dataDir) return null;
  try {
    return statSync(join(dataDir, 'access.log')).size;
  } catch {
    return 0;
  }
}

function writeRecord(started, record) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

/** Runs `what` as section `section`, adding its wall time to `timings`. */
async function timed(timings, section, what) {
  const started = performance.now();
  try {
    return await what();
  } finally {
    timings.push({ section, seconds: Math.round((performance.now() - started) / 100) / 10 });
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    console.log(
      `Usage: node bench/run.mjs [--quick] [--proxies=${ALL_IDS.join(',')}] [--sections=${SECTIONS.join(',')}] [--layouts=one,two] [--check]\n` +
        'Env: BENCH_DURATION (s), BENCH_REPS, BENCH_WARMUP (s), BENCH_KEEP_TMP=1',
    );
    return 0;
  }
  const ran = (id) => options.sections.includes(id);
  const tools = Object.fromEntries(['wrk', 'h2load', 'taskset', 'nginx', 'caddy', 'haproxy', 'openssl', 'vsftpd', 'curl'].map((name) => [name, which(name)]));
  if (!tools.wrk) {
    console.error('ERROR: wrk is not installed, and every measurement uses it: apt-get install wrk');
    return 1;
  }
  const cpuCount = availableParallelism(); // read before pinning narrows this process to one CPU
  const pinned = Boolean(tools.taskset) && cpuCount >= 2;
  if (pinned) pinSelf(LOAD_CPU, tools.taskset);
  else console.error(`WARNING: running unpinned (${tools.taskset ? 'fewer than 2 CPUs' : 'taskset missing: apt-get install util-linux'}); numbers are not comparable with pinned runs.`);
  const peersMissing = ['nginx', 'caddy', 'haproxy'].filter((name) => !tools[name]);
  if (peersMissing.length && ran('http')) console.error(`Peers not installed, so not run: ${peersMissing.join(', ')} (apt-get install ${peersMissing.join(' ')})`);
  if (!tools.h2load && ran('http')) console.error('HTTP/2 is not measured: h2load is not installed (apt-get install nghttp2-client)');

  const versions = toolVersions(tools);
  const pressure = cpuPressure();
  console.log(
    `Gatehouse bench: sections ${options.sections.join(', ')}; ${options.reps} rep(s) × ${options.durationS} s per scenario, proxy and layout (${options.layouts.map((l) => LAYOUTS[l]).join(', ')}), ${options.warmupS} s warm-up; ` +
      `${cpus()[0]?.model ?? '?'} × ${cpuCount}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  if (pressure && pressure.avg60 > BUSY_PRESSURE) {
    console.log(`WARNING: the machine is busy (tasks waited for a CPU ${pressure.avg60}% of the last minute): expect low, noisy numbers.`);
  }

  const processes = new Processes(pinned ? tools.taskset : null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  chmodSync(tmp, 0o755); // nginx's workers run as nobody and must reach the backend's files
  installCleanup(processes, tmp);
  const ctx = { processes, tools, tmp, serverCpu: pinned ? SERVER_CPU : null, loadCpu: pinned ? LOAD_CPU : null };
  const allCpus = pinned ? `0-${cpuCount - 1}` : null;
  const selected = (id) => !options.only || options.only.includes(id);

  const started = new Date();
  const timings = [];
  let outcome;
  try {
    // The servers the load table, memory and features share: the one-core layout's backend and
    // proxies (http: every selected one; memory: Gatehouse and the bare forwarder; features: Gatehouse).
    const needed = new Set([...(ran('http') ? ALL_IDS : []), ...(ran('memory') ? [GATEHOUSE.id, 'bare'] : []), ...(ran('features') ? [GATEHOUSE.id] : [])]);
    const oneIds = ALL_IDS.filter((id) => needed.has(id) && selected(id));
    let backend = null;
    let idleServe = null;
    let one = { proxies: [], absent: {}, httpsAbsent: {}, gatehouseError: null };
    const layouts = [];
    if (oneIds.length || ran('http')) {
      await timed(timings, 'start servers', async () => {
        backend = await startBackend(ctx);
        Object.assign(ctx, { backendPort: backend.port, backendPid: backend.pid });
        console.log(`Backend: ${backend.kind} on 127.0.0.1:${backend.port} and :${backend.port2}${backend.kind === 'node' ? ' (nginx missing: a Node backend takes more of the shared core)' : ''}`);
        ctx.cert = await makeBenchCertificate(serverDir(tmp, 'tls'));
        one = await startProxies(ctx, oneIds);
        if (ran('memory') && selected(GATEHOUSE.id)) idleServe = await startIdleServe(ctx).catch((error) => ({ error: error.message }));
        console.log(`Proxies${ran('http') && options.layouts.length > 1 ? ' (one core)' : ''}: ${one.proxies.map((p) => `${p.label} :${p.port}${p.tlsPort ? ` https :${p.tlsPort}` : ''}`).join(', ') || 'none'}`);
        if (ran('http') && options.layouts.includes('one')) {
          layouts.push({ id: 'one', ctx: { ...ctx, layoutLabel: options.layouts.length > 1 ? LAYOUTS.one : null }, ...one, ids: oneIds.filter((id) => ALL_IDS.includes(id)) });
        }
        if (ran('http') && options.layouts.includes('two')) {
          // Every server of this layout may use both CPUs, and so may the load tool. Its targets
          // compare with nginx; HAProxy stays as the ceiling. Caddy (its targets are one-core ones)
          // and the bare forwarder (a reference, one Node process like Gatehouse) are left out to
          // save time, and the 1 MiB case is measured on one core only (loopback copying bounds it).
          const twoCtx = { ...ctx, tmp: serverDir(tmp, 'two-cores'), serverCpu: allCpus, loadCpu: allCpus, stock: true, scenarios: TWO_CORE_SCENARIOS, layoutLabel: options.layouts.length > 1 ? LAYOUTS.two : null };
          const backend2 = await startBackend(twoCtx);
          Object.assign(twoCtx, { backendPort: backend2.port, backendPid: backend2.pid });
          const twoIds = ALL_IDS.filter((id) => id !== 'bare' && id !== 'caddy' && selected(id));
          const two = await startProxies(twoCtx, twoIds);
          console.log(`Proxies (two cores; backend :${backend2.port}): ${two.proxies.map((p) => `${p.label} :${p.port}${p.tlsPort ? ` https :${p.tlsPort}` : ''}`).join(', ') || 'none'}`);
          layouts.push({ id: 'two', ctx: twoCtx, ...two, ids: twoIds });
        }
      });
    }
    const gatehouse = one.proxies.find((p) => p.id === GATEHOUSE.id);
    let memory = {};
    let connections = null;
    if (ran('memory')) {
      await timed(timings, 'memory', async () => {
        memory = await runMemory(one.proxies);
        if (selected(GATEHOUSE.id)) connections = await runIdleConnections(ctx, 10_000);
      });
    }
    let runs = {};
    let issuance;
    if (ran('http')) {
      await timed(timings, 'http', async () => {
        runs = await runLoadLayouts(layouts, options);
        for (const layout of layouts) layout.runs = runs[layout.id];
        issuance = gatehouse?.tlsPort ? await runIssuance(ctx, gatehouse) : undefined;
      });
    }
    let features;
    if (ran('features')) {
      console.log('Measuring features on against off (a second route on the one-core Gatehouse)…');
      features = await timed(timings, 'features', () => measureFeatures(ctx, gatehouse, [backend.port, backend.port2], options));
    }
    const measured = {};
    const section = async (id, message, what) => {
      if (!ran(id)) return undefined;
      console.log(message);
      measured[id] = await timed(timings, id, what);
      return measured[id];
    };
    const signin = await section('signin', 'Measuring sign-in (30 sign-ins; API calls with the session cookie and with the bearer token)…', () => measureSignin(ctx, options));
    const ui = await section('ui', 'Measuring the UI (bundle, dashboard interactive time, time to show Down)…', () => measureUi(ctx, options));
    const discovery = await section('discovery', 'Measuring discovery (mDNS appear/disappear against python3-zeroconf, probing a host) in a network namespace…', () => measureDiscovery(ctx, options));
    const frontDoor = await section('front-door', 'Measuring the front door (access checks on and off, a flood from 50,000 addresses, forward auth)…', () => measureFrontDoor(ctx, options));
    const failover = await section('failover', 'Measuring several upstreams (three round-robin against one, a kill under load, time to leave and rejoin rotation)…', () => measureFailover(ctx, options));
    const acme = await section('acme', 'Measuring ACME (HTTP-01 orders against Pebble, a certificate swap under TLS load, the pre-flight)…', () => measureAcme(ctx, options));
    const streams = await section('streams', 'Measuring streams (1 GiB over TCP against HAProxy, connection setup, a UDP flood from 10,000 addresses, 100 MB over FTP)…', () => measureStreams(ctx, options));
    const insight = await section('insight', 'Measuring history (a serve recording it against one recording none; a month for 50 routes on disk)…', () => measureInsight(ctx, options));
    const multicore = await section('multicore', 'Measuring the proxy on several cores (one process against two cluster workers; docs/multicore.md)…', () =>
      measureMulticore(ctx, { quick: options.quick, durationS: options.durationS }).catch((error) => ({ error: error instanceof Error ? error.message : String(error) })),
    );
    if (memory?.gatehouse && !memory.gatehouse.error) {
      // The idle target reads the serve that got no traffic; 1 s after start is kept beside it.
      const settled = idleServe?.error ? { error: idleServe.error } : idleServe ? await timed(timings, 'idle RSS settling', () => settledIdleRss(idleServe)) : { error: 'not started' };
      memory.gatehouse = settled.error
        ? { ...memory.gatehouse, idleError: settled.error }
        : { ...memory.gatehouse, justStartedMiB: memory.gatehouse.idleMiB, idleMiB: settled.settledMiB, idleAfterSeconds: settled.afterSeconds };
    }
    outcome = { backend, one, layouts, memory, connections, issuance, features, measured, signin, ui, discovery, frontDoor, failover, acme, streams, insight, multicore, accessLogBytes: accessLogBytes(gatehouse?.dataDir) };
  } finally {
    await processes.stopAll();
  }

  const { backend, one, layouts, memory, connections, issuance, features, measured, signin, ui, discovery, frontDoor, failover, acme, streams, insight, multicore } = outcome;
  const { absent, httpsAbsent, gatehouseError } = one;
  for (const layout of layouts) {
    layout.results = Object.fromEntries(Object.entries(layout.runs ?? {}).map(([id, r]) => [id, summarize(r)]));
    if (layout.gatehouseError) layout.results.gatehouse = { error: layout.gatehouseError };
  }
  const resultsOf = (id) => layouts.find((l) => l.id === id)?.results;
  const gatehouseMemory = memory.gatehouse ?? { error: gatehouseError ?? 'Gatehouse not selected' };
  // Without Gatehouse HTTPS the issuance target still shows, as a MISS saying why.
  const issuanceResult = issuance ?? (selected(GATEHOUSE.id) && ran('http') ? { error: httpsAbsent.gatehouse ?? gatehouseError ?? 'Gatehouse HTTPS did not run' } : undefined);
  const targets = [
    ...evaluateTargets({
      results: resultsOf('one') ?? (ran('http') ? undefined : {}),
      results2: resultsOf('two'),
      memory: gatehouseMemory,
      issuance: issuanceResult,
      features: features ? { ...features.summary, ...(features.error ? { error: features.error } : {}) } : undefined,
      absent,
      httpsAbsent,
      skipped: options.skipped,
    }),
    ...sectionTargets(options, measured),
  ];
  // The route doctor (bench/doctor.mjs): its own gateway and silent DNS server, one target.
  let doctor = null;
  if (ran('doctor')) {
    console.log('Measuring the route doctor with a DNS server that never answers…');
    doctor = await timed(timings, 'doctor', () => runDoctorBench().catch((error) => ({ error: error instanceof Error ? error.message : String(error) })));
    targets.splice(targets.findIndex((t) => t.id === 'doctor'), 1, doctorTarget(doctor));
  }
  const meta = { options, pinned, backend: backend?.kind ?? '—', accessLogBytes: outcome.accessLogBytes, gatehouseError };
  printReport({ layouts, memory, connections, issuance, features, signin, ui, discovery, frontDoor, failover, acme, streams, insight, multicore, targets, timings, meta });

  const file = writeRecord(started, {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    machine: { cpu: cpus()[0]?.model, cpus: cpuCount, kernel: release(), node: process.version, pinned, cpuPressureAtStart: pressure },
    versions,
    backend: backend?.kind ?? null,
    layouts: Object.fromEntries(
      layouts.map((l) => [l.id, { serverCpu: l.ctx.serverCpu, loadCpu: l.ctx.loadCpu, proxies: Object.fromEntries(l.proxies.map((p) => [p.id, { label: p.label, summary: l.results[p.id], runs: l.runs?.[p.id] }])), absent: l.absent, httpsAbsent: l.httpsAbsent, gatehouseError: l.gatehouseError }]),
    ),
    absent,
    httpsAbsent,
    gatehouseError,
    memory,
    idleConnections: connections,
    issuance: issuanceResult ?? null,
    features: features ?? null,
    signin,
    ui,
    discovery,
    frontDoor,
    failover,
    acme,
    streams,
    insight,
    multicore: multicore ?? null,
    doctor,
    accessLogBytes: outcome.accessLogBytes,
    timings,
    targets,
  });
  console.log(`\nWrote ${file}`);

  const broken = (l) => Object.values(l.absent).some((why) => !why.startsWith('not installed')) || Object.keys(l.httpsAbsent).length > 0 || Boolean(l.gatehouseError);
  const peerBroken = Object.values(absent).some((why) => !why.startsWith('not installed')) || layouts.some(broken);
  const discarded = layouts.some((l) => Object.values(l.results).some((r) => r.problems?.length));
  const memoryFailed = Object.values(memory).some((m) => m.failed) || Boolean(connections?.failed);
  const httpsBroken = (ran('http') && Object.keys(httpsAbsent).length > 0) || issuance?.failed;
  const sectionFailed = [signin, ui, features, frontDoor, failover, acme].some((r) => r?.failed) || Boolean(discovery?.error);
  if ((gatehouseError && oneIdsWanted(options)) || peerBroken || discarded || memoryFailed || httpsBroken || sectionFailed) return 1;
  if (options.check && targets.some((t) => t.status === 'MISS')) return 2;
  return 0;
}

/** Whether this run asked for Gatehouse in a section that starts it. */
function oneIdsWanted(options) {
  return (!options.only || options.only.includes(GATEHOUSE.id)) && ['http', 'memory', 'features'].some((id) => options.sections.includes(id));
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`ERROR: ${error.stack ?? error}`);
    process.exit(1);
  },
);
