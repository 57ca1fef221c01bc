// Bench-only: one proxy, in this process or in node:cluster workers, for bench/multicore.mjs.
// Never part of the product. Each worker is an independent copy: the UPPER BOUND of what several
// processes can give, before any cost of keeping state shared (which --ask measures separately).
//
//   node bench/multicore-worker.mjs --kind gatehouse|bare --workers 0|N [--sched rr|none]
//        --port P [--https-port Q] --upstream 127.0.0.1:PORT --dir DIR [--ask none|each|lease:N]
//
// --kind gatehouse: the compiled gateway (dist/node/src-main/core/gateway.js), as `gatehouse serve`
//   builds it minus the admin server: settings, access log (on, as shipped), history, health, one
//   route bench.test → upstream. Each worker has its own data directory DIR/w<N> (its own access
//   log, history and settings): nothing is shared.
// --kind bare: bench/bare-forwarder.mjs (node:http + undici, nothing else).
// --workers 0: the proxy runs in this process; N ≥ 1: a cluster primary forks N workers that all
//   listen on the same port; --sched picks node:cluster's scheduling (rr: the primary accepts and
//   hands connections round robin, Node's default on Linux; none: every worker accepts itself).
// --ask (workers only): before each request is handled, the worker asks the primary for a token,
//   as a rate limit kept exactly in one place would: "each" = one IPC round trip per request;
//   "lease:N" = the primary leases N tokens at a time and the worker spends them locally; "shim" =
//   the same wrapper around each request, never asking (what the wrapper alone costs).
// Writes DIR/ready once every listener listens (the bench polls for it); stops on SIGTERM.
// node bench/multicore-worker.mjs --echo: an IPC echo (process.send back every message), for the
// IPC cost measurement.
import cluster from 'node:cluster';
import { writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-forwarder.mjs', import.meta.url));

function parseArgs(argv) {
  const args = { kind: 'gatehouse', workers: 0, sched: 'rr', port: 0, httpsPort: 0, upstream: '', dir: '', ask: 'none' };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--kind') args.kind = value;
    else if (name === '--workers') args.workers = Number(value);
    else if (name === '--sched') args.sched = value;
    else if (name === '--port') args.port = Number(value);
    else if (name === '--https-port') args.httpsPort = Number(value);
    else if (name === '--upstream') args.upstream = value;
    else if (name === '--dir') args.dir = value;
    else if (name === '--ask') args.ask = value;
    else throw new Error(`unknown argument ${name}`);
  }
  if (!args.port || !args.upstream || !args.dir) throw new Error('--port, --upstream and --dir are required');
  return args;
}

// --echo: the other end of bench/multicore.mjs's IPC measurement: answers a message with itself, a
// batch of log entries with a short acknowledgement (as the primary would).
if (process.argv[2] === '--echo') {
  process.on('message', (message) => process.send(message?.t === 'log' ? { t: 'ack', n: message.entries.length ?? 0 } : message));
  process.on('disconnect', () => process.exit(0));
}
const args = process.argv[2] === '--echo' ? null : parseArgs(process.argv.slice(2));

/** Resolves once a TCP connection to the port succeeds. */
async function listening(port) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket.end() && true));
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the proxy of `args.kind` in this process; resolves once it listens. */
async function startProxy(id) {
  if (args.kind === 'bare') {
    process.argv = [process.argv[0], BARE, String(args.port), args.upstream];
    await import(pathToFileURL(BARE).href);
    if (!cluster.isWorker) await listening(args.port);
    return;
  }
  const url = (path) => pathToFileURL(join(ROOT, 'dist/node', path)).href;
  const { createGateway } = await import(url('src-main/core/gateway.js'));
  const { parseInput } = await import(url('shared/api.js'));
  const dataDir = join(args.dir, `w${id}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const gateway = await createGateway({ dataDir, overrides: { httpPort: args.port, httpsPort: args.httpsPort, bindAddress: '127.0.0.1' }, mdnsEnvironment: 'off' });
  await gateway.handlers.addRoute(parseInput('addRoute', { names: ['bench.test'], upstream: args.upstream }));
  await gateway.startup();
  const status = await gateway.handlers.getStatus({});
  if (status.state !== 'running') throw new Error(`the proxy did not start: ${JSON.stringify(status.problem ?? status.state)}`);
  process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
}

/**
 * Holds every request until the primary grants a token (bench-only: wraps http.Server's emit of
 * 'request', which is where node:http hands a parsed request to the handler).
 */
function askPrimaryPerRequest(mode) {
  const emit = http.Server.prototype.emit;
  const pending = new Map();
  let next = 0;
  // "shim": the same wrapper, never asking (what the wrapper alone costs)
  const lease = mode === 'shim' ? 1 : mode.startsWith('lease:') ? Number(mode.slice(6)) : 0;
  let tokens = mode === 'shim' ? Infinity : 0;
  let asking = false;
  const queue = [];
  process.on('message', (message) => {
    if (message?.t === 'grant') {
      const held = pending.get(message.id);
      pending.delete(message.id);
      if (held) emit.apply(held.server, held.args);
    } else if (message?.t === 'lease') {
      asking = false;
      tokens += message.n;
      while (tokens > 0 && queue.length) {
        tokens--;
        const held = queue.shift();
        emit.apply(held.server, held.args);
      }
      if (queue.length) askLease();
    }
  });
  const askLease = () => {
    if (asking) return;
    asking = true;
    process.send({ t: 'lease', n: lease });
  };
  http.Server.prototype.emit = function (event, ...rest) {
    if (event !== 'request') return emit.call(this, event, ...rest);
    if (lease) {
      if (tokens > 0) {
        tokens--;
        return emit.call(this, event, ...rest);
      }
      queue.push({ server: this, args: [event, ...rest] });
      askLease();
      return true;
    }
    const id = next++;
    pending.set(id, { server: this, args: [event, ...rest] });
    process.send({ t: 'take', id, key: rest[0].socket.remoteAddress });
    return true;
  };
}

if (!args) {
  // --echo: nothing else to start
} else if (cluster.isPrimary && args.workers > 0) {
  cluster.schedulingPolicy = args.sched === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  cluster.setupPrimary({ silent: false });
  // The primary's side of --ask: one token bucket per client address, owned here (big enough
  // never to refuse: what is measured is the cost of asking, not of refusing).
  const buckets = new Map();
  const take = (key, n) => {
    const now = performance.now();
    const bucket = buckets.get(key) ?? { tokens: 1e9, at: now };
    bucket.tokens = Math.min(1e9, bucket.tokens + (now - bucket.at) * 1e6);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < n) return false;
    bucket.tokens -= n;
    return true;
  };
  let ready = 0;
  const oneReady = () => {
    if (++ready === args.workers) writeFileSync(join(args.dir, 'ready'), `${process.pid}\n`);
  };
  // The bare forwarder listens without telling: its workers count once the primary has their listener.
  if (args.kind === 'bare') cluster.on('listening', oneReady);
  for (let i = 1; i <= args.workers; i++) {
    const worker = cluster.fork({ MULTICORE_WORKER_ID: String(i) });
    worker.on('message', (message) => {
      if (message?.t === 'ready') oneReady();
      else if (message?.t === 'take') worker.send({ t: 'grant', id: message.id, ok: take(message.key, 1) });
      else if (message?.t === 'lease') worker.send({ t: 'lease', n: take('lease', message.n) ? message.n : 0 });
      else if (message?.t === 'failed') {
        console.error(`worker ${i}: ${message.error}`);
        process.exit(1);
      }
    });
    worker.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`worker ${i} exited (${code ?? signal})`);
        process.exit(1);
      }
    });
  }
  let stopping = false;
  process.once('SIGTERM', () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  });
} else {
  const id = cluster.isWorker ? Number(process.env.MULTICORE_WORKER_ID) : 0;
  try {
    if (cluster.isWorker && args.ask !== 'none') askPrimaryPerRequest(args.ask);
    await startProxy(id);
    if (cluster.isWorker) {
      if (args.kind !== 'bare') process.send({ t: 'ready' });
    } else writeFileSync(join(args.dir, 'ready'), `${process.pid}\n`);
  } catch (error) {
    if (cluster.isWorker) process.send({ t: 'failed', error: String(error?.stack ?? error) });
    else {
      console.error(error);
      process.exit(1);
    }
  }
}
