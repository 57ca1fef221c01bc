// What the running Gatehouse reports through the API: the proxy's status, the access log and
// counters, upstream health, export and import of settings, port checks and the app's identity.
// Plain types (and one constant) for both processes; the settings and routes they mention, with their
// schemas, are in model.ts. Imports nothing at run time: this file is bundled into the renderer.
import type { Route, Settings } from './model.js';

// ---------------------------------------------------------------------------------------------
// Runtime state reported by the API

export type ProxyState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

/** A problem the user can act on: what happened, and what to do about it. */
export interface Problem {
  /** Stable machine-readable code, e.g. "port_in_use". */
  code: string;
  /** One sentence saying what happened, in the user's terms. */
  message: string;
  /** What to do about it, when there is something to do. */
  fix?: string;
}

export interface ListenerInfo {
  address: string;
  port: number;
}

export interface ProxyStatus {
  state: ProxyState;
  /** The HTTP listener's bound address, while running. */
  http: ListenerInfo | null;
  /** Why the proxy is not running, after a failed start. */
  problem: Problem | null;
  /** ISO time the proxy last started, while running. */
  startedAt: string | null;
  routeCount: number;
  /**
   * This machine's addresses other devices on the LAN can use (non-loopback IPv4 first, then IPv6
   * without link-local), so the dashboard can say where to point DNS or a hosts file.
   */
  lanAddresses: string[];
  /** A notice about the settings file (e.g. it could not be read and was kept aside), until dismissed by a restart. */
  settingsNotice: Problem | null;
}

/** One proxied request, as written to the access log and streamed as an event. */
export interface AccessLogEntry {
  /** ISO time the request arrived. */
  time: string;
  /** Client IP address (the real client's, when it came through a trusted proxy). */
  client: string;
  host: string;
  method: string;
  path: string;
  status: number;
  /** Response body bytes sent to the client. */
  bytes: number;
  durationMs: number;
  /** The route that handled it, or null when no route matched. */
  routeId: string | null;
  /** `host:port` of the upstream, or null when none was contacted. */
  upstream: string | null;
  /** The failure's code (e.g. "upstream_refused") when Gatehouse produced the response itself. */
  error: string | null;
  /**
   * The failure in plain words, as the error page said it ("Jellyfin at 10.33.0.4:8096 refused the
   * connection. Is it running, and listening on that port?"); null when there was no failure.
   */
  detail: string | null;
}

export interface RouteStats {
  routeId: string;
  requests: number;
  /** Responses that failed: 5xx from the upstream or a proxy error. */
  errors: number;
  bytesIn: number;
  bytesOut: number;
  /** Latency percentiles over the last 5 minutes, in milliseconds (±5%); null with no traffic in that time. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests in the last 60 seconds. */
  requestsPerMinute: number;
  openWebSockets: number;
}

export interface StatsSnapshot {
  /** ISO time of the snapshot. */
  time: string;
  routes: RouteStats[];
  /** Requests for names no route claims. */
  unmatched: number;
}

// ---------------------------------------------------------------------------------------------
// Upstream health

export type HealthState = 'up' | 'down' | 'unknown';

/**
 * Whether a route's upstream accepts connections, from a periodic TCP check and from the proxy's own
 * traffic (a refused connection marks it down at once, an answer marks it up).
 */
export interface RouteHealth {
  routeId: string;
  /** `host:port` that was checked. */
  upstream: string;
  /** `unknown` until the first check finishes, and for a disabled route. */
  state: HealthState;
  /** ISO time the state last changed; null while unknown. */
  since: string | null;
  /** ISO time of the last check; null before the first. */
  checkedAt: string | null;
  /** Why it is down, in plain words with what to check; null unless down. */
  problem: Problem | null;
}

// ---------------------------------------------------------------------------------------------
// Export and import of all settings

export const SETTINGS_EXPORT_FORMAT = 'gatehouse-settings';

/** The one file "Export settings" writes: every setting and every route. */
export interface SettingsExport {
  format: typeof SETTINGS_EXPORT_FORMAT;
  /** ISO time of the export. */
  exportedAt: string;
  /** The Gatehouse version that wrote it. */
  appVersion: string;
  settings: Settings;
}

/** What importing a file would change, before anything is changed. */
export interface ImportPreview {
  /** Routes compared by id with the current ones. */
  routes: {
    added: Route[];
    removed: Route[];
    changed: { before: Route; after: Route }[];
    unchanged: number;
  };
  /** Each general setting the import changes, by dotted path ("proxy.httpPort"). */
  settings: { path: string; before: unknown; after: unknown }[];
  /** The settings format version the file was written in (older files are migrated). */
  fileVersion: number;
  /** When the file was exported; null when it is a bare settings.json. */
  exportedAt: string | null;
}

// ---------------------------------------------------------------------------------------------
// Ports and the app

/** Whether one port can be bound, checked by binding it for a moment. */
export interface PortCheck {
  role: 'http' | 'https';
  port: number;
  address: string;
  /** True when it can be bound, or is already held by this Gatehouse's own running proxy. */
  available: boolean;
  /** Why not, with the exact fix (free the port, or allow low ports); null when available. */
  problem: Problem | null;
}

export interface AppInfo {
  /** Gatehouse's version, from package.json. */
  version: string;
  /** The desktop app (Electron) or `gatehouse serve`. */
  shell: 'desktop' | 'headless';
  /** Node's platform name: linux, darwin, win32. */
  platform: string;
  /** Whether "start at login" can be set from here (desktop only). */
  canStartAtLogin: boolean;
}
