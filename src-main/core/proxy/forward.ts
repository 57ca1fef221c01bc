// Forwarding one HTTP request through the route's pooled upstream and streaming the answer back.
// Nothing is buffered whole: request bodies stream up as the client sends them, response chunks are
// written as they arrive, and a client that stops reading pauses the upstream (backpressure) instead
// of filling memory. Bodies, encodings and redirects pass untouched.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Timeouts } from '../../../shared/model.js';
import { ProxyError, seconds, upstreamFailure } from './errors.js';
import type { Exchange } from './exchange.js';
import type { PassiveHealth } from '../upstreams/health-view.js';
import { busyError, gatedDispatch, type GateRefusal } from '../upstreams/gate.js';
import { clientKey } from '../access/client-key.js';
import { downstreamHeaders, http2ResponseHeaders } from './request-head.js';

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[0];

/** Reason given to undici when the client went away; its error is then not reported as a failure. */
const CLIENT_GONE = new Error('client closed the connection');
/** Reason given to undici when Gatehouse could not pass the response head on; already answered. */
const HEAD_REFUSED = new Error('the response head could not be passed on');

/** Reason given to undici when the request body grew past the route's limit (limits pass). */
class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
  }
}

export interface ForwardDeps {
  timeouts: Timeouts;
  /** Told when an upstream answers or cannot be reached, so its health shows at once. */
  health: PassiveHealth;
  /** Answers the request with Gatehouse's own error page. */
  fail(ex: Exchange, error: ProxyError): void;
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | null = null;
  private waitingForDrain = false;
  private drainTimer: NodeJS.Timeout | null = null;
  /** The upstream's final status line and headers arrived (undici parsed them). */
  private started = false;

  constructor(
    private readonly ex: Exchange,
    private readonly deps: ForwardDeps,
  ) {}

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.ex.responseClosed) controller.abort(CLIENT_GONE);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx informational: the final response follows
    this.started = true;
    const { ex } = this;
    if (ex.route) this.deps.health.answered(ex.route.id, ex.route.upstream.address, statusCode);
    if (ex.responseClosed) return;
    let out = downstreamHeaders(headers);
    // HTTP/2 has no reason phrase (Node warns when given one), and refuses some HTTP/1.1 heads.
    if (ex.h2) {
      statusMessage = undefined;
      out = http2ResponseHeaders(out);
    }
    try {
      out = writeResponseHead(ex.res, statusCode, statusMessage, out);
    } catch (error) {
      // The service answered; it is Gatehouse that cannot pass this head on, so the upstream's
      // health is untouched. Headers Node kept from the failed attempt would fail the error page too.
      const res = ex.res;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      this.refuseHead(`answered with a status line or header Gatehouse cannot pass on to this client (${cause}).`);
      controller.abort(HEAD_REFUSED);
      return;
    }
    // Event streams must reach the browser before the first event, which may be minutes away.
    const type = out['content-type'];
    if (typeof type === 'string' && type.startsWith('text/event-stream')) ex.res.flushHeaders();
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.ex.bytesOut += chunk.length;
    if (!this.ex.res.write(chunk)) this.pauseUntilDrained(controller);
  }

  onResponseEnd(): void {
    this.clearDrainTimer();
    this.ex.abortUpstream = null;
    this.ex.res.end();
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.clearDrainTimer();
    this.ex.abortUpstream = null;
    const { ex } = this;
    if (error === CLIENT_GONE || error === HEAD_REFUSED || ex.responseClosed) return;
    if (error instanceof BodyTooLarge) return this.refuseBody(error.limit);
    const route = ex.route;
    if (!route) return void ex.res.destroy();
    if (!this.started && (error as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      // Before any response started, undici reports this for a head its parser refused after a
      // Content-Length: one repeated (same value or not), or next to Transfer-Encoding. The service
      // is up and answered; its answer only cannot be framed, so nothing is passed on and its
      // health is left alone.
      this.deps.health.answered(route.id, route.upstream.address, 502);
      this.refuseHead('answered with a Content-Length that cannot be trusted (repeated, or next to Transfer-Encoding), so where its answer ends is unknown. Fix the service, or the proxy in front of it, to send exactly one Content-Length.');
      return;
    }
    const { upstreamConnectMs: connectMs, upstreamHeadersMs: headersMs } = this.deps.timeouts;
    const failure = upstreamFailure(error, route.title, route.upstream.address, { connectMs, headersMs });
    if (!ex.res.headersSent) {
      this.deps.health.failed(route.id, route.upstream.address, error);
      this.deps.fail(ex, failure);
      return;
    }
    // Mid-body failure: the status line is gone, so cutting the connection is the only honest signal.
    // The code stays upstream_reset (the response was cut); the sentence says what happened.
    if (ex.error === null) ex.failed(new ProxyError('upstream_reset', failure.detail));
    ex.res.destroy();
  }

  /**
   * Answers with response_invalid: the service answered, but Gatehouse cannot pass that answer on.
   * Its health is untouched (it is up), and the error page starts from a clean head.
   */
  private refuseHead(what: string): void {
    const { ex } = this;
    ex.abortUpstream = null;
    const service = ex.route ? `${ex.route.title} at ${ex.route.upstream.address}` : 'The service';
    this.deps.fail(ex, new ProxyError('response_invalid', `${service} ${what}`));
  }

  /**
   * The body outgrew the route's limit while streaming (chunked, or HTTP/2 without a length): the
   * upstream got at most the limit and its connection was dropped. A 413 if nothing was answered
   * yet, else the response is cut. The service did nothing wrong: its health is untouched.
   */
  private refuseBody(limit: number): void {
    const { ex } = this;
    const failure = new ProxyError('body_too_large', `The request body grew past ${limit} bytes, the limit set for ${ex.route?.title ?? 'this route'}; the service got no more than that.`, { rule: `body: at most ${limit} bytes` });
    if (!ex.res.headersSent) return this.deps.fail(ex, failure);
    ex.failed(failure);
    ex.res.destroy();
  }

  /** The client stopped reading: pause the upstream until it drains, and give up after clientIdleMs. */
  private pauseUntilDrained(controller: Controller): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    controller.pause();
    const { res } = this.ex;
    const idleMs = this.deps.timeouts.clientIdleMs;
    this.drainTimer = setTimeout(() => {
      this.ex.failed(new ProxyError('request_timeout', `The client read nothing of the response for ${seconds(idleMs)}, so Gatehouse closed the connection.`));
      res.destroy();
    }, idleMs);
    res.once('drain', () => {
      this.clearDrainTimer();
      this.waitingForDrain = false;
      controller.resume();
    });
  }

  private clearDrainTimer(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
  }

  abort(): void {
    this.clearDrainTimer();
    this.controller?.abort(CLIENT_GONE);
  }
}

function writeHead(res: Exchange['res'], status: number, message: string | undefined, headers: Record<string, string | string[]>): void {
  if (message) res.writeHead(status, message, headers);
  else res.writeHead(status, headers);
}

/** Writes the upstream's head; returns the headers as written. Throws what Node refuses. */
function writeResponseHead(res: Exchange['res'], status: number, message: string | undefined, headers: Record<string, string | string[]>): Record<string, string | string[]> {
  try {
    writeHead(res, status, message, headers);
    return headers;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_INVALID_CHAR') throw error;
  }
  // undici decodes header bytes as UTF-8; a value such as a Content-Disposition file name with
  // non-ASCII characters then holds characters Node will not write. Their UTF-8 bytes as latin1
  // characters are exactly what the service sent. Node 20 refuses them in writeHead next to a
  // Content-Length, takes them through setHeader, and writes them unchanged only if that head is
  // flushed on its own (joined to a body it re-encodes them). Both cases are pinned by
  // test/integration/proxy-header-bytes.test.ts.
  const out = headerBytesAsLatin1(headers);
  for (const name in out) res.setHeader(name, out[name] as string | string[]);
  writeHead(res, status, message, {});
  if (out['content-length'] !== undefined) res.flushHeaders();
  return out;
}

const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

function headerBytesAsLatin1(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const recode = (value: string) => (BEYOND_LATIN1.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name] as string | string[];
    out[name] = Array.isArray(value) ? value.map(recode) : recode(value);
  }
  return out;
}

/**
 * The request body as undici reads it, counted: the chunk that would take it past `limit` bytes is
 * never handed on, and undici is told why (BodyTooLarge) so it drops the upstream request.
 * `destroyOnReturn: false` keeps the client's connection open for the 413.
 */
async function* limitedBody(req: Exchange['req'], limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > limit) throw new BodyTooLarge(limit);
    yield chunk;
  }
}

/** True when the request carries a body to stream upstream. */
export function hasBody(headers: Exchange['req']['headers']): boolean {
  const length = headers['content-length'];
  if (length !== undefined) return length !== '0';
  return headers['transfer-encoding'] !== undefined;
}

/** Sends the exchange's request to its route's upstream with `headers` (already built). */
export function forward(ex: Exchange, headers: string[], deps: ForwardDeps): void {
  const route = ex.route as NonNullable<Exchange['route']>;
  const target = ex.target as NonNullable<Exchange['target']>;
  const { req } = ex;
  const withBody = ex.requestHasBody;
  const { timeouts } = deps;
  if (withBody) {
    // A client that stalls mid-upload is cut after clientIdleMs; once the body is in, the response
    // may legitimately take long (upstreamHeadersMs governs that), so the timer stops.
    req.setTimeout(timeouts.clientIdleMs, () => {
      ex.failed(new ProxyError('request_timeout', `The client sent nothing of its request body for ${seconds(timeouts.clientIdleMs)}, so Gatehouse closed the connection.`));
      req.socket.destroy();
    });
    req.once('end', () => req.setTimeout(0));
  }
  const handler = new ForwardHandler(ex, deps);
  let cancelWait = () => {};
  ex.abortUpstream = () => {
    cancelWait();
    handler.abort();
  };
  const busy = (_waitedMs: number, refusal: GateRefusal) => {
    ex.abortUpstream = null;
    deps.fail(ex, busyError(refusal));
  };
  try {
    cancelWait = gatedDispatch(
      route.upstream,
      clientKey(ex.client),
      {
        path: target.path,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        // undici takes any async iterable as a body (lib/core/request.js); its types say Readable only.
        body: withBody ? (ex.maxBodyBytes > 0 ? (limitedBody(req, ex.maxBodyBytes) as unknown as Readable) : req) : null,
        headersTimeout: timeouts.upstreamHeadersMs,
        bodyTimeout: timeouts.upstreamBodyIdleMs,
      },
      handler,
      busy,
    );
  } catch (error) {
    // undici rejects some heads synchronously (a header value it will not send).
    ex.abortUpstream = null;
    deps.fail(ex, new ProxyError('bad_request', `The request could not be forwarded: ${(error as Error).message}.`));
  }
}
