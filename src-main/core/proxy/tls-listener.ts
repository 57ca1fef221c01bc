// The HTTPS listener: one TLS server that picks each handshake's certificate by SNI, then hands the
// connection by ALPN to an HTTP/1.1 server (the proxy's ordinary request path, unchanged) or to an
// HTTP/2 server. Nothing a client sends in a ClientHello can reach further than its own handshake:
// the SNI callback is wrapped, and every failure ends that one connection.
// TLS passthrough: while a route passes TLS through (options.passthrough.active()), each connection's
// ClientHello is read before TLS starts (streams/client-hello.ts, within the handshake timeout); a
// name the passthrough side claims gets the raw connection (hello put back first), every other one
// goes on to the TLS server with its bytes put back. With no such route nothing is read ahead.
import { constants as http2Constants, createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { ListenerInfo } from '../../../shared/status.js';
import { ClientHelloReader } from '../streams/client-hello.js';
import type { ConnectionFront } from '../net/connection-front.js';
import { listen } from '../net/listen.js';
import type { RouteCertificates, ServedCertificate } from './tls-certificates.js';
import { ALPN_PROTOCOLS, SecureContexts, TLS_POLICY } from './tls-policy.js';

/** Most HTTP/2 streams a client may open at once on one connection (nginx allows 128). */
const MAX_CONCURRENT_STREAMS = 128;
/**
 * Streams a client may reset within RESET_WINDOW_MS on one HTTP/2 connection before the connection
 * is closed (GOAWAY ENHANCE_YOUR_CALM): the "rapid reset" attack (CVE-2023-44487) opens and cancels
 * streams in a loop, so every one costs the proxy a request it never answers, while no stream stays
 * open for the concurrency limit or the idle timeout to catch. A browser cancels a few streams when
 * a page is left; hundreds in seconds is not browsing.
 */
export const MAX_STREAM_RESETS = 200;
const RESET_WINDOW_MS = 10_000;
/** Distinct handshake problems remembered for "log once"; past this, nothing more is logged. */
const MAX_PROBLEMS_LOGGED = 100;

export interface HttpsListenerOptions {
  certificates: RouteCertificates;
  /** The route id a (normalized) SNI name belongs to, from the same table Host headers use. */
  routeForName(name: string): string | null;
  /** Serves HTTP/1.1 over TLS; it never listens itself, connections are handed to it. */
  http1: HttpServer;
  /** Answers one HTTP/2 request; `socket` is the TLS connection it arrived on. */
  onHttp2Request(req: Http2ServerRequest, res: Http2ServerResponse, socket: TLSSocket): void;
  /** A handshake must finish within this long (it is the TLS side of a header timeout). */
  handshakeTimeoutMs: number;
  /** An HTTP/2 connection without an open stream is closed after this long. */
  idleTimeoutMs: number;
  /** Header fields an HTTP/2 request may carry, pseudo-headers included. */
  maxHeaderPairs: number;
  /** The largest HTTP/2 header list, in bytes, advertised to clients. */
  maxHeaderBytes: number;
  /** Reads PROXY protocol headers and caps connections per client before the handshake. Default: none. */
  front?: ConnectionFront;
  /** Names whose TLS is passed through, not terminated. Default: none (no ClientHello is read ahead). */
  passthrough?: PassthroughClaims;
}

/** What the HTTPS listener asks about TLS passthrough (the engine's proxy/passthrough.ts answers). */
export interface PassthroughClaims {
  /** False while no route passes TLS through: ClientHellos are then not read ahead at all. */
  active(): boolean;
  /**
   * Takes the raw connection (its ClientHello put back, paused) when `name` (normalized SNI) is a
   * passed-through route's, and returns true; false leaves it to be terminated as usual.
   */
  claim(socket: Socket, name: string): boolean;
}

/** A normalized host name as routes are matched: lower case, no trailing dot. */
export function normalizedServername(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export class HttpsListener {
  private readonly tls: TlsServer;
  private readonly http2: Http2Server;
  private readonly contexts = new SecureContexts();
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<ServerHttp2Session, TLSSocket>();
  private readonly openStreams = new WeakMap<ServerHttp2Session, number>();
  private readonly problems = new Set<string>();
  private fallbackInUse: ServedCertificate;
  /** The TLS connection being handed to the HTTP/2 server, until it announces the session. */
  private arriving: TLSSocket | null = null;

  constructor(private readonly options: HttpsListenerOptions) {
    const { certificates } = options;
    this.fallbackInUse = certificates.fallback();
    this.tls = createTlsServer({
      ...TLS_POLICY,
      // Without SNI no callback runs: this default context is the fallback certificate's.
      cert: this.fallbackInUse.certificatePem,
      key: this.fallbackInUse.privateKeyPem,
      ALPNProtocols: ALPN_PROTOCOLS,
      SNICallback: (servername, done) => this.selectContext(servername, done),
      handshakeTimeout: options.handshakeTimeoutMs,
      // Small responses must not wait out Nagle's algorithm against the client's delayed ACK (40 ms
      // a request over HTTP/2); the plain listener's http.Server sets the same.
      noDelay: true,
    });
    // Node's own listener wraps the socket in TLS; ours runs before it (a replaced fallback applies
    // to this very handshake, a passed-through name never reaches it).
    const wrapInTls = this.tls.listeners('connection') as ((socket: Socket) => void)[];
    this.tls.removeAllListeners('connection');
    this.tls.on('connection', (socket: Socket) => this.onConnection(socket, wrapInTls));
    this.tls.on('secureConnection', (socket: TLSSocket) => this.dispatch(socket));
    this.tls.on('tlsClientError', (_error: Error, socket: TLSSocket) => socket.destroy());
    // Last: it takes over the listeners above, so a PROXY header is consumed before TLS starts.
    options.front?.attach(this.tls, true);

    this.http2 = createHttp2Server({
      maxHeaderListPairs: options.maxHeaderPairs,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: options.maxHeaderBytes },
    });
    this.http2.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.http2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const socket = this.sessions.get(req.stream.session as ServerHttp2Session);
      if (socket) options.onHttp2Request(req, res, socket);
      else res.stream.close();
    });
    // The HTTP/1.1 server never listens: Node starts tracking its connections (header timeouts,
    // closeIdleConnections) on 'listening', so it is told once here.
    options.http1.emit('listening');
  }

  listen(address: string, port: number): Promise<ListenerInfo> {
    return listen(this.tls, 'proxy (HTTPS)', address, port);
  }

  /** Stops accepting; HTTP/2 connections get GOAWAY and keep their streams under way. */
  beginClose(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tls.close(() => resolve()));
    this.options.http1.close();
    for (const session of this.sessions.keys()) session.close();
    return closed;
  }

  /** Cuts whatever is left: requests past the grace period, handshakes under way. */
  destroyAll(): void {
    this.options.http1.closeAllConnections();
    for (const session of this.sessions.keys()) session.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  private onConnection(socket: Socket, wrapInTls: readonly ((socket: Socket) => void)[]): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const passthrough = this.options.passthrough;
    if (passthrough?.active()) return this.readHello(socket, passthrough, wrapInTls);
    this.startTls(socket, wrapInTls);
  }

  private startTls(socket: Socket, wrapInTls: readonly ((socket: Socket) => void)[]): void {
    const fallback = this.options.certificates.fallback();
    if (fallback !== this.fallbackInUse) {
      try {
        this.tls.setSecureContext({ ...TLS_POLICY, cert: fallback.certificatePem, key: fallback.privateKeyPem });
        this.fallbackInUse = fallback;
      } catch (error) {
        this.problem(`gatehouse: the neutral HTTPS certificate cannot be served: ${(error as Error).message}`);
      }
    }
    for (const listener of wrapInTls) listener.call(this.tls, socket);
  }

  /**
   * Reads the ClientHello (bounded; within the handshake timeout, or the connection is closed), puts
   * every byte read back, then hands the connection to the passthrough side when it claims the name,
   * else to TLS. What is not a ClientHello goes to TLS unchanged and fails there as it always did.
   */
  private readHello(socket: Socket, passthrough: PassthroughClaims, wrapInTls: readonly ((socket: Socket) => void)[]): void {
    const reader = new ClientHelloReader();
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
    }, this.options.handshakeTimeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', cleanup);
    };
    const onEnd = () => {
      cleanup();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const reading = reader.push(chunk);
      if (reading.kind === 'more') return;
      socket.pause();
      cleanup();
      socket.unshift(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      if (reading.kind === 'hello' && reading.serverName !== null) {
        let claimed = false;
        try {
          claimed = passthrough.claim(socket, normalizedServername(reading.serverName));
        } catch (error) {
          this.problem(`gatehouse: passing TLS through failed: ${(error as Error).message}`);
          return void socket.destroy();
        }
        if (claimed) return;
      }
      this.startTls(socket, wrapInTls);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', cleanup);
    socket.resume();
  }

  private dispatch(socket: TLSSocket): void {
    if (socket.alpnProtocol !== 'h2') return void this.options.http1.emit('connection', socket);
    // The HTTP/2 server announces the session synchronously, from within this emit.
    this.arriving = socket;
    this.http2.emit('connection', socket);
    this.arriving = null;
  }

  private onSession(session: ServerHttp2Session): void {
    // session.socket is a proxy that stops answering once the session is gone; the request path
    // reads the address and byte counts from the connection itself.
    const socket = this.arriving;
    if (!socket) return void session.destroy();
    this.sessions.set(session, socket);
    this.openStreams.set(session, 0);
    const resets = { count: 0, windowStart: 0 };
    session.on('stream', (stream) => {
      this.openStreams.set(session, (this.openStreams.get(session) ?? 0) + 1);
      // 'aborted': the stream ended before our response was complete. A client's RST_STREAM does
      // that to a stream that is not yet destroyed; when the proxy cut the response itself (an
      // upstream failing mid-body) the stream is already destroyed, and that is not the client's doing.
      // A reset that came in the same read as the stream's HEADERS (the attack's usual shape) has
      // already happened when 'stream' is emitted (a tick later); the proxy cannot have cut that one.
      if (stream.aborted) this.countReset(session, socket, resets);
      else {
        stream.once('aborted', () => {
          if (!stream.destroyed) this.countReset(session, socket, resets);
        });
      }
      stream.once('close', () => this.openStreams.set(session, (this.openStreams.get(session) ?? 1) - 1));
    });
    session.setTimeout(this.options.idleTimeoutMs, () => {
      if ((this.openStreams.get(session) ?? 0) === 0) session.close();
    });
    session.on('error', () => {});
    session.once('close', () => this.sessions.delete(session));
  }

  /** Counts one reset stream; past MAX_STREAM_RESETS in a window the connection is closed. */
  private countReset(session: ServerHttp2Session, socket: TLSSocket, resets: { count: number; windowStart: number }): void {
    const now = performance.now();
    if (now - resets.windowStart > RESET_WINDOW_MS) {
      resets.windowStart = now;
      resets.count = 0;
    }
    if (++resets.count <= MAX_STREAM_RESETS || session.destroyed) return;
    this.problem(`gatehouse: closed an HTTP/2 connection from ${socket.remoteAddress ?? 'a client'} that reset more than ${MAX_STREAM_RESETS} streams within ${RESET_WINDOW_MS / 1000} s (rapid reset)`);
    session.goaway(http2Constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // GOAWAY asks; cutting the connection a moment later (once the frame is out) makes sure, and
    // the streams it had opened are not served either.
    setTimeout(() => session.destroy(), 50).unref();
  }

  /** Picks the certificate for `servername`; a throw anywhere fails this handshake only. */
  private selectContext(servername: string, done: (error: Error | null, context?: SecureContext) => void): void {
    let context: SecureContext;
    try {
      context = this.contexts.contextFor(this.certificateFor(servername));
    } catch (error) {
      this.problem(`gatehouse: a TLS handshake for ${JSON.stringify(String(servername).slice(0, 100))} failed: ${(error as Error).message}`);
      return done(error instanceof Error ? error : new Error(String(error)));
    }
    done(null, context);
  }

  /** The route's own certificate for a name it claims; the neutral one for anything else. */
  private certificateFor(servername: string): ServedCertificate {
    const { certificates } = this.options;
    const routeId = servername ? this.options.routeForName(normalizedServername(servername)) : null;
    return (routeId === null ? null : certificates.certificateFor(routeId)) ?? certificates.fallback();
  }

  private problem(message: string): void {
    if (this.problems.has(message) || this.problems.size >= MAX_PROBLEMS_LOGGED) return;
    this.problems.add(message);
    console.warn(message);
  }
}
