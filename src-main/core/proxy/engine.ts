// The proxy engine: routes, settings and the request path. A request runs these passes in order —
// admit (limits → target (Host) → route, and over TLS the SNI's route) → the route's passes (client
// address → access → scanners → limits → sign-in; passes/pass.ts) → forward — and ends in exactly
// one access-log entry, whichever listener and protocol (HTTP/1.1, HTTP/2) it came by. The
// listeners that accept it are listeners.ts's; a WebSocket or other Upgrade takes the same passes
// on a raw socket in upgrade-path.ts. Routes and settings can change at any time: a change
// provisions a new route table and swaps it in, so requests and WebSockets already under way
// finish on the route they started with.
import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ProxySettings, Route } from '../../../shared/model.js';
import type { AccessLogEntry, ListenerInfo, StatsSnapshot } from '../../../shared/status.js';
import { ConnectionFront } from '../net/connection-front.js';
import { OwnNetworks } from '../net/own-networks.js';
import { detailAudience, requestSeesDetails, type DetailAudience } from './error-audience.js';
import { acceptsHtml, renderErrorPage } from './error-page.js';
import { ProxyError, REFUSAL_CODES } from './errors.js';
import { bytesReadSinceLastRequest, Exchange, type ExchangeTap } from './exchange.js';
import { closesAfterFaultyFraming, MAX_HEADER_BYTES, MAX_HEADERS } from './http1-server.js';
import { redirectLocation } from '../../../shared/redirect.js';
import { forward } from './forward.js';
import { noHealth, type UpstreamHealthLink } from '../upstreams/health-view.js';
import { HTTP2_PSEUDO_HEADERS, ProxyListeners } from './listeners.js';
import { hostnameOf, http2RequestTarget, loggedClient, peerAddress, requestTarget, TrustedProxies, upstreamHeaders, type RequestTarget } from './request-head.js';
import { ANSWERED, noPasses, runPasses, type PassFactory, type PassOutcome, type PassRequest } from './passes/pass.js';
import { RouteTable, type ProvisionedRoute } from './route-table.js';
import { outcomeOf, ProxyStats, type BucketCounts } from './stats.js';
import { Passthrough, type ConnectionJudge } from './passthrough.js';
import type { ConnectionAccess } from '../access/access-rules.js';
import { ACME_CHALLENGE_PATH, type ChallengeAnswers, type PublicPages, type RouteCertificates } from './tls-certificates.js';
import { normalizedServername } from './tls-listener.js';
import { UpstreamRegistry } from '../upstreams/registry.js';
import { handleUpgrade, type UpgradeHost } from './upgrade-path.js';

export { MAX_HEADER_BYTES, MAX_HEADERS };
/** How long a stop waits for requests under way before cutting them. */
const STOP_GRACE_MS = 10_000;
/** Sent on HTTPS responses of routes with HSTS on: one year, the value browsers' preload lists ask for. */
const HSTS_VALUE = 'max-age=31536000';

export interface ProxyEngineOptions {
  settings: ProxySettings;
  /**
   * Called once per finished request, refused ones included; `req` is the request (null for a
   * connection refused before it sent one), for the combined log's Referer and User-Agent.
   */
  onRequestLogged?: (entry: AccessLogEntry, req: IncomingMessage | null) => void;
  /** Told when an upstream answers or cannot be reached, and asked which are available. Default: all are. */
  health?: UpstreamHealthLink;
  /** How long stop() lets requests under way finish. Default: 10000 ms. */
  stopGraceMs?: number;
  /**
   * Certificates for the HTTPS listener. With them, start() binds HTTPS on settings.httpsPort as
   * well as HTTP (both or neither); without them, HTTP only.
   */
  certificates?: RouteCertificates;
  /** Pages Gatehouse serves itself on the HTTP listener (the CA onboarding page). Default: none. */
  publicPages?: PublicPages;
  /** ACME HTTP-01 answers, served on the HTTP listener ahead of routing. Default: none. */
  challenges?: ChallengeAnswers;
  /** This machine's addresses and subnets, for proxy.errorDetails. Default: read from the OS. */
  ownNetworks?: OwnNetworks;
  /** Builds each route's access, limit and sign-in passes. Default: none (every route open). */
  passesFor?: PassFactory;
  /** Open connections one client address may hold (access.maxConnectionsPerClient); 0 = no limit. Default: 0. */
  maxConnectionsPerClient?: number;
  /** Keys the sticky cookie's tags; keep it across restarts so sessions stay pinned. Default: random per engine. */
  stickyKey?: Buffer;
  /**
   * Judges a passed-through route's connections by client address (AccessRules.connectionJudge),
   * built once per route-table build. Default: none (every address admitted).
   */
  connectionJudge?: (access: ConnectionAccess) => ConnectionJudge;
  /** The request inspector (insight/inspector.ts): asked once per routed request. Default: none. */
  inspector?: { begin(routeId: string, ex: Exchange): ExchangeTap | null };
  /** Keep the history's per-request buckets (drained by drainHistory). Default: true. */
  recordHistory?: boolean;
}

export class ProxyEngine {
  private settings: ProxySettings;
  private routes: readonly Route[] = [];
  private readonly upstreams = new UpstreamRegistry();
  private table: RouteTable;
  private trusted: TrustedProxies;
  private readonly ownNetworks: OwnNetworks;
  /** Who sees a failure's detail on the error page; from settings.errorDetails. */
  private detailsAllowed: DetailAudience;
  private readonly counters: ProxyStats;
  private readonly onRequestLogged: (entry: AccessLogEntry, req: IncomingMessage | null) => void;
  private readonly stopGraceMs: number;
  private readonly tunnels = new Set<Duplex>();
  /** Connections answered with `Connection: close` over an unread body: nothing after it is trusted. */
  private readonly closing = new WeakSet<Duplex>();
  private active = 0;
  private idle: (() => void) | null = null;
  private readonly forwardDeps;
  private readonly upgradeHost: UpgradeHost;
  private passesFor: PassFactory;
  private readonly health: UpstreamHealthLink;
  private readonly certificates: RouteCertificates | null;
  private readonly publicPages: PublicPages | null;
  private readonly challenges: ChallengeAnswers | null;
  /** PROXY protocol headers and the per-client connection cap, before HTTP or TLS (both listeners). */
  private readonly front: ConnectionFront;
  private readonly listeners: ProxyListeners;
  private stickyKey: Buffer;
  private readonly connectionJudge: ((access: ConnectionAccess) => ConnectionJudge) | null;
  /** Passed-through routes' judges, rebuilt with the route table; empty: no ClientHello is read ahead. */
  private passthroughJudges = new Map<string, ConnectionJudge | null>();
  private readonly inspector: NonNullable<ProxyEngineOptions['inspector']> | null;

  constructor(options: ProxyEngineOptions) {
    this.counters = new ProxyStats(options.recordHistory ?? true);
    this.stickyKey = options.stickyKey ?? randomBytes(32);
    this.connectionJudge = options.connectionJudge ?? null;
    this.inspector = options.inspector ?? null;
    this.settings = options.settings;
    this.upstreams.setLimits(options.settings.upstreamLimits);
    this.certificates = options.certificates ?? null;
    this.publicPages = options.publicPages ?? null;
    this.challenges = options.challenges ?? null;
    this.onRequestLogged = options.onRequestLogged ?? (() => {});
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
    this.trusted = trustedFrom(options.settings);
    this.ownNetworks = options.ownNetworks ?? new OwnNetworks();
    this.front = new ConnectionFront({
      peerOf: (socket) => peerAddress(socket),
      exempt: (address) => this.ownNetworks.isOwnNetwork(address) || this.trusted.has(address),
      onBadHeader: (peer, reason) => console.warn(`gatehouse: closed a connection from ${peer}, which must send a PROXY protocol header: ${reason}`),
    });
    this.front.setProxyProtocolFrom(options.settings.proxyProtocolFrom);
    this.front.setLimit(options.maxConnectionsPerClient ?? 0);
    this.detailsAllowed = detailAudience(options.settings.errorDetails, this.ownNetworks);
    this.health = options.health ?? noHealth;
    this.passesFor = options.passesFor ?? noPasses;
    this.table = new RouteTable([], this.upstreams, options.settings.timeouts.upstreamConnectMs, this.trusted, this.passesFor, this.health, this.stickyKey);
    const engine = this;
    this.forwardDeps = {
      get timeouts() {
        return engine.settings.timeouts;
      },
      health: this.health,
      fail: (ex: Exchange, error: ProxyError) => this.fail(ex, error),
    };
    this.upgradeHost = {
      closing: this.closing,
      tunnels: this.tunnels,
      health: this.health,
      counters: this.counters,
      timeouts: () => this.settings.timeouts,
      trusted: () => this.trusted,
      admit: (req, seen, socket) => this.admit(req, seen, socket),
      seesDetails: (req, peer, trusted) => this.seesDetails(req, peer, trusted),
      servesHttps: (route) => this.servesHttps(route),
      httpsLocation: (target) => this.httpsLocation(target),
      headersFor: (req, peer, via, route) => this.headersFor(req, peer, via, route),
      log: (entry, req) => this.log(entry, 0, req),
    };
    this.listeners = new ProxyListeners(
      {
        request: (req, res, socket, secure, h2) => this.onRequest(req, res, socket, secure, h2),
        upgrade: (req, socket, head, secure) => handleUpgrade(this.upgradeHost, req, socket, head, secure),
        refused: (entry) => this.log(entry, 0, null),
        detailsAllowed: (address) => this.detailsAllowed(address),
        routeForName: (name) => this.table.match(name)?.id ?? null,
      },
      this.front,
      this.certificates,
      new Passthrough({
        route: (name) => this.table.match(name),
        any: () => this.passthroughJudges.size > 0,
        judge: (route) => this.passthroughJudges.get(route.id) ?? null,
        health: this.health,
        counters: this.counters,
        connectTimeoutMs: () => this.settings.timeouts.upstreamConnectMs,
        idleMs: () => this.settings.timeouts.websocketIdleMs,
        log: (entry) => this.log(entry, 0, null),
        tunnels: this.tunnels,
      }),
    );
  }

  get http(): ListenerInfo | null {
    return this.listeners.http;
  }

  get https(): ListenerInfo | null {
    return this.listeners.https;
  }

  /** Provisions `routes` and swaps them in atomically; requests under way keep their old route. */
  setRoutes(routes: readonly Route[]): void {
    this.routes = routes;
    this.provision();
  }

  /**
   * Timeouts, trusted proxies and fronts, and PROXY protocol peers apply at once (to new
   * connections, for the last); a port or address change applies at the next start().
   */
  applySettings(settings: ProxySettings): void {
    // Both are compiled into the route table (pools, and the list routes without their own use).
    const trusted = trustedFrom(settings);
    // The pools' connection cap follows upstreamLimits.connections (registry.ts): new pools for a new one.
    const reprovision =
      settings.timeouts.upstreamConnectMs !== this.settings.timeouts.upstreamConnectMs ||
      trusted.key !== this.trusted.key ||
      settings.upstreamLimits.connections !== this.settings.upstreamLimits.connections;
    this.settings = settings;
    this.trusted = trusted;
    this.upstreams.setLimits(settings.upstreamLimits);
    this.front.setProxyProtocolFrom(settings.proxyProtocolFrom);
    this.detailsAllowed = detailAudience(settings.errorDetails, this.ownNetworks);
    this.listeners.applyTimeouts(settings.timeouts);
    if (reprovision) this.provision();
  }

  /** A restore brought another sticky-cookie key: route tables built from now on (the next setRoutes) use it. */
  useStickyKey(key: Buffer): void {
    this.stickyKey = key;
  }

  /** Open connections one client address may hold (access.maxConnectionsPerClient); 0 = no limit. New connections only. */
  setConnectionLimit(limit: number): void {
    this.front.setLimit(limit);
  }

  /** The global trusted proxies (proxy.trustedProxies and trustedFronts) in force. */
  get trustedProxies(): TrustedProxies {
    return this.trusted;
  }

  /** Open connections counted for `address` on both listeners (0 when exempt or no limit is set). */
  openConnectionsFrom(address: string): number {
    return this.front.openFrom(address);
  }

  /**
   * Builds every route's passes again (with `passesFor`, when given): access lists, providers, users
   * or CrowdSec changed. Requests under way finish with the passes they started with.
   */
  refreshPasses(passesFor?: PassFactory): void {
    if (passesFor) this.passesFor = passesFor;
    this.provision();
  }

  /** The id of the route that answers requests for `authority` (host[:port]) now, or null when none does. */
  routeIdFor(authority: string): string | null {
    return this.table.match(hostnameOf(authority))?.id ?? null;
  }

  /** An upstream address's gate (see docs/upstream-limits.md): requests under way, waiting, refused as busy; null when no route uses it and none of its requests is under way or waiting. */
  upstreamLoad(address: string): { inFlight: number; waiting: number; busyRefusals: number } | null {
    return this.upstreams.load(address);
  }

  stats(): StatsSnapshot {
    return this.counters.snapshot(this.routes.map((r) => r.id));
  }

  /** The history sampler's read (insight/history-sampler.ts): each route's counts since the last drain. */
  drainHistory(visit: (routeId: string, route: BucketCounts, upstreams: ReadonlyMap<string, BucketCounts>) => void): void {
    this.counters.drain(visit);
  }

  /**
   * Binds the HTTP listener, and the HTTPS one when the engine has certificates: both or neither.
   * Rejects with a ListenError that names the port and says how to fix it.
   */
  async start(): Promise<ListenerInfo> {
    if (this.listeners.http) return this.listeners.http;
    const listener = await this.listeners.start(this.settings);
    this.provision();
    return listener;
  }

  /** Stops accepting; requests under way get the grace period, then everything is closed. */
  async stop(): Promise<void> {
    const closing = this.listeners.beginStop();
    if (!closing) return;
    if (this.active > 0) {
      const drained = new Promise<void>((resolve) => (this.idle = resolve));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stopGraceMs)))]);
      clearTimeout(timer);
      this.idle = null;
    }
    closing.cut();
    for (const socket of this.tunnels) socket.destroy();
    this.tunnels.clear();
    await this.upstreams.destroyAll();
    await closing.closed;
  }

  // -------------------------------------------------------------------------------------------
  // The request path

  /** `socket`: the connection (Node unsets req.socket once a body is read, and bytesIn needs it). */
  private onRequest(req: IncomingMessage, res: ServerResponse, socket: Socket, secure: boolean, h2: boolean): void {
    // Node parses requests pipelined behind a refused one before the refusal closes the connection;
    // their bytes were framed by a body we never vouched for (that is what smuggling looks like).
    if (this.closing.has(socket)) return;
    if (!h2 && closesAfterFaultyFraming(req, res)) this.closing.add(socket);
    const peer = peerAddress(socket);
    const ex = new Exchange(req, res, peer, secure, h2, socket);
    ex.respond = (status, headers, body) => this.answer(ex, status, headers, body);
    this.active++;
    res.once('close', () => this.finish(ex, socket));
    if (!secure && this.answerChallenge(ex)) return;
    let route;
    try {
      route = ex.route = this.admit(req, ex, socket);
    } catch (error) {
      ex.client = loggedClient(req, peer, this.trusted);
      // Gatehouse's own pages (the CA onboarding page) live on names no route claims, on HTTP.
      if (!secure && (error as ProxyError).code === 'no_route' && this.offerPublicPage(req, res, peer)) return;
      return this.fail(ex, error as ProxyError);
    }
    ex.client = loggedClient(req, peer, route.trusted);
    if (this.inspector !== null) ex.tap = this.inspector.begin(route.id, ex);
    if (secure) {
      if (route.tls.hsts && this.servesHttps(route)) res.setHeader('strict-transport-security', HSTS_VALUE);
    } else if (route.tls.redirectHttp && this.servesHttps(route)) {
      return this.answer(ex, 308, { location: this.httpsLocation(ex.target as RequestTarget), 'cache-control': 'no-store' }, '');
    }
    if (route.passes.length === 0) return this.pass(ex, route);
    runPasses(route.passes, ex as PassRequest, (outcome) => this.afterPasses(ex, outcome));
  }

  /** The last step of a request its route's passes let through: forward it, or a redirect route's redirect. */
  private pass(ex: Exchange, route: ProvisionedRoute): void {
    if (route.redirect !== null) {
      const location = redirectLocation(route.redirect, (ex.target as RequestTarget).path);
      const body = `Redirecting to ${location}\n`;
      return this.answer(ex, route.redirect.status, { location, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body);
    }
    forward(ex, this.headersFor(ex.req, ex.peer, ex, route), this.forwardDeps);
  }

  /** Forwards a request its route's passes let through, or answers the refusal. */
  private afterPasses(ex: Exchange, outcome: PassOutcome): void {
    if (outcome === ANSWERED) return;
    if (outcome) return this.fail(ex, outcome);
    // The client may have gone while a pass waited (a forward-auth server, say).
    if (ex.responseClosed) return;
    this.pass(ex, ex.route as ProvisionedRoute);
  }

  /** True when `ex` asked for an ACME HTTP-01 token Gatehouse holds, and was answered with it. */
  private answerChallenge(ex: Exchange): boolean {
    const { req } = ex;
    if (!this.challenges || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const url = req.url ?? '';
    if (!url.startsWith(ACME_CHALLENGE_PATH)) return false;
    const token = url.slice(ACME_CHALLENGE_PATH.length);
    // Tokens are base64url (RFC 8555 §8.3): anything else (a query, a slash) is not ours.
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(token)) return false;
    const body = this.challenges.answer(token);
    if (body === null) return false;
    ex.client = loggedClient(req, ex.peer, this.trusted);
    this.answer(ex, 200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }, body);
    return true;
  }

  /** True when one of Gatehouse's own pages answered; a page that throws is a 500, not a crash. */
  private offerPublicPage(req: IncomingMessage, res: ServerResponse, peer: string): boolean {
    if (!this.publicPages) return false;
    try {
      return this.publicPages.handle(req, res, () => this.seesDetails(req, peer, this.trusted));
    } catch (error) {
      console.error(`gatehouse: the page for ${req.url ?? '/'} failed:`, error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('500 Gatehouse could not show this page.\n');
      return true;
    }
  }

  /**
   * True when `route` can be reached over HTTPS now: the listener runs and the route has a
   * certificate to present. Only then may HTTP redirect there or HSTS pin the name to it; a route
   * whose certificate is missing (still being issued, expired) keeps answering over HTTP rather
   * than sending browsers to a certificate warning they cannot get past.
   */
  private servesHttps(route: ProvisionedRoute): boolean {
    // A passed-through route's HTTPS is its upstream's, there as soon as the listener is.
    if (route.tls.mode === 'passthrough') return this.listeners.https !== null;
    return this.listeners.https !== null && this.certificates?.certificateFor(route.id) != null;
  }

  /** Where a redirect to HTTPS points: the same name and path on the HTTPS listener. */
  private httpsLocation(target: RequestTarget): string {
    const port = (this.listeners.https as ListenerInfo).port;
    return `https://${target.hostname}${port === 443 ? '' : `:${port}`}${target.path}`;
  }

  /**
   * The passes every request and upgrade runs before anything goes upstream: limits, framing,
   * the one authority (recorded on `seen` for the log even when no route claims it), the route.
   * Throws the ProxyError to answer with.
   */
  private admit(req: IncomingMessage, seen: { target: RequestTarget | null; h2?: boolean }, socket: Socket): ProvisionedRoute {
    if (req.rawHeaders.length > (seen.h2 ? MAX_HEADERS + HTTP2_PSEUDO_HEADERS : MAX_HEADERS) * 2) {
      throw new ProxyError('too_many_headers', `The request has more than ${MAX_HEADERS} header fields.`);
    }
    // Only one plain `Transfer-Encoding: chunked` frames a body unambiguously. Node joins repeated
    // headers, so "identity, chunked" may also be two headers; either way it is refused.
    const te = req.headers['transfer-encoding'];
    if (te !== undefined && te.toLowerCase() !== 'chunked') {
      throw new ProxyError('bad_request', 'The request\'s Transfer-Encoding is not plain "chunked", so where its body ends is ambiguous.');
    }
    const target = (seen.target = seen.h2 ? http2RequestTarget(req.headers) : requestTarget(req));
    const route = this.table.match(target.hostname);
    // A connection is for the route its SNI named: browsers reuse one for every name its
    // certificate covers, and a request for another route must not ride a certificate it lacks.
    const servername = (socket as TLSSocket).servername;
    if (servername) {
      const sniRoute = this.table.match(normalizedServername(servername));
      if (sniRoute && sniRoute.id !== route?.id) {
        throw new ProxyError('misdirected', `This connection was opened for ${sniRoute.title}, not for ${target.hostname}. Your browser retries on a new connection; if it does not, reload the page.`);
      }
    }
    if (!route) throw noRoute(target.hostname);
    // A passed-through name's HTTPS is the service's own: a request that reached Gatehouse's TLS for
    // it (no SNI, or another name's connection) is not forwarded around the service's certificate.
    if (route.tls.mode === 'passthrough' && (socket as TLSSocket).encrypted) {
      throw new ProxyError('misdirected', `${route.title} does its own HTTPS: connect to it by its name (SNI ${target.hostname}).`);
    }
    return route;
  }

  /** The head sent upstream for `req`, from `peer`, on `route`, with what the passes set. */
  private headersFor(
    req: IncomingMessage,
    peer: string,
    via: { target: RequestTarget | null; secure: boolean; h2: boolean; upstreamSet?: string[] | null; client?: string },
    route: ProvisionedRoute,
  ): string[] {
    return upstreamHeaders(req, {
      client: peer,
      clientTrusted: route.trusted.has(peer),
      realClient: via.client ?? loggedClient(req, peer, route.trusted),
      proto: via.secure ? 'https' : 'http',
      target: via.target as RequestTarget,
      rewriteHost: route.rewriteHost,
      http2: via.h2,
      set: via.upstreamSet ?? null,
    });
  }

  // -------------------------------------------------------------------------------------------
  // How a request ends: Gatehouse's own answer or page, then one log entry and the counters

  /** Answers with Gatehouse's own page. */
  private fail(ex: Exchange, error: ProxyError): void {
    ex.failed(error);
    const { res } = ex;
    if (res.headersSent || ex.responseClosed) {
      res.destroy();
      return;
    }
    const page = renderErrorPage(error, { route: ex.route?.title ?? null, html: acceptsHtml(ex.req.headers.accept), details: this.seesDetails(ex.req, ex.peer, ex.route?.trusted ?? this.trusted) });
    this.answer(ex, page.status, page.headers, page.body);
  }

  /** Whether `req` from `peer` may see internals: proxy.errorDetails, unless it came through an untrusted tunnel or proxy. */
  private seesDetails(req: IncomingMessage, peer: string, trusted: TrustedProxies): boolean {
    return requestSeesDetails(this.detailsAllowed, req, peer, trusted);
  }

  /** Answers the request itself; closes an HTTP/1.1 connection if the request body was not read. */
  private answer(ex: Exchange, status: number, headers: Record<string, string | string[]>, body: string | Buffer): void {
    const { req, res } = ex;
    // An unread body would have to be drained before the next request; closing is cheaper and safe.
    // HTTP/2 frames each stream on its own: the connection carries on.
    if (!ex.h2 && !req.complete && ex.requestHasBody) {
      headers.connection = 'close';
      this.closing.add(req.socket);
    } else if (ex.h2 && !req.complete && ex.requestHasBody) {
      // HTTP/2: the stream stays half-open while the client sends a body nobody reads (a 413 cut
      // it). Once the answer's last frame is out, RST_STREAM NO_ERROR tells the client to stop
      // sending (RFC 9113 §8.1), and the exchange ends (and is logged) now, not when it gives up.
      const stream = (res as unknown as Http2ServerResponse).stream;
      const cancel = () => stream.destroyed || stream.close(http2Constants.NGHTTP2_NO_ERROR);
      // The compatibility response says 'finish' only once the stream closed: ask the stream.
      stream.once('finish', cancel);
    }
    headers['content-length'] = String(Buffer.byteLength(body));
    ex.tap?.answered(status, headers, req.method === 'HEAD' ? '' : body);
    // The reason phrase is given explicitly: a failed upstream head may already have set another.
    // HTTP/2 has none.
    if (ex.h2) res.writeHead(status, headers);
    else res.writeHead(status, STATUS_CODES[status], headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private finish(ex: Exchange, socket: Socket): void {
    ex.abortUpstream?.();
    const { res } = ex;
    // A response cut before it completed is logged as 499 (client closed) unless we cut it ourselves.
    const status = ex.responseCompleted ? res.statusCode : ex.error === 'request_timeout' ? 408 : ex.error ? 502 : 499;
    const bytesIn = bytesReadSinceLastRequest(socket);
    const entry = ex.entry(status);
    if (ex.route && ex.error !== null && REFUSAL_CODES.has(ex.error)) {
      this.counters.counters(ex.route.id).recordRefused(ex.startedAt);
    } else if (ex.route) {
      const outcome = outcomeOf(status, ex.error !== null);
      this.counters.counters(ex.route.id).record(entry.durationMs, status >= 500 || (ex.error !== null && status !== 499), bytesIn, ex.bytesOut, ex.startedAt, outcome, ex.upstream?.address ?? null);
    } else if (ex.error === 'no_route') {
      this.counters.recordUnmatched();
    }
    ex.tap?.finish(status, ex);
    this.log(entry, -1, ex.req);
  }

  private log(entry: AccessLogEntry, activeDelta: number, req: IncomingMessage | null): void {
    this.onRequestLogged(entry, req);
    if (activeDelta !== 0) {
      this.active += activeDelta;
      if (this.active === 0 && this.idle) this.idle();
    }
  }

  private provision(): void {
    this.table = new RouteTable(this.routes, this.upstreams, this.settings.timeouts.upstreamConnectMs, this.trusted, this.passesFor, this.health, this.stickyKey);
    this.upstreams.retainOnly(this.table.upstreamKeys);
    const judges = new Map<string, ConnectionJudge | null>();
    for (const route of this.table.routes) {
      if (route.tls.mode === 'passthrough') judges.set(route.id, this.connectionJudge?.(route.access) ?? null);
    }
    this.passthroughJudges = judges;
    this.counters.retainOnly(new Set(this.routes.map((r) => r.id)));
  }
}

function trustedFrom(settings: ProxySettings): TrustedProxies {
  return new TrustedProxies(settings.trustedProxies, settings.trustedFronts);
}

function noRoute(hostname: string): ProxyError {
  return new ProxyError('no_route', `No route is set up for ${hostname}. Add one in Gatehouse, or check the name.`);
}