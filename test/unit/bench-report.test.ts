// The bench's report logic for issue 18: the spread of the repetitions beside each median, p99 for
// the 1 MiB case, the one-core and two-core targets, features on against off, targets of sections
// left out by --sections (SKIP, not MISS), and the soak's verdict. Pure functions; nothing runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingFeature, summarizeFeatures } from '../../bench/features.mjs';
import { NOT_RUN, evaluateTargets, formatRatios, formatTable, range, skipTargets, summarize, withSpread, type RunResult } from '../../bench/report.mjs';
import { soakVerdict, soakWindows } from '../../bench/soak.mjs';

const run = (reqPerSec: number, p99: number, mbPerSec: number | null = null): RunResult => ({
  reqPerSec,
  latencyMs: { p50: p99 / 4, p99 },
  mbPerSec,
  cpuMsPer1000: 50,
  invalid: null,
});

test('the spread is the farthest repetition from the median, in percent of it; none for one repetition', () => {
  assert.deepEqual(range([3, 1, null, 2]), [1, 3]);
  assert.equal(range([]), null);
  assert.equal(withSpread(10_000, [9_500, 10_200]), '10,000 ±5.0%');
  assert.equal(withSpread(2.5, [2, 3.5], 2), '2.50 ±40%');
  assert.equal(withSpread(10_000, [10_000, 10_000]), '10,000', 'one repetition: no spread');
  assert.equal(withSpread(10_000, null), '10,000');
  assert.equal(withSpread(null, [1, 2]), '—');
});

test('every case has its p99 and spread, the 1 MiB one included, from the usable repetitions only', () => {
  const broken = { ...run(1, 1, 1), invalid: 'no request completed' };
  const s = summarize({
    small: [run(9000, 12), run(10_000, 10), run(9500, 11)],
    large: [run(900, 40, 1000), run(950, 30, 1100), broken],
    tls: [run(8000, 14), run(8400, 13)],
    h2: [run(7000, 20)],
  });
  assert.equal(s.largeP99Ms, 40 / 2 + 30 / 2);
  assert.deepEqual(s.largeP99MsRange, [30, 40]);
  assert.deepEqual(s.mbPerSecRange, [1000, 1100]);
  assert.deepEqual(s.reqPerSecRange, [9000, 10_000]);
  assert.deepEqual(s.p99MsRange, [10, 12]);
  assert.deepEqual(s.tlsReqPerSecRange, [8000, 8400]);
  assert.deepEqual(s.h2P99MsRange, [20, 20]);

  const table = formatTable([{ label: 'Gatehouse', ...s }]);
  const row = table.split('\n')[2] ?? '';
  assert.match(row, /\| +9,500 ±5\.3% \|/, 'req/s with its spread');
  assert.match(row, /\| +11\.00 ±9\.1% \|/, 'p99 with its spread');
  assert.match(row, /\| +35\.00 ±14% \|/, '1 MiB p99 with its spread');

  const ratios = formatRatios({ gatehouse: s, nginx: { ...s, largeP99Ms: 70 } }, [{ id: 'nginx', label: 'nginx' }]);
  assert.match(ratios, /1 MiB p99 0\.50×/);
});

const one = {
  gatehouse: { reqPerSec: 6000, p99Ms: 12, tlsReqPerSec: 5000, h2ReqPerSec: 7000 },
  nginx: { reqPerSec: 5000, p99Ms: 10, tlsReqPerSec: 4000, h2ReqPerSec: 6000 },
  haproxy: { reqPerSec: 12_000, p99Ms: 3, tlsReqPerSec: 10_000, h2ReqPerSec: 20_000 },
};
const two = {
  gatehouse: { reqPerSec: 7000, p99Ms: 12.01, h2ReqPerSec: 9000 },
  nginx: { reqPerSec: 9000, p99Ms: 10, h2ReqPerSec: 9000 },
};
const byId = (targets: ReturnType<typeof evaluateTargets>) => Object.fromEntries(targets.map((t) => [t.id, t]));

test("issue 18's ratio targets read their own layout, at exactly their thresholds", () => {
  const t = byId(evaluateTargets({ results: one, results2: two, memory: { idleMiB: 80, maxDeviationMiB: 3, afterDeltaMiB: -10 } }));
  assert.equal(t['p99-vs-nginx']?.status, 'PASS'); // 12 / 10 = 1.2, one core
  assert.equal(t['p99-vs-nginx']?.detail, '12.00 ms vs 10.00 ms = 1.20× (need ≤ 1.2×)');
  assert.equal(t['p99-vs-nginx-2']?.status, 'MISS'); // 12.01 / 10, two cores
  assert.equal(t['h2-rps-vs-nginx-2']?.status, 'PASS'); // 9000 / 9000, two cores
  assert.equal(t['h2-rps-vs-nginx']?.status, 'PASS'); // 7000 / 6000, one core
  assert.equal(t['rps-vs-haproxy']?.status, 'PASS'); // 6000 / 12 000 = 0.5
  assert.equal(t['tls-rps-vs-haproxy']?.status, 'PASS'); // 5000 / 10 000 = 0.5
  assert.equal(t['after-rss']?.status, 'PASS', 'within 10 MiB either way');
  assert.equal(t['after-rss']?.detail, '-10.0 MiB (limit 10 MiB)');

  // The bare Node forwarder, when measured, is quoted beside the ratio it would have had.
  const withBare = byId(evaluateTargets({ results: { ...one, bare: { reqPerSec: 3000, p99Ms: 30 } }, results2: two, memory: { idleMiB: 80, maxDeviationMiB: 3, afterDeltaMiB: 0 } }));
  assert.equal(withBare['p99-vs-nginx']?.detail, '12.00 ms vs 10.00 ms = 1.20× (need ≤ 1.2×); bare Node forwarder 3.00×');
  assert.equal(withBare['rps-vs-haproxy']?.detail, '6,000 vs 12,000 = 0.50× (need ≥ 0.5×); bare Node forwarder 0.25×');
  assert.equal(withBare['tls-rps-vs-haproxy']?.detail, '5,000 vs 10,000 = 0.50× (need ≥ 0.5×)', 'no bare TLS result: nothing quoted');

  const past = byId(evaluateTargets({ results: { ...one, gatehouse: { ...one.gatehouse, reqPerSec: 5999, tlsReqPerSec: 4999 } }, results2: { ...two, gatehouse: { ...two.gatehouse, h2ReqPerSec: 8999 } }, memory: { idleMiB: 60, maxDeviationMiB: 3, afterDeltaMiB: 10.1 } }));
  assert.equal(past['rps-vs-haproxy']?.status, 'MISS');
  assert.equal(past['tls-rps-vs-haproxy']?.status, 'MISS');
  assert.equal(past['h2-rps-vs-nginx-2']?.status, 'MISS');
  assert.equal(past['after-rss']?.status, 'MISS');
  assert.equal(past['after-rss']?.detail, '+10.1 MiB (limit 10 MiB)');
});

test('without the two-core layout its targets SKIP, saying so; the one-core ones still count', () => {
  const t = byId(evaluateTargets({ results: one, memory: null }));
  assert.equal(t['p99-vs-nginx-2']?.status, 'SKIP');
  assert.equal(t['p99-vs-nginx-2']?.detail, 'the two-core layout was not measured (--layouts)');
  assert.equal(t['h2-rps-vs-nginx-2']?.status, 'SKIP');
  assert.equal(t['p99-vs-nginx']?.status, 'PASS');
});

test('features on must serve ≥ 0.9× features off; an error or no result is a MISS', () => {
  const f = summarizeFeatures({ off: [run(10_000, 10), run(9_000, 12)], on: [run(9_000, 11), run(8_100, 13)] });
  assert.equal(f.offRps, 9500);
  assert.equal(f.onRps, 8550);
  assert.ok(Math.abs((f.ratio ?? 0) - 0.9) < 1e-12);
  assert.deepEqual(f.on.rpsRange, [8100, 9000]);
  const at = byId(evaluateTargets({ results: one, memory: null, features: { ratio: 0.9, onRps: 9000, offRps: 10_000 } }));
  assert.equal(at['features-on']?.status, 'PASS');
  assert.equal(at['features-on']?.detail, '9,000 vs 10,000 req/s = 0.90× (need ≥ 0.9×)');
  const below = byId(evaluateTargets({ results: one, memory: null, features: { ratio: 0.899, onRps: 8990, offRps: 10_000 } }));
  assert.equal(below['features-on']?.status, 'MISS');
  const failed = byId(evaluateTargets({ results: one, memory: null, features: { error: 'the features-on route does not have its features: active health checks are off\nmore' } }));
  assert.equal(failed['features-on']?.status, 'MISS');
  assert.equal(failed['features-on']?.detail, 'not measured: the features-on route does not have its features: active health checks are off');
  assert.equal(byId(evaluateTargets({ results: one, memory: null }))['features-on']?.status, 'MISS');
});

test('a section left out by --sections has its targets SKIP, not MISS', () => {
  const t = evaluateTargets({ results: undefined, memory: undefined, issuance: undefined, skipped: ['http', 'memory', 'features'] });
  assert.ok(t.length > 10);
  assert.ok(t.every((line) => line.status === 'SKIP' && line.detail === NOT_RUN), JSON.stringify(t, null, 2));
  assert.ok(t.some((line) => line.id === 'leaf-issuance'), 'the issuance target is listed, skipped');

  const onlyHttp = byId(evaluateTargets({ results: one, results2: two, memory: undefined, skipped: ['memory', 'features'] }));
  assert.equal(onlyHttp['idle-rss']?.status, 'SKIP');
  assert.equal(onlyHttp['features-on']?.status, 'SKIP');
  assert.equal(onlyHttp['p99-vs-nginx']?.status, 'PASS');

  const other = skipTargets([{ id: 'ui-bundle', text: 'bundle', status: 'MISS', detail: 'not measured: x' }]);
  assert.deepEqual(other, [{ id: 'ui-bundle', text: 'bundle', status: 'SKIP', detail: NOT_RUN }]);
});

test('the features-on route is checked for every feature before it is measured', () => {
  const route = {
    access: { exposure: 'lan', lists: ['l1'], limits: { requestsPerMinute: 1_000_000, limitLan: true } },
    upstreams: [{ url: 'http://127.0.0.1:4001' }, { url: 'http://127.0.0.1:4002' }],
    healthCheck: { active: { enabled: true } },
  };
  assert.equal(missingFeature(route, 'l1', [4001, 4002]), null);
  assert.match(missingFeature({ ...route, access: { ...route.access, exposure: 'anyone' } }, 'l1', [4001, 4002]) ?? '', /exposure/);
  assert.match(missingFeature(route, 'l2', [4001, 4002]) ?? '', /access list l2/);
  assert.match(missingFeature({ ...route, access: { ...route.access, limits: { requestsPerMinute: 1200, limitLan: false } } }, 'l1', [4001, 4002]) ?? '', /rate limit/);
  assert.match(missingFeature({ ...route, upstreams: route.upstreams.slice(0, 1) }, 'l1', [4001, 4002]) ?? '', /upstreams/);
  assert.match(missingFeature({ ...route, healthCheck: { active: { enabled: false } } }, 'l1', [4001, 4002]) ?? '', /health/);
});

test('the soak compares the 2nd minute with the last, and judges RSS and heap growth', () => {
  assert.deepEqual(soakWindows(600), { baseline: [60, 120], end: [540, 600] });
  assert.deepEqual(soakWindows(60), { baseline: [20, 40], end: [40, 60] });
  const samples = (growthPerMinute: number, heapPerMinute: number) =>
    Array.from({ length: 60 }, (_, i) => ({ t: (i + 1) * 10, rssMiB: 100 + ((i + 1) * 10 * growthPerMinute) / 60, heapMiB: 20 + ((i + 1) * 10 * heapPerMinute) / 60 }));
  const flat = soakVerdict(samples(0, 0), 600);
  assert.equal(flat.pass, true);
  assert.equal(flat.rss?.growth, 0);
  const leak = soakVerdict(samples(3, 0), 600); // 3 MiB a minute: 8 minutes apart ≈ +24 MiB
  assert.equal(leak.pass, false);
  assert.match(leak.reason ?? '', /^RSS \+2\d\.\d MiB > 20$/);
  const heap = soakVerdict(samples(0, 1), 600);
  assert.equal(heap.pass, false);
  assert.match(heap.reason ?? '', /^heap \+8\.\d MiB > 5$/);
  assert.equal(soakVerdict([], 600).pass, false);
});
