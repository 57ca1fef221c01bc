// The proxy's two doors: the HTTP listener, and the HTTPS one (HTTP/1.1 and HTTP/2 over TLS) when
// there are certificates — both bound or neither. Every connection passes the connection front
// first (PROXY protocol header, per-client cap); what comes through is handed to the engine's
// request and upgrade paths. Here lives only when listeners open, what their servers time out on,
// and how they close; what a request goes through is engine.ts's.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ProxySettings, Timeouts } from '../../../shared/model.js';
import type { AccessLogEntry, ListenerInfo } from '../../../shared/status.js';
import type { ConnectionFront } from '../net/connection-front.js';
import { listen } from '../net/listen.js';
import { ProxyError } from './errors.js';
import { createHttp1Server, MAX_HEADER_BYTES, MAX_HEADERS } from './http1-server.js';
import type { RouteCertificates } from './tls-certificates.js';
import { HttpsListener, type PassthroughClaims } from './tls-listener.js';
import { refuseUpgrade } from './websocket.js';

/** Pseudo-header fields an HTTP/2 request carries besides its headers (:method, :scheme, :authority, :path, :protocol). */
export const HTTP2_PSEUDO_HEADERS = 5;

/** Where the listeners hand what they accept: the engine's paths. */
export interface ListenerHandlers {
  /** `socket`: the connection (Node unsets req.socket once a body is read). */
  request(req: IncomingMessage, res: ServerResponse, socket: Socket, secure: boolean, h2: boolean): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void;
  /** Told of each connection refused before it made a request, for the access log. */
  refused(entry: AccessLogEntry): void;
  /** The client at `address` may see a failure's detail on the error page. */
  detailsAllowed(address: string): boolean;
  /** The route id a (normalized) SNI name belongs to. */
  routeForName(name: string): string | null;
}

/** A started pair of listeners on its way out: see ProxyListeners.beginStop(). */
export interface ListenersClosing {
  /** Cuts every connection still open (requests under way included). */
  cut(): void;
  /** Settles once both listeners have closed. */
  readonly closed: Promise<void>;
}

export class ProxyListeners {
  private server: Server | null = null;
  /** The HTTP/1.1-over-TLS server the HTTPS listener hands connections to. */
  private tlsServer: Server | null = null;
  private httpsListener: HttpsListener | null = null;
  private listener: ListenerInfo | null = null;
  private tlsListener: ListenerInfo | null = null;

  constructor(
    private readonly handlers: ListenerHandlers,
    /** PROXY protocol headers and the per-client connection cap, before HTTP or TLS (both listeners). */
    private readonly front: ConnectionFront,
    /** With them, start() binds HTTPS as well as HTTP; without them, HTTP only. */
    private readonly certificates: RouteCertificates | null,
    /** Names whose TLS the HTTPS listener passes through (proxy/passthrough.ts). Default: none. */
    private readonly passthrough: PassthroughClaims | null = null,
  ) {}

  get http(): ListenerInfo | null {
    return this.listener;
  }

  get https(): ListenerInfo | null {
    return this.tlsListener;
  }

  /**
   * Binds the HTTP listener, and the HTTPS one when there are certificates: both or neither.
   * Rejects with a ListenError that names the port and says how to fix it. Once per stop.
   */
  async start(settings: ProxySettings): Promise<ListenerInfo> {
    const server = this.createHttp1Server(false, settings.timeouts);
    this.front.attach(server, false, (socket, client) => this.refuseConnection(socket, client));
    const { bindAddress, httpPort, httpsPort } = settings;
    const listener = await listen(server, 'proxy', bindAddress, httpPort);
    if (this.certificates) {
      const tlsServer = this.createHttp1Server(true, settings.timeouts);
      const https = new HttpsListener({
        certificates: this.certificates,
        routeForName: (name) => this.handlers.routeForName(name),
        http1: tlsServer,
        onHttp2Request: (req, res, socket) => this.onHttp2Request(req, res, socket),
        handshakeTimeoutMs: settings.timeouts.headersMs,
        idleTimeoutMs: settings.timeouts.keepAliveMs,
        maxHeaderPairs: MAX_HEADERS + 1 + HTTP2_PSEUDO_HEADERS,
        maxHeaderBytes: MAX_HEADER_BYTES,
        front: this.front,
        ...(this.passthrough ? { passthrough: this.passthrough } : {}),
      });
      try {
        this.tlsListener = await https.listen(bindAddress, httpsPort);
      } catch (error) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await https.beginClose();
        throw error;
      }
      this.httpsListener = https;
      this.tlsServer = tlsServer;
    }
    this.listener = listener;
    this.server = server;
    return listener;
  }

  /**
   * Stops accepting and closes idle connections; null when not started. Requests under way carry
   * on until the caller cuts them (after its grace period).
   */
  beginStop(): ListenersClosing | null {
    const server = this.server;
    if (!server) return null;
    const https = this.httpsListener;
    this.server = this.tlsServer = this.httpsListener = null;
    this.listener = this.tlsListener = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const tlsClosed = https?.beginClose();
    server.closeIdleConnections();
    return {
      cut: () => {
        server.closeAllConnections();
        https?.destroyAll();
        this.front.destroyAll();
      },
      closed: closed.then(() => tlsClosed),
    };
  }

  /** New header and keep-alive timeouts, for the servers running now. */
  applyTimeouts(timeouts: Timeouts): void {
    if (this.server) applyServerTimeouts(this.server, timeouts);
    if (this.tlsServer) applyServerTimeouts(this.tlsServer, timeouts);
  }

  /** An HTTP/1.1 server for the plain listener, or for connections the HTTPS listener hands over. */
  private createHttp1Server(secure: boolean, timeouts: Timeouts): Server {
    const server = createHttp1Server({
      request: (req, res) => this.handlers.request(req, res, req.socket as Socket, secure, false),
      upgrade: (req, socket, head) => this.handlers.upgrade(req, socket, head, secure),
      refused: (entry) => this.handlers.refused(entry),
      detailsAllowed: (address) => this.handlers.detailsAllowed(address),
    });
    applyServerTimeouts(server, timeouts);
    return server;
  }

  /**
   * One HTTP/2 request: Node's compatibility objects stand in for IncomingMessage/ServerResponse
   * (see exchange.ts for where they differ); `socket` is the TLS connection, which outlives them.
   */
  private onHttp2Request(req: Http2ServerRequest, res: Http2ServerResponse, socket: TLSSocket): void {
    withoutTrailers(res.stream);
    this.handlers.request(req as unknown as IncomingMessage, res as unknown as ServerResponse, socket, true, true);
  }

  /**
   * A plain-HTTP connection over the per-client cap: a 429 page, then closed. Its input is read
   * and dropped until then, so the client gets the page rather than a reset.
   */
  private refuseConnection(socket: Socket, client: string): void {
    const error = new ProxyError('too_many_connections', `${client} already has ${this.front.openFrom(client)} connections open (access.maxConnectionsPerClient).`, { rule: 'connections per client' });
    socket.on('error', () => {});
    socket.resume();
    setTimeout(() => socket.destroy(), 1000).unref();
    refuseUpgrade(socket, error, { route: null, accept: undefined, details: false });
    this.handlers.refused({ time: new Date().toISOString(), client, host: '', method: '', path: '', status: error.status, bytes: 0, durationMs: 0, routeId: null, upstream: null, error: error.code, detail: error.detail, rule: error.refusal?.rule ?? null, user: null });
  }
}

function applyServerTimeouts(server: Server, timeouts: Timeouts): void {
  server.headersTimeout = timeouts.headersMs;
  server.keepAliveTimeout = timeouts.keepAliveMs;
}

type Respond = ServerHttp2Stream['respond'];
let streamRespond: Respond | null = null;

/**
 * Node's compatibility response always asks its stream to wait for trailers, so every response
 * ends with one more, empty, DATA frame carrying END_STREAM after its last data: a second TLS
 * write (and record) for a small response. Gatehouse never sends trailers, so this stream answers
 * without waiting for them and its last DATA frame ends it. Measured: see docs/performance.md.
 */
function withoutTrailers(stream: ServerHttp2Stream): void {
  streamRespond ??= Object.getPrototypeOf(stream).respond as Respond;
  stream.respond = respondWithoutTrailers;
}

function respondWithoutTrailers(this: ServerHttp2Stream, headers?: OutgoingHttpHeaders, options?: ServerStreamResponseOptions): void {
  (streamRespond as Respond).call(this, headers, options?.waitForTrailers ? { ...options, waitForTrailers: false } : options);
}
