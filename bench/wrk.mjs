// Running wrk and reading what it prints. wrk's own summary is rounded (1.02GB, 1.23ms), so
// wrk-report.lua adds one exact "BENCH_JSON {…}" line; the text summary is the fallback and a
// cross-check, so the parser reads both.
import { fileURLToPath } from 'node:url';

export const WRK_REPORT_SCRIPT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

/** Share of requests that may fail (non-2xx/3xx or socket errors) before a run is not a result. */
export const MAX_ERROR_SHARE = 0.001;

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }; // → milliseconds
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }; // wrk's units are binary

/** wrk's arguments for one run: one thread, keep-alive (wrk's default), latency histogram. */
export function wrkArgs({ url, connections, durationS, host = 'bench.test', script = WRK_REPORT_SCRIPT }) {
  return ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${host}`, '-s', script, url];
}

/**
 * Reads wrk's output. Returns requests, bytes, durationS, reqPerSec, mbPerSec (10^6 bytes/s),
 * latencyMs {p50, p90, p99, max}, errors {connect, read, write, timeout, status} and `exact`
 * (whether the BENCH_JSON line was there). Throws, quoting wrk, when there is no summary at all
 * (wrk could not connect, for one).
 */
export function parseWrkOutput(text) {
  const fromText = parseText(text);
  const json = /^BENCH_JSON (\{.*\})$/m.exec(text);
  if (!json) return { ...fromText, exact: false };
  const exact = JSON.parse(json[1]);
  const durationS = exact.durationUs / 1e6;
  const latencyMs = {};
  for (const key of ['p50', 'p90', 'p99', 'max']) latencyMs[key] = exact.latencyUs[key] / 1000;
  return {
    requests: exact.requests,
    bytes: exact.bytes,
    durationS,
    reqPerSec: exact.requests / durationS,
    mbPerSec: exact.bytes / durationS / 1e6,
    latencyMs,
    errors: { ...exact.errors },
    exact: true,
  };
}

function parseText(text) {
  const summary = /(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(text);
  if (!summary) {
    const said = text.trim().split('\n').slice(0, 3).join(' / ') || '(nothing)';
    throw new Error(`wrk printed no summary: ${said}`);
  }
  const requests = Number(summary[1]);
  const durationS = (Number(summary[2]) * TIME_UNITS[summary[3]]) / 1000;
  const bytes = Number(summary[4]) * SIZE_UNITS[summary[5]];
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)/.exec(text);
  const latencyMs = {};
  for (const [key, pct] of [['p50', '50'], ['p90', '90'], ['p99', '99']]) {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(text);
    latencyMs[key] = m ? Number(m[1]) * TIME_UNITS[m[2]] : null;
  }
  const max = /^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m|h)/m.exec(text);
  latencyMs.max = max ? Number(max[1]) * TIME_UNITS[max[2]] : null;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const status = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests,
    bytes,
    durationS,
    reqPerSec: rate ? Number(rate[1]) : requests / durationS,
    mbPerSec: transfer ? (Number(transfer[1]) * SIZE_UNITS[transfer[2]]) / 1e6 : bytes / durationS / 1e6,
    latencyMs,
    errors: {
      connect: socket ? Number(socket[1]) : 0,
      read: socket ? Number(socket[2]) : 0,
      write: socket ? Number(socket[3]) : 0,
      timeout: socket ? Number(socket[4]) : 0,
      status: status ? Number(status[1]) : 0,
    },
  };
}

/** Failed requests of a parsed run: socket errors plus non-2xx/3xx answers. */
export function errorCount(run) {
  const e = run.errors;
  return e.connect + e.read + e.write + e.timeout + e.status;
}

/** Why a parsed run cannot be used as a measurement, or null when it can. */
export function invalidReason(run) {
  if (run.requests === 0) return 'no request completed';
  const failed = errorCount(run);
  if (failed > run.requests * MAX_ERROR_SHARE) {
    return `${failed} of ${run.requests} requests failed (${describeErrors(run.errors)})`;
  }
  return null;
}

function describeErrors(errors) {
  return Object.entries(errors)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind === 'status' ? 'non-2xx/3xx' : kind} ${n}`)
    .join(', ');
}

/**
 * Runs a load tool (pinned to `cpu`) through `processes`, so an interrupted run stops it too, and
 * resolves `parse(output)`; a parse error says how the tool ended. Shared with bench/h2load.mjs.
 * `timeoutMs`: a tool still running after it is killed (SIGKILL, by its PID), so a stuck run
 * cannot hold the bench (default: none).
 */
export function runLoadTool(processes, name, path, cpu, args, parse, { timeoutMs = null } = {}) {
  const child = processes.start(name, path, args, { cpu, capture: true });
  const watchdog = timeoutMs === null ? null : setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.once('exit', () => clearTimeout(watchdog));
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      try {
        resolve(parse(out));
      } catch (error) {
        reject(new Error(`${error.message}${code ? ` (${name} exit code ${code})` : signal ? ` (${name} ${signal})` : ''}`));
      }
    });
  });
}

/** Runs wrk and returns the parsed result with wrk's raw output. */
export function runWrk(processes, wrkPath, cpu, options) {
  return runLoadTool(processes, 'wrk', wrkPath, cpu, wrkArgs(options), (out) => ({ ...parseWrkOutput(out), raw: out }), { timeoutMs: (options.durationS + 30) * 1000 });
}
