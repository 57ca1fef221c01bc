// Every way a proxied request can fail, declared once with its HTTP status, the plain sentence any
// visitor is shown, and the code it carries; and the one place that maps an errno (or undici error
// code) to one of them, with the detailed sentence (cause, upstream address, fix) the log keeps.

export type ProxyErrorCode =
  | 'no_route'
  | 'bad_host'
  | 'bad_request'
  | 'bad_target'
  | 'misdirected'
  | 'headers_too_large'
  | 'too_many_headers'
  | 'request_timeout'
  | 'method_not_allowed'
  | 'upgrade_refused'
  | 'websocket_disabled'
  | 'upstream_refused'
  | 'upstream_reset'
  | 'upstream_unreachable'
  | 'upstream_dns'
  | 'upstream_tls'
  | 'upstream_bad_response'
  | 'upstream_connect_timeout'
  | 'upstream_timeout'
  | 'response_invalid'
  | 'upstream_busy'
  | 'no_upstream'
  // Refusals: who may come in (access), how much (limits), and who they are (sign-in).
  | 'access_denied'
  | 'lan_only'
  | 'country_denied'
  | 'banned'
  | 'scanner_probe'
  | 'rate_limited'
  | 'login_rate_limited'
  | 'too_many_connections'
  | 'body_too_large'
  | 'sign_in_required'
  | 'sign_in_unavailable';

interface ErrorSpec {
  status: number;
  /** Short title for the page's details, e.g. "Service refused the connection". */
  title: string;
  /**
   * What any visitor is told, in plain words: the service by its route title (`service`, or "This
   * service" when none matched) and nothing Gatehouse learned behind it — no address, no host name,
   * no errno or TLS code, no fix meant for the admin. A fixed sentence per failure, so nothing a
   * detail carries can slip onto a visitor's page.
   */
  visitor: (service: string) => string;
  /**
   * The code a visitor's page carries in X-Gatehouse-Error. Failures of the visitor's own request
   * keep theirs; a service's failure says only that it is unavailable or slow, not why.
   */
  publicCode: string;
}

const unavailable = (service: string) => `${service} is not available right now.`;
const tooSlow = (service: string) => `${service} did not answer in time.`;
const brokenAnswer = (service: string) => `${service} sent an answer that could not be passed on.`;
const notForYou = (service: string) => `${service} cannot be reached from where you are. If you should have access, ask whoever runs it.`;

export const proxyErrors: Record<ProxyErrorCode, ErrorSpec> = {
  no_route: { status: 404, title: 'No route for this name', visitor: () => 'No service is set up for this name here.', publicCode: 'no_route' },
  bad_host: { status: 400, title: 'Bad Host header', visitor: () => 'The request did not name a valid host.', publicCode: 'bad_host' },
  bad_request: { status: 400, title: 'Bad request', visitor: () => 'The request could not be understood.', publicCode: 'bad_request' },
  bad_target: { status: 400, title: 'Bad request target', visitor: () => 'The address asked for is not a valid path.', publicCode: 'bad_target' },
  misdirected: { status: 421, title: 'Wrong connection for this name', visitor: () => 'This connection was opened for another name. Reload the page to open a new one.', publicCode: 'misdirected' },
  headers_too_large: { status: 431, title: 'Request headers too large', visitor: () => 'The request\'s headers are too large.', publicCode: 'headers_too_large' },
  too_many_headers: { status: 431, title: 'Too many request headers', visitor: () => 'The request has too many header fields.', publicCode: 'too_many_headers' },
  request_timeout: { status: 408, title: 'Request timed out', visitor: () => 'The request did not arrive in time.', publicCode: 'request_timeout' },
  method_not_allowed: { status: 405, title: 'Method not allowed', visitor: () => 'This kind of request is not accepted here.', publicCode: 'method_not_allowed' },
  upgrade_refused: { status: 400, title: 'Protocol upgrade refused', visitor: (s) => `${s} does not accept this kind of connection.`, publicCode: 'upgrade_refused' },
  websocket_disabled: { status: 403, title: 'WebSocket turned off', visitor: (s) => `${s} does not accept WebSocket connections.`, publicCode: 'websocket_disabled' },
  upstream_refused: { status: 502, title: 'Service refused the connection', visitor: unavailable, publicCode: 'service_unavailable' },
  upstream_reset: { status: 502, title: 'Service closed the connection', visitor: unavailable, publicCode: 'service_unavailable' },
  upstream_unreachable: { status: 502, title: 'Service unreachable', visitor: unavailable, publicCode: 'service_unavailable' },
  upstream_dns: { status: 502, title: 'Service name not found', visitor: unavailable, publicCode: 'service_unavailable' },
  upstream_tls: { status: 502, title: 'Service certificate rejected', visitor: unavailable, publicCode: 'service_unavailable' },
  upstream_bad_response: { status: 502, title: 'Service sent a broken response', visitor: brokenAnswer, publicCode: 'service_unavailable' },
  upstream_connect_timeout: { status: 504, title: 'Service did not accept the connection in time', visitor: tooSlow, publicCode: 'service_timeout' },
  upstream_timeout: { status: 504, title: 'Service did not answer in time', visitor: tooSlow, publicCode: 'service_timeout' },
  // Gatehouse's own failure, not the service's: its health is left alone.
  response_invalid: { status: 502, title: 'Service answer could not be passed on', visitor: brokenAnswer, publicCode: 'service_unavailable' },
  // Every connection to the service is taken (the wait ran out), or every upstream is drained.
  // Both carry Retry-After; neither is the service's failure, so its health is left alone.
  upstream_busy: { status: 503, title: 'Service busy', visitor: (s) => `${s} is busy right now. Try again in a moment.`, publicCode: 'service_busy' },
  no_upstream: { status: 503, title: 'Service taken offline for maintenance', visitor: unavailable, publicCode: 'service_unavailable' },
  // A refused visitor learns that they were refused and what they can do, never which rule, list or
  // network decided (that is in the log and in "would this address get in").
  access_denied: { status: 403, title: 'Refused by an access list', visitor: notForYou, publicCode: 'forbidden' },
  lan_only: { status: 403, title: 'Only reachable from this network', visitor: notForYou, publicCode: 'forbidden' },
  country_denied: { status: 403, title: 'Refused by a country rule', visitor: notForYou, publicCode: 'forbidden' },
  banned: { status: 403, title: 'Address banned', visitor: notForYou, publicCode: 'forbidden' },
  // A probe for /.env is answered as if nothing were there: a scanner learns nothing.
  scanner_probe: { status: 404, title: 'Scanner probe refused', visitor: () => 'Nothing is here.', publicCode: 'not_found' },
  rate_limited: { status: 429, title: 'Request rate limit reached', visitor: (s) => `Too many requests to ${s} from your address. Wait a moment, then try again.`, publicCode: 'rate_limited' },
  login_rate_limited: { status: 429, title: 'Sign-in attempt limit reached', visitor: (s) => `Too many sign-in attempts to ${s} from your address. Wait a minute, then try again.`, publicCode: 'rate_limited' },
  too_many_connections: { status: 429, title: 'Connection limit reached', visitor: () => 'Your address has too many connections open. Close some, then try again.', publicCode: 'rate_limited' },
  body_too_large: { status: 413, title: 'Request body too large', visitor: (s) => `What you sent is larger than ${s} accepts.`, publicCode: 'body_too_large' },
  sign_in_required: { status: 401, title: 'Sign-in required', visitor: (s) => `Sign in to reach ${s}.`, publicCode: 'sign_in_required' },
  sign_in_unavailable: { status: 503, title: 'Sign-in server unavailable', visitor: (s) => `${s} cannot check who you are right now. Try again in a moment.`, publicCode: 'service_unavailable' },
};

/**
 * Codes of requests refused on purpose (access, limits, scanner blocking, sign-in): counted per
 * route as refusals, not as failures of the service.
 */
export const REFUSAL_CODES: ReadonlySet<ProxyErrorCode> = new Set<ProxyErrorCode>([
  'access_denied',
  'lan_only',
  'country_denied',
  'banned',
  'scanner_probe',
  'rate_limited',
  'login_rate_limited',
  'too_many_connections',
  'body_too_large',
  'sign_in_required',
]);

/**
 * A failure Gatehouse answers itself. `detail` is the full sentence for the log, the dashboard and
 * clients allowed to see details (cause, upstream address, fix); visitors get `visitorSentence`.
 */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  constructor(
    readonly code: ProxyErrorCode,
    readonly detail: string,
    /**
     * For a refusal: the rule that decided, as the log names it ("list Family: deny
     * 203.0.113.0/24"), and headers the answer carries (Retry-After, WWW-Authenticate).
     */
    readonly refusal: { rule: string; headers?: Record<string, string> } | null = null,
  ) {
    super(detail);
  }

  get status(): number {
    return proxyErrors[this.code].status;
  }
}

/** What a visitor is told about `error` on the route titled `service` (null: none matched). */
export function visitorSentence(error: ProxyError, service: string | null): string {
  return proxyErrors[error.code].visitor(service ?? 'This service');
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  // undici's HTTPParserError carries no code (undici 7 looks llhttp's error number up in a
  // name → number table), so its name is what says the upstream did not speak HTTP.
  if ((error as { name?: unknown } | null)?.name === 'HTTPParserError') return 'HTTPParserError';
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause ? errorCode(cause) : undefined;
}

/** A duration as the error pages say it: "1.5 s". */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * The one errno → failure map: what went wrong talking to `upstream` (host:port), for `service`.
 * Without `timeouts` a timeout is said without its length ("in time"): upstream health hears of one
 * from its own checks and from proxied requests, each with another limit, and one cause should read
 * the same whichever saw it.
 */
export function upstreamFailure(error: unknown, service: string, upstream: string, timeouts?: { connectMs: number; headersMs: number }): ProxyError {
  const code = errorCode(error);
  const within = (ms: number | undefined) => (ms === undefined ? 'in time' : `within ${seconds(ms)}`);
  switch (code) {
    case 'ECONNREFUSED':
      return new ProxyError('upstream_refused', `${service} at ${upstream} refused the connection. Is it running, and listening on that port?`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return new ProxyError('upstream_reset', `${service} at ${upstream} closed the connection before it finished answering.`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new ProxyError('upstream_unreachable', `No route to ${upstream} from this machine. Is ${service}'s machine on and on this network?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ProxyError('upstream_dns', `The name in ${upstream} could not be looked up. Use the service's IP address, or check its name.`);
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new ProxyError('upstream_connect_timeout', `${service} at ${upstream} did not accept a connection ${within(timeouts?.connectMs)}. Is the machine up, or is a firewall dropping the connection?`);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new ProxyError('upstream_timeout', `${service} at ${upstream} accepted the request but did not answer ${within(timeouts?.headersMs)}.`);
    case 'UND_ERR_BODY_TIMEOUT':
      return new ProxyError('upstream_timeout', `${service} at ${upstream} stopped sending its response.`);
    case 'UND_ERR_INFO':
    case 'HTTPParserError':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_VERSION':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return new ProxyError('upstream_bad_response', `${service} at ${upstream} sent a response that is not valid HTTP. Is that port really a web service (and plain http, not https)?`);
    default:
      if (code && TLS_CODES.has(code)) {
        return new ProxyError(
          'upstream_tls',
          `${service} at ${upstream} presented a certificate Gatehouse could not verify (${code}). If it uses a self-signed certificate, turn on "Backend uses a self-signed certificate" for this route; if it speaks plain http, use http:// in the address.`,
        );
      }
      return new ProxyError('upstream_reset', `Talking to ${service} at ${upstream} failed${code ? ` (${code})` : ''}.`);
  }
}
