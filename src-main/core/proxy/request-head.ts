// The passes over a request's head, in the order the request path runs them: find the one authority
// the request is for, then build the headers the upstream receives. Each is a small pure function
// over Node's raw header list, so it is tested alone and costs no allocation it does not need.
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import { NAMED_NO_CLIENT, PEER_ADDRESS } from '../net/connection-front.js';
import { PLAIN_COOKIE_NAME, SECURE_COOKIE_NAME } from '../session-cookie-names.js';
import { ProxyError } from './errors.js';
import { realClient, TrustedProxies } from './real-client.js';

export { realClient, TrustedProxies };

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus legacy ones. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node already answered "100 Continue" to the client; undici refuses to forward it.
  'expect',
]);

/** Headers Gatehouse sets itself; a client's values are replaced unless it is a trusted proxy. */
const FORWARDING = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/**
 * Headers apps read as the client's address (Vaultwarden trusts X-Real-IP by default, PHP apps
 * HTTP_CLIENT_IP / HTTP_TRUE_CLIENT_IP…), compared with `_` folded to `-`: PHP and WSGI turn both into
 * the same variable, so X_Real_IP is X-Real-IP to the app. From a peer that is not a trusted proxy
 * they are dropped, with every other X-Forwarded-* (Port, Prefix, Server, Ssl); X-Real-IP is then set
 * to the real client. Their underscore twins (X_Forwarded_For, X_Real_IP, Cf_Connecting_IP…) are
 * dropped from every peer, a trusted proxy's requests too: proxies write the dashed names, so a twin
 * is the client's own, passed through the front untouched.
 */
const CLIENT_NAMING = new Set(['x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'x-cluster-client-ip', 'forwarded-for']);

const HOST_VALUE = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface RequestTarget {
  /** Lower case, no port, no trailing dot: what routes are matched on. */
  hostname: string;
  /** The authority as the client sent it (host[:port]), forwarded as Host. */
  authority: string;
  /** Origin-form path and query sent upstream. */
  path: string;
}

/** The name routes are matched on for an authority (host[:port]): lower case, no port, no trailing dot. */
export function hostnameOf(authority: string): string {
  let host = authority;
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  host = host.toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * The one authority this request is for. An absolute-form target ("GET http://a/ HTTP/1.1") wins
 * over the Host header, as RFC 9112 §3.2.2 requires, so a request can never be routed by one name
 * and forwarded with another. A missing, repeated or malformed Host is refused.
 */
export function requestTarget(req: IncomingMessage): RequestTarget {
  const raw = req.rawHeaders;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).length === 4 && (raw[i] as string).toLowerCase() === 'host') {
      if (host !== undefined) throw new ProxyError('bad_host', 'The request carried more than one Host header, so it is refused.');
      host = (raw[i + 1] as string).trim();
    }
  }
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 47 /* / */) {
    if (host === undefined || host === '') throw new ProxyError('bad_host', 'The request has no Host header, so Gatehouse cannot tell which service it is for.');
    if (!HOST_VALUE.test(host)) throw new ProxyError('bad_host', 'The request\'s Host header is not a valid host name.');
    return { hostname: hostnameOf(host), authority: host, path: url };
  }
  const absolute = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (absolute) {
    const authority = absolute[1] as string;
    if (authority === '' || authority.includes('@') || !HOST_VALUE.test(authority)) {
      throw new ProxyError('bad_target', 'The request target names no valid host.');
    }
    const rest = absolute[2] as string;
    const path = rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
    return { hostname: hostnameOf(authority), authority, path };
  }
  throw new ProxyError('bad_target', 'The request target must be a path such as /index.html.');
}

/**
 * The one authority of an HTTP/2 request: `:authority`, or Host from a client that sends only that
 * (RFC 9113 §8.3.1), and `:path`. Held to the same rules as an HTTP/1.1 Host header.
 */
export function http2RequestTarget(headers: Record<string, string | string[] | undefined>): RequestTarget {
  if (headers[':method'] === 'CONNECT') {
    throw new ProxyError('method_not_allowed', 'Gatehouse is a reverse proxy; it does not open CONNECT tunnels.');
  }
  const given = headers[':authority'] ?? headers.host;
  if (given === undefined || given === '') throw new ProxyError('bad_host', 'The request names no host (:authority), so Gatehouse cannot tell which service it is for.');
  const authority = (Array.isArray(given) ? '' : given).trim();
  if (!HOST_VALUE.test(authority)) throw new ProxyError('bad_host', 'The request\'s :authority is not a valid host name.');
  const path = headers[':path'];
  if (typeof path !== 'string' || path.charCodeAt(0) !== 47 /* / */) {
    throw new ProxyError('bad_target', 'The request target must be a path such as /index.html.');
  }
  return { hostname: hostnameOf(authority), authority, path };
}

/** The client's address as people write it (no IPv4-mapped IPv6 prefix). */
export function clientAddress(req: IncomingMessage): string {
  return peerAddress(req.socket);
}

interface PeerSocket {
  remoteAddress?: string | undefined;
  [PEER_ADDRESS]?: string;
  [NAMED_NO_CLIENT]?: boolean;
  /** A TLS connection's underlying socket, which the PROXY protocol header was read from. */
  _parent?: PeerSocket | null;
}

/**
 * A connection's peer address as people write it (no IPv4-mapped IPv6 prefix): the address a PROXY
 * protocol header gave (net/connection-front.ts), else the socket's. Everything reads it here.
 */
export function peerAddress(socket: PeerSocket): string {
  const given = socket[PEER_ADDRESS] ?? socket._parent?.[PEER_ADDRESS];
  if (given !== undefined) return given;
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The connection's PROXY protocol header named no client (v1 UNKNOWN, v2 LOCAL or UNSPEC): its
 * peer is the proxy itself, not the visitor (net/connection-front.ts).
 */
export function proxyNamedNoClient(socket: PeerSocket): boolean {
  return socket[NAMED_NO_CLIENT] === true || socket._parent?.[NAMED_NO_CLIENT] === true;
}

/** What the request path knows when it builds the upstream head. */
export interface ForwardContext {
  /** The connection's peer: appended to X-Forwarded-For. */
  client: string;
  clientTrusted: boolean;
  /** The real client (client-address pass), sent as X-Real-IP. Default: `client`. */
  realClient?: string;
  proto: 'http' | 'https';
  target: RequestTarget;
  rewriteHost: string | null;
  /** An HTTP/2 request: its split Cookie fields are joined into one for the HTTP/1.1 upstream. Default: false. */
  http2?: boolean;
  /**
   * Headers the passes set (Remote-User from a sign-in), as [name, value, …]: the client's own
   * fields of these names are dropped, whatever their case; a pair whose value is '' only drops
   * them (a header the sign-in server did not send, the Authorization basic auth consumed). Default: none.
   */
  set?: string[] | null;
}

function forwardedFor(address: string): string {
  return isIPv6(address) ? `"[${address}]"` : address;
}

function forwardedHost(authority: string): string {
  return /^[A-Za-z0-9._-]+$/.test(authority) ? authority : `"${authority.replace(/["\\]/g, '')}"`;
}

/**
 * The header list sent upstream, as a flat [name, value, …] array. Hop-by-hop headers and every
 * header the client named in Connection go first, so nothing the client meant for this hop leaks;
 * then Host and the X-Forwarded-* / Forwarded set, trusting earlier values only from a trusted proxy.
 */
export function upstreamHeaders(req: IncomingMessage, ctx: ForwardContext): string[] {
  const raw = req.rawHeaders;
  const named = connectionTokens(req.headers.connection);
  const out: string[] = [];
  let priorFor: string | undefined;
  let priorProto: string | undefined;
  let priorHost: string | undefined;
  let priorForwarded: string | undefined;
  let cookies: string | undefined;
  const set = ctx.set ?? null;
  // Compared with '_' read as '-' on both sides: a pass that sets X_User drops the client's X-User too.
  const replaced = set === null ? null : new Set(set.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase().replaceAll('_', '-')));
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // HTTP/2 pseudo-headers (:method, :path…) describe the request line, already sent otherwise.
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    // Remote_User too: PHP and WSGI read it as the same variable as Remote-User.
    if (replaced !== null && replaced.has(lower.replaceAll('_', '-'))) continue;
    if (lower === 'cookie') {
      const value = raw[i + 1] as string;
      // RFC 9113 §8.2.3: HTTP/2 may split Cookie; an HTTP/1.1 hop gets one field joined by "; ".
      if (ctx.http2) cookies = cookies === undefined ? value : `${cookies}; ${value}`;
      else pushCookie(out, name, value);
      continue;
    }
    if (FORWARDING.has(lower)) {
      if (!ctx.clientTrusted) continue;
      const value = raw[i + 1] as string;
      if (lower === 'x-forwarded-for') priorFor = priorFor ? `${priorFor}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') priorProto ??= value;
      else if (lower === 'x-forwarded-host') priorHost ??= value;
      else if (lower === 'forwarded') priorForwarded = priorForwarded ? `${priorForwarded}, ${value}` : value;
      continue;
    }
    if (namesClient(lower)) {
      // X-Real-IP is Gatehouse's to set; the others pass only from a trusted proxy. An underscore
      // twin (X_Forwarded_For) never does: no proxy writes one, so the client did, and PHP/WSGI would
      // read it as the dashed header a trusted front vouched for.
      if (!ctx.clientTrusted || lower === 'x-real-ip' || lower.includes('_')) continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  if (cookies !== undefined) pushCookie(out, 'cookie', cookies);
  const { client, proto, target } = ctx;
  const element = `for=${forwardedFor(client)};host=${forwardedHost(target.authority)};proto=${proto}`;
  out.push(
    'host', ctx.rewriteHost ?? target.authority,
    'x-forwarded-for', priorFor ? `${priorFor}, ${client}` : client,
    'x-forwarded-proto', priorProto ?? proto,
    'x-forwarded-host', priorHost ?? target.authority,
    'forwarded', priorForwarded ? `${priorForwarded}, ${element}` : element,
    'x-real-ip', ctx.realClient ?? client,
  );
  if (set !== null) for (let i = 0; i < set.length; i += 2) if (set[i + 1] !== '') out.push(set[i] as string, set[i + 1] as string);
  return out;
}

/** A header (lower case) that names the client or the forwarding chain; see CLIENT_NAMING. */
function namesClient(lower: string): boolean {
  const folded = lower.includes('_') ? lower.replaceAll('_', '-') : lower;
  if (folded.startsWith('x-forwarded-')) return true;
  if (folded !== lower && folded === 'forwarded') return true;
  return CLIENT_NAMING.has(folded);
}

/** Appends a Cookie field, the admin's session cookies taken out; dropped when they were all it held. */
function pushCookie(out: string[], name: string, value: string): void {
  const kept = withoutSessionCookies(value);
  if (kept !== '') out.push(name, kept);
}

/**
 * A Cookie header without the admin's session cookies, whatever else it carries: over HTTPS the
 * browser sends __Host-gatehouse-session to every port of the admin's host, the proxy's 443 too,
 * and a route on that name must not receive the owner's session. Nearly every header lacks the
 * name (the secure one contains the plain one), and is returned as it came without being split.
 */
export function withoutSessionCookies(header: string): string {
  if (!header.includes(PLAIN_COOKIE_NAME)) return header;
  const kept: string[] = [];
  for (const part of header.split(';')) {
    const pair = part.trim();
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = (equals === -1 ? pair : pair.slice(0, equals)).trim();
    if (name !== PLAIN_COOKIE_NAME && name !== SECURE_COOKIE_NAME) kept.push(pair);
  }
  return kept.join('; ');
}

/** Lower-cased names listed in a Connection header, or null when there are none beyond the usual. */
export function connectionTokens(header: string | undefined): Set<string> | null {
  // Nearly every message says only this; it names no header to strip.
  if (!header || header === 'keep-alive' || header === 'close') return null;
  let tokens: Set<string> | null = null;
  for (const part of header.split(',')) {
    const token = part.trim().toLowerCase();
    if (token === '' || token === 'keep-alive' || token === 'close' || token === 'upgrade') continue;
    (tokens ??= new Set()).add(token);
  }
  return tokens;
}

/**
 * Response headers HTTP/2 carries once at most: Node's HTTP/2 server refuses a repeated one
 * (ERR_HTTP2_HEADER_SINGLE_VALUE) and does not export its list, so this is that list as of Node 20
 * and 22, request-only names included (a service may echo them). Pinned against the running Node by
 * test/integration/proxy-tls-h2-headers.test.ts.
 */
export const HTTP2_SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method',
  'age', 'authorization', 'content-encoding', 'content-language', 'content-length',
  'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'dnt', 'etag',
  'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization',
  'range', 'referer', 'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent',
  'x-content-type-options',
]);

/**
 * Headers that only describe an HTTP/1.1 connection, which HTTP/2 forbids (RFC 9113 §8.2.2; Node
 * refuses them with ERR_HTTP2_INVALID_CONNECTION_HEADERS). Most are already hop-by-hop; HTTP2-Settings
 * belongs to the h2c upgrade an HTTP/1.1 server may answer with.
 */
const HTTP2_CONNECTION_HEADERS = new Set([...HOP_BY_HOP, 'http2-settings']);

/**
 * Upstream response headers made fit for an HTTP/2 client: connection-specific ones dropped, and a
 * repeated single-value header reduced to its first value (what most HTTP/1.1 clients act on).
 * Returns `headers` itself when nothing needs changing, which is nearly always.
 */
export function http2ResponseHeaders(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  let out: Record<string, string | string[]> | null = null;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    const drop = HTTP2_CONNECTION_HEADERS.has(name);
    const collapse = Array.isArray(value) && HTTP2_SINGLE_VALUE_HEADERS.has(name);
    if (!drop && !collapse) continue;
    out ??= { ...headers };
    if (drop) delete out[name];
    else out[name] = (value as string[])[0] as string;
  }
  return out ?? headers;
}

/** Response headers from upstream minus hop-by-hop ones and those its Connection header names. */
export function downstreamHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const connection = headers.connection;
  const named = connectionTokens(Array.isArray(connection) ? connection.join(',') : connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (named !== null && named.has(name))) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The client to log: the peer itself, or the real client behind proxies `trusted` believes. */
export function loggedClient(req: IncomingMessage, peer: string, trusted: TrustedProxies): string {
  return trusted.empty ? peer : realClient(req, peer, trusted);
}
