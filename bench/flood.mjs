#!/usr/bin/env node
// The flood check (issue 13): 100,000 requests from 50,000 distinct 127.x.y.z addresses against a
// route with the default limits (1,200 requests a minute per address) and scanner blocking on. The
// proxy's resident memory must grow by at most 50 MB (its counters live in fixed-size tables), and
// a normal client's requests during the flood must still be answered: their p99 is reported.
//
// The engine runs alone in a child process (so its RSS is its own) from source, with the access
// runtime giving its passes and an OwnNetworks in which only 127.0.0.1 is "this network": the flood
// addresses count as the internet (else the LAN exemption would skip every counter), and the
// normal client is the household on 127.0.0.1. The upstream is a second child. Everything runs on
// 127.0.0.1, is bounded in count and time, and is stopped by PID.
//
// Usage: node bench/flood.mjs [--requests=100000] [--addresses=50000] [--concurrency=128] [--maxSeconds=600]
// (--maxSeconds stops sending new bursts then, and the report says so: a busy machine stays bounded.)
// Prints one JSON object. Exit code 0 when it ran (the target is reported, not enforced), 1 when not.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const FLOOD_TARGET_MB = 50;
const HOST = 'flood.test';

// The engine's process: ProxyEngine + AccessRuntime, talking to the parent over IPC.
const ENGINE_SCRIPT = `
const { ProxyEngine } = await import(process.env.GH_ROOT + 'src-main/core/proxy/engine.ts');
const { AccessRuntime } = await import(process.env.GH_ROOT + 'src-main/core/access/access-runtime.ts');
const { OwnNetworks } = await import(process.env.GH_ROOT + 'src-main/core/net/own-networks.ts');
const { defaultSettings, RouteSchema } = await import(process.env.GH_ROOT + 'shared/model.ts');
const { defaultAccessSettings, defaultRouteAccess } = await import(process.env.GH_ROOT + 'shared/access.ts');
const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
class OnlyLocalhost extends OwnNetworks {
  constructor() { super(() => ({})); }
  isOwnNetwork(address) { return address === '127.0.0.1' || address === '::1'; }
  isThisMachine(address) { return this.isOwnNetwork(address); }
}
const ownNetworks = new OnlyLocalhost();
const dataDir = mkdtempSync(join(tmpdir(), 'gh-flood-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const runtime = await AccessRuntime.open({ dataDir, ownNetworks, settings: defaultAccessSettings() });
const base = defaultSettings().proxy;
const settings = { ...base, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', trustedProxies: [] };
const engine = new ProxyEngine({ settings, ownNetworks, passesFor: runtime.passesFor, stopGraceMs: 500 });
// Through the schema, as the settings store would hold it (every field it leaves out defaulted).
engine.setRoutes([RouteSchema.parse({ id: 'flood', names: ['${HOST}'], upstream: process.env.GH_UPSTREAM, websocket: false, app: 'jellyfin', access: { ...defaultRouteAccess(), exposure: 'anyone' } })]);
const info = await engine.start();
process.on('message', async (message) => {
  if (message === 'counters') process.send({ counters: runtime.limits.counters, bans: runtime.scanners.bans(1).length });
  if (message === 'memory') {
    globalThis.gc();
    const { rss, heapUsed } = process.memoryUsage();
    process.send({ memory: { rssMiB: rss / 1048576, heapMiB: heapUsed / 1048576 } });
  }
  if (message === 'stop') { await engine.stop(); await runtime.close(); process.exit(0); }
});
process.send({ port: info.port });
`;

const UPSTREAM_SCRIPT = `
const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

function rssMiB(pid) {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) / 1024 : NaN;
}

/** The i-th flood address: 127.10.0.1 upward, never 127.0.0.x and never a .0 or .255. */
function floodAddress(i) {
  return `127.${10 + Math.floor(i / 62_500)}.${(Math.floor(i / 250) % 250) + 1}.${(i % 250) + 1}`;
}

/** `count` pipelined GETs on one connection from `localAddress`; resolves with their statuses. */
function burst(port, localAddress, count) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let raw = '';
    const statuses = [];
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      let out = '';
      for (let i = 0; i < count; i++) out += `GET /items/${i} HTTP/1.1\r\nHost: ${HOST}\r\n${i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`;
      socket.write(out);
    });
    socket.on('data', (text) => (raw += text));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      for (const match of raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)) statuses.push(Number(match[1]));
      resolve(statuses);
    });
  });
}

/** A household client on 127.0.0.1 asking every `everyMs` until stopped; collects latencies. */
function normalClient(port, everyMs) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let failures = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      const ok = await new Promise((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/web/index.html', headers: { host: HOST }, agent, timeout: 5000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ok) latencies.push(performance.now() - started);
      else failures++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      agent.destroy();
      return { latencies, failures };
    },
  };
}

const round = (value) => Math.round(value * 10) / 10;

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
}

function ask(child, message, key) {
  return new Promise((resolve) => {
    const onMessage = (reply) => {
      if (reply && key in reply) {
        child.off('message', onMessage);
        resolve(reply);
      }
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Runs the flood; resolves with the report. */
export async function measureFlood({ requests = 100_000, addresses = 50_000, concurrency = 128, maxSeconds = 600 } = {}) {
  const upstream = spawn(process.execPath, ['-e', UPSTREAM_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  let proxy = null;
  try {
    const upstreamPort = Number(String((await once(upstream.stdout, 'data'))[0]).trim());
    proxy = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', '--input-type=module', '-e', ENGINE_SCRIPT], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, GH_ROOT: pathToFileURL(repoRoot).href, GH_UPSTREAM: `http://127.0.0.1:${upstreamPort}` },
    });
    const exited = once(proxy, 'exit');
    const { port } = await Promise.race([ask(proxy, 'hello', 'port'), exited.then(() => Promise.reject(new Error('the engine process exited before listening')))]);
    const report = await flood(proxy, port, { requests, addresses, concurrency, maxSeconds });
    proxy.send('stop');
    const timer = setTimeout(() => proxy.exitCode === null && process.kill(proxy.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    return report;
  } finally {
    upstream.stdin.end();
    for (const child of [proxy, upstream]) if (child && child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  }
}

async function flood(proxy, port, { requests, addresses, concurrency, maxSeconds }) {
  // Warm up (JIT, pools) with the household client, then settle and read the baseline.
  const warm = normalClient(port, 0);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await warm.stop();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { memory: before } = await ask(proxy, 'memory', 'memory');
  const rssBefore = rssMiB(proxy.pid);
  const deadline = Date.now() + maxSeconds * 1000;
  const normal = normalClient(port, 20);
  const perAddress = Math.ceil(requests / addresses);
  const statuses = new Map();
  let sent = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < addresses && Date.now() < deadline) {
      const i = next++;
      const count = Math.min(perAddress, requests - i * perAddress);
      if (count <= 0) break;
      const got = await burst(port, floodAddress(i), count);
      sent += count;
      for (const status of got) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const missing = count - got.length;
      if (missing > 0) statuses.set('none', (statuses.get('none') ?? 0) + missing);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const { latencies, failures } = await normal.stop();
  const rssAfter = rssMiB(proxy.pid);
  const { counters } = await ask(proxy, 'counters', 'counters');
  const { memory: after } = await ask(proxy, 'memory', 'memory');
  latencies.sort((a, b) => a - b);
  const growth = Math.round((rssAfter - rssBefore) * 10) / 10;
  return {
    flood: { requests: sent, addresses: Math.min(next, addresses), stoppedAtDeadline: next < addresses, seconds: Math.round(seconds * 10) / 10, perSecond: Math.round(sent / seconds), statuses: Object.fromEntries(statuses) },
    rssMiB: { before: Math.round(rssBefore * 10) / 10, after: Math.round(rssAfter * 10) / 10, growth },
    // After a full GC in the engine: what the flood left behind (counters), not its peak.
    afterGcMiB: { rssBefore: round(before.rssMiB), rssAfter: round(after.rssMiB), heapBefore: round(before.heapMiB), heapAfter: round(after.heapMiB) },
    counters,
    normalClient: { requests: latencies.length, failures, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: percentile(latencies, 100) },
    target: { rssGrowthMiB: FLOOD_TARGET_MB, met: growth <= FLOOD_TARGET_MB && failures === 0 },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = {};
  for (const arg of process.argv.slice(2)) {
    const match = /^--(requests|addresses|concurrency|maxSeconds)=(\d+)$/.exec(arg);
    if (!match) {
      console.error(`unknown argument ${arg} (use --requests=N --addresses=N --concurrency=N --maxSeconds=N)`);
      process.exit(1);
    }
    options[match[1]] = Number(match[2]);
  }
  measureFlood(options).then(
    (report) => console.log(JSON.stringify(report, null, 2)),
    (error) => {
      console.error(`the flood check did not run: ${error?.stack ?? error}`);
      process.exit(1);
    },
  );
}
