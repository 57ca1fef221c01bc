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

/**
 * One proxy's result: medians over its valid repetitions. `small` and `large` are lists of
 * {reqPerSec, latencyMs: {p50, p99}, mbPerSec, cpuMsPer1000, invalid (reason or null)}.
 * `problems` lists why any repetition was thrown out.
 */
export function summarize({ small = [], large = [] }) {
  const okSmall = small.filter((r) => !r.invalid);
  const okLarge = large.filter((r) => !r.invalid);
  return {
    reqPerSec: median(okSmall.map((r) => r.reqPerSec)),
    p50Ms: median(okSmall.map((r) => r.latencyMs.p50)),
    p99Ms: median(okSmall.map((r) => r.latencyMs.p99)),
    cpuMsPer1000: median(okSmall.map((r) => r.cpuMsPer1000)),
    mbPerSec: median(okLarge.map((r) => r.mbPerSec)),
    largeCpuMsPer1000: median(okLarge.map((r) => r.cpuMsPer1000)),
    repetitions: { small: okSmall.length, large: okLarge.length },
    problems: [...small, ...large].filter((r) => r.invalid).map((r) => r.invalid),
  };
}

const RATIO_METRICS = ['reqPerSec', 'p50Ms', 'p99Ms', 'mbPerSec', 'cpuMsPer1000'];

/** Gatehouse ÷ peer for each metric; null where either side has no value. */
export function ratios(gatehouse, peer) {
  const out = {};
  for (const metric of RATIO_METRICS) {
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
];

/**
 * PASS / MISS / SKIP per target, each with a detail line.
 * `results`: proxy id → summary (or {error}); `memory`: measureMemory's result or {error};
 * `absent`: peer id → why it was not run (not installed, failed to start).
 */
export function evaluateTargets({ results, memory, absent = {} }) {
  const gatehouse = results.gatehouse;
  return TARGETS.map((target) => {
    const line = (status, detail) => ({ id: target.id, text: target.text, status, detail });
    if (target.memory) {
      if (!memory || memory.error) return line('MISS', `not measured: ${memory?.error ?? 'Gatehouse did not run'}`);
      const value = memory[target.memory];
      return line(value <= target.limit ? 'PASS' : 'MISS', `${target.prefix ?? ''}${fmt(value, 1)} ${target.unit} (limit ${target.limit} ${target.unit})`);
    }
    const mine = gatehouse?.[target.metric];
    if (typeof mine !== 'number') return line('MISS', `no Gatehouse result${gatehouse?.error ? `: ${firstLine(gatehouse.error)}` : ''}`);
    if (!target.peer) {
      return line(mine <= target.limit ? 'PASS' : 'MISS', `${fmt(mine, 1)} ${target.unit} (limit ${target.limit} ${target.unit})`);
    }
    if (absent[target.peer]) return line('SKIP', `${target.peer}: ${absent[target.peer]}`);
    const theirs = results[target.peer]?.[target.metric];
    if (typeof theirs !== 'number' || theirs <= 0) return line('SKIP', `no ${target.peer} result`);
    const ratio = mine / theirs;
    const ok = target.atLeast !== undefined ? ratio >= target.atLeast : ratio <= target.atMost;
    const unit = target.metric === 'p99Ms' ? ' ms' : '';
    const digits = target.metric === 'reqPerSec' ? 0 : target.metric === 'mbPerSec' ? 0 : 2;
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

const COLUMNS = [
  { title: 'proxy', get: (r) => r.label, align: 'left' },
  { title: 'req/s', get: (r) => fmt(r.reqPerSec) },
  { title: 'p50 ms', get: (r) => fmt(r.p50Ms, 2) },
  { title: 'p99 ms', get: (r) => fmt(r.p99Ms, 2) },
  { title: 'MB/s (1 MiB)', get: (r) => fmt(r.mbPerSec) },
  { title: 'CPU ms/1000 req', get: (r) => fmt(r.cpuMsPer1000, 1) },
  { title: 'note', get: (r) => r.note ?? '', align: 'left' },
];

/** The results table: rows of {label, reqPerSec, p50Ms, p99Ms, mbPerSec, cpuMsPer1000, note}. */
export function formatTable(rows) {
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((row) => COLUMNS.map((c) => String(c.get(row))))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const render = (line) =>
    line
      .map((cell, i) => (COLUMNS[i].align === 'left' ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [render(cells[0]), rule, ...cells.slice(1).map(render)].join('\n');
}

/** "vs nginx: req/s 1.05×, p99 0.90×, …" for each peer with a result. */
export function formatRatios(results, peers) {
  const lines = [];
  for (const peer of peers) {
    const r = ratios(results.gatehouse, results[peer.id]);
    if (Object.values(r).every((v) => v === null)) continue;
    const x = (v) => (v === null ? '—' : `${v.toFixed(2)}×`);
    lines.push(
      `  vs ${peer.label.padEnd(24)} req/s ${x(r.reqPerSec)}  p50 ${x(r.p50Ms)}  p99 ${x(r.p99Ms)}  MB/s ${x(r.mbPerSec)}  CPU/req ${x(r.cpuMsPer1000)}`,
    );
  }
  return lines.join('\n');
}
