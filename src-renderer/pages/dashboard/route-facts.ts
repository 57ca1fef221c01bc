// What the dashboard says about one route, shared by its table row (wide screens) and its card
// (phones), so both say the same thing in the same words.
import type { HistorySummary } from '../../../shared/insight.js';
import type { Route } from '../../../shared/model.js';
import type { HealthState, ProxyStatus, PublishedName, RouteCertificate, RouteHealth, RouteStats } from '../../../shared/status.js';
import { POLICY_LABELS } from '../../../shared/upstreams.js';
import { servesHttps } from '../../certificates/format.js';

export const healthText: Record<HealthState, string> = { up: 'Up', down: 'Down', unknown: 'Unknown' };

/**
 * The errors column counts failed responses since Gatehouse started (the proxy's counters are
 * never reset while it runs, not even by Stop and Start): the label says so, not a time window.
 */
export const ERRORS_LABEL = 'Errors since start';

/** The key under the table: over what period each number is counted (stats.ts). */
export const NUMBERS_EXPLAINED =
  'Req/min: requests let through to the service in the last 60 seconds. Errors since start: failed responses (a 5xx from the service, or Gatehouse could not reach it) since Gatehouse started. Refused: requests turned away by access rules, limits, scanner blocking or sign-in since Gatehouse started (in the last minute after the slash). p99: 99% of requests in the last 5 minutes were faster than this.';

/** The tag of a route open to anyone on the internet; LAN-only routes carry none. */
export const INTERNET_TAG = 'Internet';
export const INTERNET_TAG_TITLE = 'Anyone on the internet can reach this route (exposure: anyone).';

/** On a route served by another server than its preferred one (RouteHealth.failedOver). */
export const FAILED_OVER_TAG = 'Failed over';
export const FAILED_OVER_TITLE = 'Its first choice of server is not available: another one serves it now.';

/** "3 servers, failover": the Upstream column of a route with several. */
export function serversText(route: Route): string {
  const policy = POLICY_LABELS[route.balancing.policy].replace(/ \(.*\)$/, '').toLowerCase();
  return `${route.upstreams.length} servers, ${policy}`;
}

/** Whether the route is reachable from the internet (not only from this network). */
export function reachableFromInternet(route: Route): boolean {
  return route.access.exposure === 'anyone';
}

export interface RouteNumbers {
  perMinute: string;
  errors: string;
  /** "12 / 3": since start, then in the last minute; "0" when none. */
  refused: string;
  p99: string;
}

export function routeNumbers(stats: RouteStats | undefined): RouteNumbers {
  return {
    perMinute: stats ? String(stats.requestsPerMinute) : '—',
    errors: stats ? String(stats.errors) : '—',
    refused: stats ? (stats.refusedPerMinute > 0 ? `${stats.refused} / ${stats.refusedPerMinute}` : String(stats.refused)) : '—',
    p99: stats?.p99Ms != null ? `${Math.round(stats.p99Ms)} ms` : '—',
  };
}

/** Whether links to the route's names should use https://. */
export function linksUseHttps(route: Route, certificate: RouteCertificate | undefined): boolean {
  return route.tls.mode !== 'none' && servesHttps(certificate);
}

/** The certificate's state for styling: none without HTTPS, pending until the first report. */
export function certificateState(route: Route, certificate: RouteCertificate | undefined): string {
  return route.tls.mode === 'none' ? 'none' : (certificate?.state ?? 'pending');
}

/** What one route's view (a table row on wide screens, a card on phones) is given. */
export interface RouteViewProps {
  route: Route;
  status: ProxyStatus | null;
  health: RouteHealth | undefined;
  stats: RouteStats | undefined;
  certificate: RouteCertificate | undefined;
  /** The route's names as published on the LAN (mDNS); empty when it publishes none. */
  published: PublishedName[];
  /** The route's last hour for its sparkline (getHistorySummary); undefined until read, or when it could not be. */
  history?: HistorySummary['routes'][number] | undefined;
  onDelete: () => void;
}
