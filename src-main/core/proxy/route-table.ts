// Routes are provisioned once, when they change: names indexed for an O(1) lookup, upstreams
// resolved to pools, defaults applied. The request path only ever reads a finished table, and a
// change builds a new one and swaps it in, so a request keeps the route it started with.
import type { RouteAccess } from '../../../shared/access.js';
import type { Route, RouteTls } from '../../../shared/model.js';
import type { RouteRedirect } from '../../../shared/redirect.js';
import type { Balancing, HealthCheck, UpstreamTarget } from '../../../shared/upstreams.js';
import { noPasses, type PassFactory, type RequestPass } from './passes/pass.js';
import { TrustedProxies } from './request-head.js';
import { Balancer } from '../upstreams/balancer.js';
import { noHealth, type HealthView } from '../upstreams/health-view.js';
import type { Upstream, UpstreamRegistry } from '../upstreams/registry.js';

/** One of a route's upstreams: as configured, and its pool. */
export interface RouteUpstream {
  readonly target: Readonly<UpstreamTarget>;
  readonly upstream: Upstream;
}

export interface ProvisionedRoute {
  readonly id: string;
  /** What the user calls it: the title, or the first name. */
  readonly title: string;
  /** Every upstream, in the route's order (none for a redirect route). */
  readonly upstreams: readonly RouteUpstream[];
  /** A redirect route's redirect (answered instead of forwarding), or null. */
  readonly redirect: Readonly<RouteRedirect> | null;
  readonly balancing: Readonly<Balancing>;
  readonly healthCheck: Readonly<HealthCheck>;
  /** Picks the upstream for each attempt of a request (see upstreams/balancer.ts). */
  readonly balancer: Balancer;
  readonly websocket: boolean;
  /** Host header to send upstream instead of the client's, or null to preserve it. */
  readonly rewriteHost: string | null;
  /** Whose X-Forwarded-* / Forwarded this route believes: its own list, or the global one. */
  readonly trusted: TrustedProxies;
  /** HTTPS: the certificate mode, redirecting plain HTTP, HSTS. */
  readonly tls: Readonly<RouteTls>;
  /** Who may reach it, as saved (the passes below are compiled from it). */
  readonly access: Readonly<RouteAccess>;
  /** The app preset behind it ("jellyfin"), or null. */
  readonly app: string | null;
  /** The passes a request runs after matching this route, in order (see passes/pass.ts). */
  readonly passes: readonly RequestPass[];
}

export class RouteTable {
  /** Exact names → route. */
  private readonly exact = new Map<string, ProvisionedRoute>();
  /** For `*.home.arpa`: "home.arpa" → route. A wildcard covers exactly one label, as in TLS. */
  private readonly wildcard = new Map<string, ProvisionedRoute>();
  readonly routes: readonly ProvisionedRoute[];
  readonly upstreamKeys: ReadonlySet<string>;

  /**
   * `trusted` is the global trusted-proxy list, for routes without their own; `passesFor` builds
   * each route's passes from the access settings in force.
   */
  constructor(
    routes: readonly Route[],
    upstreams: UpstreamRegistry,
    connectTimeoutMs: number,
    trusted: TrustedProxies = new TrustedProxies([]),
    passesFor: PassFactory = noPasses,
    health: HealthView = noHealth,
    /** Keys the sticky cookie's tags (see upstreams/balancer.ts). */
    stickyKey: Buffer = Buffer.alloc(32),
  ) {
    const provisioned: ProvisionedRoute[] = [];
    const keys = new Set<string>();
    for (const route of routes) {
      if (!route.enabled) continue;
      const list = route.upstreams.map((target) => ({ target, upstream: upstreams.get({ origin: target.url, insecureTls: route.insecureUpstreamTls, connectTimeoutMs }) }));
      for (const item of list) keys.add(item.upstream.key);
      const base: Omit<ProvisionedRoute, 'passes'> = {
        id: route.id,
        title: route.title || route.names[0] || route.id,
        upstreams: list,
        redirect: route.redirect,
        balancing: route.balancing,
        healthCheck: route.healthCheck,
        balancer: new Balancer(route.id, list, route.balancing, health, stickyKey),
        websocket: route.websocket,
        rewriteHost: route.rewriteHost,
        // The named fronts (Cloudflare) stand in front of every route, whichever list it uses.
        trusted: route.trustedProxies === null ? trusted : trusted.withEntries(route.trustedProxies),
        // A redirect or HSTS without a certificate is refused when saved; held here all the same, so
        // plain HTTP is never sent to an HTTPS that has nothing to serve.
        // A passed-through route's names are HTTPS-only: plain HTTP is always redirected (308).
        tls: route.tls.mode === 'none' ? { ...route.tls, redirectHttp: false, hsts: false } : route.tls.mode === 'passthrough' ? { ...route.tls, redirectHttp: true, hsts: false } : route.tls,
        access: route.access,
        app: route.app,
      };
      const entry: ProvisionedRoute = { ...base, passes: passesFor(route, base) };
      provisioned.push(entry);
      for (const name of route.names) {
        if (name.startsWith('*.')) this.wildcard.set(name.slice(2), entry);
        else this.exact.set(name, entry);
      }
    }
    this.routes = provisioned;
    this.upstreamKeys = keys;
  }

  /** The route for a normalized host name (lower case, no port, no trailing dot), if any. */
  match(hostname: string): ProvisionedRoute | undefined {
    const exact = this.exact.get(hostname);
    if (exact) return exact;
    if (this.wildcard.size === 0) return undefined;
    const dot = hostname.indexOf('.');
    return dot > 0 ? this.wildcard.get(hostname.slice(dot + 1)) : undefined;
  }
}
