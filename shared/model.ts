// The domain model shared by the main process and the renderer: routes and settings, and the zod
// schemas that validate them (what the running app reports back is in status.ts). These schemas are
// the only validation there is: the settings file, the admin API, Electron IPC and the UI's forms all
// parse through them, so a rule changes in one place.
// Imports nothing but zod: this file is bundled into the renderer.
import { z } from 'zod';
import { AcmeSettingsSchema, defaultAcmeSettings, RouteAcmeSchema } from './acme.js';
import { HostnameSchema } from './hostname.js';
import { defaultInsightSettings, InsightSettingsSchema } from './insight.js';
import { MAX_STREAMS, portClash, ProxyProtocolVersionSchema, streamClaims, StreamSchema, type PortClaim } from './streams.js';
import { AccessSettingsSchema, defaultAccessSettings, RouteAccessSchema, TRUSTED_FRONTS } from './access.js';
import { RouteRedirectSchema } from './redirect.js';
import { BalancingSchema, defaultBalancing, defaultHealthCheck, defaultUpstreamLimits, HealthCheckSchema, UpstreamLimitsSchema, UpstreamListSchema, UpstreamSchema } from './upstreams.js';

export { parseUpstream, UpstreamSchema } from './upstreams.js';

/** The settings file's current format. Bump it together with a migration in core/settings/migrations.ts. */
export const SETTINGS_VERSION = 10;

// ---------------------------------------------------------------------------------------------
// Names and addresses

// The host name rule lives in hostname.ts so acme.ts (which this file imports) can use it too.
export { HostnameSchema, hostnameProblem, normalizeHostname } from './hostname.js';

/** A single IP address (v4 or v6), as a listener's bind address. */
export const IpAddressSchema = z.union([z.ipv4(), z.ipv6()], {
  error: 'enter an IP address, such as 0.0.0.0 (every interface) or 127.0.0.1 (this machine only)',
});

/** An IP address or CIDR range (v4 or v6), as a trusted-proxy entry. */
export const IpRangeSchema = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
  error: 'enter an IP address or a CIDR range, such as 10.33.0.1 or 10.33.0.0/24',
});

export const PortSchema = z
  .number({ error: 'a port is a whole number from 0 to 65535' })
  .int('a port is a whole number from 0 to 65535')
  .min(0, 'a port is a whole number from 0 to 65535')
  .max(65535, 'a port is a whole number from 0 to 65535');

const ms = (what: string) =>
  z.number({ error: `${what} is a number of milliseconds` }).int(`${what} is a whole number of milliseconds`).min(0, `${what} cannot be negative`);

// ---------------------------------------------------------------------------------------------
// Routes

/** How a route answers on the HTTPS listener. */
export const TLS_MODES = ['none', 'local', 'custom', 'acme', 'passthrough'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** An imported certificate's id, as stored and as the API takes it (Gatehouse assigns 10 characters). */
export const CertificateIdSchema = z
  .string({ error: 'a certificate id is required' })
  .min(1, 'a certificate id is required')
  .max(100, 'a certificate id has at most 100 characters');

/**
 * A route's HTTPS: which certificate it presents, and whether plain HTTP is sent over to HTTPS.
 * - `none`: HTTP only (an HTTPS request for its names gets Gatehouse's neutral certificate).
 * - `local`: a certificate from Gatehouse's local CA, issued when the route is saved and renewed
 *   automatically; every name must lie within the CA's domains.
 * - `custom`: an imported certificate (`certificateId`) that covers every name of the route.
 * - `acme`: a public certificate from an ACME CA (Let's Encrypt), obtained and renewed through
 *   `acme` (account, challenge, DNS provider; see shared/acme.ts).
 * - `passthrough`: Gatehouse does not terminate TLS: the HTTPS listener reads the ClientHello's
 *   name and splices the raw connection to the upstream's port (an app with its own TLS: Proxmox,
 *   UniFi, client certificates). Access is judged by the client's address (exposure, lists,
 *   countries, bans) before a byte reaches the upstream; sign-in, limits per request and header
 *   rules cannot apply. Plain-HTTP requests for its names are redirected to HTTPS.
 */
export const RouteTlsSchema = z
  .object({
    mode: z.enum(TLS_MODES, { error: 'choose how the route uses HTTPS: none, local (Gatehouse\'s CA), custom or acme (Let\'s Encrypt)' }).default('none'),
    /** The imported certificate when `mode` is `custom`; null otherwise. Default: null. */
    certificateId: CertificateIdSchema.nullable().default(null),
    /** How the certificate is obtained when `mode` is `acme`; null otherwise. Default: null. */
    acme: RouteAcmeSchema.nullable().default(null),
    /** Answer plain-HTTP requests with a permanent redirect (308) to https://. Default: false. */
    redirectHttp: z.boolean().default(false),
    /** Send Strict-Transport-Security (max-age one year) on HTTPS responses. Default: false. */
    hsts: z.boolean().default(false),
    /** `passthrough` only: send a PROXY protocol header (v1/v2) to the upstream first, so it sees the real client. Default: off. */
    proxyProtocol: ProxyProtocolVersionSchema.default('off'),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if (tls.mode === 'custom' && tls.certificateId === null) {
      ctx.addIssue({ code: 'custom', path: ['certificateId'], message: 'choose an imported certificate, or import one first' });
    }
    if (tls.mode !== 'custom' && tls.certificateId !== null) {
      ctx.addIssue({ code: 'custom', path: ['certificateId'], message: 'a certificate is chosen only with the "custom" HTTPS mode' });
    }
    if (tls.mode === 'acme' && tls.acme === null) {
      ctx.addIssue({ code: 'custom', path: ['acme'], message: "choose the ACME account (and challenge) the certificate comes through, or add an account on the Certificates page" });
    }
    if (tls.mode !== 'acme' && tls.acme !== null) {
      ctx.addIssue({ code: 'custom', path: ['acme'], message: 'ACME options are set only with the "acme" HTTPS mode' });
    }
    if (tls.mode === 'none' && tls.redirectHttp) {
      ctx.addIssue({ code: 'custom', path: ['redirectHttp'], message: 'redirecting to HTTPS needs a certificate: choose the local CA or a custom certificate' });
    }
    if (tls.mode === 'none' && tls.hsts) {
      ctx.addIssue({ code: 'custom', path: ['hsts'], message: 'HSTS needs a certificate: choose the local CA or a custom certificate' });
    }
    if (tls.mode === 'passthrough' && tls.hsts) {
      ctx.addIssue({ code: 'custom', path: ['hsts'], message: 'a passed-through route\'s responses are the upstream\'s own: set HSTS on the service itself' });
    }
    if (tls.mode !== 'passthrough' && tls.proxyProtocol !== 'off') {
      ctx.addIssue({ code: 'custom', path: ['proxyProtocol'], message: 'the PROXY protocol is sent only when TLS is passed through' });
    }
  });
export type RouteTls = z.output<typeof RouteTlsSchema>;

/** A route without HTTPS, the default for routes saved before Gatehouse had a TLS listener. */
export function noTls(): RouteTls {
  return { mode: 'none', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' };
}

const routeFields = {
  /** What the user calls this service ("Jellyfin"); shown in the UI and on error pages. Default: the first name. */
  title: z.string().trim().max(80, 'a title has at most 80 characters').optional(),
  /** Host names that reach this route: exact names and `*.wildcards`, matched case-insensitively on any port. */
  names: z
    .array(HostnameSchema)
    .min(1, 'a route needs at least one host name')
    .max(100, 'a route has at most 100 host names')
    .superRefine((names, ctx) => {
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is listed twice` });
        seen.add(name);
      }
    }),
  /**
   * Where traffic goes: one or more `http(s)://IP-or-name:port`, each with a weight and the backup
   * and drained flags (see shared/upstreams.ts). An input may give `upstream: "10.33.0.4:8096"`
   * instead, for a route with one server.
   */
  upstreams: UpstreamListSchema,
  /**
   * Answer every request with a redirect instead of forwarding (see shared/redirect.ts): a route
   * with a redirect has no upstreams. Default: null (forward to the upstreams).
   */
  redirect: RouteRedirectSchema.nullable().default(null),
  /** How requests are spread over the upstreams, and how many a request may be tried on. Default: failover, 3 tries. */
  balancing: BalancingSchema.default(defaultBalancing),
  /** How each upstream's health is judged (active checks and passive failures). Default: GET / passing on 200–499. */
  healthCheck: HealthCheckSchema.default(defaultHealthCheck),
  /** A disabled route is kept but answers like an unknown name. Default: true. */
  enabled: z.boolean().default(true),
  /** Tunnel WebSocket upgrades (Home Assistant, Mattermost, Jellyfin's sync need it). Default: true. */
  websocket: z.boolean().default(true),
  /**
   * Accept the upstream's certificate without verifying it, for appliances that only offer a
   * self-signed one (Proxmox, UniFi, Synology). Only meaningful for https:// upstreams. Default: false.
   */
  insecureUpstreamTls: z.boolean().default(false),
  /**
   * Send this Host header upstream instead of the one the client used, for services that only answer
   * to their own name. Default: null (the client's Host is preserved).
   */
  rewriteHost: z
    .string()
    .trim()
    .max(260)
    .regex(/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/, 'enter a host name, optionally with :port, such as nas.lan:5001')
    .nullable()
    .default(null),
  /**
   * Clients whose X-Forwarded-* and Forwarded headers this route believes, instead of the global
   * `proxy.trustedProxies` list (for one service reached through a tunnel or another proxy).
   * Default: null (the global list applies).
   */
  trustedProxies: z
    .array(IpRangeSchema)
    .max(256, 'at most 256 trusted proxy entries')
    .nullable()
    .default(null),
  /** HTTPS for this route's names. Default: none (HTTP only). */
  tls: RouteTlsSchema.default(noTls),
  /**
   * Answer mDNS (multicast DNS) queries for this route's `.local` names with this machine's LAN
   * addresses, so phones and laptops resolve `jellyfin.local` without a DNS server. Only exact names
   * ending in `.local` are published (see publishOnLanProblem). Default: false.
   */
  publishOnLan: z.boolean().default(false),
  /**
   * The app behind the route, as a preset id ("jellyfin", "homeassistant"), when known: its sign-in
   * paths get the tighter login limit, and its own paths are never taken for scanner probes.
   * Default: null (unknown).
   */
  app: z.string().trim().max(40).regex(/^[a-z0-9-]*$/, 'an app is a preset id such as jellyfin').nullable().default(null),
  /** Who may reach the route (see shared/access.ts). Default: this network only, every protection on. */
  access: RouteAccessSchema.default(() => RouteAccessSchema.parse({})),
};

/**
 * `upstream: "10.33.0.4:8096"` (one server, as routes were written before several were possible)
 * becomes `upstreams: [{ url: "10.33.0.4:8096" }]`. Both at once is refused by the strict object
 * (the `upstream` key is unknown there), so nobody wonders which one won.
 */
function upstreamShorthand(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (!Object.hasOwn(record, 'upstream') || Object.hasOwn(record, 'upstreams')) return value;
  const { upstream, ...rest } = record;
  return { ...rest, upstreams: [{ url: upstream }] };
}

const routeInputObject = z.object(routeFields).strict();

/**
 * A forwarding route needs at least one upstream; a redirect route has none (it sends clients
 * elsewhere, so an upstream list would never be used and only mislead).
 */
function upstreamsOrRedirect(route: { upstreams: readonly unknown[]; redirect: unknown; tls: { mode: string } }, ctx: z.RefinementCtx): void {
  if (route.redirect === null) {
    if (route.upstreams.length === 0) ctx.addIssue({ code: 'custom', path: ['upstreams'], message: 'a route needs at least one upstream' });
    return;
  }
  if (route.upstreams.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['upstreams'], message: 'a redirect route has no upstreams: remove them, or turn the redirect off to forward to them' });
  }
  if (route.tls.mode === 'passthrough') {
    ctx.addIssue({ code: 'custom', path: ['redirect'], message: "a passed-through route's HTTPS is the service's own, so Gatehouse cannot answer it with a redirect: choose the local CA, a custom certificate or ACME" });
  }
}

/** What a person (or the API) supplies to create or replace a route. */
export const RouteInputSchema = z.preprocess(upstreamShorthand, routeInputObject.superRefine(upstreamsOrRedirect));
export type RouteInput = z.input<typeof routeInputObject> | (Omit<z.input<typeof routeInputObject>, 'upstreams'> & { upstream: string });

/** An update: a route's id and every field, as RouteInputSchema takes them. */
export const RouteUpdateSchema = z.preprocess(upstreamShorthand, routeInputObject.extend({ id: z.string({ error: 'a route id is required' }).min(1, 'a route id is required').max(100, 'a route id has at most 100 characters') }).superRefine(upstreamsOrRedirect));

/**
 * A route's id, as stored and as the API takes it: one rule for both, so every stored route (an
 * imported one too) can be fetched, changed and deleted. Gatehouse assigns 10 characters.
 */
export const RouteIdSchema = z
  .string({ error: 'a route id is required' })
  .min(1, 'a route id is required')
  .max(100, 'a route id has at most 100 characters');

/** A stored route. `id` is assigned by Gatehouse and never changes. */
export const RouteSchema = z.preprocess(upstreamShorthand, z.object({ id: RouteIdSchema, ...routeFields }).strict().superRefine(upstreamsOrRedirect));
export type Route = z.output<typeof RouteSchema>;

/** The route's names that "publish on LAN" announces over mDNS: exact names ending in `.local`. */
export function lanPublishableNames(names: readonly string[]): string[] {
  return names.filter((name) => name.endsWith('.local') && !name.startsWith('*.'));
}

/**
 * Why a route cannot be published on the LAN as it stands, or null when it can (or does not ask to).
 * The gateway refuses such a route with this message on the `publishOnLan` field; the form shows it.
 */
export function publishOnLanProblem(route: { names: readonly string[]; publishOnLan?: boolean }): string | null {
  if (!route.publishOnLan) return null;
  if (lanPublishableNames(route.names).length > 0) return null;
  return 'publishing on the LAN answers for names ending in .local; add one, such as jellyfin.local, or turn publishing off';
}

/**
 * A warning (not an error) for `.local` names with more than one label before `.local`
 * ("jellyfin.home.local"): Android, Windows and some Linux resolvers only ask mDNS for single-label
 * names, so such a name resolves on some devices and not on others.
 */
export function multiLabelLocalWarning(name: string): string | null {
  if (!name.endsWith('.local') || name.startsWith('*.')) return null;
  const labels = name.split('.').length - 1;
  return labels > 1
    ? `"${name}" has more than one label before .local; many phones and Windows PCs only look up names like "${name.split('.')[0]}.local" over mDNS`
    : null;
}

/**
 * Names claimed by more than one route. An exact name may appear in only one route, and so may a
 * wildcard; an exact name under another route's wildcard is fine (exact names win).
 */
export function findNameConflicts(routes: readonly Pick<Route, 'id' | 'names'>[]): { name: string; routeIds: string[] }[] {
  const owners = new Map<string, string[]>();
  for (const route of routes) {
    for (const name of route.names) {
      const list = owners.get(name) ?? [];
      list.push(route.id);
      owners.set(name, list);
    }
  }
  return [...owners].filter(([, ids]) => ids.length > 1).map(([name, routeIds]) => ({ name, routeIds }));
}

// ---------------------------------------------------------------------------------------------
// Settings

export const TimeoutsSchema = z
  .object({
    /** A client must send its whole request head within this time (slowloris protection). Default: 15000. */
    headersMs: ms('the header timeout').min(1000, 'the header timeout must be at least 1000 ms'),
    /** A client connection that sends nothing while its request body is due, or reads nothing of a response we are writing, is closed after this. Default: 60000. */
    clientIdleMs: ms('the client idle timeout').min(1000, 'the client idle timeout must be at least 1000 ms'),
    /**
     * An idle keep-alive connection from a client is closed after this (Node's HTTP server waits one
     * extra second, so the client, told this value in Keep-Alive, always closes first). Default: 5000.
     */
    keepAliveMs: ms('the keep-alive timeout').min(100, 'the keep-alive timeout must be at least 100 ms (0 would keep idle connections open forever)'),
    /** Connecting to an upstream may take this long before the request fails with 504. Default: 5000. */
    upstreamConnectMs: ms('the upstream connect timeout').min(100, 'the upstream connect timeout must be at least 100 ms'),
    /** An upstream must send its response head within this time, or the request fails with 504. Default: 60000. */
    upstreamHeadersMs: ms('the upstream header timeout').min(100, 'the upstream header timeout must be at least 100 ms'),
    /**
     * An upstream response body silent this long is cut (a service that promised more bytes than it
     * sends); 0 never cuts. Event streams (text/event-stream) are exempt: their silence is normal.
     * Default: 60000 (nginx: 60 s, HAProxy: 30 s).
     */
    upstreamBodyIdleMs: ms('the upstream body idle timeout'),
    /** A WebSocket with no traffic either way for this long is closed. Default: 3600000 (1 h). */
    websocketIdleMs: ms('the WebSocket idle timeout').min(1000, 'the WebSocket idle timeout must be at least 1000 ms'),
  })
  .strict();
export type Timeouts = z.output<typeof TimeoutsSchema>;

/** Who may see the details of a failure on an error page (see ProxySettings.errorDetails). */
export const ERROR_DETAIL_AUDIENCES = ['local-network', 'this-machine', 'nobody'] as const;
export type ErrorDetailAudience = (typeof ERROR_DETAIL_AUDIENCES)[number];

export const ProxySettingsSchema = z
  .object({
    /** Plain HTTP listener port. Default: 80. 0 picks a free port (tests). */
    httpPort: PortSchema,
    /** HTTPS listener port, used once TLS is configured. Default: 443. */
    httpsPort: PortSchema,
    /** Address the proxy listens on. Default: 0.0.0.0 (every interface, so the LAN can reach it). */
    bindAddress: IpAddressSchema,
    /** Clients whose X-Forwarded-* and Forwarded headers are believed (another proxy in front). Default: none. */
    trustedProxies: z.array(IpRangeSchema).max(256, 'at most 256 trusted proxy entries'),
    /** Start the proxy when the app starts. Default: true. */
    startOnLaunch: z.boolean(),
    timeouts: TimeoutsSchema,
    /**
     * Who sees the details of a failure (the upstream's address, the cause, the fix) on the error
     * page: "local-network" (clients on this machine or on one of its own subnets), "this-machine"
     * (loopback only) or "nobody". Everyone else gets a page that names only the service. The log
     * and the dashboard always have the details. Default: "local-network".
     */
    errorDetails: z.enum(ERROR_DETAIL_AUDIENCES, { error: 'error details go to "local-network", "this-machine" or "nobody"' }),
    /**
     * Named lists of proxies in front of Gatehouse whose published ranges are trusted like
     * trustedProxies ("cloudflare": Cloudflare's IPv4 and IPv6 ranges). Default: none.
     */
    trustedFronts: z.array(z.enum(TRUSTED_FRONTS, { error: 'a trusted front is "cloudflare"' })).max(TRUSTED_FRONTS.length),
    /**
     * Peers that open every connection with a PROXY protocol header (v1 or v2; HAProxy, a tunnel,
     * a load balancer): the client address is taken from it. A connection from one of these without
     * the header is closed; other peers may not send one. Default: none.
     */
    proxyProtocolFrom: z.array(IpRangeSchema).max(64, 'at most 64 PROXY protocol peers'),
    /**
     * Connections to one upstream address at once, one client's share of them, and how long a
     * request waits for one before a 503 (see docs/upstream-limits.md). Default: 256, 64, 10000 ms.
     */
    upstreamLimits: UpstreamLimitsSchema,
  })
  .strict();
export type ProxySettings = z.output<typeof ProxySettingsSchema>;

export const AdminSettingsSchema = z
  .object({
    /** Port of the headless admin API and web UI. Default: 4780. */
    port: PortSchema,
    /** Address the admin API listens on. Default: 127.0.0.1 (this machine only). */
    bindAddress: IpAddressSchema,
    /**
     * Host names the admin answers to besides this machine's own names and addresses (a name you
     * gave this machine in your router's DNS, say). Any other Host header is refused, which stops
     * DNS-rebinding attacks from a web page. Default: none.
     */
    allowedHosts: z.array(HostnameSchema).max(32, 'at most 32 extra admin host names'),
  })
  .strict();
export type AdminSettings = z.output<typeof AdminSettingsSchema>;

export const LogSettingsSchema = z
  .object({
    /** Write one access-log line per request to access.log in the data directory. Default: true. */
    accessLog: z.boolean(),
    /** Rotate access.log when it reaches this many bytes. Default: 10485760 (10 MiB). */
    maxFileBytes: z.number().int().min(65536, 'the log file size must be at least 65536 bytes').max(1 << 30, 'the log file size is at most 1 GiB'),
    /** Rotated files kept (access.log.1 … access.log.N). Default: 5. */
    keepFiles: z.number().int().min(1, 'keep at least 1 rotated log file').max(50, 'keep at most 50 rotated log files'),
    /**
     * Also write every request in nginx's "combined" format to access-combined.log in the data
     * directory (rotated like access.log), for CrowdSec's nginx parser and other log tools
     * (docs/crowdsec.md). Independent of accessLog. Default: false.
     */
    combinedLog: z.boolean(),
  })
  .strict();
export type LogSettings = z.output<typeof LogSettingsSchema>;

export const AppSettingsSchema = z
  .object({
    /** Start Gatehouse (in the tray) when the user logs in to the desktop; desktop app only. Default: false. */
    startAtLogin: z.boolean(),
    /** The first-run guide was finished or skipped; it is not shown again. Default: false (true for files from version 1). */
    onboarded: z.boolean(),
  })
  .strict();
export type AppSettings = z.output<typeof AppSettingsSchema>;

export const LanSettingsSchema = z
  .object({
    /**
     * Use multicast DNS on the LAN: browse for services (the Discovery page) and answer for routes
     * marked "publish on LAN". Off sends and answers nothing. Default: true.
     */
    mdns: z.boolean(),
  })
  .strict();
export type LanSettings = z.output<typeof LanSettingsSchema>;

/** Every setting except the routes: what the Settings page edits. */
export const GeneralSettingsSchema = z
  .object({ proxy: ProxySettingsSchema, admin: AdminSettingsSchema, log: LogSettingsSchema, app: AppSettingsSchema, lan: LanSettingsSchema })
  .strict();
export type GeneralSettings = z.output<typeof GeneralSettingsSchema>;

/** A change to some settings: any section, any field; what is left out stays as it is. */
export const SettingsPatchSchema = z
  .object({
    proxy: ProxySettingsSchema.extend({ timeouts: TimeoutsSchema.partial() }).partial(),
    admin: AdminSettingsSchema.partial(),
    log: LogSettingsSchema.partial(),
    app: AppSettingsSchema.partial(),
    lan: LanSettingsSchema.partial(),
  })
  .partial()
  .strict();
export type SettingsPatch = z.input<typeof SettingsPatchSchema>;

/** The whole settings file. */
export const SettingsSchema = GeneralSettingsSchema.extend({
  version: z.literal(SETTINGS_VERSION),
  /** Access lists, sign-in providers, CrowdSec: edited through the access endpoints, not updateSettings. */
  access: AccessSettingsSchema,
  /** ACME accounts and DNS providers: edited through the ACME endpoints, not updateSettings. */
  acme: AcmeSettingsSchema,
  /** TCP, UDP and FTP streams (shared/streams.ts): edited through the stream endpoints. */
  streams: z.array(StreamSchema).max(MAX_STREAMS, `at most ${MAX_STREAMS} streams`),
  /** The request inspector's routes and the backup schedule (shared/insight.ts): edited through their endpoints. */
  insight: InsightSettingsSchema,
  routes: z.array(RouteSchema).superRefine((routes, ctx) => {
    const ids = new Set<string>();
    for (const route of routes) {
      if (ids.has(route.id)) ctx.addIssue({ code: 'custom', message: `two routes share the id "${route.id}"` });
      ids.add(route.id);
    }
    for (const conflict of findNameConflicts(routes)) {
      ctx.addIssue({ code: 'custom', message: `"${conflict.name}" belongs to more than one route` });
    }
  }),
})
  .strict()
  .superRefine((settings, ctx) => {
    // A route may only point at lists and providers that exist: the access endpoints refuse to
    // remove one in use, so a dangling id is a hand-edited file, refused with the route named.
    const lists = new Set(settings.access.lists.map((list) => list.id));
    const providers = new Set(settings.access.providers.map((provider) => provider.id));
    const acmeAccounts = new Set(settings.acme.accounts.map((account) => account.id));
    const dnsProviders = new Set(settings.acme.dnsProviders.map((provider) => provider.id));
    for (const [i, route] of settings.routes.entries()) {
      const acme = route.tls.acme;
      if (acme && !acmeAccounts.has(acme.accountId)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'tls', 'acme', 'accountId'], message: `route "${route.title || route.names[0]}" uses ACME account "${acme.accountId}", which does not exist` });
      }
      if (acme?.dnsProviderId && !dnsProviders.has(acme.dnsProviderId)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'tls', 'acme', 'dnsProviderId'], message: `route "${route.title || route.names[0]}" uses DNS provider "${acme.dnsProviderId}", which does not exist` });
      }
      for (const id of route.access.lists) {
        if (!lists.has(id)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'access', 'lists'], message: `route "${route.title || route.names[0]}" uses access list "${id}", which does not exist` });
      }
      const signIn = route.access.signIn;
      if (signIn.method === 'forward' && !providers.has(signIn.providerId)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'access', 'signIn', 'providerId'], message: `route "${route.title || route.names[0]}" uses sign-in provider "${signIn.providerId}", which does not exist` });
      }
      if (route.tls.mode === 'passthrough' && signIn.method !== 'none') {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'access', 'signIn'], message: `route "${route.title || route.names[0]}" passes TLS through, so Gatehouse never sees its requests and cannot ask for a sign-in; turn sign-in off, or let Gatehouse terminate TLS` });
      }
    }
    checkStreams(settings, lists, ctx);
    const routeIds = new Set(settings.routes.map((route) => route.id));
    const inspected = new Set<string>();
    for (const [i, entry] of settings.insight.inspector.entries()) {
      if (!routeIds.has(entry.routeId)) ctx.addIssue({ code: 'custom', path: ['insight', 'inspector', i, 'routeId'], message: `the request inspector is on for route "${entry.routeId}", which does not exist` });
      if (inspected.has(entry.routeId)) ctx.addIssue({ code: 'custom', path: ['insight', 'inspector', i, 'routeId'], message: `the request inspector lists route "${entry.routeId}" twice` });
      inspected.add(entry.routeId);
    }
  });
export type Settings = z.output<typeof SettingsSchema>;

/** Streams point only at lists and routes that exist, and no two listeners share a port. */
function checkStreams(settings: Omit<Settings, 'version'>, lists: ReadonlySet<string>, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  const routes = new Map(settings.routes.map((route) => [route.id, route]));
  for (const [i, stream] of settings.streams.entries()) {
    if (ids.has(stream.id)) ctx.addIssue({ code: 'custom', path: ['streams', i, 'id'], message: `two streams share the id "${stream.id}"` });
    ids.add(stream.id);
    for (const id of stream.access.lists) {
      if (!lists.has(id)) ctx.addIssue({ code: 'custom', path: ['streams', i, 'access', 'lists'], message: `stream "${stream.title}" uses access list "${id}", which does not exist` });
    }
    const routeId = stream.ftp?.certificateRouteId;
    if (routeId) {
      const route = routes.get(routeId);
      if (!route) ctx.addIssue({ code: 'custom', path: ['streams', i, 'ftp', 'certificateRouteId'], message: `stream "${stream.title}" takes its FTPS certificate from route "${routeId}", which does not exist` });
      else if (route.tls.mode === 'none' || route.tls.mode === 'passthrough') {
        ctx.addIssue({ code: 'custom', path: ['streams', i, 'ftp', 'certificateRouteId'], message: `stream "${stream.title}" takes its FTPS certificate from route "${route.title || route.names[0]}", which has no certificate of Gatehouse's; give that route HTTPS (local CA, custom or Let's Encrypt) or choose another` });
      }
    }
  }
  const claims: PortClaim[] = [
    { transport: 'tcp', from: settings.proxy.httpPort, to: settings.proxy.httpPort, owner: "the proxy's HTTP port" },
    { transport: 'tcp', from: settings.proxy.httpsPort, to: settings.proxy.httpsPort, owner: "the proxy's HTTPS port" },
    { transport: 'tcp', from: settings.admin.port, to: settings.admin.port, owner: "the admin port" },
  ];
  for (const stream of settings.streams) claims.push(...streamClaims(stream));
  // The proxy's own ports are checked against each other elsewhere (checkPorts): only clashes that involve a stream are reported here.
  const clash = portClash(claims, 3);
  if (clash) ctx.addIssue({ code: 'custom', path: ['streams'], message: clash.message });
}

/** The defaults, in one place: every field's documented default above is the value here. */
export function defaultSettings(): Settings {
  return {
    version: SETTINGS_VERSION,
    proxy: {
      httpPort: 80,
      httpsPort: 443,
      bindAddress: '0.0.0.0',
      trustedProxies: [],
      startOnLaunch: true,
      timeouts: {
        headersMs: 15_000,
        clientIdleMs: 60_000,
        keepAliveMs: 5_000,
        upstreamConnectMs: 5_000,
        upstreamHeadersMs: 60_000,
        upstreamBodyIdleMs: 60_000,
        websocketIdleMs: 3_600_000,
      },
      errorDetails: 'local-network',
      trustedFronts: [],
      proxyProtocolFrom: [],
      upstreamLimits: defaultUpstreamLimits(),
    },
    admin: { port: 4780, bindAddress: '127.0.0.1', allowedHosts: [] },
    log: { accessLog: true, maxFileBytes: 10 * 1024 * 1024, keepFiles: 5, combinedLog: false },
    app: { startAtLogin: false, onboarded: false },
    lan: { mdns: true },
    access: defaultAccessSettings(),
    acme: defaultAcmeSettings(),
    streams: [],
    insight: defaultInsightSettings(),
    routes: [],
  };
}

/** Applies a validated patch to general settings, returning a new object (the input is not changed). */
export function applySettingsPatch(current: GeneralSettings, patch: z.output<typeof SettingsPatchSchema>): GeneralSettings {
  return {
    proxy: {
      ...current.proxy,
      ...patch.proxy,
      timeouts: { ...current.proxy.timeouts, ...patch.proxy?.timeouts },
    },
    admin: { ...current.admin, ...patch.admin },
    log: { ...current.log, ...patch.log },
    app: { ...current.app, ...patch.app },
    lan: { ...current.lan, ...patch.lan },
  };
}
