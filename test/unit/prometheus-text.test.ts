// The Prometheus text format Gatehouse writes at /metrics (issue 17): escaping of label values and
// HELP text, a HELP and TYPE line per family, families whole, and Gatehouse's metrics made from the
// API's answers, read back with a strict parser of the format (test/helpers/prometheus-text.ts),
// which is itself checked to refuse what the format forbids.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Route } from '../../shared/model.js';
import type { ProxyStatus, RouteHealth, StatsSnapshot, UpstreamHealth } from '../../shared/status.js';
import type { StreamView } from '../../shared/streams.js';
import { escapeLabelValue, exposition, formatValue, gatehouseMetrics, type MetricsSources } from '../../src-main/core/insight/prometheus.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

describe('the text format', () => {
  test('label values escape backslash, double quote and newline; HELP escapes backslash and newline', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    const nasty = 'C:\\media "films"\nline two {x="y"},z';
    const text = exposition([{ name: 'x_total', type: 'counter', help: 'a "quoted" \\ help\nwith two lines', samples: [{ labels: { route: nasty, route_id: 'r1' }, value: 3 }] }]);
    assert.equal(
      text,
      '# HELP x_total a "quoted" \\\\ help\\nwith two lines\n# TYPE x_total counter\nx_total{route="C:\\\\media \\"films\\"\\nline two {x=\\"y\\"},z",route_id="r1"} 3\n',
    );
    const parsed = parsePrometheusText(text);
    assert.equal(parsed.get('x_total')!.help, 'a "quoted" \\ help\nwith two lines');
    assert.deepEqual(parsed.get('x_total')!.samples, [{ name: 'x_total', labels: { route: nasty, route_id: 'r1' }, value: 3 }]);
  });

  test('values: integers, fractions, NaN and infinities as Prometheus spells them', () => {
    assert.deepEqual([0, 12, 0.0425, 1e21, NaN, Infinity, -Infinity].map(formatValue), ['0', '12', '0.0425', '1e+21', 'NaN', '+Inf', '-Inf']);
  });

  test('bad names and a family listed twice are refused, not written', () => {
    assert.throws(() => exposition([{ name: 'bad-name', type: 'gauge', help: 'x', samples: [] }]), /not a Prometheus metric name/);
    assert.throws(() => exposition([{ name: 'ok', type: 'gauge', help: 'x', samples: [{ labels: { 'bad-label': 'v' }, value: 1 }] }]), /not a Prometheus label name/);
    assert.throws(() => exposition([{ name: 'ok', type: 'gauge', help: 'x', samples: [{ labels: { __name__: 'v' }, value: 1 }] }]), /not a Prometheus label name/);
    const twice = { name: 'ok', type: 'gauge' as const, help: 'x', samples: [] };
    assert.throws(() => exposition([twice, twice]), /listed twice/);
  });

  test('the test parser refuses what the format forbids', () => {
    const bad: [string, RegExp][] = [
      ['a 1', /end with a newline/],
      ['a{b="c\\t"} 1\n', /not an escape/],
      ['a{b="c"} one\n', /not a value/],
      ['a{b="c",b="d"} 1\n', /twice/],
      ['a 1\nb 1\na 2\n', /two places/],
      ['a 1\na 2\n', /same series twice/],
      ['a 1\n# TYPE a gauge\n', /TYPE after the first sample/],
      ['# TYPE a meter\n', /not a metric type/],
      ['# TYPE s summary\ns 1\n', /quantile/],
      ['a{b="c"}1\n', /NAME\{LABELS\} VALUE/],
    ];
    for (const [text, says] of bad) assert.throws(() => parsePrometheusText(text), says, text);
    const ok = parsePrometheusText('# a comment\n# TYPE s summary\ns{quantile="0.5"} 1\ns_count 4\n');
    assert.equal(ok.get('s')!.samples.length, 2);
  });
});

function upstream(address: string, over: Partial<UpstreamHealth> = {}): UpstreamHealth {
  return {
    url: `http://${address}`,
    address,
    state: 'up',
    since: '2026-12-06T10:00:00.000Z',
    lastCheck: null,
    coolingUntil: null,
    passiveFailures: 0,
    problem: null,
    drained: false,
    backup: false,
    weight: 1,
    available: true,
    served: 0,
    inFlight: 0,
    ...over,
  };
}

function sources(): MetricsSources {
  const route = (id: string, names: string[]) => ({ id, names }) as unknown as Route;
  const status: ProxyStatus = {
    state: 'running',
    http: { address: '0.0.0.0', port: 80 },
    https: { address: '0.0.0.0', port: 443 },
    problem: null,
    startedAt: '2026-12-06T10:00:00.000Z',
    routeCount: 2,
    lanAddresses: [],
    settingsNotice: null,
    overrides: {},
  };
  const stats: StatsSnapshot = {
    time: '2026-12-06T11:00:00.000Z',
    unmatched: 4,
    routes: [
      { routeId: 'jf', requests: 120, errors: 3, bytesIn: 2048, bytesOut: 1_000_000, p50Ms: 12, p99Ms: 250, requestsPerMinute: 5, openWebSockets: 2, refused: 7, refusedPerMinute: 0 },
      { routeId: 'odd', requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, p50Ms: null, p99Ms: null, requestsPerMinute: 0, openWebSockets: 0, refused: 0, refusedPerMinute: 0 },
    ],
  };
  const health: RouteHealth[] = [
    {
      routeId: 'jf',
      upstream: '10.33.0.4:8096',
      state: 'up',
      since: null,
      checkedAt: null,
      problem: null,
      failedOver: true,
      upstreams: [upstream('10.33.0.4:8096', { state: 'down', available: false, served: 100 }), upstream('10.33.0.5:8096', { served: 20, inFlight: 1 })],
    },
    { routeId: 'odd', upstream: '10.33.0.9:80', state: 'unknown', since: null, checkedAt: null, problem: null, failedOver: false, upstreams: [upstream('10.33.0.9:80', { state: 'unknown' })] },
  ];
  const streams = [
    {
      stream: { id: 's1', title: 'NAS "SSH"', protocol: 'tcp' },
      status: { streamId: 's1', state: 'listening', problem: null, open: 1, total: 9, refused: 2, failed: 1, bytesIn: 300, bytesOut: 4000, upstreams: [], health: 'up' },
    },
  ] as unknown as StreamView[];
  return { status, routes: [route('jf', ['jellyfin.home.arpa', 'tv.home.arpa']), route('odd', ['we\\ird"name'])], stats, health, streams };
}

describe("Gatehouse's metrics", () => {
  test('every family has HELP and TYPE, and the numbers are the API answers', () => {
    const text = exposition(gatehouseMetrics(sources()));
    const families = parsePrometheusText(text);
    for (const family of families.values()) {
      assert.ok(family.name.startsWith('gatehouse_'), family.name);
      assert.ok(family.help && family.help.length > 10, `${family.name} has a HELP line`);
      assert.ok(family.type, `${family.name} has a TYPE line`);
      if (family.type === 'counter') assert.ok(family.name.endsWith('_total'), `${family.name}: a counter ends in _total`);
    }
    const jf = { route_id: 'jf', route: 'jellyfin.home.arpa' };
    assert.equal(sampleValue(families, 'gatehouse_proxy_running'), 1);
    assert.equal(sampleValue(families, 'gatehouse_proxy_state', { state: 'running' }), 1);
    assert.equal(sampleValue(families, 'gatehouse_proxy_state', { state: 'stopped' }), 0);
    assert.equal(sampleValue(families, 'gatehouse_proxy_start_time_seconds'), Date.parse('2026-12-06T10:00:00Z') / 1000);
    assert.equal(sampleValue(families, 'gatehouse_requests_total', jf), 120);
    assert.equal(sampleValue(families, 'gatehouse_errors_total', jf), 3);
    assert.equal(sampleValue(families, 'gatehouse_refused_total', jf), 7);
    assert.equal(sampleValue(families, 'gatehouse_received_bytes_total', jf), 2048);
    assert.equal(sampleValue(families, 'gatehouse_sent_bytes_total', jf), 1_000_000);
    assert.equal(sampleValue(families, 'gatehouse_open_websockets', jf), 2);
    assert.equal(sampleValue(families, 'gatehouse_request_duration_seconds', { ...jf, quantile: '0.5' }), 0.012);
    assert.equal(sampleValue(families, 'gatehouse_request_duration_seconds', { ...jf, quantile: '0.99' }), 0.25);
    assert.ok(Number.isNaN(sampleValue(families, 'gatehouse_request_duration_seconds', { route_id: 'odd', quantile: '0.5' })), 'no traffic: NaN');
    assert.equal(families.get('gatehouse_request_duration_seconds')!.type, 'summary');
    assert.equal(sampleValue(families, 'gatehouse_unmatched_requests_total'), 4);
    assert.equal(sampleValue(families, 'gatehouse_route_up', jf), 1);
    assert.throws(() => sampleValue(families, 'gatehouse_route_up', { route_id: 'odd' }), /0 samples/, 'unknown health is left out');
    const first = { ...jf, upstream: '10.33.0.4:8096' };
    assert.equal(sampleValue(families, 'gatehouse_upstream_up', first), 0);
    assert.equal(sampleValue(families, 'gatehouse_upstream_available', first), 0);
    assert.equal(sampleValue(families, 'gatehouse_upstream_requests_total', first), 100);
    assert.equal(sampleValue(families, 'gatehouse_upstream_up', { upstream: '10.33.0.5:8096' }), 1);
    assert.equal(sampleValue(families, 'gatehouse_upstream_in_flight_requests', { upstream: '10.33.0.5:8096' }), 1);
    assert.throws(() => sampleValue(families, 'gatehouse_upstream_up', { upstream: '10.33.0.9:80' }), /0 samples/);
    assert.equal(sampleValue(families, 'gatehouse_upstream_requests_total', { upstream: '10.33.0.9:80' }), 0);
    const ssh = { stream_id: 's1', stream: 'NAS "SSH"', protocol: 'tcp' };
    assert.equal(sampleValue(families, 'gatehouse_stream_up', ssh), 1);
    assert.equal(sampleValue(families, 'gatehouse_stream_open_connections', ssh), 1);
    assert.equal(sampleValue(families, 'gatehouse_stream_connections_total', ssh), 9);
    assert.equal(sampleValue(families, 'gatehouse_stream_refused_total', ssh), 2);
    assert.equal(sampleValue(families, 'gatehouse_stream_failed_total', ssh), 1);
    assert.equal(sampleValue(families, 'gatehouse_stream_received_bytes_total', ssh), 300);
    assert.equal(sampleValue(families, 'gatehouse_stream_sent_bytes_total', ssh), 4000);
    // The route label is the first name, escaped in the text and whole when read back.
    assert.match(text, /route="we\\\\ird\\"name"/);
    assert.equal(sampleValue(families, 'gatehouse_requests_total', { route: 'we\\ird"name' }), 0);
  });

  test('a stopped proxy with nothing configured still answers every family with HELP and TYPE', () => {
    const empty = sources();
    empty.status = { ...empty.status, state: 'stopped', startedAt: null, routeCount: 0 };
    const families = parsePrometheusText(exposition(gatehouseMetrics({ ...empty, routes: [], health: [], streams: [], stats: { time: '', routes: [], unmatched: 0 } })));
    assert.equal(sampleValue(families, 'gatehouse_proxy_running'), 0);
    assert.equal(families.get('gatehouse_proxy_start_time_seconds')!.samples.length, 0);
    assert.equal(families.get('gatehouse_requests_total')!.type, 'counter');
    assert.equal(families.get('gatehouse_requests_total')!.samples.length, 0);
  });
});
