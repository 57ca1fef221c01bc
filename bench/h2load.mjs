// Running h2load (nghttp2) for the HTTP/2 scenario and reading what it prints. h2load's summary
// has the request rate, outcome counts and the negotiated protocol, but only min/max/mean
// latency; the percentiles come from its per-request log (--log-file), read here.
//
// h2load quietly falls back to HTTP/1.1 when the server does not offer h2 by ALPN, so a run whose
// "Application protocol" is not h2 is not an HTTP/2 result and is discarded.
import { readFileSync, rmSync } from 'node:fs';
import { median } from './report.mjs';
import { MAX_ERROR_SHARE, runLoadTool } from './wrk.mjs';

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1e3 }; // → milliseconds

/**
 * h2load's arguments for one run: one thread, `connections` × `streams` concurrent streams for
 * `durationS`, TLS to `url`'s host name (SNI and :authority) while connecting to `connectTo`
 * (127.0.0.1:PORT), so no name needs resolving; each request's time goes to `logFile`.
 */
export function h2loadArgs({ url, connectTo, connections, streams, durationS, logFile }) {
  const args = ['-t1', `-c${connections}`, `-m${streams}`, '-D', String(durationS), `--connect-to=${connectTo}`];
  if (logFile) args.push(`--log-file=${logFile}`);
  return [...args, url];
}

/**
 * Reads h2load's output. Returns requests (done), succeeded, reqPerSec, durationS, bytes, protocol
 * (ALPN: "h2", "http/1.1", or null when no TLS session was set up), meanMs and errors {failed,
 * errored, timeout, status (4xx + 5xx)}. Throws, quoting h2load, when there is no summary.
 */
export function parseH2loadOutput(text) {
  const finished = /^finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/m.exec(text);
  const counts = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(text);
  if (!finished || !counts) {
    const said = text.trim().split('\n').filter((line) => !line.startsWith('progress:')).slice(-3).join(' / ') || '(nothing)';
    throw new Error(`h2load printed no summary: ${said}`);
  }
  const statuses = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  const traffic = /^traffic: \S+ \((\d+)\) total/m.exec(text);
  const protocol = /^Application protocol: (\S+)/m.exec(text);
  const mean = /^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/m.exec(text);
  const durationS = (Number(finished[1]) * TIME_UNITS[finished[2]]) / 1000;
  return {
    requests: Number(counts[3]),
    succeeded: Number(counts[4]),
    durationS,
    reqPerSec: Number(finished[3]),
    bytes: traffic ? Number(traffic[1]) : null,
    protocol: protocol ? protocol[1] : null,
    meanMs: mean ? Number(mean[1]) * TIME_UNITS[mean[2]] : null,
    errors: {
      failed: Number(counts[5]),
      errored: Number(counts[6]),
      timeout: Number(counts[7]),
      status: statuses ? Number(statuses[3]) + Number(statuses[4]) : 0,
    },
  };
}

/**
 * Latency percentiles (ms) from h2load's --log-file: one line per request, tab-separated start
 * time (µs since the epoch), status code, and µs until the end of the response.
 */
export function latencyFromLog(text) {
  const micros = [];
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    if (fields.length < 3) continue;
    const us = Number(fields[2]);
    if (Number.isFinite(us) && us >= 0) micros.push(us);
  }
  if (micros.length === 0) return { p50: null, p90: null, p99: null, max: null };
  micros.sort((a, b) => a - b);
  const at = (share) => micros[Math.min(micros.length - 1, Math.ceil(share * micros.length) - 1)] / 1000;
  return { p50: median(micros) / 1000, p90: at(0.9), p99: at(0.99), max: micros.at(-1) / 1000 };
}

/** Why a parsed h2load run cannot be used as an HTTP/2 measurement, or null when it can. */
export function h2InvalidReason(run) {
  if (run.requests === 0) return 'no request completed';
  if (run.protocol !== 'h2') return `the server did not negotiate HTTP/2 (ALPN: ${run.protocol ?? 'no TLS session'})`;
  const e = run.errors;
  const failed = e.failed + e.errored + e.timeout;
  if (failed > run.requests * MAX_ERROR_SHARE) {
    return `${failed} of ${run.requests} requests failed (failed ${e.failed}, errored ${e.errored}, timeout ${e.timeout}; 4xx/5xx ${e.status})`;
  }
  return null;
}

/**
 * Runs h2load (pinned to `cpu`) through `processes` and returns the parsed result with latency
 * percentiles from its log (removed afterwards) and the raw output without progress lines.
 */
export function runH2load(processes, h2loadPath, cpu, options) {
  return runLoadTool(processes, 'h2load', h2loadPath, cpu, h2loadArgs(options), (out) => {
    const parsed = parseH2loadOutput(out);
    let latencyMs = { p50: null, p90: null, p99: null, max: null };
    if (options.logFile) {
      try {
        latencyMs = latencyFromLog(readFileSync(options.logFile, 'utf8'));
      } finally {
        rmSync(options.logFile, { force: true });
      }
    }
    return { ...parsed, latencyMs, raw: out.split('\n').filter((line) => !line.startsWith('progress:')).join('\n') };
  }, { timeoutMs: (options.durationS + 30) * 1000 });
}
