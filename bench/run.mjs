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
// Usage: node bench/run.mjs [--quick] [--proxies=gatehouse,bare,nginx,caddy,haproxy] [--check]
//   BENCH_DURATION  seconds per measured run (default 8; --quick 3)
//   BENCH_REPS      interleaved repetitions (default 3; --quick 1)
//   BENCH_WARMUP    seconds of unmeasured load per proxy and scenario before rep 1 (2; --quick 1)
//   BENCH_KEEP_TMP=1 keeps the generated configs and logs (path printed)
//   --check         exit 2 when a target is missed (default: report only)
// Exit code: 0 measured; 1 something did not run (Gatehouse, an installed peer, a scenario).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_HOST, ONE_MIB, ONE_MIB_PATH, SMALL_BODY, SMALL_PATH } from './content.mjs';
import { GatehouseUnavailable, startGatehouse } from './gatehouse.mjs';
import { describeHttps, httpsProblem } from './https.mjs';
import { measureIssuance } from './issuance.mjs';
import { MAX_FOREIGN_SHARE, runLoad } from './load.mjs';
import { measureMemory } from './memory.mjs';
import { PEERS, serverDir, startBackend, startPeer } from './peers.mjs';
import { Processes, cpuPressure, get, pinSelf, which } from './processes.mjs';
import { evaluateTargets, fmt, formatRatios, formatTable, summarize } from './report.mjs';
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

function parseOptions(argv, env) {
  const options = { quick: false, check: false, only: null, help: false };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--check') options.check = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('--proxies=')) options.only = arg.slice('--proxies='.length).split(',').filter(Boolean);
    else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  const number = (name, fallback) => {
    if (env[name] === undefined || env[name] === '') return fallback;
    const value = Number(env[name]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, not "${env[name]}"`);
    return value;
  };
  options.durationS = number('BENCH_DURATION', options.quick ? 3 : 8);
  options.reps = number('BENCH_REPS', options.quick ? 1 : 3);
  options.warmupS = number('BENCH_WARMUP', options.quick ? 1 : 2);
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
async function startProxies(ctx, options) {
  const wanted = (id) => !options.only || options.only.includes(id);
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
  if (!ctx.tools.h2load) console.error('HTTP/2 is not measured: h2load is not installed (apt-get install nghttp2-client)');
  return { proxies, absent, httpsAbsent, gatehouseError };
}

const GATEHOUSE_WANTED = (options) => !options.only || options.only.includes(GATEHOUSE.id);

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
      out[id] = await measureMemory(proxy.pid, proxy.port);
    } catch (error) {
      out[id] = { error: error.message, failed: true };
      console.error(`ERROR: ${proxy.label} memory scenario: ${error.message}`);
    }
  }
  return out;
}

function describeMemory(label, m) {
  if (!m || m.error) return `${label} memory: not measured${m?.error ? ` (${m.error})` : ''}`;
  return (
    `${label} memory: idle RSS ${m.idleMiB} MiB; across a 1 GiB transfer (${m.transferMBps} MB/s): before ${m.beforeMiB}, ` +
    `during ${m.duringMinMiB}–${m.duringMaxMiB}, after ${m.afterMiB} MiB (max deviation ±${m.maxDeviationMiB} MiB)`
  );
}

const isHttpsProblem = (problem) => /^(tls|h2): /.test(problem);

/** Table rows for the HTTP (`https` false) or HTTPS table, each with the note that explains gaps. */
function tableRows({ results, absent, httpsAbsent, gatehouseError, meta }, https) {
  const selected = [GATEHOUSE, ...PEERS].filter(({ id }) => !meta.options.only || meta.options.only.includes(id));
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

function printReport({ results, absent, httpsAbsent, gatehouseError, memory, issuance, signin, ui, discovery, frontDoor, failover, acme, streams, insight, targets, runs, meta }) {
  const rows = tableRows({ results, absent, httpsAbsent, gatehouseError, meta }, false);
  const { options } = meta;
  console.log(
    `\nResults: median of ${options.reps} × ${options.durationS} s; proxy + ${meta.backend} backend on CPU ${SERVER_CPU}, ` +
      `wrk -t1 on CPU ${LOAD_CPU}${meta.pinned ? '' : ' (NOT pinned)'}`,
  );
  console.log(
    `small: wrk -c64 keep-alive GET ${SMALL_PATH} (${SMALL_BODY.length} B body) · 1 MiB: wrk -c8 GET ${ONE_MIB_PATH} · ` +
      `CPU: the proxy's user+system time per 1000 small requests\n`,
  );
  console.log(formatTable(rows));
  const ratioText = formatRatios(results, PEERS);
  if (ratioText) console.log(`\nGatehouse ÷ peer (req/s, MB/s: higher is better; p50, p99, CPU/req: lower is better)\n${ratioText}`);
  const httpsRows = tableRows({ results, absent, httpsAbsent, gatehouseError, meta }, true);
  console.log(describeHttps({ rows: httpsRows, results, peers: PEERS, issuance, meta }));
  console.log('');
  if (memory.gatehouse || !gatehouseError) console.log(describeMemory('Gatehouse', memory.gatehouse));
  if (memory.bare) console.log(describeMemory('bare forwarder (reference)', memory.bare));
  if (meta.accessLogBytes !== null) console.log(`Gatehouse access log (on, as shipped): ${fmt(meta.accessLogBytes)} bytes written in this run`);
  const disturbed = Object.values(runs).flatMap((r) => Object.values(r).flat()).filter((r) => r.foreignShare > MAX_FOREIGN_SHARE).length;
  if (disturbed) console.log(`WARNING: in ${disturbed} run(s) other programs took over ${MAX_FOREIGN_SHARE * 100}% of CPU ${SERVER_CPU}; rerun on a quiet machine.`);
  console.log(`\n${describeSignin(signin)}`);
  console.log(`\n${describeUi(ui)}`);
  console.log(`\n${describeDiscovery(discovery)}`);
  console.log(`\n${describeFrontDoor(frontDoor)}`);
  console.log(`\n${describeFailover(failover)}`);
  console.log(`\n${describeAcme(acme)}`);
  console.log(`\n${describeStreams(streams)}`);
  console.log(`\n${describeInsight(insight)}`);
  console.log('\nTargets (Gatehouse, access log on):');
  const width = Math.max(...targets.map((t) => t.text.length));
  for (const t of targets) console.log(`  ${t.status.padEnd(4)}  ${t.text.padEnd(width)}  ${t.detail}`);
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

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    console.log(`Usage: node bench/run.mjs [--quick] [--proxies=${ALL_IDS.join(',')}] [--check]\nEnv: BENCH_DURATION (s), BENCH_REPS, BENCH_WARMUP (s), BENCH_KEEP_TMP=1`);
    return 0;
  }
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
  if (peersMissing.length) console.error(`Peers not installed, so not run: ${peersMissing.join(', ')} (apt-get install ${peersMissing.join(' ')})`);

  const versions = toolVersions(tools);
  const pressure = cpuPressure();
  console.log(
    `Gatehouse bench: ${options.reps} rep(s) × ${options.durationS} s per scenario and proxy, ${options.warmupS} s warm-up; ` +
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

  const started = new Date();
  let outcome;
  try {
    const backend = await startBackend(ctx);
    Object.assign(ctx, { backendPort: backend.port, backendPid: backend.pid });
    console.log(`Backend: ${backend.kind} on 127.0.0.1:${backend.port}${backend.kind === 'node' ? ' (nginx missing: a Node backend takes more of the shared core)' : ''}`);
    ctx.cert = await makeBenchCertificate(serverDir(tmp, 'tls'));
    const { proxies, absent, httpsAbsent, gatehouseError } = await startProxies(ctx, options);
    console.log(`Proxies: ${proxies.map((p) => `${p.label} :${p.port}${p.tlsPort ? ` https :${p.tlsPort}` : ''}`).join(', ') || 'none'}`);
    const memory = await runMemory(proxies);
    const runs = await runLoad(ctx, proxies, options);
    const gatehouse = proxies.find((p) => p.id === GATEHOUSE.id);
    const issuance = gatehouse?.tlsPort ? await runIssuance(ctx, gatehouse) : undefined;
    console.log('Measuring sign-in (30 sign-ins; API calls with the session cookie and with the bearer token)…');
    const signin = await measureSignin(ctx, options);
    console.log('Measuring the UI (bundle, dashboard interactive time, time to show Down)…');
    const ui = await measureUi(ctx, options);
    console.log('Measuring discovery (mDNS appear/disappear against python3-zeroconf, probing a host) in a network namespace…');
    const discovery = await measureDiscovery(ctx, options);
    console.log('Measuring the front door (access checks on and off, a flood from 50,000 addresses, forward auth)…');
    const frontDoor = await measureFrontDoor(ctx, options);
    console.log('Measuring several upstreams (three round-robin against one, a kill under load, time to leave and rejoin rotation)…');
    const failover = await measureFailover(ctx, options);
    console.log('Measuring ACME (HTTP-01 orders against Pebble, a certificate swap under TLS load, the pre-flight)…');
    const acme = await measureAcme(ctx, options);
    console.log('Measuring streams (1 GiB over TCP against HAProxy, connection setup, a UDP flood from 10,000 addresses, 100 MB over FTP)…');
    const streams = await measureStreams(ctx, options);
    console.log('Measuring history (a serve recording it against one recording none; a month for 50 routes on disk)…');
    const insight = await measureInsight(ctx, options);
    outcome = { backend, proxies, absent, httpsAbsent, gatehouseError, memory, issuance, runs, signin, ui, discovery, frontDoor, failover, acme, streams, insight, accessLogBytes: accessLogBytes(gatehouse?.dataDir) };
  } finally {
    await processes.stopAll();
  }

  const { backend, proxies, absent, httpsAbsent, gatehouseError, memory, issuance, runs, signin, ui, discovery, frontDoor, failover, acme, streams, insight } = outcome;
  const results = Object.fromEntries(Object.entries(runs).map(([id, r]) => [id, summarize(r)]));
  if (gatehouseError) results.gatehouse = { error: gatehouseError };
  const gatehouseMemory = memory.gatehouse ?? { error: gatehouseError ?? 'Gatehouse not selected' };
  // Without Gatehouse HTTPS the issuance target still shows, as a MISS saying why.
  const issuanceResult = issuance ?? (GATEHOUSE_WANTED(options) ? { error: httpsAbsent.gatehouse ?? gatehouseError ?? 'Gatehouse HTTPS did not run' } : undefined);
  const targets = [...evaluateTargets({ results, memory: gatehouseMemory, issuance: issuanceResult, absent, httpsAbsent }), ...signinTargets(signin), ...uiTargets(ui), ...discoveryTargets(discovery), ...frontDoorTargets(frontDoor), ...failoverTargets(failover), ...acmeTargets(acme), ...streamTargets(streams), ...insightTargets(insight)];
  // The route doctor (bench/doctor.mjs): its own gateway and silent DNS server, one target.
  console.log('Measuring the route doctor with a DNS server that never answers…');
  const doctor = await runDoctorBench().catch((error) => ({ error: error instanceof Error ? error.message : String(error) }));
  targets.push(doctorTarget(doctor));
  const meta = { options, pinned, backend: backend.kind, accessLogBytes: outcome.accessLogBytes };
  printReport({ results, absent, httpsAbsent, gatehouseError, memory, issuance, signin, ui, discovery, frontDoor, failover, acme, streams, insight, targets, runs, meta });

  const file = writeRecord(started, {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    machine: { cpu: cpus()[0]?.model, cpus: cpuCount, kernel: release(), node: process.version, pinned, cpuPressureAtStart: pressure },
    versions,
    backend: backend.kind,
    proxies: Object.fromEntries(proxies.map((p) => [p.id, { label: p.label, summary: results[p.id], runs: runs[p.id] }])),
    absent,
    httpsAbsent,
    gatehouseError,
    memory,
    issuance: issuanceResult ?? null,
    signin,
    ui,
    discovery,
    frontDoor,
    failover,
    acme,
    streams,
    insight,
    doctor,
    accessLogBytes: outcome.accessLogBytes,
    targets,
  });
  console.log(`\nWrote ${file}`);

  const peerBroken = Object.values(absent).some((why) => !why.startsWith('not installed'));
  const discarded = Object.values(results).some((r) => r.problems?.length);
  const memoryFailed = Object.values(memory).some((m) => m.failed);
  const httpsBroken = Object.keys(httpsAbsent).length > 0 || issuance?.failed;
  if (gatehouseError || peerBroken || discarded || memoryFailed || httpsBroken || signin.failed || ui.failed || discovery.error || frontDoor.failed || failover.failed || acme.failed) return 1;
  if (options.check && targets.some((t) => t.status === 'MISS')) return 2;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`ERROR: ${error.stack ?? error}`);
    process.exit(1);
  },
);
