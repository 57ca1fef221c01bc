// One request's journey through the proxy: what the passes learned about it, and what the access
// log and the counters read when it ends. A class so every request has the same shape (V8 keeps the
// request path monomorphic).
//
// An HTTP/2 request arrives as Node's compatibility objects (Http2ServerRequest/-Response), which
// implement the part of IncomingMessage/ServerResponse the request path uses; where they differ
// (no `destroyed`, no reason phrase, bodies without Content-Length, no connection to close) the
// path asks `h2` and the members below.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants as http2Constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AccessLogEntry } from '../../../shared/status.js';
import type { ProxyError, ProxyErrorCode } from './errors.js';
import type { RequestTarget } from './request-head.js';
import type { ProvisionedRoute } from './route-table.js';
import type { Upstream } from '../upstreams/registry.js';

export class Exchange {
  readonly startedAt = Date.now();
  readonly startedPerf = performance.now();
  target: RequestTarget | null = null;
  route: ProvisionedRoute | null = null;
  /** The upstream of the request's latest attempt (the access log's), or null before one. */
  upstream: Upstream | null = null;
  /** Response body bytes written to the client. */
  bytesOut = 0;
  /** Set when Gatehouse answered (or cut) the request itself. */
  error: ProxyErrorCode | null = null;
  /** The failure in the user's words (the error page's sentence), for the log; set with `error`. */
  detail: string | null = null;
  /** Cancels the upstream side; set while an upstream request is under way. */
  abortUpstream: (() => void) | null = null;
  /** The request inspector's capture, when the route is inspected (insight/inspector.ts); else null. */
  tap: ExchangeTap | null = null;

  /** The real client (behind the route's trusted proxies), for the log; the peer until routed. */
  client: string;
  /** What the passes recorded (see passes/pass.ts, PassRequest). */
  readonly upgrade = false;
  rule: string | null = null;
  user: string | null = null;
  viaUnknownProxy = false;
  upstreamSet: string[] | null = null;
  maxBodyBytes = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly peer: string,
    /** Arrived on the HTTPS listener. */
    readonly secure: boolean,
    /** Arrived over HTTP/2 (then also `secure`). */
    readonly h2: boolean,
    /** The connection (the TLS socket for HTTP/2). */
    readonly socket: Socket,
  ) {
    this.client = peer;
  }

  /**
   * Writes an answer a pass got from elsewhere (a forward-auth server's), as it came. The engine
   * sets it: it knows whether the connection must close over an unread body.
   */
  respond: (status: number, headers: Record<string, string | string[]>, body: Buffer | string) => void = () => {
    throw new Error('Exchange.respond used before the engine set it');
  };

  /** The client's side is gone: nothing more can be written to it. */
  get responseClosed(): boolean {
    return this.h2 ? (this.res as unknown as Http2ServerResponse).stream.destroyed : this.res.destroyed;
  }

  /**
   * The whole response went out; read once the exchange has closed. An HTTP/2 stream closes as its
   * last frame goes, which may be before its writable side says finished (Gatehouse sends no
   * trailers, listeners.ts): there it is "we ended it, and it closed without an error or a reset".
   */
  get responseCompleted(): boolean {
    if (!this.h2) return this.res.writableFinished;
    const stream = (this.res as unknown as Http2ServerResponse).stream;
    return stream.writableEnded && !stream.aborted && stream.rstCode === http2Constants.NGHTTP2_NO_ERROR;
  }

  /** The request carries a body to stream upstream. */
  get requestHasBody(): boolean {
    if (this.h2) return !(this.req as unknown as Http2ServerRequest).stream.endAfterHeaders;
    const { headers } = this.req;
    const length = headers['content-length'];
    if (length !== undefined) return length !== '0';
    return headers['transfer-encoding'] !== undefined;
  }

  /** Records why Gatehouse answered or cut the request itself. */
  failed(error: ProxyError): void {
    this.error = error.code;
    this.detail = error.detail;
    if (error.refusal) this.rule = error.refusal.rule;
  }

  /** The access-log line for this request, once it has ended. */
  entry(status: number): AccessLogEntry {
    return {
      time: isoTime(this.startedAt),
      client: this.client,
      host: this.target?.hostname ?? '',
      method: this.req.method ?? '',
      path: this.target?.path ?? this.req.url ?? '',
      status,
      bytes: this.bytesOut,
      durationMs: Math.round((performance.now() - this.startedPerf) * 100) / 100,
      routeId: this.route?.id ?? null,
      upstream: this.upstream?.address ?? null,
      error: this.error,
      detail: this.detail,
      rule: this.rule,
      user: this.user,
    };
  }
}

/**
 * What the request inspector is told as an inspected exchange goes (insight/inspector.ts): copies
 * only, it never holds back or changes anything.
 */
export interface ExchangeTap {
  /** The upstream connection is ready and the request is being written on it. */
  connected(): void;
  requestChunk(chunk: Buffer): void;
  /** The whole request body went upstream. */
  requestEnd(): void;
  /** The upstream's final answer head, as passed on to the client. */
  responseHead(status: number, headers: Record<string, string | string[]>, upstream: string): void;
  responseChunk(chunk: Buffer): void;
  responseEnd(): void;
  /** Gatehouse answered itself (an error page, a redirect, a refusal). */
  answered(status: number, headers: Record<string, string | string[]>, body: string | Buffer): void;
  /** The exchange ended with `status` (as logged). */
  finish(status: number, ex: Exchange): void;
}

let lastTimeMs = -1;
let lastTimeText = '';

/** `ms` as an ISO 8601 time; a busy proxy logs many requests in the same millisecond, so the last is kept. */
export function isoTime(ms: number): string {
  if (ms !== lastTimeMs) {
    lastTimeText = new Date(ms).toISOString();
    lastTimeMs = ms;
  }
  return lastTimeText;
}

const lastBytesRead = Symbol('gatehouse.lastBytesRead');

/** Bytes the client sent for this request (head and body) on a keep-alive connection. */
export function bytesReadSinceLastRequest(socket: (Socket & { [lastBytesRead]?: number }) | null): number {
  if (!socket) return 0;
  const total = socket.bytesRead;
  const delta = total - (socket[lastBytesRead] ?? 0);
  socket[lastBytesRead] = total;
  return delta;
}
