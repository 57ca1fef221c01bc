// WebSocket upgrades. Only `Upgrade: websocket` is tunnelled, and only after the upstream answers
// 101: until then the client gets whatever the upstream said (a 403 stays a 403). Once tunnelled,
// bytes flow both ways untouched until either side closes or both stay silent for websocketIdleMs.
import { STATUS_CODES } from 'node:http';
import { finished, type Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Timeouts } from '../../../shared/model.js';
import { acceptsHtml, rawErrorResponse, renderErrorPage } from './error-page.js';
import { ProxyError, upstreamFailure } from './errors.js';
import type { PassiveHealth } from '../upstreams/health-view.js';
import { downstreamHeaders } from './request-head.js';
import type { ProvisionedRoute } from './route-table.js';

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

class UpgradeHandler implements Dispatcher.DispatchHandler {
  private bytesOut = 0;
  private responded = false;
  private status = 0;

  constructor(
    private readonly client: Duplex,
    private readonly head: Buffer,
    private readonly route: ProvisionedRoute,
    private readonly accept: string | undefined,
    private readonly deps: TunnelDeps,
  ) {}

  onRequestStart(controller: Controller): void {
    if (this.client.destroyed) controller.abort(new Error('client closed the connection'));
    else this.client.once('close', () => controller.abort(new Error('client closed the connection')));
  }

  onRequestUpgrade(_controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, upstream: Duplex): void {
    const { client, deps } = this;
    this.responded = true;
    deps.health.answered(this.route.id, this.route.upstream.address, statusCode);
    if (client.destroyed) {
      upstream.destroy();
      deps.done(499, 0, null);
      return;
    }
    client.write(headLines(statusCode, 'Switching Protocols', headers));
    if (this.head.length > 0) upstream.write(this.head);
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
    this.responded = true;
    this.status = statusCode;
    this.deps.health.answered(this.route.id, this.route.upstream.address, statusCode);
    // The body is relayed decoded and close-delimited, so chunked framing and keep-alive go.
    const out: Record<string, string | string[]> = { ...downstreamHeaders(headers), connection: 'close' };
    this.client.write(headLines(statusCode, statusMessage || STATUS_CODES[statusCode] || '', out));
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.bytesOut += chunk.length;
    this.client.write(chunk);
  }

  onResponseEnd(): void {
    this.client.end();
    this.deps.done(this.status, this.bytesOut, null);
  }

  onResponseError(_controller: Controller, error: Error): void {
    const { client, route, deps } = this;
    const { upstreamConnectMs: connectMs, upstreamHeadersMs: headersMs } = deps.timeouts;
    const failure = upstreamFailure(error, route.title, route.upstream.address, { connectMs, headersMs });
    if (this.responded) {
      client.destroy();
      deps.done(this.status || 502, this.bytesOut, new ProxyError('upstream_reset', failure.detail));
      return;
    }
    if (client.destroyed) {
      deps.done(499, 0, null);
      return;
    }
    deps.health.failed(route.id, route.upstream.address, error);
    refuseUpgrade(client, failure, { route: route.title, accept: this.accept, details: deps.detailsAllowed() });
    deps.done(failure.status, 0, failure);
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
  route.upstream.pool.dispatch(
    {
      path: request.path,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: null,
      headersTimeout: deps.timeouts.upstreamHeadersMs,
      bodyTimeout: deps.timeouts.upstreamBodyIdleMs,
    },
    new UpgradeHandler(client, Buffer.alloc(0), route, request.accept, deps),
  );
}

/** Asks the route's upstream for a WebSocket upgrade on behalf of `client`. */
export function tunnelWebSocket(
  client: Duplex,
  head: Buffer,
  route: ProvisionedRoute,
  request: { path: string; headers: string[]; accept: string | undefined },
  deps: TunnelDeps,
): void {
  route.upstream.pool.dispatch(
    {
      path: request.path,
      method: 'GET',
      headers: request.headers,
      upgrade: 'websocket',
      headersTimeout: deps.timeouts.upstreamHeadersMs,
      bodyTimeout: deps.timeouts.upstreamHeadersMs,
    },
    new UpgradeHandler(client, head, route, request.accept, deps),
  );
}
