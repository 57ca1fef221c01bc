// The headless admin server: the API contract over HTTP under /api (a session cookie or the bearer
// token required), sign-in under /auth (auth/auth-routes.ts), the event stream at /api/events,
// Prometheus metrics at /metrics (the same token or session), and the built web UI everywhere else. Same gateway, same handlers, same validation as the Electron
// transport.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { ApiError, parseInput, type ApiErrorBody, type ApiMember } from '../../shared/api.js';
import type { CallContext } from '../../shared/access.js';
import type { ListenerInfo } from '../../shared/status.js';
import type { Gateway } from '../core/gateway.js';
import { metricsText, PROMETHEUS_CONTENT_TYPE } from '../core/insight/prometheus.js';
import { listen } from '../core/net/listen.js';
import { peerAddress } from '../core/proxy/request-head.js';
import { guardRequest } from './admin-guard.js';
import { AdminHosts } from './admin-hosts.js';
import { createApiRouter, takesBody } from './api-router.js';
import { tokenOnlyGate, type AdminGate } from './auth/auth-routes.js';
import { answerClientError } from './client-errors.js';
import { EventStreams } from './event-stream.js';
import { HttpFailure } from './http-failure.js';
import { createAdminHttps, type AdminTls, type HttpsFront } from './https-front.js';
import { BACKUP_BODY_LIMIT_BYTES, BODY_LIMIT_BYTES, readJsonBody } from './request-body.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { createStaticFiles } from './static-files.js';

export { SECURITY_HEADERS };

export interface AdminServerOptions {
  gateway: Pick<Gateway, 'handlers' | 'subscribe'>;
  /** Sign-in (auth/auth-routes.ts); without it only `token` is accepted and /auth/ is not offered. */
  auth?: AdminGate;
  /** The bearer token, when `auth` is not given. */
  token?: string;
  /** The built renderer, normally dist/renderer. */
  rendererDir: string;
  /** Interval of the keep-alive comment on event streams. Default: 15000 ms. */
  pingMs?: number;
  /** Where unexpected errors are reported (never to the client). Default: stderr. */
  reportError?: (error: unknown, context: string) => void;
  /** admin.allowedHosts when the server starts; later changes arrive as `settings` events. Default: none. */
  allowedHosts?: readonly string[];
  /** Serve HTTPS with this certificate, which its owner keeps current. Default: plain HTTP. */
  tls?: AdminTls;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

function errorBody(code: ApiErrorBody['error']['code'], message: string): ApiErrorBody {
  return { error: { code, message } };
}

/** Path parameters and query as one object; a repeated query key becomes a list. */
function queryInput(url: URL, params: Record<string, string>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    input[key] = values.length === 1 ? values[0] : values;
  }
  return Object.assign(input, params);
}

function bodyInput(body: Record<string, unknown>, params: Record<string, string>): Record<string, unknown> {
  for (const [key, value] of Object.entries(params)) {
    if (Object.hasOwn(body, key) && body[key] !== value) {
      throw new ApiError('invalid_input', `${key}: the body says "${String(body[key])}" but the path says "${value}"; leave it out of the body.`, {
        issues: [{ path: key, message: `differs from the ${key} in the path` }],
      });
    }
  }
  return { ...body, ...params };
}

const CLIENT_GONE_CODES = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function clientWentAway(error: unknown): boolean {
  return CLIENT_GONE_CODES.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

export class AdminServer {
  readonly server: Server | HttpsServer;
  /** The hosts (and origins) this admin answers to; see admin-guard.ts. */
  readonly hosts: AdminHosts;
  readonly #https: HttpsFront | null = null;
  readonly #stopFollowingSettings: () => void;
  readonly #stopFollowingAuth: () => void;
  readonly #streams: EventStreams;
  readonly #route = createApiRouter();
  readonly #serveStatic: ReturnType<typeof createStaticFiles>;
  readonly #reportError: (error: unknown, context: string) => void;
  readonly #auth: AdminGate;

  constructor(private readonly options: AdminServerOptions) {
    if (!options.auth && !options.token) throw new Error('AdminServer needs `auth` or `token`');
    this.#auth = options.auth ?? tokenOnlyGate(options.token!);
    this.#streams = new EventStreams(options.gateway, options.pingMs);
    this.#serveStatic = createStaticFiles(options.rendererDir);
    this.#reportError = options.reportError ?? ((error, context) => console.error(`gatehouse: ${context} failed:`, error));
    this.hosts = new AdminHosts({ allowedHosts: options.allowedHosts ?? [] });
    this.#stopFollowingSettings = options.gateway.subscribe((event) => {
      if (event.type === 'settings') this.hosts.setAllowedHosts(event.data.admin.allowedHosts);
    }, ['settings']);
    this.#stopFollowingAuth = this.#auth.onChange(() => this.#streams.recheck());
    const handle = (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch((error: unknown) => this.#fail(response, error, `${request.method} ${request.url}`));
    };
    if (options.tls) {
      this.#https = createAdminHttps(options.tls, handle, this.hosts);
      this.server = this.#https.tls;
    } else {
      this.server = createServer(handle);
    }
    // Node's own refusals (431, 400, 408) get the JSON body every other answer has.
    this.server.on('clientError', answerClientError);
  }

  /** Event streams currently open. */
  get openEventStreams(): number {
    return this.#streams.count;
  }

  /** Binds; rejects with a ListenError whose Problem names the admin port and the fix. */
  async listen(address: string, port: number): Promise<ListenerInfo> {
    const bound = await listen(this.#https?.server ?? this.server, 'admin server', address, port);
    this.hosts.setListener(bound.address, bound.port);
    return bound;
  }

  /** Ends the event streams and every connection, then stops listening. */
  async close(): Promise<void> {
    this.#stopFollowingSettings();
    this.#stopFollowingAuth();
    this.#streams.closeAll();
    if (this.#https) return this.#https.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const refusal = guardRequest(request, this.hosts);
    if (refusal) throw refusal;
    // A request target such as "//host/x" would make `new URL` read a host; only the path counts here.
    const target = request.url ?? '/';
    if (!target.startsWith('/')) {
      sendJson(response, 400, errorBody('invalid_input', 'The request target must be a path.'));
      return;
    }
    const url = new URL(`http://admin${target}`);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) await this.#handleApi(request, response, url);
    else if (url.pathname === '/metrics') await this.#handleMetrics(request, response);
    else if (url.pathname.startsWith('/auth/')) await this.#auth.handle(request, response, url);
    else await this.#serveStatic(request, response, url.pathname);
  }

  /** Answers 401 and returns false unless the request carries the token or a signed-in session (as /api needs). */
  #signedIn(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.#auth.apiCaller(request) !== null) return true;
    sendJson(
      response,
      401,
      errorBody('unauthorized', 'Sign in to the web UI, or send the admin token as "Authorization: Bearer TOKEN" (it is in the file admin-token in the data directory).'),
      { 'www-authenticate': 'Bearer realm="gatehouse"' },
    );
    return false;
  }

  /** Prometheus's scrape: the dashboard's numbers in the text format (core/insight/prometheus.ts). */
  async #handleMetrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!this.#signedIn(request, response)) return;
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') throw new HttpFailure(405, 'not_found', '/metrics is read with GET.', { allow: 'GET, HEAD' });
    const text = await metricsText(this.options.gateway.handlers, this.#context(request));
    response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    response.end(method === 'HEAD' ? undefined : text);
  }

  async #handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (!this.#signedIn(request, response)) return;
    const method = request.method ?? 'GET';
    if (url.pathname === '/api/events') {
      if (method !== 'GET') throw new HttpFailure(405, 'not_found', 'The event stream is read with GET.', { allow: 'GET' });
      await this.#streams.open(request, response, () => this.#auth.stillValid(request));
      return;
    }
    const match = this.#route(method, url.pathname);
    if (match.kind === 'none') {
      throw new ApiError('not_found', `There is no API endpoint ${method} ${url.pathname}; see docs/api.md for the list.`);
    }
    if (match.kind === 'wrong_method') {
      const allow = match.allowed.join(', ');
      throw new HttpFailure(405, 'not_found', `${url.pathname} does not take ${method}; it takes ${allow}.`, { allow });
    }
    const input = takesBody(match.member) ? bodyInput(await readJsonBody(request, match.member === 'previewRestore' || match.member === 'restoreBackup' ? BACKUP_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES), match.params) : queryInput(url, match.params);
    const result = await this.#call(match.member, input, request);
    sendJson(response, 200, result);
  }

  #call(member: ApiMember, input: unknown, request: IncomingMessage): Promise<unknown> {
    const handler = this.options.gateway.handlers[member] as (input: unknown, context: CallContext) => Promise<unknown>;
    return handler(parseInput(member, input), this.#context(request));
  }

  /** Who asks, as the proxy would see them (the Access page's "your address"). */
  #context(request: IncomingMessage): CallContext {
    return { client: { address: peerAddress(request.socket), headers: request.headers } };
  }

  #fail(response: ServerResponse, error: unknown, context: string): void {
    // A client that went away mid-request (closed tab, curl ^C) is routine, not an error to report.
    if (response.destroyed || clientWentAway(error)) {
      response.destroy();
      return;
    }
    if (response.headersSent) {
      this.#reportError(error, context);
      response.destroy();
      return;
    }
    if (error instanceof ApiError) {
      sendJson(response, error.status, error.toBody());
    } else if (error instanceof HttpFailure) {
      sendJson(response, error.status, error.toBody(), error.headers);
    } else {
      this.#reportError(error, context);
      sendJson(response, 500, errorBody('internal', 'Gatehouse hit an unexpected error; the details are in its log (stderr).'));
    }
  }
}
