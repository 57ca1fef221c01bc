// Forwarding one HTTP request through one of its route's upstreams and streaming the answer back.
// Nothing is buffered whole: request bodies stream up as the client sends them, response chunks are
// written as they arrive, and a client that stops reading pauses the upstream (backpressure) instead
// of filling memory. Bodies, encodings and redirects pass untouched.
//
// A request is tried on up to `balancing.tries` upstreams, each picked by the route's balancer and
// admitted by its gate; upstreams/retry.ts says which failures move on to the next. The response head
// is held until the first body byte (or the end), so an upstream that fails after its head but before
// anything reached the client still gets the route's error page (or a retry), not an empty reply.
// Event streams are the exception: their head goes out at once, as a browser waits on it.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Timeouts } from '../../../shared/model.js';
import { clientKey } from '../access/client-key.js';
import { busyError, gatedDispatch, type GateRefusal } from '../upstreams/gate.js';
import type { PickRequest } from '../upstreams/balancer.js';
import type { PassiveHealth } from '../upstreams/health-view.js';
import { retryable, withTriedCount } from '../upstreams/retry.js';
import type { Upstream } from '../upstreams/registry.js';
import { ProxyError, seconds, upstreamFailure } from './errors.js';
import type { Exchange } from './exchange.js';
import { downstreamHeaders, http2ResponseHeaders } from './request-head.js';
import type { ProvisionedRoute, RouteUpstream } from './route-table.js';
import { writeResponseHead } from './response-head.js';
import { appendSetCookie, stickyCookie, stickyTagOf, stripStickyCookie } from './sticky-cookie.js';

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[0];

/** Reason given to undici when the client went away; its error is then not reported as a failure. */
const CLIENT_GONE = new Error('client closed the connection');
/** Reason given to undici when Gatehouse could not pass the response head on; already answered. */
const HEAD_REFUSED = new Error('the response head could not be passed on');

/** Retry-After (s) when every upstream is drained: maintenance takes a while. */
const NO_UPSTREAM_RETRY_AFTER_S = 30;

/** Reason given to undici when the request body grew past the route's limit (limits pass). */
class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
  }
}

/** The upstream sent nothing of its response body for upstreamBodyIdleMs (undici's code, so errors.ts maps it). */
function bodyIdle(ms: number): Error {
  return Object.assign(new Error(`no response body byte for ${seconds(ms)}`), { code: 'UND_ERR_BODY_TIMEOUT' });
}

export interface ForwardDeps {
  timeouts: Timeouts;
  /** Told when an upstream answers or cannot be reached, so its health shows at once. */
  health: PassiveHealth;
  /** Answers the request with Gatehouse's own error page. */
  fail(ex: Exchange, error: ProxyError): void;
}

/** A response head received and held until its first body byte (or its end). */
interface HeldHead {
  status: number;
  message: string | undefined;
  headers: Record<string, string | string[]>;
}

/** One attempt: the request sent to one upstream, and its answer relayed. */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | null = null;
  private waitingForDrain = false;
  private drainTimer: NodeJS.Timeout | null = null;
  /** Runs while the upstream owes body bytes (upstreamBodyIdleMs; not for event streams). */
  private idleTimer: NodeJS.Timeout | null = null;
  /** The idle timer was stopped while the client is not reading; it is started again on drain. */
  private idlePaused = false;
  /** The upstream's final status line and headers arrived (undici parsed them). */
  private started = false;
  /** The head, until it is written. */
  private held: HeldHead | null = null;
  /** Cancels the wait for a gate slot (gatedDispatch). */
  cancelWait: (() => void) | null = null;

  constructor(
    private readonly forwarding: Forwarding,
    private readonly upstream: Upstream,
    /** sticky_cookie: the tag to pin the client to, when this pick set one. */
    private readonly stickyTag: string | null,
  ) {}

  private get ex(): Exchange {
    return this.forwarding.ex;
  }

  private get deps(): ForwardDeps {
    return this.forwarding.deps;
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.ex.responseClosed) controller.abort(CLIENT_GONE);
    else this.ex.tap?.connected();
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    const { ex } = this;
    const route = this.forwarding.route;
    if (statusCode < 100 || statusCode > 599) {
      // undici passes any three digits on; docs/api.md promises a 502 for what is not a status.
      this.deps.health.answered(route.id, this.upstream.address, 502);
      this.refuseHead(`answered with status ${statusCode}, which is not an HTTP status (100–599).`);
      controller.abort(HEAD_REFUSED);
      return;
    }
    if (statusCode < 200) return; // 1xx informational: the final response follows
    this.started = true;
    this.deps.health.answered(route.id, this.upstream.address, statusCode);
    if (ex.responseClosed) return;
    let out = downstreamHeaders(headers);
    if (this.stickyTag !== null) appendSetCookie(out, stickyCookie(this.stickyTag, ex.secure));
    // HTTP/2 has no reason phrase (Node warns when given one), and refuses some HTTP/1.1 heads.
    if (ex.h2) {
      statusMessage = undefined;
      out = http2ResponseHeaders(out);
    }
    this.held = { status: statusCode, message: statusMessage, headers: out };
    ex.tap?.responseHead(statusCode, out, this.upstream.address);
    // Event streams must reach the browser before the first event, which may be minutes away; their
    // silence is normal, so no idle limit either.
    const type = out['content-type'];
    if (typeof type === 'string' && type.startsWith('text/event-stream')) {
      if (this.writeHeld(controller)) ex.res.flushHeaders();
      return;
    }
    this.startIdleTimer(controller);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.held !== null && !this.writeHeld(controller)) return;
    this.idleTimer?.refresh();
    this.ex.bytesOut += chunk.length;
    this.ex.tap?.responseChunk(chunk);
    if (!this.ex.res.write(chunk)) this.pauseUntilDrained(controller);
  }

  onResponseEnd(controller: Controller): void {
    this.clearTimers();
    if (this.held !== null && !this.writeHeld(controller)) return;
    this.forwarding.ended(this);
    this.ex.tap?.responseEnd();
    this.ex.res.end();
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.clearTimers();
    this.forwarding.ended(this);
    const { ex } = this;
    if (error === CLIENT_GONE || error === HEAD_REFUSED || ex.responseClosed) return;
    if (error instanceof BodyTooLarge) return this.refuseBody(error.limit);
    const { route } = this.forwarding;
    const address = this.upstream.address;
    if (!this.started && (error as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      // Before any response started, undici reports this for a head its parser refused after a
      // Content-Length: one repeated (same value or not), or next to Transfer-Encoding. The service
      // is up and answered; its answer only cannot be framed, so nothing is passed on and its
      // health is left alone.
      this.deps.health.answered(route.id, address, 502);
      this.refuseHead('answered with a Content-Length that cannot be trusted (repeated, or next to Transfer-Encoding), so where its answer ends is unknown. Fix the service, or the proxy in front of it, to send exactly one Content-Length.');
      return;
    }
    this.deps.health.failed(route.id, address, error);
    if (!ex.res.headersSent) return this.forwarding.attemptFailed(error);
    // Mid-body failure: the status line is gone, so cutting the connection is the only honest signal.
    // The code stays upstream_reset (the response was cut); the sentence says what happened.
    const failure = this.forwarding.failure(error, address);
    if (ex.error === null) ex.failed(new ProxyError('upstream_reset', failure.detail));
    ex.res.destroy();
  }

  /** Writes the held head; false (and the request answered with response_invalid) when Node refuses it. */
  private writeHeld(controller: Controller): boolean {
    const held = this.held as HeldHead;
    this.held = null;
    try {
      writeResponseHead(this.ex.res, held.status, held.message, held.headers);
      return true;
    } catch (error) {
      // The service answered; it is Gatehouse that cannot pass this head on, so the upstream's
      // health is untouched. Headers Node kept from the failed attempt would fail the error page too.
      const res = this.ex.res;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      this.refuseHead(`answered with a status line or header Gatehouse cannot pass on to this client (${cause}).`);
      controller.abort(HEAD_REFUSED);
      return false;
    }
  }

  /**
   * Answers with response_invalid: the service answered, but Gatehouse cannot pass that answer on.
   * Its health is untouched (it is up), and the error page starts from a clean head.
   */
  private refuseHead(what: string): void {
    this.clearTimers();
    this.forwarding.ended(this);
    this.deps.fail(this.ex, new ProxyError('response_invalid', `${this.forwarding.route.title} at ${this.upstream.address} ${what}`));
  }

  /**
   * The body outgrew the route's limit while streaming (chunked, or HTTP/2 without a length): the
   * upstream got at most the limit and its connection was dropped. A 413 if nothing was answered
   * yet, else the response is cut. The service did nothing wrong: its health is untouched.
   */
  private refuseBody(limit: number): void {
    const { ex } = this;
    const failure = new ProxyError('body_too_large', `The request body grew past ${limit} bytes, the limit set for ${this.forwarding.route.title}; the service got no more than that.`, { rule: `body: at most ${limit} bytes` });
    if (!ex.res.headersSent) return this.deps.fail(ex, failure);
    ex.failed(failure);
    ex.res.destroy();
  }

  /**
   * undici's own body timeout would also fire on an event stream's normal silence, so the limit is
   * this handler's, decided at the response's start. Paused while the client is the one not reading.
   */
  private startIdleTimer(controller: Controller): void {
    const idleMs = this.deps.timeouts.upstreamBodyIdleMs;
    if (idleMs <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      controller.abort(bodyIdle(idleMs));
    }, idleMs);
  }

  /** The client stopped reading: pause the upstream until it drains, and give up after clientIdleMs. */
  private pauseUntilDrained(controller: Controller): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    controller.pause();
    // The upstream is paused by Gatehouse, so its silence now is not its fault. A cleared timer
    // cannot be refresh()ed back to life, so it is dropped here and a new one started on drain.
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
      this.idlePaused = true;
    }
    const { res } = this.ex;
    const idleMs = this.deps.timeouts.clientIdleMs;
    this.drainTimer = setTimeout(() => {
      this.ex.failed(new ProxyError('request_timeout', `The client read nothing of the response for ${seconds(idleMs)}, so Gatehouse closed the connection.`));
      res.destroy();
    }, idleMs);
    res.once('drain', () => {
      if (this.drainTimer) clearTimeout(this.drainTimer);
      this.drainTimer = null;
      this.waitingForDrain = false;
      if (this.idlePaused) {
        this.idlePaused = false;
        this.startIdleTimer(controller);
      }
      controller.resume();
    });
  }

  private clearTimers(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.drainTimer = null;
    this.idleTimer = null;
    this.idlePaused = false;
  }

  abort(): void {
    this.clearTimers();
    if (this.controller) this.controller.abort(CLIENT_GONE);
    else this.cancelWait?.();
  }
}

/** What a first attempt has tried: nothing (shared, so a request that is not retried allocates no set). */
const NOTHING_TRIED: ReadonlySet<RouteUpstream> = new Set();

/**
 * One request's forwarding: its attempts, each on another of the route's upstreams. It is its own
 * PickRequest (the balancer reads clientKey and stickyTag), one object less per request.
 */
class Forwarding implements PickRequest {
  readonly route: ProvisionedRoute;
  /** Upstreams tried so far; null until a retry needs the set (the first attempt's is `first`). */
  private tried: Set<RouteUpstream> | null = null;
  private first: RouteUpstream | null = null;
  readonly clientKey: string;
  readonly stickyTag: string | null;
  /** undici asked for the request body: it cannot be sent again (see upstreams/retry.ts). */
  private bodyPulled = false;
  private current: ForwardHandler | null = null;

  constructor(
    readonly ex: Exchange,
    private readonly headers: string[],
    readonly deps: ForwardDeps,
  ) {
    this.route = ex.route as ProvisionedRoute;
    this.clientKey = clientKey(ex.client);
    this.stickyTag = this.route.balancing.policy === 'sticky_cookie' ? stickyTagOf(ex.req.headers.cookie) : null;
  }

  /** How many upstreams this request has been tried on. */
  private get triedCount(): number {
    return this.tried?.size ?? (this.first === null ? 0 : 1);
  }

  /** Sends the request to the next upstream the balancer picks, or answers why there is none. */
  attempt(lastError: unknown = null): void {
    const { ex, route } = this;
    if (ex.responseClosed) return;
    const count = this.triedCount;
    if (count === 1) this.tried = new Set([this.first as RouteUpstream]);
    const picked = count < route.balancing.tries ? route.balancer.pick(this, this.tried ?? NOTHING_TRIED) : null;
    if (picked === null) {
      if (count > 0) return this.deps.fail(ex, this.finalFailure(lastError));
      const retryAfter = String(NO_UPSTREAM_RETRY_AFTER_S);
      return this.deps.fail(ex, new ProxyError('no_upstream', `Every upstream of ${route.title} is drained (taken out for maintenance). Put one back on the route's page.`, { rule: 'every upstream drained', headers: { 'retry-after': retryAfter } }));
    }
    const { choice } = picked;
    if (this.tried) this.tried.add(choice);
    else this.first = choice;
    const upstream = (ex.upstream = choice.upstream);
    const handler = (this.current = new ForwardHandler(this, upstream, picked.setStickyTag));
    ex.abortUpstream = () => handler.abort();
    const { timeouts } = this.deps;
    try {
      handler.cancelWait = gatedDispatch(
        upstream,
        this.clientKey,
        {
          path: (ex.target as NonNullable<Exchange['target']>).path,
          method: ex.req.method as Dispatcher.HttpMethod,
          headers: this.headers,
          // undici takes any async iterable as a body (lib/core/request.js); its types say Readable only.
          body: ex.requestHasBody ? (this.body() as unknown as Readable) : null,
          headersTimeout: timeouts.upstreamHeadersMs,
          // The handler runs its own body idle timer (event streams are exempt).
          bodyTimeout: 0,
        },
        handler,
        (_waitedMs, refusal) => this.busy(handler, refusal),
      );
    } catch (error) {
      // undici rejects some heads synchronously (a header value it will not send).
      this.ended(handler);
      this.deps.fail(ex, new ProxyError('bad_request', `The request could not be forwarded: ${(error as Error).message}.`));
    }
  }

  /** An attempt failed before anything reached the client: the next upstream, or the error page. */
  attemptFailed(error: unknown): void {
    if (retryable(error, { method: this.ex.req.method ?? 'GET', bodyPulled: this.bodyPulled, answered: false })) return this.attempt(error);
    this.deps.fail(this.ex, this.finalFailure(error));
  }

  /** `handler`'s exchange with its upstream is over. */
  ended(handler: ForwardHandler): void {
    if (this.current !== handler) return;
    this.current = null;
    this.ex.abortUpstream = null;
  }

  failure(error: unknown, address: string): ProxyError {
    const { upstreamConnectMs: connectMs, upstreamHeadersMs: headersMs } = this.deps.timeouts;
    return upstreamFailure(error, this.route.title, address, { connectMs, headersMs });
  }

  /** The failure of the last attempt, saying how many upstreams were tried. */
  private finalFailure(error: unknown): ProxyError {
    const failure = this.failure(error, this.ex.upstream?.address ?? '');
    const count = this.triedCount;
    if (count < 2) return failure;
    return new ProxyError(failure.code, withTriedCount(failure.detail, count));
  }

  /** The gate gave no slot in time (or too many wait): 503 with Retry-After, naming the limit. */
  private busy(handler: ForwardHandler, refusal: GateRefusal): void {
    this.ended(handler);
    this.deps.fail(this.ex, busyError(refusal));
  }

  /**
   * The request body for one attempt, counted against the route's limit: the chunk that would take it
   * past `maxBodyBytes` is never handed on, and undici is told why (BodyTooLarge) so it drops the
   * upstream request. Pulling it marks the request as no longer retryable. `destroyOnReturn: false`
   * keeps the client's connection open for an error page (a 413).
   */
  private async *body(): AsyncGenerator<Buffer> {
    this.bodyPulled = true;
    const limit = this.ex.maxBodyBytes;
    const tap = this.ex.tap;
    let seen = 0;
    for await (const chunk of this.ex.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (limit > 0 && seen > limit) throw new BodyTooLarge(limit);
      tap?.requestChunk(chunk);
      yield chunk;
    }
    tap?.requestEnd();
  }
}

/** True when the request carries a body to stream upstream. */
export function hasBody(headers: Exchange['req']['headers']): boolean {
  const length = headers['content-length'];
  if (length !== undefined) return length !== '0';
  return headers['transfer-encoding'] !== undefined;
}

/** Sends the exchange's request to one of its route's upstreams with `headers` (already built). */
export function forward(ex: Exchange, headers: string[], deps: ForwardDeps): void {
  const { req } = ex;
  const { timeouts } = deps;
  if (ex.requestHasBody) {
    // A client that stalls mid-upload is cut after clientIdleMs; once the body is in, the response
    // may legitimately take long (upstreamHeadersMs governs that), so the timer stops.
    req.setTimeout(timeouts.clientIdleMs, () => {
      ex.failed(new ProxyError('request_timeout', `The client sent nothing of its request body for ${seconds(timeouts.clientIdleMs)}, so Gatehouse closed the connection.`));
      req.socket.destroy();
    });
    req.once('end', () => req.setTimeout(0));
  }
  // The sticky cookie is Gatehouse's: the service never sees it.
  stripStickyCookie(headers);
  new Forwarding(ex, headers, deps).attempt();
}
