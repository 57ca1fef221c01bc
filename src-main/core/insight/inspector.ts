// The request inspector (docs/inspector.md): for the routes the user turned it on for, the newest
// `keep` requests with their heads, the first `bodyBytes` of each body, the answer and the timing of
// each phase — in memory only, never on disk. The proxy's request path asks `begin` once per routed
// request (one Map lookup, none when no route is inspected); an inspected exchange gets a Capture
// that the engine and the forwarding code feed as the exchange goes (exchange.ts, ExchangeTap).
// Bodies are copied as they stream past, up to the cap: nothing is held back, buffered whole or
// changed. Header values are kept as they came (a replay sends them again) and masked only in
// what the API returns (view()).
import type { CapturedBody, CapturedRequest, InspectorEntry, InspectorView } from '../../../shared/insight.js';
import type { Exchange, ExchangeTap } from '../proxy/exchange.js';

/** Defaults of an entry turned on without them (shared/insight.ts documents the same). */
export const DEFAULT_KEEP = 50;
export const DEFAULT_BODY_BYTES = 4096;

/** Header names whose values are secrets, besides what SECRET_PATTERN matches. */
const SECRET_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);
/**
 * Any name that holds a credential: also X-Emby-Authorization, X-Authorization, X-Auth-Key,
 * X-Amz-Signature, X-Forwarded-Cookie and the like, not only the exact names above.
 */
const SECRET_PATTERN = /token|secret|passw(or)?d|api[-_]?key|session|authori[sz]ation|auth[-_]?(key|token)|cookie|credential|signature/i;

/** True when a header named `name` holds a secret the API must not show. */
export function isSecretHeader(name: string): boolean {
  return SECRET_NAMES.has(name.toLowerCase()) || SECRET_PATTERN.test(name);
}

/** Query parameter names whose values are secrets (besides what SECRET_PATTERN matches): Plex's X-Plex-Token, Jellyfin's api_key, OAuth's access_token, signed URLs' sig… */
const SECRET_PARAMS = new Set(['apikey', 'api_key', 'key', 'auth', 'sig', 'pass', 'pwd', 'passwd', 'code', 'jwt']);

/** True when a query parameter named `name` holds a secret the API must not show. */
export function isSecretParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge the name as it came.
  }
  return SECRET_PARAMS.has(decoded.toLowerCase()) || SECRET_PATTERN.test(decoded);
}

/** What the API shows instead of a secret query value (URL-safe, so the path stays a path). */
const MASKED_PARAM = 'masked';

/**
 * A path or URL with the values of its secret query parameters replaced; everything else (the
 * other parameters, their order and encoding, the fragment) as it was.
 */
export function maskedQuery(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url;
  const hash = url.indexOf('#', question);
  const query = url.slice(question + 1, hash === -1 ? undefined : hash);
  let changed = false;
  const parts = query.split('&').map((part) => {
    const equals = part.indexOf('=');
    if (equals === -1 || !isSecretParam(part.slice(0, equals))) return part;
    changed = true;
    return `${part.slice(0, equals)}=${MASKED_PARAM}`;
  });
  return changed ? `${url.slice(0, question + 1)}${parts.join('&')}${hash === -1 ? '' : url.slice(hash)}` : url;
}

/** Header names whose values are URLs that may carry a secret query (a replay still sends the original). */
const URL_HEADERS = new Set(['referer', 'location', 'content-location', 'origin', 'link', 'refresh']);

/** A header value as the API shows it: masked when the name is a secret's, its query's secrets masked when it is a URL. */
export function shownHeader(name: string, value: string): string {
  if (isSecretHeader(name)) return maskedValue(value);
  return URL_HEADERS.has(name.toLowerCase()) ? maskedQuery(value) : value;
}

/** What the API shows instead of a secret value. */
export function maskedValue(value: string): string {
  return `••• masked (${value.length} characters)`;
}

/** Content types shown as text: text/*, JSON, XML, JavaScript, forms, YAML, GraphQL. */
const TEXT_TYPE = /^(text\/|application\/([\w.+-]*[+-])?(json|xml|javascript|ecmascript|x-www-form-urlencoded|yaml|x-yaml|graphql|x-ndjson|problem\+json)\b)|^image\/svg\+xml/i;

function textType(value: string | string[] | undefined): string | null {
  const type = Array.isArray(value) ? value[0] : value;
  return type !== undefined && TEXT_TYPE.test(type.trim()) ? type : null;
}

/** The first `cap` bytes of a body as it streams past, and how many went by. */
class BodyTap {
  private buffer: Buffer | null = null;
  kept = 0;
  total = 0;
  /** The whole body went by (its size is known). */
  complete = false;

  constructor(
    private readonly cap: number,
    /** Content-Length when declared: the buffer is never made larger than the body. */
    private readonly sizeHint: number,
  ) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    if (this.buffer === null) this.buffer = Buffer.allocUnsafe(this.sizeHint > 0 && this.sizeHint < this.cap ? this.sizeHint : this.cap);
    const n = Math.min(room, chunk.length, this.buffer.length - this.kept);
    if (n <= 0) return;
    chunk.copy(this.buffer, this.kept, 0, n);
    this.kept += n;
  }

  /** A body given whole (Gatehouse's own answer). */
  whole(body: string | Buffer): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.add(bytes);
    this.complete = true;
  }

  end(): void {
    this.complete = true;
    // A chunked body shorter than the cap: give back the unused part of the buffer.
    if (this.buffer !== null && this.kept < this.buffer.length) this.buffer = Buffer.from(this.buffer.subarray(0, this.kept));
  }

  get bytes(): Buffer {
    return this.buffer === null ? EMPTY : this.buffer.subarray(0, this.kept);
  }

  get held(): number {
    return this.buffer?.length ?? 0;
  }

  /** The kept bytes are the whole body. */
  get faithful(): boolean {
    return this.complete && this.kept === this.total;
  }

  view(contentType: string | null): CapturedBody {
    return {
      base64: this.kept === 0 ? '' : this.bytes.toString('base64'),
      totalBytes: this.complete ? this.total : null,
      truncated: this.total > this.kept,
      contentType,
    };
  }
}

const EMPTY = Buffer.alloc(0);

/** One inspected exchange, fed by the proxy as it happens. */
export class Capture implements ExchangeTap {
  readonly id: string;
  readonly time: number;
  private readonly startedPerf: number;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly client: string;
  /** As received (req.rawHeaders: name, value, name, value…), secrets included: for replay only. */
  readonly rawHeaders: readonly string[];
  readonly secure: boolean;
  readonly h2: boolean;
  readonly requestBody: BodyTap;
  responseBody: BodyTap;
  status: number | null = null;
  responseHeaders: Record<string, string | string[]> | null = null;
  upstream: string | null = null;
  connectedMs: number | null = null;
  headersMs: number | null = null;
  totalMs: number | null = null;
  error: string | null = null;
  replay = false;
  /** Told once the exchange has ended (a replay waits for its capture). */
  onFinish: ((capture: Capture) => void) | null = null;

  constructor(
    id: string,
    ex: Exchange,
    private readonly bodyBytes: number,
  ) {
    this.id = id;
    this.time = ex.startedAt;
    this.startedPerf = ex.startedPerf;
    this.method = ex.req.method ?? '';
    this.path = ex.target?.path ?? ex.req.url ?? '';
    this.host = ex.target?.authority ?? '';
    this.client = ex.client;
    this.rawHeaders = ex.req.rawHeaders;
    this.secure = ex.secure;
    this.h2 = ex.h2;
    const declared = Number(ex.req.headers['content-length'] ?? 0);
    this.requestBody = new BodyTap(bodyBytes, Number.isFinite(declared) ? declared : 0);
    if (!ex.requestHasBody) this.requestBody.complete = true;
    this.responseBody = new BodyTap(bodyBytes, 0);
  }

  private elapsed(): number {
    return Math.round((performance.now() - this.startedPerf) * 100) / 100;
  }

  connected(): void {
    this.connectedMs = this.elapsed();
  }

  requestChunk(chunk: Buffer): void {
    this.requestBody.add(chunk);
  }

  requestEnd(): void {
    this.requestBody.end();
  }

  responseHead(status: number, headers: Record<string, string | string[]>, upstream: string): void {
    this.headersMs = this.elapsed();
    this.status = status;
    this.responseHeaders = headers;
    this.upstream = upstream;
    const declared = Number(headers['content-length'] ?? 0);
    // A retry's answer replaces an earlier attempt's (which sent nothing on).
    this.responseBody = new BodyTap(this.bodyBytes, Number.isFinite(declared) ? declared : 0);
  }

  responseChunk(chunk: Buffer): void {
    this.responseBody.add(chunk);
  }

  responseEnd(): void {
    this.responseBody.end();
  }

  answered(status: number, headers: Record<string, string | string[]>, body: string | Buffer): void {
    this.status = status;
    this.responseHeaders = { ...headers };
    this.responseBody = new BodyTap(this.bodyBytes, 0);
    this.responseBody.whole(body);
  }

  finish(status: number, ex: Exchange): void {
    this.totalMs = this.elapsed();
    this.status = status;
    this.error = ex.error;
    this.upstream = ex.upstream?.address ?? this.upstream;
    const done = this.onFinish;
    this.onFinish = null;
    done?.(this);
  }

  /** Memory this capture holds, roughly: its body buffers and its header strings. */
  get bytesHeld(): number {
    let bytes = 256 + this.requestBody.held + this.responseBody.held + this.path.length;
    for (const part of this.rawHeaders) bytes += part.length + 16;
    if (this.responseHeaders) {
      for (const name in this.responseHeaders) {
        const value = this.responseHeaders[name] as string | string[];
        bytes += name.length + 16 + (Array.isArray(value) ? value.reduce((sum, v) => sum + v.length + 16, 0) : value.length);
      }
    }
    return bytes;
  }

  /** The request's headers without HTTP/2's pseudo-headers, as [name, value]. */
  requestHeaderPairs(): [string, string][] {
    const pairs: [string, string][] = [];
    for (let i = 0; i < this.rawHeaders.length; i += 2) {
      const name = this.rawHeaders[i] as string;
      if (name.charCodeAt(0) === 58 /* : */) continue;
      pairs.push([name, this.rawHeaders[i + 1] as string]);
    }
    return pairs;
  }

  /** What the API returns: secrets masked. */
  view(): CapturedRequest {
    const requestHeaders = this.requestHeaderPairs().map(([name, value]): [string, string] => [name, shownHeader(name, value)]);
    const responseHeaders: [string, string][] = [];
    let responseType: string | string[] | undefined;
    if (this.responseHeaders) {
      for (const name in this.responseHeaders) {
        const value = this.responseHeaders[name] as string | string[];
        if (name.toLowerCase() === 'content-type') responseType = value;
        for (const one of Array.isArray(value) ? value : [value]) responseHeaders.push([name, shownHeader(name, one)]);
      }
    }
    return {
      id: this.id,
      time: new Date(this.time).toISOString(),
      client: this.client,
      method: this.method,
      // The original stays in memory for a replay; the API shows it with its secret parameters masked.
      path: maskedQuery(this.path),
      host: this.host,
      requestHeaders,
      requestBody: this.requestBody.view(textType(headerValue(this.rawHeaders, 'content-type'))),
      status: this.status,
      responseHeaders,
      responseBody: this.responseBody.view(textType(responseType)),
      upstream: this.upstream,
      phases: { connectedMs: this.connectedMs, headersMs: this.headersMs, totalMs: this.totalMs },
      error: this.error,
      replay: this.replay,
      scheme: this.secure ? 'https' : 'http',
      httpVersion: this.h2 ? '2' : '1.1',
    };
  }

  /** Why this request cannot be sent again as it was, or null when it can. */
  get notReplayable(): string | null {
    const body = this.requestBody;
    if (!body.complete) return 'Its body was never read in full (Gatehouse answered before forwarding it, or the client stopped sending), so it cannot be sent again as it was.';
    if (!body.faithful) return `Its body (${body.total} bytes) was longer than the ${body.kept} bytes kept, so it cannot be sent again as it was. Keep more body bytes (at most 64 KiB) to replay requests like it.`;
    return null;
  }

  get body(): Buffer {
    return this.requestBody.bytes;
  }
}

function headerValue(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

/** One inspected route: its settings and a ring of its newest captures. */
class RouteCaptures {
  private ring: (Capture | undefined)[];
  /** Where the next capture goes. */
  private next = 0;

  constructor(
    readonly keep: number,
    readonly bodyBytes: number,
  ) {
    this.ring = new Array<Capture | undefined>(keep);
  }

  add(capture: Capture): void {
    this.ring[this.next] = capture;
    this.next = (this.next + 1) % this.keep;
  }

  /** Drops the oldest capture; returns it, or null when there is none. */
  dropOldest(): Capture | null {
    for (let i = this.keep; i >= 1; i--) {
      const index = (this.next - i + this.keep) % this.keep;
      const capture = this.ring[index];
      if (capture) {
        this.ring[index] = undefined;
        return capture;
      }
    }
    return null;
  }

  /** Newest first. */
  list(): Capture[] {
    const out: Capture[] = [];
    for (let i = 1; i <= this.keep; i++) {
      const capture = this.ring[(this.next - i + this.keep) % this.keep];
      if (capture) out.push(capture);
    }
    return out;
  }

  /** The same captures (the newest `keep`) under new settings. */
  resized(keep: number, bodyBytes: number): RouteCaptures {
    const next = new RouteCaptures(keep, bodyBytes);
    for (const capture of this.list().slice(0, keep).reverse()) next.add(capture);
    return next;
  }

  clear(): void {
    this.ring = new Array<Capture | undefined>(this.keep);
    this.next = 0;
  }
}

/** Most memory all inspected routes' captures hold together (docs/inspector.md). */
export const INSPECTOR_MAX_BYTES = 256 * 1024 * 1024;
/** New captures between two checks of the total (each capture holds at most about 2 × 64 KiB plus headers). */
const CHECK_EVERY = 16;

export class Inspector {
  private readonly routes = new Map<string, RouteCaptures>();
  private sequence = 0;
  private sinceCheck = 0;

  constructor(
    /** The cap on the memory every route's captures hold together: the largest route's oldest go first. */
    private readonly maxBytes = INSPECTOR_MAX_BYTES,
  ) {}
  /** "address|port" of the replays' own sockets (their local side) → the waiter for their capture. */
  private readonly replays = new Map<string, (capture: Capture) => void>();

  /**
   * The request path's question, once per routed request: a Capture to feed when `routeId` is
   * inspected, else null. Off costs one Map size check.
   */
  begin(routeId: string, ex: Exchange): ExchangeTap | null {
    if (this.routes.size === 0) return null;
    const route = this.routes.get(routeId);
    if (route === undefined) return null;
    const capture = new Capture((++this.sequence).toString(36), ex, route.bodyBytes);
    if (this.replays.size > 0) {
      // The connection's own source (not the client a PROXY header or a front names): the replay's
      // socket's local address and port, which no other connection to this listener can have.
      const key = replayKey(ex.socket.remoteAddress ?? '', ex.socket.remotePort ?? -1);
      const waiter = this.replays.get(key);
      if (waiter !== undefined) {
        this.replays.delete(key);
        capture.replay = true;
        capture.onFinish = waiter;
      }
    }
    route.add(capture);
    if (++this.sinceCheck >= CHECK_EVERY) this.enforceCap();
    return capture;
  }

  /**
   * Keeps the captures of every route together under the cap: while over it, the oldest capture of
   * the route holding the most goes (one busy route with large bodies cannot crowd out the others).
   */
  enforceCap(): void {
    this.sinceCheck = 0;
    const held = new Map<RouteCaptures, number>();
    let total = 0;
    for (const route of this.routes.values()) {
      let bytes = 0;
      for (const capture of route.list()) bytes += capture.bytesHeld;
      held.set(route, bytes);
      total += bytes;
    }
    while (total > this.maxBytes) {
      let largest: RouteCaptures | null = null;
      for (const [route, bytes] of held) if (largest === null || bytes > (held.get(largest) as number)) largest = route;
      const dropped = largest?.dropOldest() ?? null;
      if (largest === null || dropped === null) break;
      const bytes = dropped.bytesHeld;
      held.set(largest, (held.get(largest) as number) - bytes);
      total -= bytes;
    }
  }

  /** Applies the saved entries: new routes start empty, kept ones keep their captures, others drop theirs. */
  configure(entries: readonly InspectorEntry[]): void {
    const wanted = new Map(entries.map((entry) => [entry.routeId, entry]));
    for (const id of [...this.routes.keys()]) if (!wanted.has(id)) this.routes.delete(id);
    for (const entry of entries) {
      const current = this.routes.get(entry.routeId);
      if (current === undefined) this.routes.set(entry.routeId, new RouteCaptures(entry.keep, entry.bodyBytes));
      else if (current.keep !== entry.keep || current.bodyBytes !== entry.bodyBytes) this.routes.set(entry.routeId, current.resized(entry.keep, entry.bodyBytes));
    }
  }

  /** The route's inspector as the API shows it (secrets masked). */
  view(routeId: string): InspectorView {
    const route = this.routes.get(routeId);
    if (route === undefined) return { routeId, enabled: false, keep: DEFAULT_KEEP, bodyBytes: DEFAULT_BODY_BYTES, captures: [], bytesHeld: 0 };
    const captures = route.list();
    return {
      routeId,
      enabled: true,
      keep: route.keep,
      bodyBytes: route.bodyBytes,
      captures: captures.map((capture) => capture.view()),
      bytesHeld: captures.reduce((sum, capture) => sum + capture.bytesHeld, 0),
    };
  }

  /** Memory every inspected route's captures hold. */
  get bytesHeld(): number {
    let bytes = 0;
    for (const route of this.routes.values()) for (const capture of route.list()) bytes += capture.bytesHeld;
    return bytes;
  }

  clear(routeId: string): void {
    this.routes.get(routeId)?.clear();
  }

  capture(routeId: string, captureId: string): Capture | null {
    return this.routes.get(routeId)?.list().find((capture) => capture.id === captureId) ?? null;
  }

  /**
   * Marks the request that will arrive from `address`:`port` (the local side of the replay's own
   * connection to the listener, whatever address that listener is bound to) as a replay; `done`
   * gets its capture when it ends. Returns the function that forgets the mark.
   */
  expectReplay(address: string, port: number, done: (capture: Capture) => void): () => void {
    const key = replayKey(address, port);
    this.replays.set(key, done);
    return () => {
      if (this.replays.get(key) === done) this.replays.delete(key);
    };
  }
}

/** One TCP endpoint as a key: an IPv4-mapped IPv6 address is the IPv4 one. */
function replayKey(address: string, port: number): string {
  return `${address.startsWith('::ffff:') ? address.slice(7) : address}|${port}`;
}
