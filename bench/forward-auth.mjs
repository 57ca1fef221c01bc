// What forward auth adds to a request: a real `gatehouse serve` (built CLI, fresh data dir) with two
// routes to the same backend — one open, one behind forward auth to a sign-in server that answers
// 200 with Remote-User at once — and one keep-alive undici client on 127.0.0.1 asking both, one
// request at a time, in interleaved blocks so a noisy moment hits both alike. Reports the median
// and p95 of each, the median added in ms and the ratio. The backend and the sign-in server run in
// one child process of their own, so the client's process measures only itself.
// Bounded: WARMUP + BLOCKS × BLOCK requests per route (default 200 + 20 × 100 each).
// Usage: node bench/forward-auth.mjs [--quick]   (prints JSON; needs `npm run build`)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { Processes } from './processes.mjs';
import { median } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'gatehouse.js');

export const FORWARD_AUTH_TARGETS = [{ id: 'forward-auth-added', text: 'forward auth adds ≤ 1 ms median to a request (auth server answering at once)', limit: 1 }];

// The backend (small "ok") and the sign-in server (200 + Remote-User), in one child process;
// it prints its two ports as JSON on its first line.
const PEERS_SCRIPT = `
const { createServer } = require('node:http');
const backend = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); });
const auth = createServer((req, res) => { res.writeHead(200, { 'remote-user': 'bench', 'content-length': 0 }); res.end(); });
backend.keepAliveTimeout = auth.keepAliveTimeout = 75000;
let ready = 0;
const done = () => { if (++ready === 2) process.stdout.write(JSON.stringify({ backend: backend.address().port, auth: auth.address().port }) + '\\n'); };
backend.listen(0, '127.0.0.1', done);
auth.listen(0, '127.0.0.1', done);
`;

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function waitFor(read, what, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value) return value;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

async function api(adminUrl, token, method, path, body) {
  const response = await fetch(new URL(path, adminUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function timed(pool, host, count) {
  const samples = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const { statusCode, body } = await pool.request({ method: 'GET', path: '/', headers: { host } });
    const text = await body.text();
    samples.push(performance.now() - started);
    if (statusCode !== 200) throw new Error(`${host} answered ${statusCode}: ${text.slice(0, 500)}`);
  }
  return samples;
}

/** Measures; returns the JSON the run prints. */
export async function measureForwardAuth({ quick = false } = {}) {
  if (!existsSync(join(ROOT, 'dist', 'node', 'src-main', 'headless', 'cli.js'))) throw new Error('run "npm run build" first');
  const blocks = quick ? 5 : 20;
  const blockSize = 100;
  const warmup = quick ? 50 : 200;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-fa-'));
  const processes = new Processes(null);
  const killOnExit = () => processes.killAllNow();
  process.once('exit', killOnExit);
  let pool = null;
  try {
    const peersChild = processes.start('fa-peers', process.execPath, ['-e', PEERS_SCRIPT], { capture: true });
    let peersLine = '';
    peersChild.stdout.setEncoding('utf8').on('data', (text) => (peersLine += text));
    const peers = JSON.parse(await waitFor(() => (peersLine.includes('\n') ? peersLine.split('\n')[0] : null), 'the backend and sign-in server', peersChild));

    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const args = [CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-port', '0'];
    const serve = processes.start('gatehouse-fa', process.execPath, args, { logPath: join(dir, 'serve.log'), cwd: ROOT, env: { ...process.env, GATEHOUSE_MDNS: 'off' } });
    const info = await waitFor(() => {
      try {
        const parsed = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8'));
        return parsed.pid === serve.pid ? parsed : null;
      } catch {
        return null;
      }
    }, 'gatehouse serve', serve);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const upstream = `127.0.0.1:${peers.backend}`;
    const provider = await api(info.adminUrl, token, 'POST', '/api/access/providers', { name: 'Bench', kind: 'custom', url: `http://127.0.0.1:${peers.auth}/auth`, copyHeaders: ['Remote-User'] });
    const open = { exposure: 'anyone' };
    await api(info.adminUrl, token, 'POST', '/api/routes', { names: ['plain.bench'], upstream, access: open });
    await api(info.adminUrl, token, 'POST', '/api/routes', { names: ['fa.bench'], upstream, access: { ...open, signIn: { method: 'forward', providerId: provider.id } } });

    pool = new Pool(`http://127.0.0.1:${info.proxy.port}`, { connections: 1, pipelining: 1 });
    await timed(pool, 'plain.bench', warmup);
    await timed(pool, 'fa.bench', warmup);
    const plain = [];
    const forward = [];
    for (let block = 0; block < blocks; block++) {
      // Alternate which goes first, so neither always follows the other's tail.
      const order = block % 2 === 0 ? [['plain.bench', plain], ['fa.bench', forward]] : [['fa.bench', forward], ['plain.bench', plain]];
      for (const [host, samples] of order) samples.push(...(await timed(pool, host, blockSize)));
    }
    const plainMedian = median(plain);
    const forwardMedian = median(forward);
    const addedMs = forwardMedian - plainMedian;
    return {
      requestsEach: plain.length,
      plain: { medianMs: round(plainMedian), p95Ms: round(percentile(plain, 95)) },
      forwardAuth: { medianMs: round(forwardMedian), p95Ms: round(percentile(forward, 95)) },
      addedMedianMs: round(addedMs),
      ratio: round(forwardMedian / plainMedian, 2),
      target: { ...FORWARD_AUTH_TARGETS[0], met: addedMs <= FORWARD_AUTH_TARGETS[0].limit },
    };
  } finally {
    await pool?.close();
    await processes.stopAll();
    process.off('exit', killOnExit);
    if (!process.env.BENCH_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    else console.error(`kept ${dir}`);
  }
}

function round(value, digits = 3) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measureForwardAuth({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(result, null, 2));
}
