// WebSocket upgrades. Only `Upgrade: websocket` is tunnelled, and only after the upstream answers
// 101: until then the client gets whatever the upstream said (a 403 stays a 403). Once tunnelled,
// bytes flow both ways untouched until either side closes or both stay silent for websocketIdleMs.
// Before the 101, a failed upstream hands the upgrade to the next, as a request's retry does.
import { STATUS_CODES } from 'node:http';
import { finished, type Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Timeouts } from '../../../shared/model.js';
import { acceptsHtml, rawErrorResponse, renderErrorPage } from './error-page.js';
import { ProxyError, upstreamFailure } from './errors.js';
import type { PassiveHealth } from '../upstreams/health-view.js';
import { downstreamHeaders } from './request-head.js';
import type { ProvisionedRoute, RouteUpstream } from './route-table.js';
import { appendSetCookie, stickyCookie, stripStickyCookie } from './sticky-cookie.js';
import type { PickRequest } from '../upstreams/balancer.js';
import { busyError, gatedDispatch } from '../upstreams/gate.js';
import type { Upstream } from '../upstreams/registry.js';
import { retryable, withTriedCount } from '../upstreams/retry.js';

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[0];

export interface TunnelDeps {
  timeouts: Timeouts;
  /** Every open tunnel's client socket, so a stop can close them. */
  tunnels: Set<Duplex>;
  /** Told when the upstream answers or cannot be reached. */
  health: PassiveHealth;
  /** Called once when the exchange ends: status sent, bytes to the client, the failure if any. */
  done(status: number, bytesOut: number, failure: ProxyError | null): void;
  onOpen(): void;
  onClose(): void;
  /** The client may see a failure's detail on the error page (proxy.errorDetails). */
  detailsAllowed(): boolean;
  /** The client's key (access/client-key.ts), for the gate and the balancer. */
  clientKey: string;
  /** The sticky cookie's tag the request carried, or null. */
  stickyTag: string | null;
  /** Arrived over HTTPS (the sticky cookie is then Secure). */
  secure: boolean;
  /** Told the upstream of each attempt (the log names the last). */
  chose(upstream: Upstream): void;
}

/**
 * Writes Gatehouse's own error page on a socket that is not (or no longer) an HTTP response; the
 * detail only when `details`.
 */
export function refuseUpgrade(socket: Duplex, error: ProxyError, page: { route: string | null; accept: string | undefined; details: boolean }): void {
  if (socket.writable) socket.end(rawErrorResponse(renderErrorPage(error, { route: page.route, html: acceptsHtml(page.accept), details: page.details })));
  else socket.destroy();
}

function headLines(statusCode: number, statusMessage: string, headers: Record<string, string | string[] | undefined>): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) head += `${name}: ${item}\r\n`;
  }
  return head + '\r\n';
}

/** Joins two sockets until either ends or both are silent for `idleMs`. */
function splice(client: Duplex, upstream: Duplex, idleMs: number, onClose: () => void): void {
  const idle = setTimeout(() => {
    client.destroy();
    upstream.destroy();
  }, idleMs);
  const touch = () => idle.refresh();
  client.on('data', touch);
  upstream.on('data', touch);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(idle);
    client.destroy();
    upstream.destroy();
    onClose();
  };
  client.on('close', close);
  upstream.on('close', close);
  client.on('error', close);
  upstream.on('error', close);
  // WebSocket has no use for half-open TCP, and both sockets allow it (Node's HTTP sockets do): once
  // either side stops sending, finish writing what is in flight to the other, then close both. Else a
  // client that left during the handshake (its end already read before the 101) holds the upstream
  // connection until the idle timeout. `finished` also fires for a stream that has already ended.
  finished(client, { writable: false }, () => upstream.end(close));
  finished(upstream, { writable: false }, () => client.end(close));
  client.pipe(upstream);
  upstream.pipe(client);
}

/** One attempt of an upgrade (or of a relayed request) on one upstream. */
class UpgradeHandler implements Dispatcher.DispatchHandler {
  private bytesOut = 0;
  private responded = false;
  private status = 0;

  constructor(
    private readonly attempts: UpgradeAttempts,
    private readonly upstream: Upstream,
    /** sticky_cookie: the tag to pin the client to, when this pick set one. */
    private readonly stickyTag: string | null,
    /** Stops watching for the client leaving while the gate's slot is awaited: it was granted. */
    private readonly dispatched: () => void,
  ) {}

  onRequestStart(controller: Controller): void {
    this.dispatched();
    const { client } = this.attempts;
    if (client.destroyed) controller.abort(new Error('client closed the connection'));
    else client.once('close', () => controller.abort(new Error('client closed the connection')));
  }

  onRequestUpgrade(_controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, upstream: Duplex): void {
    const { client, deps, route } = this.attempts;
    this.responded = true;
    deps.health.answered(route.id, this.upstream.address, statusCode);
    if (client.destroyed) {
      upstream.destroy();
      deps.done(499, 0, null);
      return;
    }
    client.write(headLines(statusCode, 'Switching Protocols', this.withStickyCookie(headers)));
    if (this.attempts.head.length > 0) upstream.write(this.attempts.head);
    deps.tunnels.add(client);
    deps.onOpen();
    let bytes = 0;
    upstream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    splice(client, upstream, deps.timeouts.websocketIdleMs, () => {
      deps.tunnels.delete(client);
      deps.onClose();
      deps.done(101, bytes, null);
    });
  }

  // A plain answer (the upstream declined the upgrade, or none was asked): relay it, then close.
  onResponseStart(_controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (statusCode < 200) return;
    const { client, deps, route } = this.attempts;
    this.responded = true;
    this.status = statusCode;
    deps.health.answered(route.id, this.upstream.address, statusCode);
    // The body is relayed decoded and close-delimited, so chunked framing and keep-alive go.
    const out: Record<string, string | string[]> = { ...downstreamHeaders(this.withStickyCookie(headers)), connection: 'close' };
    client.write(headLines(statusCode, statusMessage || STATUS_CODES[statusCode] || '', out));
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.bytesOut += chunk.length;
    this.attempts.client.write(chunk);
  }

  onResponseEnd(): void {
    this.attempts.client.end();
    this.attempts.deps.done(this.status, this.bytesOut, null);
  }

  onResponseError(_controller: Controller, error: Error): void {
    const { client, deps, route } = this.attempts;
    if (this.responded) {
      const failure = this.attempts.failure(error, this.upstream.address);
      client.destroy();
      deps.done(this.status || 502, this.bytesOut, new ProxyError('upstream_reset', failure.detail));
      return;
    }
    if (client.destroyed) {
      deps.done(499, 0, null);
      return;
    }
    deps.health.failed(route.id, this.upstream.address, error);
    this.attempts.failed(error);
  }

  private withStickyCookie(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
    if (this.stickyTag === null) return headers;
    const out = { ...headers } as Record<string, string | string[]>;
    appendSetCookie(out, stickyCookie(this.stickyTag, this.attempts.deps.secure));
    return out;
  }
}

/** What an upgrade (or a relayed request) asks upstream. */
interface UpgradeRequest {
  method: string;
  path: string;
  headers: string[];
  accept: string | undefined;
  /** 'websocket' for a tunnel; null for a plain request relayed over the raw socket. */
  upgrade: 'websocket' | null;
}

/**
 * An upgrade's attempts, each on another of the route's upstreams: a failure before any answer
 * (upstreams/retry.ts: the connection not made, or closed before the 101 for this GET) moves on to
 * the next within the route's budget; the client sees nothing until a 101 or a final refusal.
 */
class UpgradeAttempts {
  private readonly tried = new Set<RouteUpstream>();
  private readonly pickRequest: PickRequest;
  private lastUpstream: Upstream | null = null;

  constructor(
    readonly client: Duplex,
    readonly head: Buffer,
    readonly route: ProvisionedRoute,
    private readonly request: UpgradeRequest,
    readonly deps: TunnelDeps,
  ) {
    this.pickRequest = { clientKey: deps.clientKey, stickyTag: route.balancing.policy === 'sticky_cookie' ? deps.stickyTag : null };
    stripStickyCookie(request.headers);
  }

  attempt(lastError: unknown = null): void {
    const { client, route, deps, request } = this;
    if (client.destroyed) return deps.done(499, 0, null);
    const picked = this.tried.size < route.balancing.tries ? route.balancer.pick(this.pickRequest, this.tried) : null;
    if (picked === null) {
      if (this.tried.size > 0) return this.refuse(this.finalFailure(lastError));
      return this.refuse(new ProxyError('no_upstream', `Every upstream of ${route.title} is drained (taken out for maintenance). Put one back on the route's page.`, { rule: 'every upstream drained', headers: { 'retry-after': '30' } }));
    }
    this.tried.add(picked.choice);
    const upstream = (this.lastUpstream = picked.choice.upstream);
    deps.chose(upstream);
    const { upstreamHeadersMs, upstreamBodyIdleMs } = deps.timeouts;
    const options: Dispatcher.DispatchOptions = {
      path: request.path,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: null,
      headersTimeout: upstreamHeadersMs,
      bodyTimeout: request.upgrade ? upstreamHeadersMs : upstreamBodyIdleMs,
      ...(request.upgrade ? { upgrade: request.upgrade } : {}),
    };
    // A client that leaves while its upgrade waits for a slot gives its place back at once and is
    // never handed one (a plain request does the same through its exchange). Once dispatched or
    // refused, cancel() does nothing and the handler or refuse() reports the end. The client ending
    // its side counts as leaving: WebSocket has no half-open use (see splice), and after the upgrade
    // Node no longer closes a socket whose client ended. Watched before dispatching, as a slot (and
    // the handler's start) may come at once.
    let cancel: () => boolean = () => false;
    const unwatch = () => {
      client.off('end', left);
      client.off('close', left);
    };
    const left = () => {
      unwatch();
      if (!cancel()) return;
      client.destroy();
      deps.done(499, 0, null);
    };
    client.once('end', left);
    client.once('close', left);
    const handler = new UpgradeHandler(this, upstream, picked.setStickyTag, unwatch);
    cancel = gatedDispatch(upstream, deps.clientKey, options, handler, (_waitedMs, refusal) => {
      unwatch();
      this.refuse(busyError(refusal));
    });
  }

  /** An attempt failed before any answer: the next upstream, or the route's error page. */
  failed(error: unknown): void {
    if (retryable(error, { method: this.request.method, bodyPulled: false, answered: false })) return this.attempt(error);
    this.refuse(this.finalFailure(error));
  }

  failure(error: unknown, address: string): ProxyError {
    const { upstreamConnectMs: connectMs, upstreamHeadersMs: headersMs } = this.deps.timeouts;
    return upstreamFailure(error, this.route.title, address, { connectMs, headersMs });
  }

  private finalFailure(error: unknown): ProxyError {
    const failure = this.failure(error, this.lastUpstream?.address ?? '');
    if (this.tried.size < 2) return failure;
    return new ProxyError(failure.code, withTriedCount(failure.detail, this.tried.size));
  }

  private refuse(failure: ProxyError): void {
    if (this.client.destroyed) return this.deps.done(499, 0, null);
    refuseUpgrade(this.client, failure, { route: this.route.title, accept: this.request.accept, details: this.deps.detailsAllowed() });
    this.deps.done(failure.status, 0, failure);
  }
}

/**
 * Forwards a request that asked for an upgrade Gatehouse does not offer (h2c) as a plain request,
 * and relays the answer over HTTP/1.1, closing afterwards: RFC 9110 §7.8 lets a server ignore
 * Upgrade, and the socket has already left Node's HTTP parser. Upgrade and its Connection-named
 * headers are hop-by-hop, so the upstream never sees them.
 */
export function relayIgnoringUpgrade(
  client: Duplex,
  route: ProvisionedRoute,
  request: { method: string; path: string; headers: string[]; accept: string | undefined },
  deps: TunnelDeps,
): void {
  new UpgradeAttempts(client, Buffer.alloc(0), route, { ...request, upgrade: null }, deps).attempt();
}

/** Asks one of the route's upstreams for a WebSocket upgrade on behalf of `client`. */
export function tunnelWebSocket(
  client: Duplex,
  head: Buffer,
  route: ProvisionedRoute,
  request: { path: string; headers: string[]; accept: string | undefined },
  deps: TunnelDeps,
): void {
  new UpgradeAttempts(client, head, route, { ...request, method: 'GET', upgrade: 'websocket' }, deps).attempt();
}
