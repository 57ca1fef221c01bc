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

/** The smallest and largest of the numbers, or null when none (the spread of the repetitions). */
export function range(values) {
  const usable = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  return usable.length ? [Math.min(...usable), Math.max(...usable)] : null;
}

/**
 * Medians of one scenario's usable runs: req/s, p50, p99 and CPU per 1000 requests, with the
 * spread of req/s and p99 over the repetitions (`…Range`: [min, max]).
 */
function requestMedians(runs) {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50Ms: median(runs.map((r) => r.latencyMs.p50)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    cpuMsPer1000: median(runs.map((r) => r.cpuMsPer1000)),
    reqPerSecRange: range(runs.map((r) => r.reqPerSec)),
    p99MsRange: range(runs.map((r) => r.latencyMs.p99)),
  };
}

/**
 * One proxy's result: medians over its valid repetitions. `small`, `large`, `tls` (HTTPS,
 * HTTP/1.1) and `h2` (HTTP/2) are lists of {reqPerSec, latencyMs: {p50, p99}, mbPerSec,
 * cpuMsPer1000, invalid (reason or null)}. The HTTPS metrics are prefixed tls… and h2… (tlsReqPerSec,
 * h2P99Ms…), the 1 MiB ones large… (largeP99Ms) except mbPerSec. Each req/s, MB/s and p99 has its
 * spread beside it (…Range: [min, max] over the repetitions). `problems` lists why any repetition
 * was thrown out (HTTPS ones prefixed "tls: ", "h2: ").
 */
export function summarize({ small = [], large = [], tls = [], h2 = [] }) {
  const ok = (runs) => runs.filter((r) => !r.invalid);
  const prefixed = (prefix, medians) => Object.fromEntries(Object.entries(medians).map(([k, v]) => [`${prefix}${k[0].toUpperCase()}${k.slice(1)}`, v]));
  const okLarge = ok(large);
  return {
    ...requestMedians(ok(small)),
    mbPerSec: median(okLarge.map((r) => r.mbPerSec)),
    mbPerSecRange: range(okLarge.map((r) => r.mbPerSec)),
    largeCpuMsPer1000: median(okLarge.map((r) => r.cpuMsPer1000)),
    largeP50Ms: median(okLarge.map((r) => r.latencyMs.p50)),
    largeP99Ms: median(okLarge.map((r) => r.latencyMs.p99)),
    largeP99MsRange: range(okLarge.map((r) => r.latencyMs.p99)),
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

/**
 * "12,345 ±3%": the median and, when there was more than one repetition, the largest distance of
 * the fastest or slowest repetition from it, in percent of the median. Just the median otherwise.
 */
export function withSpread(value, spread, digits = 0) {
  const shown = fmt(value, digits);
  if (typeof value !== 'number' || !Number.isFinite(value) || value === 0 || !Array.isArray(spread)) return shown;
  const [low, high] = spread;
  if (low === high) return shown;
  const pct = (Math.max(Math.abs(high - value), Math.abs(value - low)) / Math.abs(value)) * 100;
  return `${shown} ±${pct < 10 ? pct.toFixed(1) : Math.round(pct)}%`;
}

const RATIO_METRICS = ['reqPerSec', 'p50Ms', 'p99Ms', 'mbPerSec', 'largeP99Ms', 'cpuMsPer1000'];
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
 * The targets. A ratio target compares Gatehouse with `peer` (≥ `atLeast`, or ≤ `atMost` for
 * latency) in one layout (`layout`: "one" core, the default, or "two" cores); a limit target
 * compares a Gatehouse value (`metric`, or `memory` from the memory scenario) with `limit`;
 * `features` compares the features-on route with the features-off one. `section` names the
 * bench section that measures it (run.mjs --sections): a target whose section did not run is SKIP.
 */
export const TARGETS = [
  { id: 'rps-vs-caddy', section: 'http', text: 'small responses: req/s ≥ 1.3× Caddy', peer: 'caddy', metric: 'reqPerSec', atLeast: 1.3 },
  { id: 'rps-vs-nginx', section: 'http', text: 'small responses: req/s ≥ 1.0× nginx stock proxy_pass', peer: 'nginx', metric: 'reqPerSec', atLeast: 1.0 },
  { id: 'rps-vs-haproxy', section: 'http', text: 'small responses, one core: req/s ≥ 0.5× HAProxy', peer: 'haproxy', metric: 'reqPerSec', atLeast: 0.5 },
  { id: 'p99-vs-nginx', section: 'http', text: 'small responses, one core: p99 ≤ 1.2× nginx stock', peer: 'nginx', metric: 'p99Ms', atMost: 1.2 },
  { id: 'p99-vs-nginx-2', section: 'http', layout: 'two', text: 'small responses, two cores: p99 ≤ 1.2× nginx stock', peer: 'nginx', metric: 'p99Ms', atMost: 1.2 },
  { id: 'p99-vs-caddy', section: 'http', text: "small responses: p99 no worse than Caddy's", peer: 'caddy', metric: 'p99Ms', atMost: 1.0 },
  { id: 'cpu', section: 'http', text: 'proxy CPU ≤ 70 ms per 1000 requests', metric: 'cpuMsPer1000', limit: 70, unit: 'ms' },
  { id: 'mbps-vs-nginx', section: 'http', text: '1 MiB bodies: MB/s ≥ 0.9× nginx stock proxy_pass', peer: 'nginx', metric: 'mbPerSec', atLeast: 0.9 },
  { id: 'idle-rss', section: 'memory', text: 'idle gatehouse serve RSS ≤ 80 MiB', memory: 'idleMiB', limit: 80, unit: 'MiB' },
  { id: 'flat-rss', section: 'memory', text: 'RSS flat (±20 MiB) across a 1 GiB transfer', memory: 'maxDeviationMiB', limit: 20, unit: 'MiB', prefix: '±' },
  { id: 'after-rss', section: 'memory', text: 'RSS back within 10 MiB of idle after a 1 GiB transfer (sampled for up to 90 s)', memory: 'afterDeltaMiB', limit: 10, unit: 'MiB', prefix: '+' },
  { id: 'tls-rps-vs-caddy', section: 'http', text: 'TLS small responses (HTTP/1.1): req/s ≥ 1.3× Caddy', peer: 'caddy', metric: 'tlsReqPerSec', atLeast: 1.3 },
  { id: 'tls-rps-vs-nginx', section: 'http', text: 'TLS small responses (HTTP/1.1): req/s ≥ 1.0× nginx stock', peer: 'nginx', metric: 'tlsReqPerSec', atLeast: 1.0 },
  { id: 'tls-rps-vs-haproxy', section: 'http', text: 'TLS small responses (HTTP/1.1), one core: req/s ≥ 0.5× HAProxy', peer: 'haproxy', metric: 'tlsReqPerSec', atLeast: 0.5 },
  { id: 'h2-rps-vs-nginx', section: 'http', text: 'HTTP/2 small responses, one core: req/s ≥ 1.0× nginx stock', peer: 'nginx', metric: 'h2ReqPerSec', atLeast: 1.0 },
  { id: 'h2-rps-vs-nginx-2', section: 'http', layout: 'two', text: 'HTTP/2 small responses, two cores: req/s ≥ 1.0× nginx stock', peer: 'nginx', metric: 'h2ReqPerSec', atLeast: 1.0 },
  { id: 'features-on', section: 'features', text: 'small responses, features on (LAN-only, access list, rate limit, two upstreams with health) ≥ 0.9× features off', features: 'ratio', atLeast: 0.9 },
  { id: 'leaf-issuance', section: 'http', text: 'new local-CA route to its certificate served: median ≤ 250 ms', issuance: 'medianMs', limit: 250, unit: 'ms' },
];

/** The detail every target of a section left out by --sections gets. */
export const NOT_RUN = 'not run (--sections)';

/** Turns a section's target lines into SKIP lines: the section was not run (--sections). */
export function skipTargets(targets, why = NOT_RUN) {
  return targets.map((t) => ({ ...t, status: 'SKIP', detail: why }));
}

/**
 * PASS / MISS / SKIP per target, each with a detail line.
 * `results`: proxy id → summary (or {error}) in the one-core layout; `results2`: the same in the
 * two-core layout (undefined: not measured, its targets SKIP); `memory`: measureMemory's result or
 * {error}; `issuance`: measureIssuance's result or {error} (absent: the target is not listed);
 * `features`: measureFeatures' summary ({ratio, offRps, onRps}) or {error};
 * `absent`: peer id → why it was not run (not installed, failed to start); `httpsAbsent`: proxy id
 * → why its HTTPS scenarios were not run (Gatehouse's reason goes into its MISS lines);
 * `skipped`: the sections not run (their targets SKIP with NOT_RUN).
 */
export function evaluateTargets({ results, results2, memory, issuance, features, absent = {}, httpsAbsent = {}, skipped = [] }) {
  const targets = TARGETS.filter((target) => !target.issuance || issuance !== undefined || skipped.includes(target.section));
  return targets.map((target) => {
    const line = (status, detail) => ({ id: target.id, text: target.text, status, detail });
    if (skipped.includes(target.section)) return line('SKIP', NOT_RUN);
    if (target.features) {
      if (!features || features.error || typeof features.ratio !== 'number') return line('MISS', `not measured: ${features?.error ? firstLine(features.error) : 'no result'}`);
      const ok = features.ratio >= target.atLeast;
      return line(ok ? 'PASS' : 'MISS', `${fmt(features.onRps)} vs ${fmt(features.offRps)} req/s = ${features.ratio.toFixed(2)}× (need ≥ ${target.atLeast}×)`);
    }
    const measured = target.memory ? [memory, target.memory] : target.issuance ? [issuance, target.issuance] : null;
    if (measured) {
      const [scenario, key] = measured;
      if (!scenario || scenario.error) return line('MISS', `not measured: ${scenario?.error ? firstLine(scenario.error) : 'Gatehouse did not run'}`);
      const value = scenario[key];
      if (typeof value !== 'number') return line('MISS', `not measured: no ${key}`);
      return line(Math.abs(value) <= target.limit ? 'PASS' : 'MISS', `${target.prefix && value >= 0 ? target.prefix : ''}${fmt(value, 1)} ${target.unit} (limit ${target.limit} ${target.unit})`);
    }
    const layoutResults = target.layout === 'two' ? results2 : results;
    if (!layoutResults) return line('SKIP', `the ${target.layout === 'two' ? 'two-core' : 'one-core'} layout was not measured (--layouts)`);
    const gatehouse = layoutResults.gatehouse;
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
    const theirs = layoutResults[target.peer]?.[target.metric];
    if (typeof theirs !== 'number' || theirs <= 0) return line('SKIP', `no ${target.peer} result`);
    const ratio = mine / theirs;
    const ok = target.atLeast !== undefined ? ratio >= target.atLeast : ratio <= target.atMost;
    const unit = /P99Ms$|^p99Ms$/.test(target.metric) ? ' ms' : '';
    const digits = /ReqPerSec$|^reqPerSec$|^mbPerSec$/.test(target.metric) ? 0 : 2;
    // What Node itself reaches on the same work: the bare node:http + undici forwarder's ratio
    // (one-core layout, HTTP/1.1 only), so a miss shows whether Gatehouse or the platform is short.
    const bare = layoutResults.bare?.[target.metric];
    const floor = typeof bare === 'number' ? `; bare Node forwarder ${(bare / theirs).toFixed(2)}×` : '';
    return line(ok ? 'PASS' : 'MISS', `${fmt(mine, digits)}${unit} vs ${fmt(theirs, digits)}${unit} = ${ratio.toFixed(2)}× (${target.atLeast !== undefined ? `need ≥ ${target.atLeast}` : `need ≤ ${target.atMost}`}×)${floor}`);
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
  { title: 'req/s', get: (r) => withSpread(r.reqPerSec, r.reqPerSecRange) },
  { title: 'p50 ms', get: (r) => fmt(r.p50Ms, 2) },
  { title: 'p99 ms', get: (r) => withSpread(r.p99Ms, r.p99MsRange, 2) },
  { title: 'MB/s (1 MiB)', get: (r) => withSpread(r.mbPerSec, r.mbPerSecRange) },
  { title: 'p99 ms (1 MiB)', get: (r) => withSpread(r.largeP99Ms, r.largeP99MsRange, 2) },
  { title: 'CPU ms/1000 req', get: (r) => fmt(r.cpuMsPer1000, 1) },
  noteColumn,
];

/** The HTTPS table: TLS over HTTP/1.1, then HTTP/2, each req/s, p50, p99 and CPU. */
const HTTPS_COLUMNS = [
  { title: 'proxy', get: (r) => r.label, align: 'left' },
  ...['tls', 'h2'].flatMap((prefix) => {
    const name = prefix === 'tls' ? 'TLS h1' : 'h2';
    return [
      { title: `${name} req/s`, get: (r) => withSpread(r[`${prefix}ReqPerSec`], r[`${prefix}ReqPerSecRange`]) },
      { title: 'p50 ms', get: (r) => fmt(r[`${prefix}P50Ms`], 2) },
      { title: 'p99 ms', get: (r) => withSpread(r[`${prefix}P99Ms`], r[`${prefix}P99MsRange`], 2) },
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

/**
 * The results table: rows of {label, reqPerSec, p50Ms, p99Ms, mbPerSec, largeP99Ms, cpuMsPer1000,
 * note}, each req/s, MB/s and p99 with its spread (±% of the median, from …Range) when given.
 */
export function formatTable(rows) {
  return renderTable(COLUMNS, rows);
}

/** The HTTPS table: rows of {label, tlsReqPerSec, tlsP50Ms, …, h2CpuMsPer1000, note}. */
export function formatHttpsTable(rows) {
  return renderTable(HTTPS_COLUMNS, rows);
}

const x = (v) => (v === null ? '—' : `${v.toFixed(2)}×`);

/** "vs nginx: req/s 1.05×, p99 0.90×, … 1 MiB p99 …" for each peer with a result. */
export function formatRatios(results, peers) {
  const lines = [];
  for (const peer of peers) {
    const r = ratios(results.gatehouse, results[peer.id]);
    if (Object.values(r).every((v) => v === null)) continue;
    lines.push(
      `  vs ${peer.label.padEnd(24)} req/s ${x(r.reqPerSec)}  p50 ${x(r.p50Ms)}  p99 ${x(r.p99Ms)}  MB/s ${x(r.mbPerSec)}  1 MiB p99 ${x(r.largeP99Ms)}  CPU/req ${x(r.cpuMsPer1000)}`,
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
