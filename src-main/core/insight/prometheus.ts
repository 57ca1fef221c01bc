// GET /metrics on the admin port: what the dashboard shows, in Prometheus's text exposition format
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/), for people who already run
// Prometheus and Grafana. Built only from the API's own answers (getStatus, listRoutes, getStats,
// getHealth, listStreams), so it needs no hook in the proxy and says exactly what the UI says.
//
// Every family gets its HELP and TYPE lines (also when it has no samples yet), its samples follow
// together, and label values are escaped as the format says (backslash, double quote, newline).
// Counters count since the proxy started (a restart resets them; Prometheus's rate() handles that).
import type { CallContext } from '../../../shared/access.js';
import type { ApiHandlers } from '../../../shared/api.js';
import type { Route } from '../../../shared/model.js';
import type { ProxyStatus, RouteHealth, StatsSnapshot } from '../../../shared/status.js';
import type { StreamView } from '../../../shared/streams.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'summary' | 'untyped';
export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the format writes it between double quotes. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and newline are escaped (a double quote is not). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: Go's float syntax, with NaN and ±Inf spelled as Prometheus reads them. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels);
  if (pairs.length === 0) return '';
  return `{${pairs
    .map(([name, value]) => {
      if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`"${name}" is not a Prometheus label name`);
      return `${name}="${escapeLabelValue(value)}"`;
    })
    .join(',')}}`;
}

/** The families as one exposition, ending with a newline. */
export function exposition(families: MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`"${family.name}" is not a Prometheus metric name`);
    if (seen.has(family.name)) throw new Error(`the metric ${family.name} is listed twice`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) lines.push(`${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Gatehouse's metrics

/** What the metrics are made of: the API's answers. */
export interface MetricsSources {
  status: ProxyStatus;
  routes: Route[];
  stats: StatsSnapshot;
  health: RouteHealth[];
  streams: StreamView[];
}

const PROXY_STATES: ProxyStatus['state'][] = ['stopped', 'starting', 'running', 'stopping', 'failed'];
const HEALTH_VALUE = { up: 1, down: 0 } as const;

function family(name: string, type: MetricType, help: string, samples: Sample[] = []): MetricFamily {
  return { name: `gatehouse_${name}`, type, help, samples };
}

export function gatehouseMetrics(sources: MetricsSources): MetricFamily[] {
  const { status, stats, health, streams } = sources;
  const routeName = new Map(sources.routes.map((route) => [route.id, route.names[0] ?? route.id]));
  const routeLabels = (routeId: string): Labels => ({ route_id: routeId, route: routeName.get(routeId) ?? routeId });
  const perRoute = (name: string, type: MetricType, help: string, value: (r: StatsSnapshot['routes'][number]) => number) =>
    family(name, type, help, stats.routes.map((r) => ({ labels: routeLabels(r.routeId), value: value(r) })));

  const latency = family('request_duration_seconds', 'summary', 'Time from a request\'s arrival to the end of its answer, over the last 5 minutes (±5%); NaN with no requests in that time. WebSocket connections are not counted.');
  for (const r of stats.routes) {
    for (const [quantile, ms] of [['0.5', r.p50Ms], ['0.99', r.p99Ms]] as const) {
      latency.samples.push({ labels: { ...routeLabels(r.routeId), quantile }, value: ms === null ? NaN : ms / 1000 });
    }
  }

  const upstreamUp = family('upstream_up', 'gauge', 'Whether the upstream answers its health check (1) or not (0); absent until the first check.');
  const upstreamAvailable = family('upstream_available', 'gauge', 'Whether the upstream would take new requests now (1): not drained, not down, not cooling down after failures.');
  const upstreamServed = family('upstream_requests_total', 'counter', 'Requests the upstream answered for the route since the proxy started.');
  const upstreamInFlight = family('upstream_in_flight_requests', 'gauge', 'Requests under way to the upstream now, from every route that uses it.');
  const routeUp = family('route_up', 'gauge', 'Whether at least one of the route\'s upstreams is available (1) or none is (0); absent while unknown.');
  for (const route of health) {
    const labels = routeLabels(route.routeId);
    if (route.state !== 'unknown') routeUp.samples.push({ labels, value: HEALTH_VALUE[route.state] });
    for (const upstream of route.upstreams) {
      const upLabels = { ...labels, upstream: upstream.address };
      if (upstream.state !== 'unknown') upstreamUp.samples.push({ labels: upLabels, value: HEALTH_VALUE[upstream.state] });
      upstreamAvailable.samples.push({ labels: upLabels, value: upstream.available ? 1 : 0 });
      upstreamServed.samples.push({ labels: upLabels, value: upstream.served });
      upstreamInFlight.samples.push({ labels: upLabels, value: upstream.inFlight });
    }
  }

  const streamLabels = (view: StreamView): Labels => ({ stream_id: view.stream.id, stream: view.stream.title, protocol: view.stream.protocol });
  const perStream = (name: string, type: MetricType, help: string, value: (s: StreamView['status']) => number) =>
    family(name, type, help, streams.map((view) => ({ labels: streamLabels(view), value: value(view.status) })));
  const streamUp = family('stream_up', 'gauge', 'Whether at least one of the stream\'s upstreams is up (1) or all are down (0); absent while unknown.');
  for (const view of streams) {
    if (view.status.health !== 'unknown') streamUp.samples.push({ labels: streamLabels(view), value: HEALTH_VALUE[view.status.health] });
  }

  return [
    family('proxy_running', 'gauge', 'Whether the proxy is running (1) or not (0).', [{ labels: {}, value: status.state === 'running' ? 1 : 0 }]),
    family('proxy_state', 'gauge', 'The proxy\'s state: 1 for the current one.', PROXY_STATES.map((state) => ({ labels: { state }, value: status.state === state ? 1 : 0 }))),
    family(
      'proxy_start_time_seconds',
      'gauge',
      'When the proxy started, in Unix seconds; absent while it is not running.',
      status.startedAt === null ? [] : [{ labels: {}, value: Date.parse(status.startedAt) / 1000 }],
    ),
    family('routes', 'gauge', 'Routes in the settings.', [{ labels: {}, value: status.routeCount }]),
    perRoute('requests_total', 'counter', 'Requests the route answered since the proxy started.', (r) => r.requests),
    perRoute('errors_total', 'counter', 'Answers that failed since the proxy started: 5xx from the upstream, or Gatehouse\'s own 502/503/504.', (r) => r.errors),
    perRoute('refused_total', 'counter', 'Requests refused by access rules, limits, scanner blocking or sign-in since the proxy started.', (r) => r.refused),
    perRoute('received_bytes_total', 'counter', 'Bytes received from clients (request bodies) since the proxy started.', (r) => r.bytesIn),
    perRoute('sent_bytes_total', 'counter', 'Bytes sent to clients (response bodies) since the proxy started.', (r) => r.bytesOut),
    perRoute('open_websockets', 'gauge', 'WebSocket connections open now.', (r) => r.openWebSockets),
    latency,
    family('unmatched_requests_total', 'counter', 'Requests for names no route claims, since the proxy started.', [{ labels: {}, value: stats.unmatched }]),
    routeUp,
    upstreamUp,
    upstreamAvailable,
    upstreamServed,
    upstreamInFlight,
    streamUp,
    perStream('stream_open_connections', 'gauge', 'Connections (TCP), sessions (FTP) or UDP sessions open now.', (s) => s.open),
    perStream('stream_connections_total', 'counter', 'Connections or UDP sessions since the proxy started.', (s) => s.total),
    perStream('stream_refused_total', 'counter', 'Connections refused by access rules since the proxy started.', (s) => s.refused),
    perStream('stream_failed_total', 'counter', 'Connections that could not reach any upstream since the proxy started.', (s) => s.failed),
    perStream('stream_received_bytes_total', 'counter', 'Bytes from clients to the upstream since the proxy started.', (s) => s.bytesIn),
    perStream('stream_sent_bytes_total', 'counter', 'Bytes from the upstream back to clients since the proxy started.', (s) => s.bytesOut),
  ];
}

type MetricsMembers = 'getStatus' | 'listRoutes' | 'getStats' | 'getHealth' | 'listStreams';

/** Asks the API members the metrics are made of, as `context`'s caller, and writes the exposition. */
export async function metricsText(handlers: Pick<ApiHandlers, MetricsMembers>, context?: CallContext): Promise<string> {
  const [status, routes, stats, health, streams] = await Promise.all([
    handlers.getStatus({}, context),
    handlers.listRoutes({}, context),
    handlers.getStats({}, context),
    handlers.getHealth({}, context),
    handlers.listStreams({}, context),
  ]);
  return exposition(gatehouseMetrics({ status, routes, stats, health, streams }));
}
