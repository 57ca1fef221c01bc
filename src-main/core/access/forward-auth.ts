// Forward auth: before a request (or WebSocket upgrade) goes to the service, Gatehouse asks a
// sign-in server (Authelia, Authentik, tinyauth, oauth2-proxy…) about it, the way Traefik's
// forwardAuth and Caddy's forward_auth do:
//   GET <provider URL> with the client's Cookie, Authorization, User-Agent and Accept, and
//   X-Forwarded-Method/Proto/Host/Uri/For describing the original request (X-Forwarded-For is the
//   client's real address; X-Forwarded-Uri is path and query), plus X-Original-URL and
//   X-Original-Method for servers that read nginx's auth_request headers instead.
//   - 2xx: the service is asked, with the provider's configured headers (Remote-User…) copied onto
//     the request; the client's own copies of those names (and their underscore twins) are dropped,
//     and a name the provider did not send is dropped too, never left as the client wrote it.
//   - anything else (302 to the login page, 401, 403): that answer goes back to the client as it
//     came — status, Location, Set-Cookie, WWW-Authenticate, body — minus hop-by-hop headers.
//     oauth2-proxy's /oauth2/auth answers 401, never a redirect; nginx turns that into its sign-in
//     page with `error_page 401 = /oauth2/sign_in?rd=…` (oauth2-proxy docs, "Configuring for use
//     with the Nginx auth_request directive"). Gatehouse does the same for that preset: a 401 to a
//     GET or HEAD becomes a 302 to <provider origin>/oauth2/start?rd=<original URL>, which sends the
//     browser straight to the identity provider and back. Other methods keep the 401 (an API call
//     cannot follow a login page).
//   - no answer within ANSWER_TIMEOUT_MS, or no connection: 503 sign_in_unavailable. Fail closed:
//     a sign-in server that is down never opens the door.
// At most MAX_CONNECTIONS questions to one provider are under way; the rest wait in a line of at
// most MAX_WAITING, and past that a request is refused at once with 503 sign_in_unavailable ("too
// many sign-in checks waiting"): a slow sign-in server cannot make requests pile up without bound.
// A visitor who hangs up leaves the line at once and its question, if under way, is dropped: a
// visitor who left never causes a question later.
// One undici pool per provider, made when the settings are applied and closed when the provider
// changes or goes: nothing is allocated per request beyond the request itself.
import type { Dispatcher, Pool } from 'undici';
import PoolClass from 'undici/lib/dispatcher/pool.js';
// The pool module alone has no request(): undici adds it when its whole package entry is loaded,
// which the proxy avoids (upstreams.ts). Its request() is taken on its own and called on the pool.
import undiciRequest from 'undici/lib/api/api-request.js';
import type { SignInProvider } from '../../../shared/access.js';
import { FORWARD_AUTH_PRESETS } from '../../../shared/forward-auth-presets.js';
import { ProxyError } from '../proxy/errors.js';
import { ANSWERED, type PassRequest, type RequestPass } from '../proxy/passes/pass.js';
import { hostPort } from '../upstreams/registry.js';

/** How long the sign-in server may take to connect and to answer, in ms. Default: 5 s. */
export const ANSWER_TIMEOUT_MS = 5000;
/** The largest "no" body passed on to the client (a login page, an error); longer ones are cut. */
export const MAX_ANSWER_BYTES = 256 * 1024;
/** Connections to one sign-in server at most; more requests queue. */
const MAX_CONNECTIONS = 64;
/** Requests waiting for one of those connections at most; more are refused with 503. Default: 4 × 64. */
export const MAX_WAITING = 4 * MAX_CONNECTIONS;

/**
 * The line in front of one provider's pool. undici's own pool queue has no bound and keeps a
 * question whose visitor left until a connection frees, so questions wait here instead, where a
 * departed visitor is taken out at once (a Set keeps arrival order and deletes in O(1)).
 */
export class AskLine {
  private running = 0;
  private readonly waiting = new Set<() => void>();

  /** Questions waiting for a connection now. */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Takes a slot: true at once or when one frees, false when `signal` aborts first, null when the
   * line is full. A true must be followed by exactly one done().
   */
  enter(signal: AbortSignal): Promise<boolean> | true | null {
    if (this.running < MAX_CONNECTIONS) {
      this.running++;
      return true;
    }
    if (this.waiting.size >= MAX_WAITING) return null;
    return new Promise((resolve) => {
      const go = () => {
        signal.removeEventListener('abort', leave);
        this.running++;
        resolve(true);
      };
      const leave = () => {
        this.waiting.delete(go);
        resolve(false);
      };
      this.waiting.add(go);
      signal.addEventListener('abort', leave, { once: true });
    });
  }

  done(): void {
    this.running--;
    const next = this.waiting.values().next();
    if (next.done) return;
    this.waiting.delete(next.value);
    next.value();
  }
}

export { FORWARD_AUTH_PRESETS };
const PRESETS = FORWARD_AUTH_PRESETS;


/** A custom server with no headers configured copies the Remote-* set most servers send. */
const CUSTOM_COPY = ['Remote-User', 'Remote-Email', 'Remote-Name', 'Remote-Groups'];

/** Names a provider may not set on the request: framing, routing and Gatehouse's own forwarding headers. */
const NOT_COPYABLE = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-connection', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** Headers of the provider's answer that belong to its connection, not to the client's. */
const ANSWER_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'proxy-authenticate']);

/** One provider, ready to ask. */
export interface ProviderClient {
  readonly provider: SignInProvider;
  readonly pool: Pool;
  /** The questions waiting for the pool. */
  readonly line: AskLine;
  /** Path and query of the endpoint. */
  readonly path: string;
  readonly origin: string;
  /** host:port, for the log. */
  readonly address: string;
  /** [configured name, lower-case name] of each header copied on a yes. */
  readonly copy: ReadonlyArray<readonly [string, string]>;
  /** Lower case. */
  readonly userHeader: string;
  readonly redirect401: boolean;
}

function keyOf(provider: SignInProvider): string {
  return JSON.stringify([provider.kind, provider.url, provider.insecureTls, provider.copyHeaders]);
}

function clientFor(provider: SignInProvider): ProviderClient {
  const url = new URL(provider.url);
  const preset = PRESETS.find((candidate) => candidate.kind === provider.kind);
  const names = provider.copyHeaders.length > 0 ? provider.copyHeaders : (preset?.copyHeaders ?? CUSTOM_COPY);
  const copy = [...new Map(names.filter((name) => !NOT_COPYABLE.has(name.toLowerCase())).map((name) => [name.toLowerCase(), name])).entries()].map(([lower, name]) => [name, lower] as const);
  const pool = new PoolClass(url.origin, {
    connections: MAX_CONNECTIONS,
    pipelining: 1,
    headersTimeout: ANSWER_TIMEOUT_MS,
    bodyTimeout: ANSWER_TIMEOUT_MS,
    connect: { timeout: ANSWER_TIMEOUT_MS, rejectUnauthorized: !(provider.insecureTls && url.protocol === 'https:') },
  });
  pool.on('connectionError', () => {});
  return {
    provider,
    pool,
    line: new AskLine(),
    path: `${url.pathname}${url.search}`,
    origin: url.origin,
    address: hostPort(url.origin).address,
    copy,
    userHeader: (preset?.userHeader ?? 'Remote-User').toLowerCase(),
    redirect401: provider.kind === 'oauth2-proxy',
  };
}

/** The providers' pools, kept in step with the settings. */
export class ForwardAuthClients {
  private clients = new Map<string, { key: string; client: ProviderClient }>();

  apply(providers: readonly SignInProvider[]): void {
    const next = new Map<string, { key: string; client: ProviderClient }>();
    for (const provider of providers) {
      const key = keyOf(provider);
      const existing = this.clients.get(provider.id);
      if (existing && existing.key === key) {
        // Same address and headers: keep the pool (and its connections); the name may have changed.
        next.set(provider.id, { key, client: { ...existing.client, provider } });
        continue;
      }
      next.set(provider.id, { key, client: clientFor(provider) });
    }
    for (const [id, entry] of this.clients) {
      if (next.get(id)?.client.pool !== entry.client.pool) entry.client.pool.close().catch(() => {});
    }
    this.clients = next;
  }

  get(id: string): ProviderClient | undefined {
    return this.clients.get(id)?.client;
  }

  async close(): Promise<void> {
    const pools = [...this.clients.values()].map((entry) => entry.client.pool);
    this.clients.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }
}

/** The original request's full URL, as the browser asked for it. */
function originalUrl(request: PassRequest): string {
  return `${request.secure ? 'https' : 'http'}://${request.target.authority}${request.target.path}`;
}

function askHeaders(request: PassRequest): string[] {
  const { req, target } = request;
  const headers: string[] = [];
  const { cookie, authorization } = req.headers;
  if (cookie) headers.push('cookie', Array.isArray(cookie) ? cookie.join('; ') : cookie);
  if (authorization) headers.push('authorization', authorization);
  if (req.headers['user-agent']) headers.push('user-agent', req.headers['user-agent']);
  if (req.headers.accept) headers.push('accept', req.headers.accept);
  const method = req.method ?? 'GET';
  headers.push(
    'x-forwarded-method', method,
    'x-forwarded-proto', request.secure ? 'https' : 'http',
    'x-forwarded-host', target.authority,
    'x-forwarded-uri', target.path,
    'x-forwarded-for', request.client,
    'x-original-url', originalUrl(request),
    'x-original-method', method,
  );
  return headers;
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Reads at most MAX_ANSWER_BYTES of a "no" answer's body. */
async function boundedBody(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES);
}

export function forwardAuthPass(title: string, providerId: string, clients: ForwardAuthClients): RequestPass {
  return {
    name: 'sign-in',
    run(request) {
      const client = clients.get(providerId);
      if (!client) {
        return new ProxyError('sign_in_unavailable', `${title} signs people in with provider "${providerId}", which no longer exists. Choose another sign-in for the route.`, { rule: `sign-in: missing provider ${providerId}` });
      }
      return ask(request, client);
    },
  };
}

/** An AbortSignal that fires when the visitor's connection (or HTTP/2 stream) closes, and its removal. */
function visitorLeaves(request: PassRequest): { signal: AbortSignal; forget: () => void } {
  const left = new AbortController();
  const abort = () => left.abort(new Error('the visitor left'));
  const stream = (request.req as unknown as { stream?: NodeJS.EventEmitter }).stream;
  const closing = stream ?? request.socket;
  if (request.socket.destroyed || (stream as { destroyed?: boolean } | undefined)?.destroyed) abort();
  else closing.once('close', abort);
  return { signal: left.signal, forget: () => closing.off('close', abort) };
}

async function ask(request: PassRequest, client: ProviderClient) {
  const name = client.provider.name;
  const unavailable = (detail: string, why = 'unavailable') => new ProxyError('sign_in_unavailable', detail, { rule: `sign-in: provider ${name} ${why}` });
  const { signal, forget } = visitorLeaves(request);
  const left = () => unavailable(`The visitor left before the sign-in provider "${name}" was asked.`, 'not asked: the visitor left');
  try {
    if (signal.aborted) return left();
    const slot = client.line.enter(signal);
    if (slot === null) {
      return unavailable(`${MAX_WAITING} requests already wait for the sign-in provider "${name}" at ${client.address}; this one was refused rather than queued.`, 'has too many sign-in checks waiting');
    }
    if (!(slot === true || (await slot))) return left();
    try {
      return await askNow(request, client, signal);
    } finally {
      client.line.done();
    }
  } finally {
    forget();
  }
}

async function askNow(request: PassRequest, client: ProviderClient, signal: AbortSignal) {
  const name = client.provider.name;
  let answer: Dispatcher.ResponseData;
  try {
    answer = await undiciRequest.call(client.pool, { method: 'GET', path: client.path, headers: askHeaders(request), signal });
  } catch (error) {
    if (signal.aborted) {
      return new ProxyError('sign_in_unavailable', `The visitor left before the sign-in provider "${name}" answered; the question was dropped.`, { rule: `sign-in: provider ${name} not waited for: the visitor left` });
    }
    const code = (error as { code?: string }).code ?? (error as Error).message;
    return new ProxyError('sign_in_unavailable', `The sign-in provider "${name}" at ${client.address} did not answer (${code}); the request was refused rather than let through.`, {
      rule: `sign-in: provider ${name} unavailable`,
    });
  }
  const { statusCode, headers } = answer;
  if (statusCode >= 200 && statusCode < 300) {
    await answer.body.dump();
    const set: string[] = [];
    for (const [configured, lower] of client.copy) set.push(configured, headerValue(headers, lower) ?? '');
    // Added to what earlier passes set, not in place of it.
    request.upstreamSet = request.upstreamSet === null ? set : [...request.upstreamSet, ...set];
    const user = headerValue(headers, client.userHeader);
    request.user = user ? user.slice(0, 128) : null;
    request.rule = `sign-in: ${name} said yes`;
    return undefined;
  }
  request.rule = `sign-in: ${name} answered ${statusCode}`;
  try {
    const method = request.req.method ?? 'GET';
    if (statusCode === 401 && client.redirect401 && !request.upgrade && (method === 'GET' || method === 'HEAD')) {
      await answer.body.dump();
      const location = `${client.origin}/oauth2/start?rd=${encodeURIComponent(originalUrl(request))}`;
      request.respond(302, { location, 'cache-control': 'no-store' }, '');
    } else {
      const body = await boundedBody(answer.body);
      const out: Record<string, string | string[]> = {};
      for (const [header, value] of Object.entries(headers)) {
        if (value === undefined || ANSWER_HOP_BY_HOP.has(header)) continue;
        out[header] = value;
      }
      request.respond(statusCode, out, body);
    }
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    return new ProxyError('sign_in_unavailable', `The sign-in provider "${name}" at ${client.address} broke off its answer (${code}).`, { rule: `sign-in: provider ${name} unavailable` });
  }
  return ANSWERED;
}
