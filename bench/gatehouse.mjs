// Starting `gatehouse serve` as a user would: the built CLI, a fresh data directory (default
// settings, so the access log is on as shipped), the routes added through the admin API: bench.test
// over HTTP and bench.home.arpa with a certificate from Gatehouse's local CA (tls mode "local").
// `--bind 127.0.0.1` keeps the proxy off the LAN for the bench; `--http-port 0` and
// `--https-port 0` let it pick free ports, which serve.json and GET /api/proxy report.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BENCH_HOST, TLS_HOST } from './content.mjs';
import { Processes, processTree, waitForHttp } from './processes.mjs';
import { serverDir } from './peers.mjs';
import { handshake } from './tls.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'gatehouse.js');

/**
 * The flags the `gatehouse` command gives node (its first line, `#!/usr/bin/env -S node …`), so
 * the bench runs Gatehouse the way the command and `npm run serve` do (test/unit/node-flags.test.ts).
 */
export const GATEHOUSE_NODE_FLAGS = (() => {
  const first = readFileSync(CLI, 'utf8').split('\n')[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first);
  return match?.[1]?.trim() ? match[1].trim().split(' ') : [];
})();

/** Gatehouse could not be started or did not proxy; the message says what to do. */
export class GatehouseUnavailable extends Error {
  name = 'GatehouseUnavailable';
}

/** Waits for serve.json, the file `gatehouse serve` writes once it listens. */
export async function readServeFile(path, child, logPath, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new GatehouseUnavailable(
        `gatehouse serve exited (${child.exitCode ?? child.signalCode}) before writing serve.json:\n${Processes.logTail(logPath)}`,
      );
    }
    if (existsSync(path)) {
      try {
        return JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        // being written; read again
      }
    }
    await sleep(100);
  }
  throw new GatehouseUnavailable(`gatehouse serve wrote no serve.json within ${timeoutMs} ms:\n${Processes.logTail(logPath)}`);
}

/** One admin API call with the bearer token: resolves {status, text}. */
export function callApi(url, token, method = 'GET', body = undefined) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
    const req = request(
      url,
      { method, agent: false, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** An admin API call that must succeed: resolves the parsed JSON answer, throws quoting any other. */
export async function serveApi(serve, method, path, body) {
  const answer = await callApi(new URL(path, serve.adminUrl), serve.token, method, body);
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text);
}

/**
 * A fresh `gatehouse serve` for one bench section, on 127.0.0.1 with free ports, pinned to the
 * server CPU when the context has one. `httpPort`: the HTTP listener's port (default 0: a free one);
 * `env`: its environment (default: this process's).
 * Resolves {child, port, adminUrl, token, dataDir}.
 */
export async function startBenchServe(ctx, dir, name, { httpPort = 0, env = process.env } = {}) {
  const dataDir = join(dir, 'data');
  const logPath = join(dir, 'serve.log');
  const args = [...GATEHOUSE_NODE_FLAGS, CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', String(httpPort), '--https-port', '0', '--admin-port', '0'];
  const child = ctx.processes.start(name, process.execPath, args, { logPath, cwd: ROOT, cpu: ctx.serverCpu ?? null, env });
  const info = await readServeFile(join(dataDir, 'serve.json'), child, logPath);
  return { child, port: info.proxy.port, adminUrl: info.adminUrl, token: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(), dataDir };
}

/**
 * Polls TLS handshakes with SNI `name` on 127.0.0.1:`port` until the certificate served carries
 * `name`; resolves the handshake ({protocol, alpn, names, keyBits, keyType, issuer}). Throws after
 * `timeoutMs`, quoting the last certificate or error seen.
 */
export async function waitForCertificate(port, name, { timeoutMs = 10_000, intervalMs = 5 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  for (;;) {
    try {
      const seen = await handshake(port, name, { timeoutMs: 2000 });
      if (seen.names.includes(name)) return seen;
      last = `a certificate for ${seen.names.join(', ') || 'no DNS name'}`;
    } catch (error) {
      last = error.code ?? error.message;
    }
    if (Date.now() > deadline) throw new Error(`no certificate for ${name} on 127.0.0.1:${port} within ${timeoutMs} ms (last: ${last})`);
    await sleep(intervalMs);
  }
}

/**
 * Adds the bench.home.arpa route with a local-CA certificate and waits until the HTTPS listener
 * serves it. Returns {tlsPort, certificate (the handshake)}; throws saying what is missing.
 */
async function enableHttps(adminUrl, token, backendPort) {
  const status = await callApi(new URL('/api/proxy', adminUrl), token);
  const httpsPort = status.status === 200 ? JSON.parse(status.text).https?.port : undefined;
  if (typeof httpsPort !== 'number') {
    const https = status.status === 200 ? JSON.stringify(JSON.parse(status.text).https) : `HTTP ${status.status}`;
    throw new Error(`GET /api/proxy names no HTTPS listener (https: ${https})`);
  }
  const route = { names: [TLS_HOST], upstream: `127.0.0.1:${backendPort}`, tls: { mode: 'local' } };
  const added = await callApi(new URL('/api/routes', adminUrl), token, 'POST', route);
  if (added.status < 200 || added.status >= 300) throw new Error(`POST /api/routes (tls local) answered ${added.status}: ${added.text.slice(0, 300)}`);
  return { tlsPort: httpsPort, certificate: await waitForCertificate(httpsPort, TLS_HOST) };
}

/**
 * Starts Gatehouse routing bench.test to the backend, and bench.home.arpa over HTTPS. Returns
 * {port, tlsPort, h2, pid, child, dataDir, adminUrl, token, httpsError}; `pid` is the process
 * serve.json names (measured with its descendants); `tlsPort` is null, with `httpsError` saying
 * why, when HTTPS could not be set up (the HTTP scenarios still run). Throws GatehouseUnavailable
 * with the reason when the CLI is not built, does not start, or does not proxy.
 */
export async function startGatehouse(ctx) {
  if (!existsSync(CLI)) {
    throw new GatehouseUnavailable(`bin/gatehouse.js does not exist (no headless CLI in this tree), so Gatehouse cannot be measured.`);
  }
  const dir = serverDir(ctx.tmp, 'gatehouse');
  const dataDir = serverDir(dir, 'data');
  const logPath = join(dir, 'output.log');
  const args = [...GATEHOUSE_NODE_FLAGS, CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-port', '0'];
  const child = ctx.processes.start('gatehouse', process.execPath, args, { cpu: ctx.serverCpu, logPath, cwd: ROOT });

  const serve = await readServeFile(join(dataDir, 'serve.json'), child, logPath);
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const adminUrl = serve.adminUrl ?? `http://${serve.admin.address}:${serve.admin.port}`;
  const added = await callApi(new URL('/api/routes', adminUrl), token, 'POST', { names: [BENCH_HOST], upstream: `127.0.0.1:${ctx.backendPort}` });
  if (added.status < 200 || added.status >= 300) {
    throw new GatehouseUnavailable(`POST /api/routes answered ${added.status}: ${added.text.slice(0, 500)}`);
  }
  const proxyPort = serve.proxy?.port;
  if (typeof proxyPort !== 'number') throw new GatehouseUnavailable(`serve.json names no proxy port: ${JSON.stringify(serve)}`);
  try {
    await waitForHttp(proxyPort, '/', { child });
  } catch (error) {
    throw new GatehouseUnavailable(`Gatehouse does not proxy bench.test: ${error.message}\n${Processes.logTail(logPath)}`);
  }
  const pid = typeof serve.pid === 'number' && processTree(child.pid).includes(serve.pid) ? serve.pid : child.pid;
  let https = { tlsPort: null, certificate: null, httpsError: null };
  try {
    https = { ...(await enableHttps(adminUrl, token, ctx.backendPort)), httpsError: null };
  } catch (error) {
    https.httpsError = `Gatehouse HTTPS is not measured: ${error.message}`;
  }
  return { port: proxyPort, ...https, h2: true, pid, child, dataDir, adminUrl, token };
}
