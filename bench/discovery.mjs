// The discovery section of `npm run bench`: how fast a service announced over mDNS shows in
// Gatehouse, how fast it goes after its goodbye, and how long "Probe a host" takes for the whole
// port list. Measured against python3-zeroconf's own browser (an independent peer) in the same run.
//
// Multicast DNS must never reach the host network, so everything runs inside a fresh network
// namespace (`unshare -rn`, no root needed): loopback with a multicast route, plus a veth pair whose
// far side answers nothing, so 10.99.0.2 behaves like a host that drops every packet. This file is
// both the outer part (starts the namespace, reads the result) and, with --inner, the part inside.
//
// Per repetition: python3-zeroconf registers `_http._tcp` instance benchN; Gatehouse's time is when
// its `discovery` event (what the UI sees) first lists the service, the peer's when its
// ServiceBrowser reports it. Then the publisher unregisters (sends the goodbye) and both times to
// removal are taken. "Appear" counts from the moment registration starts, which includes the
// publisher's own probing before its first announcement: the stricter reading of the target.
// (register_service returns only after its announcements, later than either browser sees the
// service, so its return is no use as a start time.)
//
// Alone: node bench/discovery.mjs [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { callApi, readServeFile } from './gatehouse.mjs';
import { Processes, which } from './processes.mjs';
import { fmt, median } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'gatehouse.js');
const PEER = fileURLToPath(new URL('./zeroconf-peer.py', import.meta.url));
/** Debian's python3 has python3-zeroconf; a pyenv python3 earlier on PATH would not. */
const PYTHON = '/usr/bin/python3';
const DROPPING_HOST = '10.99.0.2';
/** Longest wait for one appearance or removal before the repetition counts as missed. */
const WAIT_MS = 6000;

const NAMESPACE_SETUP = [
  'ip link set lo up',
  'ip link set lo multicast on',
  'ip route add 224.0.0.0/4 dev lo',
  // A "host" that drops everything: a static neighbour on a veth whose other end has no address.
  'ip link add gh0 type veth peer name gh1',
  'ip addr add 10.99.0.1/24 dev gh0',
  'ip link set gh0 up',
  'ip link set gh1 up',
  `ip neigh add ${DROPPING_HOST} lladdr 02:00:00:00:00:02 dev gh0`,
].join(' && ');

export const DISCOVERY_TARGETS = [
  { id: 'appear', text: 'service announced → shown ≤ 2 s', limitMs: 2000 },
  { id: 'disappear', text: 'goodbye → service gone ≤ 2 s', limitMs: 2000 },
  { id: 'probe', text: 'probe one host\'s port list ≤ 3 s', limitMs: 3000 },
];

/** What is missing to run this section, or null. */
function missingTools() {
  const missing = [];
  if (!which('unshare')) missing.push('unshare (util-linux)');
  if (!which('ip')) missing.push('ip (iproute2)');
  if (spawnSync(PYTHON, ['-c', 'import zeroconf'], { stdio: 'ignore' }).status !== 0) missing.push(`python3-zeroconf for ${PYTHON}`);
  return missing.length ? `not installed: ${missing.join(', ')} (apt-get install util-linux iproute2 python3-zeroconf)` : null;
}

/**
 * Runs the measurement inside a new network namespace; resolves the result object
 * ({reps, appear, disappear, probe, errors}) or {error} when it could not run.
 */
export async function measureDiscovery(ctx, { quick = false } = {}) {
  const missing = missingTools();
  if (missing) return { error: missing, failed: true };
  const tmp = mkdtempSync(join(ctx.tmp ?? tmpdir(), 'discovery-'));
  const out = join(tmp, 'result.json');
  const reps = quick ? 2 : 5;
  const child = ctx.processes.start(
    'discovery-namespace',
    which('unshare'),
    ['-rn', 'sh', '-c', `${NAMESPACE_SETUP} && exec "$0" "$1" --inner "$2" "$3"`, process.execPath, fileURLToPath(import.meta.url), out, String(reps)],
    { logPath: join(tmp, 'inner.log'), cwd: ROOT },
  );
  const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
  try {
    if (code !== 0) return { error: `the namespace run exited ${code}:\n${Processes.logTail(join(tmp, 'inner.log'))}`, failed: true };
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    if (!process.env.BENCH_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Inside the namespace

/** A python peer: its JSON lines as events, and a way to send it commands. */
function startPeer(mode, children) {
  const child = spawn(PYTHON, [PEER, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const events = [];
  const waiters = new Set();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line);
    events.push(event);
    for (const waiter of waiters) waiter();
  });
  /** Resolves the first event (from index `from`) matching `test`, or null after `timeoutMs`. */
  const next = (test, { from = 0, timeoutMs = WAIT_MS } = {}) =>
    new Promise((resolve) => {
      const check = () => {
        const found = events.slice(from).find(test);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(null);
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, events, next, send: (line) => child.stdin.write(`${line}\n`) };
}

/** Follows Gatehouse's event stream: for each instance name, when the UI first saw it and when it went. */
function followDiscovery(adminUrl, token) {
  const seen = new Map();
  const gone = new Map();
  const req = request(new URL('/api/events', adminUrl), { headers: { authorization: `Bearer ${token}` } }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith('event: discovery\n')) continue;
        const now = Date.now();
        const overview = JSON.parse(block.slice(block.indexOf('data: ') + 6));
        const names = new Set(overview.services.map((service) => service.name));
        for (const name of names) if (!seen.has(name)) seen.set(name, now);
        for (const name of seen.keys()) if (!names.has(name) && !gone.has(name)) gone.set(name, now);
      }
    });
  });
  req.on('error', () => {});
  req.end();
  const until = async (map, name) => {
    const deadline = Date.now() + WAIT_MS;
    while (!map.has(name) && Date.now() < deadline) await sleep(5);
    return map.get(name) ?? null;
  };
  return { seenAt: (name) => until(seen, name), goneAt: (name) => until(gone, name), close: () => req.destroy() };
}

/** Two small web apps on common ports, so the probe identifies something while it runs. */
async function startFakeApps(servers) {
  const apps = [
    [8096, '<html><head><title>Jellyfin</title></head></html>'],
    [8123, '<html><head><title>Home Assistant</title></head></html>'],
  ];
  for (const [port, html] of apps) {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    servers.push(server);
  }
}

async function probeTimes(adminUrl, token, address, runs) {
  const times = [];
  let last = null;
  for (let i = 0; i < runs; i++) {
    const started = Date.now();
    const answer = await callApi(new URL('/api/discovery/probe', adminUrl), token, 'POST', { address });
    const wallMs = Date.now() - started;
    if (answer.status !== 200) throw new Error(`POST /api/discovery/probe ${address} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    const probe = JSON.parse(answer.text);
    times.push(wallMs);
    last = probe;
  }
  const open = last.open.map((p) => `${p.port}${p.identification ? ` ${p.identification.app}` : ''}`);
  return { address, portsTried: last.portsTried, samplesMs: times, medianMs: median(times), maxMs: Math.max(...times), open };
}

async function inner(outFile, reps) {
  const children = [];
  const servers = [];
  const processes = new Processes(null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-discovery-'));
  const result = { reps, appear: { gatehouse: [], zeroconf: [] }, disappear: { gatehouse: [], zeroconf: [] }, missed: [], probe: [] };
  try {
    const dataDir = join(tmp, 'data');
    const logPath = join(tmp, 'serve.log');
    const args = [CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-port', '0'];
    const serve = processes.start('gatehouse', process.execPath, args, { env: { ...process.env, GATEHOUSE_MDNS: 'on' }, logPath, cwd: ROOT });
    const info = await readServeFile(join(dataDir, 'serve.json'), serve, logPath);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const adminUrl = info.adminUrl ?? `http://${info.admin.address}:${info.admin.port}`;
    const discovery = await callApi(new URL('/api/discovery', adminUrl), token);
    const state = discovery.status === 200 ? JSON.parse(discovery.text).state : `HTTP ${discovery.status}`;
    if (state !== 'browsing') throw new Error(`Gatehouse is not browsing in the namespace (state ${state}): ${discovery.text.slice(0, 300)}`);
    const stream = followDiscovery(adminUrl, token);

    const publisher = startPeer('publish', children);
    const browser = startPeer('browse', children);
    if (!(await publisher.next((e) => e.event === 'ready')) || !(await browser.next((e) => e.event === 'ready'))) throw new Error('the zeroconf peer did not start');
    for (let i = 1; i <= reps; i++) {
      const name = `bench${i}`;
      publisher.send(`register ${name} ${18000 + i}`);
      const registering = await publisher.next((e) => e.event === 'registering' && e.name === name);
      const registered = await publisher.next((e) => e.event === 'registered' && e.name === name);
      const [gatehouseSeen, peerSeen] = await Promise.all([stream.seenAt(name), browser.next((e) => e.event === 'add' && e.name === name)]);
      if (!registering || !registered) throw new Error(`zeroconf did not register ${name}`);
      record(result, 'appear', gatehouseSeen, peerSeen?.ms, registering.ms, name);
      await sleep(500);
      publisher.send(`unregister ${name}`);
      const unregistered = await publisher.next((e) => e.event === 'unregistered' && e.name === name);
      const [gatehouseGone, peerGone] = await Promise.all([stream.goneAt(name), browser.next((e) => e.event === 'remove' && e.name === name)]);
      record(result, 'disappear', gatehouseGone, peerGone?.ms, unregistered.ms, name);
    }
    publisher.send('quit');
    stream.close();

    await startFakeApps(servers);
    const runs = reps > 2 ? 3 : 1;
    result.probe.push(await probeTimes(adminUrl, token, '127.0.0.1', runs));
    result.probe.push(await probeTimes(adminUrl, token, DROPPING_HOST, runs));
  } catch (error) {
    result.error = error.message;
  } finally {
    for (const server of servers) server.close();
    for (const child of children) child.kill('SIGTERM');
    await processes.stopAll(5000);
    rmSync(tmp, { recursive: true, force: true });
  }
  writeFileSync(outFile, JSON.stringify(result));
}

/** Adds one repetition's times (ms after `fromMs`), or notes who missed it. */
function record(result, metric, gatehouseMs, peerMs, fromMs, name) {
  if (gatehouseMs === null) result.missed.push(`${metric} ${name}: Gatehouse did not see it within ${WAIT_MS} ms`);
  else result[metric].gatehouse.push(Math.round(gatehouseMs - fromMs));
  if (peerMs === undefined) result.missed.push(`${metric} ${name}: zeroconf did not see it within ${WAIT_MS} ms`);
  else result[metric].zeroconf.push(Math.round(peerMs - fromMs));
}

// ---------------------------------------------------------------------------------------------
// Report

/** PASS/MISS lines for the discovery targets; the worst repetition counts ("within"). */
export function discoveryTargets(d) {
  return DISCOVERY_TARGETS.map((target) => {
    const line = (status, detail) => ({ id: `discovery-${target.id}`, text: target.text, status, detail });
    if (!d || d.error) return line('MISS', `not measured: ${d?.error?.split('\n')[0] ?? 'no result'}`);
    const samples = target.id === 'probe' ? d.probe.map((p) => p.maxMs) : d[target.id].gatehouse;
    if (!samples.length) return line('MISS', 'no repetition completed');
    const worst = Math.max(...samples);
    const missed = target.id === 'probe' ? 0 : d.missed.filter((m) => m.startsWith(`${target.id} `) && m.includes('Gatehouse')).length;
    const peer = target.id === 'probe' ? null : d[target.id].zeroconf;
    const ratio = peer?.length ? `; median ${fmt(median(samples))} ms ${versusPeer(median(samples), median(peer))}` : '';
    const status = worst <= target.limitMs && missed === 0 ? 'PASS' : 'MISS';
    return line(status, `worst ${fmt(worst)} ms of ${samples.length}${missed ? ` (+${missed} missed)` : ''}${ratio}`);
  });
}

/**
 * Gatehouse against zeroconf's median: a ratio, or, when the peer's time is a few milliseconds
 * (a goodbye is seen as soon as the packet lands), the difference, since a ratio of two tiny
 * numbers says nothing.
 */
function versusPeer(ours, peer) {
  if (peer >= 20) return `= ${fmt(ours / peer, 2)}× zeroconf's ${fmt(peer)} ms`;
  const difference = Math.round(ours - peer);
  return `vs zeroconf's ${fmt(peer)} ms (${difference >= 0 ? '+' : ''}${difference} ms)`;
}

export function describeDiscovery(d) {
  if (!d || d.error) return `Discovery (mDNS in a network namespace): not measured (${d?.error ?? 'no result'})`;
  const series = (label, m) =>
    `  ${label}: Gatehouse ${m.gatehouse.join(', ') || '—'} ms (median ${fmt(median(m.gatehouse))}); python3-zeroconf ${m.zeroconf.join(', ') || '—'} ms (median ${fmt(median(m.zeroconf))})`;
  const lines = [`Discovery (mDNS in a network namespace, ${d.reps} services registered then withdrawn by python3-zeroconf):`];
  lines.push(series('appear, from the start of registration (includes the publisher\'s own probing)', d.appear));
  lines.push(series('gone, from the goodbye', d.disappear));
  for (const miss of d.missed) lines.push(`  MISSED: ${miss}`);
  for (const p of d.probe) {
    lines.push(`  probe ${p.address} (${p.portsTried} ports): ${p.samplesMs.join(', ')} ms; open: ${p.open.join(', ') || 'none'}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

if (process.argv[2] === '--inner') {
  await inner(process.argv[3], Number(process.argv[4]));
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const processes = new Processes(null);
  process.once('exit', () => processes.killAllNow());
  const result = await measureDiscovery({ processes }, { quick: process.argv.includes('--quick') });
  console.log(describeDiscovery(result));
  for (const t of discoveryTargets(result)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
  process.exitCode = result.error ? 1 : 0;
}
