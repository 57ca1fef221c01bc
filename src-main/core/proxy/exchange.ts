// One request's journey through the proxy: what the passes learned about it, and what the access
// log and the counters read when it ends. A class so every request has the same shape (V8 keeps the
// request path monomorphic).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessLogEntry } from '../../../shared/model.js';
import type { ProxyErrorCode } from './errors.js';
import type { RequestTarget } from './request-head.js';
import type { ProvisionedRoute } from './route-table.js';

export class Exchange {
  readonly startedAt = Date.now();
  readonly startedPerf = performance.now();
  target: RequestTarget | null = null;
  route: ProvisionedRoute | null = null;
  /** Response body bytes written to the client. */
  bytesOut = 0;
  /** Set when Gatehouse answered (or cut) the request itself. */
  error: ProxyErrorCode | null = null;
  /** Cancels the upstream side; set while an upstream request is under way. */
  abortUpstream: (() => void) | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly peer: string,
    /** The real client (behind trusted proxies), for the log. */
    readonly client: string,
  ) {}

  /** The access-log line for this request, once it has ended. */
  entry(status: number): AccessLogEntry {
    return {
      time: new Date(this.startedAt).toISOString(),
      client: this.client,
      host: this.target?.hostname ?? '',
      method: this.req.method ?? '',
      path: this.target?.path ?? this.req.url ?? '',
      status,
      bytes: this.bytesOut,
      durationMs: Math.round((performance.now() - this.startedPerf) * 100) / 100,
      routeId: this.route?.id ?? null,
      upstream: this.route?.upstream.address ?? null,
      error: this.error,
    };
  }
}
