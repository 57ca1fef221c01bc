// How the pages write addresses, routes, times and numbers, in one place.
import type { Route } from '../shared/model.js';
import type { ListenerInfo, ProxyState, ProxyStatus } from '../shared/status.js';

export const stateLabels: Record<ProxyState, string> = {
  stopped: 'Stopped',
  starting: 'Starting…',
  running: 'Running',
  stopping: 'Stopping…',
  failed: 'Failed',
};

/** "0.0.0.0:80", "[::1]:8080": an address as a person would type it. */
export function listenerAddress(listener: ListenerInfo): string {
  return `${hostForUrl(listener.address)}:${listener.port}`;
}

/** Whether the listener answers on every interface (so the LAN can reach it), not one address. */
export function listensEverywhere(listener: ListenerInfo): boolean {
  return listener.address === '0.0.0.0' || listener.address === '::';
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** What the user calls a route: its title, or its first name when it has none. */
export function routeLabel(route: Pick<Route, 'title' | 'names' | 'id'>): string {
  return route.title || route.names[0] || route.id;
}

/** "10.33.0.4:8096" for plain HTTP (how people type it); https upstreams keep their scheme. */
export function upstreamLabel(upstream: string): string {
  return upstream.startsWith('http://') ? upstream.slice('http://'.length) : upstream;
}

/**
 * The address that opens `name` through this proxy, or null when there is none to open: a wildcard
 * is not one host, and a stopped proxy answers nothing.
 */
export function nameUrl(name: string, status: ProxyStatus | null, https = false): string | null {
  const listener = https ? status?.https : status?.http;
  if (name.startsWith('*') || status?.state !== 'running' || !listener) return null;
  const usual = https ? 443 : 80;
  const port = listener.port === usual ? '' : `:${listener.port}`;
  return `${https ? 'https' : 'http'}://${hostForUrl(name)}${port}/`;
}

/** "14:03:27": the log shows today's requests, so the time of day is what a reader scans for. */
export function timeOfDay(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(undefined, { hour12: false });
}

/** "12 ms", "1.4 s". */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "YYYY-MM-DD" in the user's time zone, for file names. */
export function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** One entry per non-empty line, trimmed: how the textareas take lists (names, IP ranges). */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
