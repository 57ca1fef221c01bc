// The request path of an Upgrade request (a WebSocket, mostly): the same passes a request runs —
// admit (limits → target → route) → the route's passes (passes/pass.ts) → forward — but on a raw
// socket, not a response object. So a refusal or a pass's own answer is written as raw bytes, and
// forwarding is websocket.ts's tunnel (or a relay that ignores a non-WebSocket Upgrade). Like a
// request, an upgrade ends in exactly one access-log entry.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Timeouts } from '../../../shared/model.js';
import type { AccessLogEntry } from '../../../shared/status.js';
import { ProxyError } from './errors.js';
import { redirectLocation } from '../../../shared/redirect.js';
import { hasBody } from './forward.js';
import type { PassiveHealth } from '../upstreams/health-view.js';
import { ANSWERED, runPasses, type PassRequest } from './passes/pass.js';
import { clientAddress, loggedClient, type RequestTarget, type TrustedProxies } from './request-head.js';
import type { ProvisionedRoute } from './route-table.js';
import { stickyTagOf } from './sticky-cookie.js';
import { clientKey } from '../access/client-key.js';
import type { Upstream } from '../upstreams/registry.js';
import { outcomeOf, type ProxyStats } from './stats.js';
import { refuseUpgrade, relayIgnoringUpgrade, tunnelWebSocket } from './websocket.js';

/** What an upgrade needs of the engine: its state now (routes and settings change) and its shared steps. */
export interface UpgradeHost {
  /** Connections answered with `Connection: close` over an unread body: nothing after it is trusted. */
  readonly closing: WeakSet<Duplex>;
  /** Every open tunnel's client socket, so a stop can close them. */
  readonly tunnels: Set<Duplex>;
  readonly health: PassiveHealth;
  readonly counters: ProxyStats;
  timeouts(): Timeouts;
  /** The global trusted proxies, for an upgrade no route claimed. */
  trusted(): TrustedProxies;
  /** The engine's admit pass: the route, or throws the ProxyError to answer with. */
  admit(req: IncomingMessage, seen: { target: RequestTarget | null }, socket: Socket): ProvisionedRoute;
  seesDetails(req: IncomingMessage, peer: string, trusted: TrustedProxies): boolean;
  /** The route can be reached over HTTPS now (so plain HTTP redirects there). */
  servesHttps(route: ProvisionedRoute): boolean;
  httpsLocation(target: RequestTarget): string;
  /** The head sent upstream, with what the passes set. */
  headersFor(req: IncomingMessage, peer: string, via: { target: RequestTarget | null; secure: boolean; h2: boolean; upstreamSet?: string[] | null; client?: string }, route: ProvisionedRoute): string[];
  /** Writes the upgrade's access-log entry. */
  log(entry: AccessLogEntry, req: IncomingMessage): void;
}

/** Runs one Upgrade request from `socket` to its end: refused, answered, relayed or tunnelled. */
export function handleUpgrade(host: UpgradeHost, req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
  socket.on('error', () => {}); // a reset from either side is routine, never a crash
  if (host.closing.has(socket)) return void socket.end(); // pipelined behind a refusal: see engine.ts onRequest
  new Upgrade(host, req, socket, head, secure).run();
}

/** One upgrade under way: what its log entry and error page need, as the path learns it. */
class Upgrade {
  private readonly started = performance.now();
  private readonly startedAt = Date.now();
  private readonly peer: string;
  private readonly seen: { target: RequestTarget | null } = { target: null };
  private route: ProvisionedRoute | null = null;
  /** The upstream of the latest attempt, for the log. */
  private upstream: Upstream | null = null;
  /** What the route's passes recorded (who signed in, the rule that answered), for the log. */
  private passed: PassRequest | null = null;

  constructor(
    private readonly host: UpgradeHost,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly secure: boolean,
  ) {
    this.peer = clientAddress(req);
  }

  run(): void {
    const { host, req, socket } = this;
    let route: ProvisionedRoute;
    try {
      route = this.route = host.admit(req, this.seen, socket as Socket);
    } catch (error) {
      return this.refuse(error as ProxyError);
    }
    const target = this.seen.target as RequestTarget;
    if (!this.secure && route.tls.redirectHttp && host.servesHttps(route)) {
      // An HTTPS-only route takes no upgrade over plain HTTP (the WebSocket would run unencrypted):
      // the same redirect a request gets, which a client that follows redirects takes to wss.
      socket.end(`HTTP/1.1 308 Permanent Redirect\r\nlocation: ${host.httpsLocation(target)}\r\ncache-control: no-store\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return this.log(308, 0, null);
    }
    if (route.passes.length === 0) return this.proceed(route, target, null);
    const request = (this.passed = upgradeRequest(req, socket as Socket, this.peer, this.secure, target, route, (status, headers, body) => {
      if (socket.writable) socket.end(rawResponse(status, headers, body));
      this.log(status, Buffer.byteLength(body), null);
    }));
    runPasses(route.passes, request, (outcome) => {
      if (outcome === ANSWERED) return;
      if (outcome) {
        host.counters.counters(route.id).recordRefused(this.startedAt);
        return this.refuse(outcome);
      }
      if (socket.destroyed) return;
      this.proceed(route, target, request.upstreamSet);
    });
  }

  /** Tunnels (or relays) an upgrade its route's passes let through. */
  private proceed(route: ProvisionedRoute, target: RequestTarget, upstreamSet: string[] | null): void {
    const { host, req, peer } = this;
    const accept = req.headers.accept;
    const counters = host.counters.counters(route.id);
    if (route.redirect !== null) {
      // A redirect route has nothing to tunnel to: the upgrade gets the redirect a request gets
      // (a client that follows redirects reconnects there), and the connection closes.
      const status = route.redirect.status;
      const location = redirectLocation(route.redirect, target.path);
      if (this.socket.writable) this.socket.end(rawResponse(status, { location, 'cache-control': 'no-store' }, ''));
      counters.record(performance.now() - this.started, false, 0, 0, Date.now(), outcomeOf(status, false), null);
      return this.log(status, 0, null);
    }
    const client = loggedClient(req, peer, route.trusted);
    const deps = {
      timeouts: host.timeouts(),
      tunnels: host.tunnels,
      health: host.health,
      done: (status: number, bytes: number, failure: ProxyError | null) => {
        // A tunnel's lifetime is not a response time (stats.ts); a refused or relayed upgrade's is.
        const upstream = this.upstream?.address ?? null;
        if (status === 101) counters.recordUpgraded(false, 0, bytes, Date.now(), upstream);
        else counters.record(performance.now() - this.started, status >= 500, 0, bytes, Date.now(), outcomeOf(status, failure !== null), upstream);
        this.log(status, bytes, failure);
      },
      onOpen: () => counters.openWebSockets++,
      onClose: () => counters.openWebSockets--,
      detailsAllowed: () => this.detailsAllowed(),
      clientKey: clientKey(client),
      stickyTag: stickyTagOf(req.headers.cookie),
      secure: this.secure,
      chose: (upstream: Upstream) => (this.upstream = upstream),
    };
    const headers = host.headersFor(req, peer, { target, secure: this.secure, h2: false, upstreamSet, client }, route);
    if ((req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') {
      // Node hands every Upgrade request here, body unread; one with a body cannot be relayed.
      if (hasBody(req.headers)) {
        return this.refuse(new ProxyError('upgrade_refused', `Gatehouse only forwards WebSocket upgrades, not "${req.headers.upgrade}"; send the request without Upgrade.`));
      }
      return relayIgnoringUpgrade(this.socket, route, { method: req.method ?? 'GET', path: target.path, headers, accept }, deps);
    }
    if (!route.websocket) {
      return this.refuse(new ProxyError('websocket_disabled', `WebSocket is turned off for ${route.title}. Turn it on in the route's settings if the service needs it.`));
    }
    tunnelWebSocket(this.socket, this.head, route, { path: target.path, headers, accept }, deps);
  }

  private refuse(error: ProxyError): void {
    refuseUpgrade(this.socket, error, { route: this.route?.title ?? null, accept: this.req.headers.accept, details: this.detailsAllowed() });
    this.log(error.status, 0, error);
  }

  private trusted(): TrustedProxies {
    return this.route?.trusted ?? this.host.trusted();
  }

  private detailsAllowed(): boolean {
    return this.host.seesDetails(this.req, this.peer, this.trusted());
  }

  private log(status: number, bytes: number, failure: ProxyError | null): void {
    const { req } = this;
    this.host.log(
      {
        time: new Date(this.startedAt).toISOString(),
        client: loggedClient(req, this.peer, this.trusted()),
        host: this.seen.target?.hostname ?? '',
        method: req.method ?? 'GET',
        path: req.url ?? '',
        status,
        bytes,
        durationMs: Math.round((performance.now() - this.started) * 100) / 100,
        routeId: this.route?.id ?? null,
        upstream: this.upstream?.address ?? null,
        error: failure?.code ?? null,
        detail: failure?.detail ?? null,
        rule: failure?.refusal?.rule ?? this.passed?.rule ?? null,
        user: this.passed?.user ?? null,
      },
      req,
    );
  }
}

/** The PassRequest of an upgrade: what a request's Exchange records, for a raw socket. */
function upgradeRequest(
  req: IncomingMessage,
  socket: Socket,
  peer: string,
  secure: boolean,
  target: RequestTarget,
  route: ProvisionedRoute,
  respond: PassRequest['respond'],
): PassRequest {
  return { req, peer, client: peer, secure, upgrade: true, target, route, socket, rule: null, user: null, upstreamSet: null, maxBodyBytes: 0, respond };
}

/** A whole HTTP/1.1 response as bytes, for a socket that never became a response object. */
function rawResponse(status: number, headers: Record<string, string | string[]>, body: Buffer | string): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue;
    for (const item of Array.isArray(value) ? value : [value]) head += `${name}: ${item}\r\n`;
  }
  head += `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}
