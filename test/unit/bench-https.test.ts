// The HTTPS half of the bench: h2load's output (nghttp2 1.52.0, Debian 12) as captured on this machine
// against a node:http2 server with bench.home.arpa's certificate, its per-request log, and the
// HTTPS targets, table and ratios. A change in how h2load is read cannot quietly move the numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { h2InvalidReason, h2loadArgs, latencyFromLog, parseH2loadOutput } from '../../bench/h2load.mjs';
import { evaluateTargets, formatHttpsRatios, formatHttpsTable, summarize, type RunResult } from '../../bench/report.mjs';

/** h2load -t1 -c16 -m8 -D 2 --connect-to=127.0.0.1:18444 https://bench.home.arpa:18444/ (progress lines left out). */
const H2_OK = `starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.00s, 13452.00 req/s, 764.71KB/s
requests: 26904 total, 27032 started, 26904 done, 26904 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 26992 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 1.49MB (1566136) total, 53.80KB (55088) headers (space savings 95.25%), 764.42KB (782768) data
                     min         max         mean         sd        +/- sd
time for request:     2.64ms     36.97ms      9.05ms      4.01ms    91.80%
time for connect:     7.03ms    139.70ms     67.33ms     44.87ms    62.50%
time to 1st byte:    16.32ms    151.09ms     75.24ms     44.78ms    62.50%
req/s           :     819.86      855.64      840.45       10.22    62.50%
`;

/** The same against a server answering every 10th request with 502. */
const H2_WITH_502 = `starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.00s, 20352.00 req/s, 1.08MB/s
requests: 40704 total, 40832 started, 40704 done, 36634 succeeded, 4070 failed, 0 errored, 0 timeout
status codes: 36699 2xx, 0 3xx, 0 4xx, 4077 5xx
traffic: 2.16MB (2263875) total, 80.77KB (82704) headers (space savings 95.28%), 1.03MB (1080579) data
                     min         max         mean         sd        +/- sd
time for request:     1.34ms     34.73ms      5.97ms      3.40ms    92.55%
time for connect:     8.28ms    133.99ms     64.31ms     43.93ms    56.25%
time to 1st byte:    17.58ms    139.38ms     73.98ms     39.42ms    56.25%
req/s           :    1255.60     1279.06     1271.17        7.13    50.00%
`;

/** The same against a node:https server: no h2 by ALPN, and h2load quietly falls back to HTTP/1.1. */
const FELL_BACK_TO_H1 = `starting benchmark...
spawning thread #0: 2 total client(s). Timing-based test with 0s of warm-up time and 1s of main duration for measurements.
Warm-up started for thread #0.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: http/1.1
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 1.01s, 18230.00 req/s, 2.17MB/s
requests: 18230 total, 18246 started, 18230 done, 18230 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 18230 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 2.17MB (2278750) total, 1.51MB (1586358) headers (space savings 0.00%), 53.42KB (54702) data
                     min         max         mean         sd        +/- sd
time for request:      196us     17.76ms       870us       802us    90.77%
time for connect:     6.54ms      7.35ms      6.95ms       571us   100.00%
time to 1st byte:    13.76ms     21.87ms     17.82ms      5.74ms   100.00%
req/s           :    9020.44     9205.55     9112.99      130.90   100.00%
`;

/** Nothing listening on the port. */
const REFUSED = `starting benchmark...
spawning thread #0: 4 total client(s). Timing-based test with 0s of warm-up time and 1s of main duration for measurements.
Warm-up started for thread #0.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 1.00s, 0.00 req/s, 0B/s
requests: 0 total, 0 started, 0 done, 0 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 0B (0) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
time for connect:        0us         0us         0us         0us     0.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :       0.00        0.00        0.00        0.00   100.00%
`;

/** The first lines of h2load --log-file: start (µs since the epoch), status, µs to the end of the response. */
const LOG = `1795289295141168	200	11367
1795289295141168	200	11428
1795289295142279	200	13223
1795289295142280	200	13239
1795289295152619	200	4990
1795289295152620	200	4998
1795289295155536	200	3081
1795289295155538	200	3087
1795289295157631	200	2045
1795289295157633	200	2054
1795289295158637	200	2042
1795289295158639	200	2048
1795289295159696	200	1701
1795289295159696	200	1708
1795289295160701	200	1509
1795289295160702	200	1513
1795289295161419	200	1390
1795289295161420	200	1394
1795289295162227	200	1701
1795289295162228	200	1719
1795289295162826	200	1763
1795289295162827	200	1769
1795289295163969	200	1283
1795289295163971	200	1288
1795289295164612	200	1892
1795289295164613	200	1898
1795289295165272	200	1271
1795289295165273	200	1274
1795289295166559	200	1047
1795289295166560	200	1056
1795289295166591	200	1061
1795289295166592	200	1064
1795289295167664	200	1207
1795289295167666	200	1212
1795289295167686	200	1214
1795289295167687	200	1216
1795289295168939	200	2706
1795289295168940	200	2715
1795289295168916	200	2768
1795289295168917	200	2770
`;

test('an HTTP/2 run: rate, counts, bytes, protocol and mean time', () => {
  const run = parseH2loadOutput(H2_OK);
  assert.equal(run.requests, 26904);
  assert.equal(run.succeeded, 26904);
  assert.equal(run.durationS, 2);
  assert.equal(run.reqPerSec, 13452);
  assert.equal(run.bytes, 1566136);
  assert.equal(run.protocol, 'h2');
  assert.equal(run.meanMs, 9.05);
  assert.deepEqual(run.errors, { failed: 0, errored: 0, timeout: 0, status: 0 });
  assert.equal(h2InvalidReason(run), null);
});

test('5xx answers count as failed and make the run unusable', () => {
  const run = parseH2loadOutput(H2_WITH_502);
  assert.equal(run.requests, 40704);
  assert.deepEqual(run.errors, { failed: 4070, errored: 0, timeout: 0, status: 4077 });
  assert.equal(h2InvalidReason(run), '4070 of 40704 requests failed (failed 4070, errored 0, timeout 0; 4xx/5xx 4077)');
});

test('a run that fell back to HTTP/1.1 is not an HTTP/2 result, whatever its rate', () => {
  const run = parseH2loadOutput(FELL_BACK_TO_H1);
  assert.equal(run.protocol, 'http/1.1');
  assert.equal(run.reqPerSec, 18230);
  assert.equal(run.meanMs, 0.87); // 870us
  assert.equal(run.durationS, 1.01);
  assert.equal(h2InvalidReason(run), 'the server did not negotiate HTTP/2 (ALPN: http/1.1)');
});

test('a refused connection completes nothing; no summary at all is an error quoting h2load', () => {
  const run = parseH2loadOutput(REFUSED);
  assert.equal(run.requests, 0);
  assert.equal(run.protocol, null);
  assert.equal(h2InvalidReason(run), 'no request completed');
  assert.throws(() => parseH2loadOutput('starting benchmark...\nprogress: 50% of clients started\nconnect: Connection refused\n'), /h2load printed no summary: starting benchmark\.\.\. \/ connect: Connection refused/);
  assert.throws(() => parseH2loadOutput(''), /h2load printed no summary: \(nothing\)/);
});

test('percentiles come from the per-request log, in milliseconds', () => {
  const latency = latencyFromLog(LOG);
  const micros = LOG.trim().split('\n').map((line) => Number(line.split('\t')[2])).sort((a, b) => a - b);
  assert.equal(micros.length, 40);
  assert.equal(latency.p50, (micros[19]! + micros[20]!) / 2 / 1000);
  assert.equal(latency.p90, micros[35]! / 1000); // the 36th of 40
  assert.equal(latency.p99, micros[39]! / 1000);
  assert.equal(latency.max, micros[39]! / 1000);
  assert.deepEqual(latencyFromLog(''), { p50: null, p90: null, p99: null, max: null });
  assert.deepEqual(latencyFromLog('1\t200\t1000\n2\t200\t3000\nnot a line\n'), { p50: 2, p90: 3, p99: 3, max: 3 });
});

test('h2load runs one thread, connections × streams, for the duration, connecting to 127.0.0.1 with the name as SNI', () => {
  const args = h2loadArgs({ url: 'https://bench.home.arpa:8443/', connectTo: '127.0.0.1:8443', connections: 16, streams: 8, durationS: 8, logFile: '/tmp/x.log' });
  assert.deepEqual(args, ['-t1', '-c16', '-m8', '-D', '8', '--connect-to=127.0.0.1:8443', '--log-file=/tmp/x.log', 'https://bench.home.arpa:8443/']);
  assert.ok(!args.includes('--h1'), 'HTTP/2 must not be turned off');
});

const run = (reqPerSec: number, p99: number, cpu: number, invalid: string | null = null): RunResult => ({
  reqPerSec,
  latencyMs: { p50: p99 / 4, p99 },
  mbPerSec: null,
  cpuMsPer1000: cpu,
  invalid,
});

test('the HTTPS scenarios are summarized apart, and their discarded runs say which scenario', () => {
  const summary = summarize({
    small: [run(9000, 10, 60)],
    tls: [run(8000, 12, 70), run(8200, 11, 72), run(8100, 13, 71)],
    h2: [run(9900, 20, 50), run(1, 1, 1, 'the server did not negotiate HTTP/2 (ALPN: http/1.1)')],
  });
  assert.equal(summary.reqPerSec, 9000);
  assert.equal(summary.tlsReqPerSec, 8100);
  assert.equal(summary.tlsP99Ms, 12);
  assert.equal(summary.tlsCpuMsPer1000, 71);
  assert.equal(summary.h2ReqPerSec, 9900);
  assert.equal(summary.h2P50Ms, 5);
  assert.deepEqual(summary.repetitions, { small: 1, large: 0, tls: 3, h2: 1 });
  assert.deepEqual(summary.problems, ['h2: the server did not negotiate HTTP/2 (ALPN: http/1.1)']);
});

// The peers as measured there: Caddy ≈ 8.1k TLS req/s, nginx stock ≈ 10.3k, h2 nginx ≈ 9.9k.
const caddy = { tlsReqPerSec: 8100, h2ReqPerSec: 5300 };
const nginx = { tlsReqPerSec: 10_300, h2ReqPerSec: 9900 };
const httpsStatus = (results: ReturnType<typeof evaluateTargets>) =>
  Object.fromEntries(results.filter((t) => /^(tls|h2|leaf)-/.test(t.id) && !/haproxy|-2$/.test(t.id)).map((t) => [t.id, t.status]));

test('the HTTPS targets pass at exactly their thresholds and miss just past them', () => {
  const atThreshold = evaluateTargets({
    results: { gatehouse: { tlsReqPerSec: 10_530, h2ReqPerSec: 9900 }, caddy, nginx },
    memory: null,
    issuance: { medianMs: 250 },
  });
  assert.deepEqual(httpsStatus(atThreshold), { 'tls-rps-vs-caddy': 'PASS', 'tls-rps-vs-nginx': 'PASS', 'h2-rps-vs-nginx': 'PASS', 'leaf-issuance': 'PASS' });
  assert.equal(atThreshold.find((t) => t.id === 'tls-rps-vs-caddy')?.detail, '10,530 vs 8,100 = 1.30× (need ≥ 1.3×)');
  assert.equal(atThreshold.find((t) => t.id === 'leaf-issuance')?.detail, '250.0 ms (limit 250 ms)');

  const past = evaluateTargets({
    results: { gatehouse: { tlsReqPerSec: 10_299, h2ReqPerSec: 9899 }, caddy, nginx },
    memory: null,
    issuance: { medianMs: 250.1 },
  });
  assert.deepEqual(httpsStatus(past), { 'tls-rps-vs-caddy': 'MISS', 'tls-rps-vs-nginx': 'MISS', 'h2-rps-vs-nginx': 'MISS', 'leaf-issuance': 'MISS' });
});

test('without Gatehouse HTTPS the targets miss saying why; a peer without HTTPS skips; no issuance input, no issuance line', () => {
  const why = 'Gatehouse HTTPS is not measured: GET /api/proxy names no HTTPS listener\n(detail)';
  const results = evaluateTargets({
    results: { gatehouse: { reqPerSec: 12_000 }, caddy, nginx },
    memory: null,
    issuance: { error: why },
    httpsAbsent: { gatehouse: why },
  });
  assert.deepEqual(httpsStatus(results), { 'tls-rps-vs-caddy': 'MISS', 'tls-rps-vs-nginx': 'MISS', 'h2-rps-vs-nginx': 'MISS', 'leaf-issuance': 'MISS' });
  assert.equal(results.find((t) => t.id === 'h2-rps-vs-nginx')?.detail, 'no Gatehouse result: Gatehouse HTTPS is not measured: GET /api/proxy names no HTTPS listener');
  assert.equal(results.find((t) => t.id === 'leaf-issuance')?.detail, 'not measured: Gatehouse HTTPS is not measured: GET /api/proxy names no HTTPS listener');

  const nginxWithoutHttps = evaluateTargets({
    results: { gatehouse: { tlsReqPerSec: 11_000, h2ReqPerSec: 11_000 }, caddy, nginx: { reqPerSec: 11_000 } },
    memory: null,
    httpsAbsent: { nginx: 'HTTPS not measured: negotiated TLSv1.2, not TLSv1.3' },
  });
  assert.deepEqual(httpsStatus(nginxWithoutHttps), { 'tls-rps-vs-caddy': 'PASS', 'tls-rps-vs-nginx': 'SKIP', 'h2-rps-vs-nginx': 'SKIP' });
  assert.equal(nginxWithoutHttps.find((t) => t.id === 'tls-rps-vs-nginx')?.detail, 'nginx: HTTPS not measured: negotiated TLSv1.2, not TLSv1.3');
});

test('the HTTPS table and ratios: TLS h1 then h2 columns, dashes where a proxy has no HTTP/2', () => {
  const table = formatHttpsTable([
    { label: 'Gatehouse', tlsReqPerSec: 12_000, tlsP50Ms: 4, tlsP99Ms: 9.5, tlsCpuMsPer1000: 70, h2ReqPerSec: 11_000, h2P50Ms: 8, h2P99Ms: 20, h2CpuMsPer1000: 80 },
    { label: 'bare', tlsReqPerSec: 13_000, note: 'no HTTP/2' },
  ]);
  const lines = table.split('\n');
  assert.match(lines[0] ?? '', /^proxy\s+\| TLS h1 req\/s \| p50 ms \| p99 ms \| CPU\/1000 \| h2 req\/s \| p50 ms \| p99 ms \| CPU\/1000 \| note$/);
  assert.match(lines[2] ?? '', /^Gatehouse \| +12,000 \| +4\.00 \| +9\.50 \| +70\.0 \| +11,000 \| +8\.00 \| +20\.00 \| +80\.0 \|$/);
  assert.match(lines[3] ?? '', /^bare +\| +13,000 \| +— \| +— \| +— \| +— \| +— \| +— \| +— \| no HTTP\/2$/);

  const ratios = formatHttpsRatios(
    { gatehouse: { tlsReqPerSec: 12_000, tlsP99Ms: 10, tlsCpuMsPer1000: 70, h2ReqPerSec: 11_000, h2P99Ms: 20, h2CpuMsPer1000: 80 }, nginx: { tlsReqPerSec: 10_000, tlsP99Ms: 20, tlsCpuMsPer1000: 140, h2ReqPerSec: 10_000, h2P99Ms: 10, h2CpuMsPer1000: 40 } },
    [{ id: 'nginx', label: 'nginx' }, { id: 'caddy', label: 'Caddy' }],
  );
  assert.equal(ratios.split('\n').length, 1, 'a peer without results gets no line');
  assert.match(ratios, /vs nginx +TLS h1 req\/s 1\.20× +p99 0\.50× +CPU\/req 0\.50× +· h2 req\/s 1\.10× +p99 2\.00× +CPU\/req 2\.00×$/);
});
