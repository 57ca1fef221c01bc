// From measured runs to what the bench prints: medians per proxy, Gatehouse ÷ peer ratios, and a
// PASS / MISS / SKIP line per target. Pure functions of plain data, so the test checks them
// without running anything.

/** Median of the numbers (the mean of the middle two for an even count); null when none. */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians of one scenario's usable runs: req/s, p50, p99 and CPU per 1000 requests. */
function requestMedians(runs) {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50Ms: median(runs.map((r) => r.latencyMs.p50)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    cpuMsPer1000: median(runs.map((r) => r.cpuMsPer1000)),
  };
}

/**
 * One proxy's result: medians over its valid repetitions. `small`, `large`, `tls` (HTTPS,
 * HTTP/1.1) and `h2` (HTTP/2) are lists of {reqPerSec, latencyMs: {p50, p99}, mbPerSec,
 * cpuMsPer1000, invalid (reason or null)}. The HTTPS metrics are prefixed tls… and h2… (tlsReqPerSec,
 * h2P99Ms…). `problems` lists why any repetition was thrown out (HTTPS ones prefixed "tls: ", "h2: ").
 */
export function summarize({ small = [], large = [], tls = [], h2 = [] }) {
  const ok = (runs) => runs.filter((r) => !r.invalid);
  const prefixed = (prefix, medians) => Object.fromEntries(Object.entries(medians).map(([k, v]) => [`${prefix}${k[0].toUpperCase()}${k.slice(1)}`, v]));
  const okLarge = ok(large);
  return {
    ...requestMedians(ok(small)),
    mbPerSec: median(okLarge.map((r) => r.mbPerSec)),
    largeCpuMsPer1000: median(okLarge.map((r) => r.cpuMsPer1000)),
    ...prefixed('tls', requestMedians(ok(tls))),
    ...prefixed('h2', requestMedians(ok(h2))),
    repetitions: { small: ok(small).length, large: okLarge.length, tls: ok(tls).length, h2: ok(h2).length },
    problems: [
      ...[...small, ...large].filter((r) => r.invalid).map((r) => r.invalid),
      ...tls.filter((r) => r.invalid).map((r) => `tls: ${r.invalid}`),
      ...h2.filter((r) => r.invalid).map((r) => `h2: ${r.invalid}`),
    ],
  };
}

const RATIO_METRICS = ['reqPerSec', 'p50Ms', 'p99Ms', 'mbPerSec', 'cpuMsPer1000'];
/** The HTTPS scenarios' metrics, for the second ratio block. */
export const HTTPS_RATIO_METRICS = ['tlsReqPerSec', 'tlsP99Ms', 'tlsCpuMsPer1000', 'h2ReqPerSec', 'h2P99Ms', 'h2CpuMsPer1000'];

/** Gatehouse ÷ peer for each metric; null where either side has no value. */
export function ratios(gatehouse, peer, metrics = RATIO_METRICS) {
  const out = {};
  for (const metric of metrics) {
    const a = gatehouse?.[metric];
    const b = peer?.[metric];
    out[metric] = typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null;
  }
  return out;
}

/**
 * The issue's targets. A ratio target compares Gatehouse with `peer` (≥ `atLeast`, or ≤ `atMost`
 * for latency); a limit target compares a Gatehouse value (`metric`, or `memory` from the memory
 * scenario) with `limit`.
 */
export const TARGETS = [
  { id: 'rps-vs-caddy', text: 'small responses: req/s ≥ 1.3× Caddy', peer: 'caddy', metric: 'reqPerSec', atLeast: 1.3 },
  { id: 'rps-vs-nginx', text: 'small responses: req/s ≥ 1.0× nginx stock proxy_pass', peer: 'nginx', metric: 'reqPerSec', atLeast: 1.0 },
  { id: 'p99-vs-caddy', text: "small responses: p99 no worse than Caddy's", peer: 'caddy', metric: 'p99Ms', atMost: 1.0 },
  { id: 'cpu', text: 'proxy CPU ≤ 70 ms per 1000 requests', metric: 'cpuMsPer1000', limit: 70, unit: 'ms' },
  { id: 'mbps-vs-nginx', text: '1 MiB bodies: MB/s ≥ 0.9× nginx stock proxy_pass', peer: 'nginx', metric: 'mbPerSec', atLeast: 0.9 },
  { id: 'idle-rss', text: 'idle gatehouse serve RSS ≤ 80 MiB', memory: 'idleMiB', limit: 80, unit: 'MiB' },
  { id: 'flat-rss', text: 'RSS flat (±20 MiB) across a 1 GiB transfer', memory: 'maxDeviationMiB', limit: 20, unit: 'MiB', prefix: '±' },
  { id: 'tls-rps-vs-caddy', text: 'TLS small responses (HTTP/1.1): req/s ≥ 1.3× Caddy', peer: 'caddy', metric: 'tlsReqPerSec', atLeast: 1.3 },
  { id: 'tls-rps-vs-nginx', text: 'TLS small responses (HTTP/1.1): req/s ≥ 1.0× nginx stock', peer: 'nginx', metric: 'tlsReqPerSec', atLeast: 1.0 },
  { id: 'h2-rps-vs-nginx', text: 'HTTP/2 small responses: req/s ≥ 1.0× nginx stock', peer: 'nginx', metric: 'h2ReqPerSec', atLeast: 1.0 },
  { id: 'leaf-issuance', text: 'new local-CA route to its certificate served: median ≤ 250 ms', issuance: 'medianMs', limit: 250, unit: 'ms' },
];

/**
 * PASS / MISS / SKIP per target, each with a detail line.
 * `results`: proxy id → summary (or {error}); `memory`: measureMemory's result or {error};
 * `issuance`: measureIssuance's result or {error} (absent: the target is not listed);
 * `absent`: peer id → why it was not run (not installed, failed to start); `httpsAbsent`: proxy id
 * → why its HTTPS scenarios were not run (Gatehouse's reason goes into its MISS lines).
 */
export function evaluateTargets({ results, memory, issuance, absent = {}, httpsAbsent = {} }) {
  const gatehouse = results.gatehouse;
  const targets = TARGETS.filter((target) => !target.issuance || issuance !== undefined);
  return targets.map((target) => {
    const line = (status, detail) => ({ id: target.id, text: target.text, status, detail });
    const measured = target.memory ? [memory, target.memory] : target.issuance ? [issuance, target.issuance] : null;
    if (measured) {
      const [scenario, key] = measured;
      if (!scenario || scenario.error) return line('MISS', `not measured: ${scenario?.error ? firstLine(scenario.error) : 'Gatehouse did not run'}`);
      const value = scenario[key];
      return line(value <= target.limit ? 'PASS' : 'MISS', `${target.prefix ?? ''}${fmt(value, 1)} ${target.unit} (limit ${target.limit} ${target.unit})`);
    }
    const https = /^(tls|h2)[A-Z]/.test(target.metric);
    const mine = gatehouse?.[target.metric];
    if (typeof mine !== 'number') {
      const why = gatehouse?.error ?? (https ? httpsAbsent.gatehouse : undefined);
      return line('MISS', `no Gatehouse result${why ? `: ${firstLine(why)}` : ''}`);
    }
    if (!target.peer) {
      return line(mine <= target.limit ? 'PASS' : 'MISS', `${fmt(mine, 1)} ${target.unit} (limit ${target.limit} ${target.unit})`);
    }
    const peerAbsent = absent[target.peer] ?? (https ? httpsAbsent[target.peer] : undefined);
    if (peerAbsent) return line('SKIP', `${target.peer}: ${firstLine(peerAbsent)}`);
    const theirs = results[target.peer]?.[target.metric];
    if (typeof theirs !== 'number' || theirs <= 0) return line('SKIP', `no ${target.peer} result`);
    const ratio = mine / theirs;
    const ok = target.atLeast !== undefined ? ratio >= target.atLeast : ratio <= target.atMost;
    const unit = /P99Ms$|^p99Ms$/.test(target.metric) ? ' ms' : '';
    const digits = /ReqPerSec$|^reqPerSec$|^mbPerSec$/.test(target.metric) ? 0 : 2;
    return line(ok ? 'PASS' : 'MISS', `${fmt(mine, digits)}${unit} vs ${fmt(theirs, digits)}${unit} = ${ratio.toFixed(2)}× (${target.atLeast !== undefined ? `need ≥ ${target.atLeast}` : `need ≤ ${target.atMost}`}×)`);
  });
}

function firstLine(text) {
  return String(text).split('\n')[0];
}

/** A number for the table: thousands separated, `digits` decimals, '—' when missing. */
export function fmt(value, digits = 0) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const noteColumn = { title: 'note', get: (r) => r.note ?? '', align: 'left' };

const COLUMNS = [
  { title: 'proxy', get: (r) => r.label, align: 'left' },
  { title: 'req/s', get: (r) => fmt(r.reqPerSec) },
  { title: 'p50 ms', get: (r) => fmt(r.p50Ms, 2) },
  { title: 'p99 ms', get: (r) => fmt(r.p99Ms, 2) },
  { title: 'MB/s (1 MiB)', get: (r) => fmt(r.mbPerSec) },
  { title: 'CPU ms/1000 req', get: (r) => fmt(r.cpuMsPer1000, 1) },
  noteColumn,
];

/** The HTTPS table: TLS over HTTP/1.1, then HTTP/2, each req/s, p50, p99 and CPU. */
const HTTPS_COLUMNS = [
  { title: 'proxy', get: (r) => r.label, align: 'left' },
  ...['tls', 'h2'].flatMap((prefix) => {
    const name = prefix === 'tls' ? 'TLS h1' : 'h2';
    return [
      { title: `${name} req/s`, get: (r) => fmt(r[`${prefix}ReqPerSec`]) },
      { title: 'p50 ms', get: (r) => fmt(r[`${prefix}P50Ms`], 2) },
      { title: 'p99 ms', get: (r) => fmt(r[`${prefix}P99Ms`], 2) },
      { title: 'CPU/1000', get: (r) => fmt(r[`${prefix}CpuMsPer1000`], 1) },
    ];
  }),
  noteColumn,
];

function renderTable(columns, rows) {
  const cells = [columns.map((c) => c.title), ...rows.map((row) => columns.map((c) => String(c.get(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const render = (line) =>
    line
      .map((cell, i) => (columns[i].align === 'left' ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [render(cells[0]), rule, ...cells.slice(1).map(render)].join('\n');
}

/** The results table: rows of {label, reqPerSec, p50Ms, p99Ms, mbPerSec, cpuMsPer1000, note}. */
export function formatTable(rows) {
  return renderTable(COLUMNS, rows);
}

/** The HTTPS table: rows of {label, tlsReqPerSec, tlsP50Ms, …, h2CpuMsPer1000, note}. */
export function formatHttpsTable(rows) {
  return renderTable(HTTPS_COLUMNS, rows);
}

const x = (v) => (v === null ? '—' : `${v.toFixed(2)}×`);

/** "vs nginx: req/s 1.05×, p99 0.90×, …" for each peer with a result. */
export function formatRatios(results, peers) {
  const lines = [];
  for (const peer of peers) {
    const r = ratios(results.gatehouse, results[peer.id]);
    if (Object.values(r).every((v) => v === null)) continue;
    lines.push(
      `  vs ${peer.label.padEnd(24)} req/s ${x(r.reqPerSec)}  p50 ${x(r.p50Ms)}  p99 ${x(r.p99Ms)}  MB/s ${x(r.mbPerSec)}  CPU/req ${x(r.cpuMsPer1000)}`,
    );
  }
  return lines.join('\n');
}

/** The same for the HTTPS scenarios: "vs nginx: TLS h1 req/s 1.05× p99 … · h2 req/s …". */
export function formatHttpsRatios(results, peers) {
  const lines = [];
  for (const peer of peers) {
    const r = ratios(results.gatehouse, results[peer.id], HTTPS_RATIO_METRICS);
    if (Object.values(r).every((v) => v === null)) continue;
    lines.push(
      `  vs ${peer.label.padEnd(24)} TLS h1 req/s ${x(r.tlsReqPerSec)}  p99 ${x(r.tlsP99Ms)}  CPU/req ${x(r.tlsCpuMsPer1000)}  · ` +
        `h2 req/s ${x(r.h2ReqPerSec)}  p99 ${x(r.h2P99Ms)}  CPU/req ${x(r.h2CpuMsPer1000)}`,
    );
  }
  return lines.join('\n');
}
