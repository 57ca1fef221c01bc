// Starting `gatehouse serve` as a user would: the built CLI, a fresh data directory (default
// settings, so the access log is on as shipped), the route added through the admin API. `--bind
// 127.0.0.1` keeps the proxy off the LAN for the bench; `--http-port 0` lets it pick a free port,
// which serve.json reports.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BENCH_HOST } from './content.mjs';
import { Processes, processTree, waitForHttp } from './processes.mjs';
import { serverDir } from './peers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'gatehouse.js');

/** Gatehouse could not be started or did not proxy; the message says what to do. */
export class GatehouseUnavailable extends Error {
  name = 'GatehouseUnavailable';
}

/** Waits for serve.json, the file `gatehouse serve` writes once it listens. */
async function readServeFile(path, child, logPath, timeoutMs = 30_000) {
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

function postJson(url, token, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
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

/**
 * Starts Gatehouse routing bench.test to the backend. Returns {port, pid, child, dataDir}; `pid` is the
 * process serve.json names (measured with its descendants). Throws GatehouseUnavailable with the
 * reason when the CLI is not built, does not start, or does not proxy.
 */
export async function startGatehouse(ctx) {
  if (!existsSync(CLI)) {
    throw new GatehouseUnavailable(`bin/gatehouse.js does not exist (no headless CLI in this tree), so Gatehouse cannot be measured.`);
  }
  const dir = serverDir(ctx.tmp, 'gatehouse');
  const dataDir = serverDir(dir, 'data');
  const logPath = join(dir, 'output.log');
  const args = [CLI, 'serve', '--data-dir', dataDir, '--bind', '127.0.0.1', '--http-port', '0', '--admin-port', '0'];
  const child = ctx.processes.start('gatehouse', process.execPath, args, { cpu: ctx.serverCpu, logPath, cwd: ROOT });

  const serve = await readServeFile(join(dataDir, 'serve.json'), child, logPath);
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const adminUrl = serve.adminUrl ?? `http://${serve.admin.address}:${serve.admin.port}`;
  const added = await postJson(new URL('/api/routes', adminUrl), token, { names: [BENCH_HOST], upstream: `127.0.0.1:${ctx.backendPort}` });
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
  return { port: proxyPort, pid, child, dataDir };
}
