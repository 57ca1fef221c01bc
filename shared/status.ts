// What the running Gatehouse reports through the API: the proxy's status, the access log and
// counters, upstream health, export and import of settings, port checks and the app's identity.
// Plain types (and one constant) for both processes; the settings and routes they mention, with their
// schemas, are in model.ts. Imports nothing at run time: this file is bundled into the renderer.
import type { AcmeOverview, AcmeRouteState } from './acme.js';
import type { PresetCheck } from './upstreams.js';
import type { Route, Settings, TlsMode } from './model.js';
import type { Stream } from './streams.js';

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
  /** The HTTPS listener's bound address, while running. */
  https: ListenerInfo | null;
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
  /**
   * Listener values given on the command line for this run (`gatehouse serve --http-port 8080`),
   * which win over the saved settings until that field is saved again; empty when none.
   */
  overrides: RunOverrides;
}

/** The proxy's listener settings set for one run only, by `gatehouse serve` flags; never saved. */
export interface RunOverrides {
  /** From --http-port. */
  httpPort?: number;
  /** From --https-port. */
  httpsPort?: number;
  /** From --bind. */
  bindAddress?: string;
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
  /**
   * The rule that refused the request ("list Family: deny 203.0.113.0/24", "exposure: this network
   * only", "rate: 1200 requests a minute"), or null when nothing refused it.
   */
  rule: string | null;
  /** The user who signed in (basic auth, or the forward-auth server's Remote-User), or null. */
  user: string | null;
  /**
   * Set on a stream's entry (one per TCP connection, FTP session or UDP session, and per refusal):
   * the stream's id. Such an entry has `method` "TCP", "UDP", "FTP" or "TLS" (a passed-through
   * connection, which has `routeId` and `host` = the SNI name instead), `path` ":PORT" (the port the
   * client connected to), `status` 0 for a connection that ended normally (403 refused by access,
   * 502 no upstream reached), `bytes` sent to the client. Absent on HTTP requests.
   */
  streamId?: string;
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
  /** Requests refused by access rules, limits, scanner blocking or sign-in, since the proxy started. */
  refused: number;
  /** Of those, refused in the last 60 seconds. */
  refusedPerMinute: number;
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

/** The last active check of an upstream, as the dashboard explains it. */
export interface CheckResult {
  /** ISO time the check finished. */
  at: string;
  passed: boolean;
  /** "GET /identity" or "TCP connect". */
  check: string;
  /** The HTTP status it answered; null for a TCP check or when nothing answered. */
  status: number | null;
  /** The start of the body (at most 200 characters, control characters replaced); null when none. */
  bodyExcerpt: string | null;
  /** Why it failed, in plain words ("answered 503, expected 200–499"); null when it passed. */
  error: string | null;
  /** Milliseconds from the start of the check to its answer (or failure). */
  latencyMs: number;
}

/** One upstream of a route: its state is shared with every route that uses the same address. */
export interface UpstreamHealth {
  /** As configured: `http(s)://host:port`. */
  url: string;
  /** `host:port`. */
  address: string;
  /** From the active check (and traffic when checks are off); unknown until the first check. */
  state: HealthState;
  /** ISO time the state last changed; null while unknown. */
  since: string | null;
  /** The last active check; null before the first (or when checks are off). */
  lastCheck: CheckResult | null;
  /** ISO time a passive cool-down ends (left out of rotation until then); null when none. */
  coolingUntil: string | null;
  /** Failures in a row the proxy's own traffic saw (reset by an answer). */
  passiveFailures: number;
  /** Why it is down or cooling, in plain words; null when neither. */
  problem: Problem | null;
  /** Set on the route: takes no new requests. */
  drained: boolean;
  backup: boolean;
  weight: number;
  /** It would be picked now: not drained, not down, not cooling. */
  available: boolean;
  /** Requests it answered since the proxy started (for this route). */
  served: number;
  /** Requests under way to it now (every route). */
  inFlight: number;
}

/**
 * A route's health: `up` while at least one upstream is available, `down` when none is (its
 * requests then go to the one that failed least recently, see docs/balancing.md), `unknown` until
 * the first checks finish and for a disabled route. The top-level fields keep their meaning from
 * when a route had one upstream: `upstream` is the one serving it now (else the first).
 */
export interface RouteHealth {
  routeId: string;
  /** `host:port` serving the route now (its preferred available upstream), else the first. */
  upstream: string;
  state: HealthState;
  /** ISO time the state last changed; null while unknown. */
  since: string | null;
  /** ISO time of the last check of any of its upstreams; null before the first. */
  checkedAt: string | null;
  /** Why it is down, in plain words with what to check; null unless down. */
  problem: Problem | null;
  /** Serving from an upstream other than its preferred one (the first primary, for failover). */
  failedOver: boolean;
  /** Each upstream, in the route's order. */
  upstreams: UpstreamHealth[];
}

/** Sent when a route fails over, returns to its preferred upstream, or has none available. */
export interface FailoverEvent {
  time: string;
  routeId: string;
  /** The route's title (or first name). */
  title: string;
  /** failed_over: now served by `to` instead of `from`; recovered: back on its preferred upstream; no_upstream: none is available. */
  kind: 'failed_over' | 'recovered' | 'no_upstream';
  /** `host:port` it was served by; null when unknown. */
  from: string | null;
  /** `host:port` it is served by now; null for no_upstream. */
  to: string | null;
  /** Why, in plain words ("10.33.0.4:8096 refused the connection"). */
  reason: string;
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
  /**
   * Streams compared by id with the current ones, like routes; imported streams start listening at
   * once when the proxy runs. Absent from Gatehouse versions without streams.
   */
  streams?: {
    added: Stream[];
    removed: Stream[];
    changed: { before: Stream; after: Stream }[];
    unchanged: number;
  };
  /** Each general setting the import changes, by dotted path ("proxy.httpPort"); routes and streams are above. */
  settings: { path: string; before: unknown; after: unknown }[];
  /** The settings format version the file was written in (older files are migrated). */
  fileVersion: number;
  /** When the file was exported; null when it is a bare settings.json. */
  exportedAt: string | null;
  /**
   * Routes whose HTTPS will not work here after the import, each in words with what to do: an
   * imported certificate this machine does not have, or names outside this CA's domains. The
   * import still applies (the routes are kept, served over HTTP until fixed).
   */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Ports and the app

/** Whether one port can be bound, checked by binding it for a moment. */
export interface PortCheck {
  /** 'stream': a stream's listen port(s); 'ftp-passive': an FTP stream's passive range. */
  role: 'http' | 'https' | 'stream' | 'ftp-passive';
  /** Streams: which one, its transport, and the last port of a range (null for one port). */
  streamId?: string;
  transport?: 'tcp' | 'udp';
  portEnd?: number | null;
  port: number;
  address: string;
  /** True when it can be bound, or is already held by this Gatehouse's own running proxy. */
  available: boolean;
  /** True when this Gatehouse's own running proxy holds it (so it is available: a move frees it first); absent otherwise. */
  ownProxy?: true;
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

// ---------------------------------------------------------------------------------------------
// Certificates

/** What may be shown or handed out about the local CA: never its key. */
export interface LocalCaSummary {
  subject: string;
  /** SHA-256 of the DER certificate as AA:BB:…, what a person compares on the other device. */
  fingerprintSha256: string;
  /** ISO times of the CA's validity window. */
  notBefore: string;
  notAfter: string;
  /** Domains (and every name below them) the CA may issue for: its X.509 name constraints. */
  permittedDomains: string[];
  /** "RSA 2048": the key type and size, for people comparing with their own policies. */
  keyType: string;
  /** The CA certificate, PEM: public, the same file the onboarding page hands out. */
  certificatePem: string;
}

/**
 * A route's certificate as the dashboard and the Certificates page show it.
 * - `none`: the route has no HTTPS.
 * - `pending`: being issued (a local CA route just saved).
 * - `valid`: served now; `expiring` when within RENEWAL_WARNING_DAYS of notAfter and not renewed
 *   (custom certificates cannot be renewed by Gatehouse; local ones normally renew long before).
 * - `expired`, `error`: not usable; `problem` says why and what to do.
 */
export type CertificateState = 'none' | 'pending' | 'valid' | 'expiring' | 'expired' | 'error';

/** Days before notAfter at which a certificate counts as `expiring` (and the tray says so). */
export const RENEWAL_WARNING_DAYS = 21;

export interface RouteCertificate {
  routeId: string;
  mode: TlsMode;
  state: CertificateState;
  /** The DNS names in the certificate (its SAN); empty while none is issued. */
  names: string[];
  /** Who issued it: the local CA's subject, or the custom certificate's issuer. */
  issuer: string | null;
  /** ISO times; null while none is issued. */
  notBefore: string | null;
  notAfter: string | null;
  /** SHA-256 of the leaf, as AA:BB:…; null while none is issued. */
  fingerprintSha256: string | null;
  /** When Gatehouse will renew it (local CA only); null otherwise. */
  renewsAt: string | null;
  /** Why it is not valid, with what to do; null when valid. */
  problem: Problem | null;
  /** The ACME side (account, challenge, next renewal and why, last attempt, pre-flight) when mode is "acme"; null otherwise. */
  acme: AcmeRouteState | null;
}

/** An imported certificate, with the facts checked on import. */
export interface CustomCertificate {
  id: string;
  /** What the user called it, or its first name. */
  label: string;
  /** DNS names of its SAN (wildcards included). */
  names: string[];
  /** The leaf's issuer (subject of the next certificate in the chain). */
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
  /** How many certificates of the chain were imported after the leaf. */
  chainLength: number;
  /** Routes that use it: it cannot be removed while any does. */
  usedBy: string[];
  state: Exclude<CertificateState, 'none' | 'pending'>;
  problem: Problem | null;
}

/** A black-and-white QR code: `size` rows of `size` modules, row by row, "1" dark and "0" light. */
export interface QrCode {
  size: number;
  modules: string;
}

/** How other devices get the CA: the onboarding page on the LAN, and a QR code pointing at it. */
export interface Onboarding {
  /** `http://<LAN address>[:port]/ca`, one per LAN address, best first; empty when the proxy is stopped. */
  urls: string[];
  /** The first URL as a QR code; null without a URL. Never a loopback address: a phone cannot reach one. */
  qr: QrCode | null;
  /**
   * Why other devices cannot reach the page while the proxy runs (it listens only on this machine,
   * or this machine has no LAN address), with what to do; null when they can, or the proxy is stopped.
   */
  problem: Problem | null;
}

/** One command of installing (or removing) the CA on this machine, exactly as it will run. */
export interface TrustStep {
  /** Which store, in words: "System certificates (update-ca-certificates)", "Chromium and Chrome (NSS)", "Firefox profile default-release". */
  store: string;
  /** The program and its arguments, as run (no shell). */
  command: string[];
  /** Whether it asks for an administrator password (pkexec, sudo prompt, UAC). */
  needsAdmin: boolean;
}

/** What "Trust on this machine" would do here, and whether the CA is already trusted. */
export interface TrustPlan {
  platform: string;
  /** Whether this machine can do it from here: false with `problem` when a needed tool is missing. */
  supported: boolean;
  install: TrustStep[];
  uninstall: TrustStep[];
  /** Per store: trusted now, or null when it cannot be told without running a command that prompts. */
  installed: { store: string; trusted: boolean | null }[];
  problem: Problem | null;
}

/** What each step of an install or uninstall did. */
export interface TrustResult {
  steps: { store: string; command: string[]; ok: boolean; output: string }[];
  plan: TrustPlan;
}

/** Everything the Certificates page shows. */
export interface CertificatesOverview {
  ca: LocalCaSummary;
  onboarding: Onboarding;
  routes: RouteCertificate[];
  custom: CustomCertificate[];
  /** ACME accounts, DNS providers and the known directories. */
  acme: AcmeOverview;
}

/** A file to save: the CA in a format another device installs. */
export interface CaDownload {
  fileName: string;
  mimeType: string;
  /** The file's bytes, base64. */
  base64: string;
}

// ---------------------------------------------------------------------------------------------
// Discovery (mDNS browse, identification, host probes) and names published on the LAN

/** What Gatehouse recognised a web service as, and why. */
export interface Identification {
  /** The matching preset's id (see getPresets), or null when nothing matched but the page has a title. */
  presetId: string | null;
  /** The app's name ("Jellyfin"), or the page's title when no preset matched. */
  app: string;
  /** How it answered: plain HTTP, or HTTPS (with any certificate; appliances use self-signed ones). */
  scheme: 'http' | 'https';
  /** What matched, in plain words: `title "Jellyfin"`, `GET /System/Info/Public: ProductName "Jellyfin Server"`. */
  evidence: string[];
}

/**
 * One service seen on the LAN over mDNS. Announcements of the same host and port under several
 * types (`_home-assistant._tcp` and `_http._tcp`) are merged into one service.
 */
export interface DiscoveredService {
  /** Stable while the service is seen: `<host>:<port>`, lower case. */
  id: string;
  /** The announced instance name ("Home Assistant", "Living Room TV"). */
  name: string;
  /** Every service type it was announced under, such as "_http._tcp". */
  types: string[];
  /** The SRV target host name ("homeassistant.local"). */
  host: string;
  /** IPv4 addresses first, then IPv6 (link-local last). */
  addresses: string[];
  port: number;
  /** TXT key/values merged from every announcement. */
  txt: Record<string, string>;
  /** ISO times: first announcement, and the latest announcement or answer. */
  firstSeen: string;
  lastSeen: string;
  /** Set once an HTTP(S) probe recognised it; null until then, or when it is not a web service. */
  identification: Identification | null;
  /** Routes whose upstream already points at one of its addresses and its port. */
  routeIds: string[];
}

export type PublishedNameState = 'probing' | 'announced' | 'conflict' | 'stopped';

/** A route's `.local` name as Gatehouse answers for it on the LAN (RFC 6762: probe, announce, defend). */
export interface PublishedName {
  routeId: string;
  name: string;
  /** probing: asking whether another device holds it (under a second); announced: answering; conflict: another device holds it; stopped: mDNS off or the proxy stopped. */
  state: PublishedNameState;
  /** The addresses answered with: this machine's LAN addresses. */
  addresses: string[];
  /** For a conflict: who holds it and what to do; when stopped: why. */
  problem: Problem | null;
  /** For a conflict: a free name to use instead ("jellyfin-2.local"). */
  suggestion: string | null;
  /** A name that resolves on some devices only (more than one label before .local). */
  warning: string | null;
}

/** Everything the Discovery page shows. */
export interface DiscoveryOverview {
  /** browsing: mDNS works; off: turned off in settings (lan.mdns); failed: the socket could not be opened (problem says why). */
  state: 'browsing' | 'off' | 'failed';
  problem: Problem | null;
  /** The service types browsed continuously, such as "_http._tcp" (a documented list). */
  serviceTypes: string[];
  /** Services now on the LAN, most recently first seen first. */
  services: DiscoveredService[];
  /** Every `.local` name of every route marked "publish on LAN". */
  published: PublishedName[];
}

/** The route options one home-lab app needs, and how Gatehouse recognises it. */
export interface AppPreset {
  id: string;
  /** "Jellyfin". */
  app: string;
  /** The first label for its route name ("jellyfin" → jellyfin.local). */
  suggestedName: string;
  /** The ports it listens on out of the box, the usual first. */
  defaultPorts: number[];
  /** How its own port speaks: https for appliances that only serve HTTPS (Proxmox VE, UniFi). */
  scheme: 'http' | 'https';
  /** It needs WebSocket upgrades tunnelled (live updates, sync). */
  websocket: boolean;
  /** Its HTTPS port has a self-signed certificate out of the box: the route must not verify it. */
  insecureUpstreamTls: boolean;
  /** It takes large uploads (media, files, backups); Gatehouse sets no body limit, so this is advice for other proxies in front. */
  largeUploads: boolean;
  /** Anything else to know, in one sentence; null when nothing. */
  notes: string | null;
  /** The health check that suits it (Plex: GET /identity), prefilled into its route; null: the default (GET / passing on 200–499). */
  healthCheck: PresetCheck | null;
  /** Where the fingerprint comes from: the app's public source or documentation (URL). */
  source: string;
}

/** One port of a probed host that accepted a connection. */
export interface ProbedPort {
  port: number;
  /** How it answered HTTP: plain, TLS, or null when it accepted TCP but did not speak HTTP in time. */
  scheme: 'http' | 'https' | null;
  identification: Identification | null;
}

/** The result of "Probe a host". */
export interface HostProbe {
  address: string;
  /** How many ports were tried (the documented list, or the caller's). */
  portsTried: number;
  /** Ports that accepted a connection, in port order; closed and silent ports are left out. */
  open: ProbedPort[];
  tookMs: number;
}
