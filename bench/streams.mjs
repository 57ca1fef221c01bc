// Streams (issue 16) as one section of `npm run bench`: a real `gatehouse serve` with TCP, UDP and
// FTP streams, against HAProxy in TCP mode and a direct FTP transfer, in the same run. The proxies
// and the upstream share the server CPU; the clients (this process, curl) run on the load CPU.
// - TCP throughput: 1 GiB sent through each proxy to a sink that counts it (bench/stream-backend.mjs),
//   the time from the first byte to the sink's "ok <bytes>"; interleaved reps, medians, MB/s ratio;
// - connection setup: for a few seconds, 32 loops of connect → PING → PONG → close through each
//   proxy; completed connections per second, reported against HAProxy;
// - UDP: 10,000 distinct client addresses (127.20.x.y sources; loopback takes any 127/8 address)
//   each send one datagram over 10 s through a UDP stream with a 2 s idle timeout; the serve
//   process's open sockets (from /proc/PID/fd) before, at the peak, and once the idle timeout passed;
// - FTP: a 100 MB file fetched by curl in passive mode (EPSV) from a real vsftpd, directly and
//   through Gatehouse's FTP stream (which opens its own passive port per transfer); medians, ratio.
//   vsftpd runs on the load CPU beside curl: it stands for a NAS elsewhere on the LAN.
// Also runs alone: node bench/streams.mjs [--quick]   (needs haproxy, vsftpd, curl)
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stopChild } from './acme-servers.mjs';
import { serveApi as api, startBenchServe } from './gatehouse.mjs';
import { Processes, cpuPressure, freePort, pinSelf, which } from './processes.mjs';
import { fmt, median } from './report.mjs';

const BACKEND = fileURLToPath(new URL('./stream-backend.mjs', import.meta.url));
const GIB = 1024 ** 3;
const FTP_BYTES = 100 * 1024 * 1024;
const UDP = { clients: 10_000, seconds: 10, idleMs: 2000, socketLimit: 64 };

export const STREAM_TARGETS = [
  { id: 'stream-tcp', text: 'TCP stream throughput (1 GiB through the proxy) ≥ 0.8× HAProxy TCP mode', limit: 0.8 },
  { id: 'stream-udp', text: `UDP: ${fmt(UDP.clients)} client addresses over ${UDP.seconds} s leave ≤ ${UDP.socketLimit} open sockets after the idle timeout`, limit: UDP.socketLimit },
  { id: 'stream-ftp', text: 'FTP: a 100 MB passive transfer through Gatehouse ≤ 1.2× the direct transfer', limit: 1.2 },
];

/** A port free for both TCP listeners in [from, from + count) on 127.0.0.1, or throws. */
async function freeRange(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const from = 40_000 + Math.floor(Math.random() * 15_000);
    const servers = [];
    let ok = true;
    for (let port = from; port < from + count && ok; port++) {
      const server = createServer();
      ok = await new Promise((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) servers.push(server);
    }
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    if (ok) return from;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Starts the sink/echo upstream; resolves {tcpPort, udpPort}. */
async function startStreamBackend(ctx) {
  const tcpPort = await freePort();
  const udpPort = await freePort();
  const child = ctx.processes.start('stream-backend', process.execPath, [BACKEND, String(tcpPort), String(udpPort)], { cpu: ctx.serverCpu ?? null, capture: true });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the stream backend exited (${code}) before it listened`)));
  });
  return { tcpPort, udpPort, child };
}

/** HAProxy 2.6 in TCP mode, one listener forwarding to the sink. Resolves {port, child}. */
async function startHaproxyTcp(ctx, dir, upstreamPort) {
  const port = await freePort();
  const config = join(dir, 'haproxy-tcp.cfg');
  writeFileSync(
    config,
    `global
  nbthread 1
  maxconn 4096

defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s

listen stream
  bind 127.0.0.1:${port}
  server up 127.0.0.1:${upstreamPort}
`,
  );
  const child = ctx.processes.start('haproxy-tcp', ctx.tools.haproxy, ['-db', '-f', config], { cpu: ctx.serverCpu ?? null, logPath: join(dir, 'haproxy-tcp.log') });
  await waitForPort(port, child, 'HAProxy (TCP mode)');
  return { port, child };
}

async function waitForPort(port, child, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it listened`);
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Sends `bytes` through 127.0.0.1:`port` to the sink; resolves the milliseconds until it counted them all. */
function sendThrough(port, bytes) {
  const chunk = randomBytes(1024 * 1024);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let sent = 0;
    let answer = '';
    const pump = () => {
      while (sent < bytes) {
        const size = Math.min(chunk.length, bytes - sent);
        sent += size;
        if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.once('connect', pump);
    socket.on('data', (data) => (answer += data));
    socket.once('end', () => {
      const counted = Number(/^ok (\d+)/.exec(answer)?.[1]);
      socket.destroy();
      if (counted === bytes) resolve(performance.now() - started);
      else reject(new Error(`the sink counted ${answer.trim() || 'nothing'} of ${bytes} bytes`));
    });
    socket.once('error', reject);
    socket.setTimeout(120_000, () => socket.destroy(new Error('no progress for 120 s')));
  });
}

/** Connect → PING → PONG → close, `loops` at once for `seconds`; resolves {perSecond, failed}. */
async function connectionRate(port, seconds, loops = 32) {
  let done = 0;
  let failed = 0;
  const until = performance.now() + seconds * 1000;
  const once = () =>
    new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      let answer = '';
      socket.once('connect', () => socket.write('PING\n'));
      socket.on('data', (data) => (answer += data));
      socket.once('close', () => resolve(answer.startsWith('PONG')));
      socket.once('error', () => {});
      socket.setTimeout(5000, () => socket.destroy());
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < until) {
        if (await once()) done++;
        else failed++;
      }
    }),
  );
  return { perSecond: done / ((performance.now() - started) / 1000), failed };
}

/** Open sockets of process `pid` (its /proc/PID/fd links to "socket:[…]"). */
function socketCount(pid) {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed while listing
    }
  }
  return count;
}

/** Client i's source address: 127.20.0.1, 127.20.0.2 … (never .0 or .255). */
function udpSource(i) {
  return `127.${20 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250 + 1}.${(i % 250) + 1}`;
}

/** One datagram from `source` to the stream; resolves whether the echo came back within 2 s. */
function udpOnce(port, source) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish(false), 2000);
    const finish = (ok) => {
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(ok);
    };
    socket.once('error', () => finish(false));
    socket.once('message', () => finish(true));
    socket.bind(0, source, () => socket.send(Buffer.from(`hello from ${source}`), port, '127.0.0.1'));
  });
}

async function udpFlood(port, pid) {
  const before = socketCount(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, socketCount(pid))), 200);
  const started = performance.now();
  const pending = [];
  let echoed = 0;
  const perTick = UDP.clients / (UDP.seconds * 10);
  for (let i = 0; i < UDP.clients; i++) {
    pending.push(udpOnce(port, udpSource(i)).then((ok) => ok && echoed++));
    if ((i + 1) % perTick === 0) {
      const due = started + ((i + 1) / perTick) * 100;
      await sleep(Math.max(0, due - performance.now()));
    }
  }
  await Promise.all(pending);
  const floodMs = performance.now() - started;
  // The idle timeout, then give the engine a moment past it; then wait (bounded) for it to settle.
  await sleep(UDP.idleMs + 1500);
  let after = socketCount(pid);
  const deadline = Date.now() + 10_000;
  while (after - before > UDP.socketLimit && Date.now() < deadline) {
    await sleep(250);
    after = socketCount(pid);
  }
  clearInterval(sampler);
  return { clients: UDP.clients, echoed, floodMs, before, peak, after, left: after - before };
}

/** vsftpd (anonymous, passive range) serving a 100 MB random file; resolves {port, file, child}. */
async function startVsftpd(ctx, dir) {
  const port = await freePort();
  const passive = await freeRange(10);
  const root = join(dir, 'anon');
  mkdirSync(join(dir, 'empty'), { recursive: true });
  mkdirSync(root, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(root, 0o755);
  const fd = openSync(join(root, 'big.bin'), 'w');
  const chunk = randomBytes(1024 * 1024);
  for (let written = 0; written < FTP_BYTES; written += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  const config = join(dir, 'vsftpd.conf');
  writeFileSync(
    config,
    [
      'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${port}`, 'background=NO', `secure_chroot_dir=${join(dir, 'empty')}`,
      'anonymous_enable=YES', `anon_root=${root}`, 'no_anon_password=YES', 'local_enable=NO', 'write_enable=NO', 'seccomp_sandbox=NO',
      `pasv_min_port=${passive}`, `pasv_max_port=${passive + 9}`, 'connect_from_port_20=NO', 'max_per_ip=100', 'max_clients=200', `vsftpd_log_file=${join(dir, 'vsftpd.log')}`,
    ].join('\n') + '\n',
  );
  // On the load CPU with curl, not on the proxy's: it stands for a NAS elsewhere on the LAN, which
  // has a CPU of its own. The direct transfer runs with the same placement, so only the proxy's
  // part differs between the two.
  const child = ctx.processes.start('vsftpd', ctx.tools.vsftpd, [config], { cpu: ctx.loadCpu ?? null, logPath: join(dir, 'vsftpd.out') });
  await waitForPort(port, child, 'vsftpd');
  return { port, child };
}

/** curl fetches ftp://127.0.0.1:PORT/big.bin (EPSV) to /dev/null on the load CPU; resolves ms. */
async function ftpFetch(ctx, port) {
  const started = performance.now();
  const child = ctx.processes.start('curl-ftp', ctx.tools.curl, ['-sS', '--max-time', '120', '-o', '/dev/null', '-w', '%{size_download}', `ftp://127.0.0.1:${port}/big.bin`], { cpu: ctx.loadCpu ?? null, capture: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  const ms = performance.now() - started;
  if (code !== 0 || Number(out) !== FTP_BYTES) throw new Error(`curl ftp://127.0.0.1:${port}/big.bin exited ${code} with ${out || 0} bytes: ${err.trim().slice(0, 200)}`);
  return ms;
}

export async function measureStreams(ctx, options) {
  const result = { tcp: null, connect: null, udp: null, ftp: null, error: null, cpuPressure: cpuPressure(), load: loadavg().map((v) => v.toFixed(2)) };
  const missing = ['haproxy', 'vsftpd', 'curl'].filter((tool) => !ctx.tools[tool]);
  if (missing.length) {
    result.error = `not installed: ${missing.join(', ')} (apt-get install ${missing.join(' ')})`;
    return result;
  }
  const dir = mkdtempSync(join(ctx.tmp ?? tmpdir(), 'streams-'));
  const started = [];
  try {
    const backend = await startStreamBackend(ctx);
    started.push(backend.child);
    const haproxy = await startHaproxyTcp(ctx, dir, backend.tcpPort);
    started.push(haproxy.child);
    const serve = await startBenchServe(ctx, dir, 'streams-serve');
    started.push(serve.child);
    const tcpPort = await freePort();
    await api(serve, 'POST', '/api/streams', { title: 'bench tcp', protocol: 'tcp', listenPort: tcpPort, upstreams: [`127.0.0.1:${backend.tcpPort}`], healthCheck: { enabled: false } });
    const udpPort = await freePort();
    await api(serve, 'POST', '/api/streams', { title: 'bench udp', protocol: 'udp', listenPort: udpPort, upstreams: [`127.0.0.1:${backend.udpPort}`], idleTimeoutMs: UDP.idleMs, healthCheck: { enabled: false } });
    await waitForPort(tcpPort, serve.child, 'the Gatehouse TCP stream');

    // TCP throughput, interleaved.
    // Connection rate: 3 reps of 4 s. Throughput and FTP get more reps (each takes a second or less):
    // on a busy 2-core machine a median of 3 swung by a third from run to run.
    const reps = options.quick ? 1 : 3;
    const transferReps = options.quick ? 1 : 5;
    const bytes = options.quick ? GIB / 4 : GIB;
    const times = { gatehouse: [], haproxy: [] };
    await sendThrough(tcpPort, 64 * 1024 * 1024); // warm-up
    await sendThrough(haproxy.port, 64 * 1024 * 1024);
    for (let rep = 0; rep < transferReps; rep++) {
      times.gatehouse.push(await sendThrough(tcpPort, bytes));
      times.haproxy.push(await sendThrough(haproxy.port, bytes));
    }
    const mbps = (ms) => bytes / 1e6 / (ms / 1000);
    const spread = (list, toValue) => [Math.min(...list.map(toValue)), Math.max(...list.map(toValue))];
    result.tcp = { bytes, reps: transferReps, gatehouseMBps: mbps(median(times.gatehouse)), haproxyMBps: mbps(median(times.haproxy)), spread: { gatehouse: spread(times.gatehouse, mbps), haproxy: spread(times.haproxy, mbps) } };
    result.tcp.ratio = result.tcp.gatehouseMBps / result.tcp.haproxyMBps;

    // Connection setup rate.
    const seconds = options.quick ? 2 : 4;
    const rates = { gatehouse: [], haproxy: [] };
    for (let rep = 0; rep < reps; rep++) {
      rates.gatehouse.push(await connectionRate(tcpPort, seconds));
      rates.haproxy.push(await connectionRate(haproxy.port, seconds));
    }
    const rateOf = (list) => median(list.map((r) => r.perSecond));
    result.connect = {
      seconds,
      gatehouse: rateOf(rates.gatehouse),
      haproxy: rateOf(rates.haproxy),
      failed: { gatehouse: rates.gatehouse.reduce((n, r) => n + r.failed, 0), haproxy: rates.haproxy.reduce((n, r) => n + r.failed, 0) },
    };
    result.connect.ratio = result.connect.gatehouse / result.connect.haproxy;
    await stopChild(haproxy.child);

    // UDP sessions.
    result.udp = await udpFlood(udpPort, serve.child.pid);

    // FTP.
    const vsftpd = await startVsftpd(ctx, join(dir, 'ftp'));
    started.push(vsftpd.child);
    const ftpPort = await freePort();
    const passive = await freeRange(20);
    await api(serve, 'POST', '/api/streams', {
      title: 'bench ftp',
      protocol: 'ftp',
      listenPort: ftpPort,
      upstreams: [`127.0.0.1:${vsftpd.port}`],
      healthCheck: { enabled: false },
      ftp: { passivePortFrom: passive, passivePortTo: passive + 19, tls: 'off' },
    });
    await waitForPort(ftpPort, serve.child, 'the Gatehouse FTP stream');
    await ftpFetch(ctx, vsftpd.port); // warm-up: the file into the page cache
    const ftpTimes = { direct: [], gatehouse: [] };
    for (let rep = 0; rep < transferReps + 2; rep++) {
      ftpTimes.direct.push(await ftpFetch(ctx, vsftpd.port));
      ftpTimes.gatehouse.push(await ftpFetch(ctx, ftpPort));
    }
    result.ftp = { bytes: FTP_BYTES, reps: ftpTimes.direct.length, directMs: median(ftpTimes.direct), gatehouseMs: median(ftpTimes.gatehouse), spread: { direct: spread(ftpTimes.direct, (ms) => ms), gatehouse: spread(ftpTimes.gatehouse, (ms) => ms) } };
    result.ftp.ratio = result.ftp.gatehouseMs / result.ftp.directMs;
  } catch (error) {
    result.error = error.message;
  } finally {
    for (const child of started.reverse()) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

export function streamTargets(streams) {
  const [tcp, udp, ftp] = STREAM_TARGETS;
  const why = `not measured: ${streams.error}`;
  return [
    streams.tcp
      ? { id: tcp.id, text: tcp.text, status: streams.tcp.ratio >= tcp.limit ? 'PASS' : 'MISS', detail: `${fmt(streams.tcp.ratio, 3)}× (${fmt(streams.tcp.gatehouseMBps)} vs ${fmt(streams.tcp.haproxyMBps)} MB/s)` }
      : { id: tcp.id, text: tcp.text, status: 'MISS', detail: why },
    streams.udp
      ? { id: udp.id, text: udp.text, status: streams.udp.left <= udp.limit ? 'PASS' : 'MISS', detail: `${streams.udp.left} sockets left above the ${streams.udp.before} before (peak ${streams.udp.peak}); ${fmt(streams.udp.echoed)} of ${fmt(streams.udp.clients)} echoed` }
      : { id: udp.id, text: udp.text, status: 'MISS', detail: why },
    streams.ftp
      ? { id: ftp.id, text: ftp.text, status: streams.ftp.ratio <= ftp.limit ? 'PASS' : 'MISS', detail: `${fmt(streams.ftp.ratio, 3)}× (${fmt(streams.ftp.gatehouseMs)} vs ${fmt(streams.ftp.directMs)} ms)` }
      : { id: ftp.id, text: ftp.text, status: 'MISS', detail: why },
  ];
}

export function describeStreams(streams) {
  const lines = ['Streams (gatehouse serve on 127.0.0.1; HAProxy in TCP mode and a direct FTP transfer as the peers):'];
  const p = streams.cpuPressure;
  if (p && p.avg60 > 5) lines.push(`  WARNING: the machine was busy (tasks waited for a CPU ${p.avg60}% of the last minute; load ${streams.load.join(' ')}).`);
  if (streams.error) lines.push(`  ERROR: ${streams.error}`);
  const t = streams.tcp;
  if (t) lines.push(`  TCP throughput, ${fmt(t.bytes / GIB, 2)} GiB, median of ${t.reps}: Gatehouse ${fmt(t.gatehouseMBps)} MB/s, HAProxy ${fmt(t.haproxyMBps)} MB/s (${fmt(t.ratio, 3)}×); ranges ${fmt(t.spread.gatehouse[0])}–${fmt(t.spread.gatehouse[1])} and ${fmt(t.spread.haproxy[0])}–${fmt(t.spread.haproxy[1])} MB/s`);
  const c = streams.connect;
  if (c) lines.push(`  connection setup (connect, PING/PONG, close; 32 at once, ${c.seconds} s): Gatehouse ${fmt(c.gatehouse)}/s, HAProxy ${fmt(c.haproxy)}/s (${fmt(c.ratio, 3)}×); failed ${c.failed.gatehouse} / ${c.failed.haproxy}`);
  const u = streams.udp;
  if (u) lines.push(`  UDP: ${fmt(u.clients)} client addresses in ${fmt(u.floodMs / 1000, 1)} s, ${fmt(u.echoed)} echoed; serve's sockets ${u.before} before, ${u.peak} at the peak, ${u.after} after the ${UDP.idleMs / 1000} s idle timeout`);
  const f = streams.ftp;
  if (f) lines.push(`  FTP passive (curl, EPSV), 100 MB, median of ${f.reps}: direct ${fmt(f.directMs)} ms, through Gatehouse ${fmt(f.gatehouseMs)} ms (${fmt(f.ratio, 3)}×); ranges ${fmt(f.spread.direct[0])}–${fmt(f.spread.direct[1])} and ${fmt(f.spread.gatehouse[0])}–${fmt(f.spread.gatehouse[1])} ms`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.GATEHOUSE_MDNS = 'off';
  const quick = process.argv.includes('--quick');
  const tools = Object.fromEntries(['haproxy', 'vsftpd', 'curl', 'taskset'].map((name) => [name, which(name)]));
  // Pinned like `npm run bench`: servers on CPU 0, this process and curl on CPU 1.
  const pinned = Boolean(tools.taskset) && availableParallelism() >= 2;
  if (pinned) pinSelf(1, tools.taskset);
  const processes = new Processes(pinned ? tools.taskset : null);
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-streams-'));
  try {
    const streams = await measureStreams({ processes, tools, tmp, serverCpu: pinned ? 0 : null, loadCpu: pinned ? 1 : null }, { quick });
    console.log(describeStreams(streams));
    for (const t of streamTargets(streams)) console.log(`  ${t.status.padEnd(4)}  ${t.text}  ${t.detail}`);
  } finally {
    await processes.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
