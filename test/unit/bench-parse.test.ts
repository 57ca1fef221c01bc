// The bench's arithmetic, checked against wrk output captured on this machine (wrk 4.1.0, Debian
// 12) so a change in how it is read cannot quietly move the numbers: the exact line from
// bench/wrk-report.lua, wrk's rounded text as the fallback, errors, and the target verdicts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateTargets, fmt, formatTable, median, ratios, summarize, type RunResult } from '../../bench/report.mjs';
import { invalidReason, parseWrkOutput, wrkArgs } from '../../bench/wrk.mjs';

/** wrk -t1 -c64 -d2s --latency -s bench/wrk-report.lua against a Node hello server. */
const SMALL_WITH_SCRIPT = `Running 2s test @ http://127.0.0.1:18181/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.51ms   18.35ms 175.46ms   96.04%
    Req/Sec    30.60k    12.01k   45.67k    75.00%
  Latency Distribution
     50%    1.65ms
     75%    2.67ms
     90%    4.10ms
     99%  117.55ms
  60707 requests in 2.00s, 8.80MB read
Requests/sec:  30314.58
Transfer/sec:      4.39MB
BENCH_JSON {"requests":60707,"bytes":9227464,"durationUs":2002568,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"latencyUs":{"p50":1652,"p90":4102,"p99":117546,"max":175464,"mean":5508.9}}
`;

/** The same against a server answering every 10th request with 502 and dropping some connections. */
const WITH_ERRORS = `Running 2s test @ http://127.0.0.1:18182/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   513.65us    1.11ms  23.03ms   95.27%
    Req/Sec    23.65k     8.21k   33.34k    80.00%
  Latency Distribution
     50%  267.00us
     75%  410.00us
     90%  745.00us
     99%    4.53ms
  47097 requests in 2.00s, 6.83MB read
  Socket errors: connect 0, read 441, write 0, timeout 0
  Non-2xx or 3xx responses: 4753
Requests/sec:  23504.07
Transfer/sec:      3.41MB
BENCH_JSON {"requests":47097,"bytes":7163497,"durationUs":2003781,"errors":{"connect":0,"read":441,"write":0,"status":4753,"timeout":0},"latencyUs":{"p50":267,"p90":745,"p99":4531,"max":23031,"mean":513.6}}
`;

/** wrk without the script: only its rounded text summary. */
const TEXT_ONLY = `Running 1s test @ http://127.0.0.1:18181/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   417.07us  605.16us   7.09ms   93.79%
    Req/Sec    26.53k    10.18k   41.89k    63.64%
  Latency Distribution
     50%  260.00us
     75%  400.00us
     90%  679.00us
     99%    3.58ms
  29007 requests in 1.10s, 4.20MB read
Requests/sec:  26364.63
Transfer/sec:      3.82MB
`;

/** wrk -c8 on the nginx backend's 1 MiB file: sizes in GB. */
const ONE_MIB_BODIES = `Running 2s test @ http://127.0.0.1:45771/files/1m
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.81ms  16.34ms   65.98%
    Req/Sec     1.03k   192.89     1.41k    75.00%
  Latency Distribution
     50%    4.59ms
     75%    6.90ms
     90%    9.29ms
     99%   12.36ms
  2101 requests in 2.05s, 2.05GB read
Requests/sec:   1025.76
Transfer/sec:      1.00GB
BENCH_JSON {"requests":2101,"bytes":2203604436,"durationUs":2048233,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"latencyUs":{"p50":4587,"p90":9286,"p99":12364,"max":16341,"mean":5115.8}}
`;

/** wrk with nothing listening. */
const REFUSED = `unable to connect to 127.0.0.1:18183 Connection refused
`;

const withoutExactLine = (text: string) => text.replace(/^BENCH_JSON .*\n/m, '');
const near = (actual: number | null, expected: number, tolerance: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('the exact line gives request rate, latency percentiles and bytes without rounding', () => {
  const run = parseWrkOutput(SMALL_WITH_SCRIPT);
  assert.equal(run.exact, true);
  assert.equal(run.requests, 60707);
  assert.equal(run.bytes, 9227464);
  near(run.durationS, 2.002568, 1e-9, 'duration');
  near(run.reqPerSec, 60707 / 2.002568, 1e-6, 'req/s');
  assert.deepEqual(run.latencyMs, { p50: 1.652, p90: 4.102, p99: 117.546, max: 175.464 });
  assert.deepEqual(run.errors, { connect: 0, read: 0, write: 0, status: 0, timeout: 0 });
  assert.equal(invalidReason(run), null);
});

test("wrk's text summary alone reads to the same numbers, within its rounding", () => {
  const exact = parseWrkOutput(SMALL_WITH_SCRIPT);
  const text = parseWrkOutput(withoutExactLine(SMALL_WITH_SCRIPT));
  assert.equal(text.exact, false);
  assert.equal(text.requests, exact.requests);
  assert.equal(text.reqPerSec, 30314.58);
  near(text.reqPerSec, exact.reqPerSec, 1, 'req/s');
  near(text.latencyMs.p50, exact.latencyMs.p50 ?? NaN, 0.005, 'p50');
  near(text.latencyMs.p99, exact.latencyMs.p99 ?? NaN, 0.005, 'p99');
  near(text.latencyMs.max, exact.latencyMs.max ?? NaN, 0.005, 'max');
  near(text.bytes, exact.bytes, 0.005 * 1024 ** 2, 'bytes (8.80MB, binary units)');
});

test('microsecond latencies and a fractional duration in the text summary', () => {
  const run = parseWrkOutput(TEXT_ONLY);
  assert.equal(run.requests, 29007);
  assert.equal(run.durationS, 1.1);
  assert.equal(run.reqPerSec, 26364.63);
  near(run.latencyMs.p50, 0.26, 1e-9, 'p50');
  near(run.latencyMs.p90, 0.679, 1e-9, 'p90');
  near(run.latencyMs.p99, 3.58, 1e-9, 'p99');
  near(run.mbPerSec, (3.82 * 1024 ** 2) / 1e6, 1e-9, 'MB/s');
});

test('1 MiB bodies: MB/s is 10^6 bytes per second, from exact bytes or from GB (binary) text', () => {
  const exact = parseWrkOutput(ONE_MIB_BODIES);
  near(exact.mbPerSec, 2203604436 / 2.048233 / 1e6, 1e-6, 'exact MB/s');
  near(exact.mbPerSec, 1075.8, 0.1, 'exact MB/s');
  const text = parseWrkOutput(withoutExactLine(ONE_MIB_BODIES));
  near(text.bytes, 2.05 * 1024 ** 3, 1, 'bytes');
  near(text.mbPerSec, 1024 ** 3 / 1e6, 1e-6, 'text MB/s (1.00GB/s)');
  near(text.mbPerSec, exact.mbPerSec, 0.01 * exact.mbPerSec, 'text within 1% of exact');
});

test('socket errors and non-2xx answers are counted and make a run unusable', () => {
  for (const run of [parseWrkOutput(WITH_ERRORS), parseWrkOutput(withoutExactLine(WITH_ERRORS))]) {
    assert.deepEqual(run.errors, { connect: 0, read: 441, write: 0, status: 4753, timeout: 0 });
    assert.match(invalidReason(run) ?? '', /^5194 of 47097 requests failed \(read 441, non-2xx\/3xx 4753\)$/);
  }
  // one failure in 10 000 is within the allowance; none completed is not a result at all
  assert.equal(invalidReason({ requests: 10_000, errors: { connect: 0, read: 1, write: 0, status: 0, timeout: 0 } }), null);
  assert.equal(invalidReason({ requests: 0, errors: { connect: 64, read: 0, write: 0, status: 0, timeout: 0 } }), 'no request completed');
});

test('no summary at all is an error that quotes wrk', () => {
  assert.throws(() => parseWrkOutput(REFUSED), /wrk printed no summary: unable to connect to 127\.0\.0\.1:18183 Connection refused/);
  assert.throws(() => parseWrkOutput(''), /wrk printed no summary: \(nothing\)/);
});

test('wrk runs one thread with keep-alive, the latency histogram, the Host header and the exact-line script', () => {
  const args = wrkArgs({ url: 'http://127.0.0.1:8080/', connections: 64, durationS: 10 });
  assert.deepEqual(args.slice(0, 6), ['-t1', '-c64', '-d10s', '--timeout', '10s', '--latency']);
  assert.deepEqual(args.slice(6, 8), ['-H', 'Host: bench.test']);
  assert.equal(args[8], '-s');
  assert.match(args[9] ?? '', /bench\/wrk-report\.lua$/);
  assert.equal(args.at(-1), 'http://127.0.0.1:8080/');
  assert.ok(!args.some((a) => /connection: close/i.test(a)), 'keep-alive must stay on');
});

test('median of odd and even counts, ignoring missing values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([null, 5, undefined, Number.NaN]), 5);
  assert.equal(median([]), null);
});

const run = (reqPerSec: number, p99: number, mbPerSec: number, cpu: number, invalid: string | null = null): RunResult => ({
  reqPerSec,
  latencyMs: { p50: p99 / 4, p99 },
  mbPerSec,
  cpuMsPer1000: cpu,
  invalid,
});

test('a summary is the median of the usable repetitions and says why others were dropped', () => {
  const summary = summarize({
    small: [run(9000, 12, 0, 60), run(9500, 10, 0, 58), run(50_000, 1, 0, 5, '900 of 1000 requests failed'), run(9200, 11, 0, 62)],
    large: [run(0, 0, 900, 0), run(0, 0, 950, 0)],
  });
  assert.equal(summary.reqPerSec, 9200);
  assert.equal(summary.p99Ms, 11);
  assert.equal(summary.p50Ms, 2.75);
  assert.equal(summary.cpuMsPer1000, 60);
  assert.equal(summary.mbPerSec, 925);
  assert.deepEqual(summary.repetitions, { small: 3, large: 2, tls: 0, h2: 0 });
  assert.deepEqual(summary.problems, ['900 of 1000 requests failed']);
});

test('ratios are Gatehouse divided by the peer, null where a side is missing', () => {
  const r = ratios({ reqPerSec: 13_000, p99Ms: 8, mbPerSec: 900, cpuMsPer1000: 60, p50Ms: null }, { reqPerSec: 10_000, p99Ms: 10, mbPerSec: 1000, cpuMsPer1000: 80, p50Ms: 2 });
  assert.deepEqual(r, { reqPerSec: 1.3, p50Ms: null, p99Ms: 0.8, mbPerSec: 0.9, largeP99Ms: null, cpuMsPer1000: 0.75 });
  assert.deepEqual(Object.values(ratios(undefined, { reqPerSec: 1 })), [null, null, null, null, null, null]);
});

// The peers as measured on this machine (Caddy ≈ 8.7k req/s, stock nginx ≈ 11.0k).
const caddy = { reqPerSec: 8700, p99Ms: 20, mbPerSec: 1500, cpuMsPer1000: 110 };
const nginx = { reqPerSec: 11_000, p99Ms: 15, mbPerSec: 1000, cpuMsPer1000: 85 };
/** The plain-HTTP targets' verdicts (the HTTPS ones are checked in bench-https.test.ts). */
const OLDER = ['rps-vs-caddy', 'rps-vs-nginx', 'p99-vs-caddy', 'cpu', 'mbps-vs-nginx', 'idle-rss', 'flat-rss'];
const statusOf = (results: ReturnType<typeof evaluateTargets>) =>
  Object.fromEntries(results.filter((t) => OLDER.includes(t.id)).map((t) => [t.id, t.status]));

test('every target passes at exactly its threshold', () => {
  const gatehouse = { reqPerSec: 11_310, p99Ms: 20, mbPerSec: 900, cpuMsPer1000: 70 };
  const results = evaluateTargets({ results: { gatehouse, caddy, nginx }, memory: { idleMiB: 80, maxDeviationMiB: 20 } });
  assert.deepEqual(statusOf(results), {
    'rps-vs-caddy': 'PASS', // 11 310 / 8 700 = 1.3
    'rps-vs-nginx': 'PASS', // 11 310 / 11 000 ≥ 1.0
    'p99-vs-caddy': 'PASS',
    cpu: 'PASS',
    'mbps-vs-nginx': 'PASS', // 900 / 1000 = 0.9
    'idle-rss': 'PASS',
    'flat-rss': 'PASS',
  });
  const caddyLine = results.find((t) => t.id === 'rps-vs-caddy');
  assert.equal(caddyLine?.detail, '11,310 vs 8,700 = 1.30× (need ≥ 1.3×)');
});

test('just past each threshold is a MISS', () => {
  const gatehouse = { reqPerSec: 10_999, p99Ms: 20.01, mbPerSec: 899, cpuMsPer1000: 70.1 };
  const results = evaluateTargets({ results: { gatehouse, caddy, nginx }, memory: { idleMiB: 80.1, maxDeviationMiB: 20.1 } });
  assert.ok(results.filter((t) => OLDER.includes(t.id)).every((t) => t.status === 'MISS'), JSON.stringify(results, null, 2));
  assert.equal(results.find((t) => t.id === 'p99-vs-caddy')?.detail, '20.01 ms vs 20.00 ms = 1.00× (need ≤ 1×)');
  assert.equal(results.find((t) => t.id === 'cpu')?.detail, '70.1 ms (limit 70 ms)');
  assert.equal(results.find((t) => t.id === 'flat-rss')?.detail, '±20.1 MiB (limit 20 MiB)');
});

test('a peer that is not installed skips its targets; a Gatehouse that did not run misses every target', () => {
  const gatehouse = { reqPerSec: 20_000, p99Ms: 5, mbPerSec: 2000, cpuMsPer1000: 40 };
  const noCaddy = evaluateTargets({ results: { gatehouse, nginx }, memory: { idleMiB: 60, maxDeviationMiB: 3 }, absent: { caddy: 'not installed (apt-get install caddy)' } });
  assert.deepEqual(statusOf(noCaddy), { 'rps-vs-caddy': 'SKIP', 'rps-vs-nginx': 'PASS', 'p99-vs-caddy': 'SKIP', cpu: 'PASS', 'mbps-vs-nginx': 'PASS', 'idle-rss': 'PASS', 'flat-rss': 'PASS' });
  assert.equal(noCaddy[0]?.detail, 'caddy: not installed (apt-get install caddy)');

  const error = 'bin/gatehouse.js does not exist\nmore detail';
  const noGatehouse = evaluateTargets({ results: { gatehouse: { error }, caddy, nginx }, memory: { error: 'Gatehouse did not start' } });
  assert.ok(noGatehouse.filter((t) => t.id !== 'p99-vs-nginx-2' && t.id !== 'h2-rps-vs-nginx-2').every((t) => t.status === 'MISS'));
  assert.equal(noGatehouse[0]?.detail, 'no Gatehouse result: bin/gatehouse.js does not exist');
  assert.equal(noGatehouse.find((t) => t.id === 'flat-rss')?.detail, 'not measured: Gatehouse did not start');
});

test('the table aligns its columns and marks missing values', () => {
  const table = formatTable([
    { label: 'Gatehouse', reqPerSec: 12_345.6, p50Ms: 4.5, p99Ms: 12.345, mbPerSec: 1075.8, largeP99Ms: 30.1, cpuMsPer1000: 61.23 },
    { label: 'Caddy', note: 'not installed' },
  ]);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] ?? '', /^proxy\s+\|\s+req\/s \| p50 ms \| p99 ms \| MB\/s \(1 MiB\) \| p99 ms \(1 MiB\) \| CPU ms\/1000 req \| note$/);
  assert.match(lines[2] ?? '', /^Gatehouse \| +12,346 \| +4\.50 \| +12\.35 \| +1,076 \| +30\.10 \| +61\.2 \|$/);
  assert.match(lines[3] ?? '', /^Caddy +\| +— \| +— \| +— \| +— \| +— \| +— \| not installed$/);
  const bars = (line: string) => [...line].flatMap((c, i) => (c === '|' ? [i] : []));
  assert.deepEqual(bars(lines[2] ?? ''), bars(lines[0] ?? ''));
  assert.equal(fmt(undefined), '—');
});
