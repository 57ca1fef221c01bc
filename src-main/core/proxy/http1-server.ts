// The HTTP/1.1 server both listeners use: the plain one listens with it, the HTTPS one hands it the
// connections that chose HTTP/1.1 by ALPN. Its limits, and the answers to what never becomes a
// request (CONNECT, a head Node cannot parse, headers that never finish), live here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AccessLogEntry } from '../../../shared/status.js';
import { ProxyError } from './errors.js';
import { peerAddress } from './request-head.js';
import { refuseUpgrade } from './websocket.js';

/** A request head over this many bytes is refused with 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** A request with more header fields than this is refused with 431. */
export const MAX_HEADERS = 100;

export interface Http1Handlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Told of each connection refused before it made a request, for the access log. */
  refused(entry: AccessLogEntry): void;
  /** The client at `address` may see a failure's detail on the error page. */
  detailsAllowed(address: string): boolean;
}

export function createHttp1Server(handlers: Http1Handlers): Server {
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Whole-request deadlines would cut long uploads; idle timers (clientIdleMs) guard instead.
      requestTimeout: 0,
      // Checked every second rather than Node's default 30 s, so headersMs means what it says.
      connectionsCheckingInterval: 1000,
      // Refused with Gatehouse's own page below, rather than Node's bare 400.
      requireHostHeader: false,
      joinDuplicateHeaders: false,
    },
    handlers.request,
  );
  // One more than allowed, so "too many" is visible instead of silently truncated.
  server.maxHeadersCount = MAX_HEADERS + 1;
  server.on('upgrade', handlers.upgrade);
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    const details = handlers.detailsAllowed(peerAddress(socket as Socket));
    refuseUpgrade(socket, new ProxyError('method_not_allowed', 'Gatehouse is a reverse proxy; it does not open CONNECT tunnels.'), { route: null, accept: req.headers.accept, details });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => onClientError(error, socket, handlers));
  return server;
}

/**
 * Marks `req` as the last on its connection when its framing cannot be trusted: HTTP/1.0 has no
 * chunked coding, so Transfer-Encoding there is faulty framing, and RFC 9112 §6.1 says to close
 * after the message. It is still answered (with Connection: close); the caller must serve nothing
 * that was pipelined after it. Returns true when it did.
 */
export function closesAfterFaultyFraming(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.httpVersion !== '1.0' || req.headers['transfer-encoding'] === undefined) return false;
  res.setHeader('connection', 'close');
  return true;
}

/**
 * Connections whose refusal waits for the answers to the good requests before it. Node's parser,
 * once failed, may report the same garbage again (or a timeout) meanwhile: one refusal is enough.
 */
const refusalPending = new WeakSet<Duplex>();

type HttpSocket = Duplex & { _httpMessage?: ServerResponse | null };

function onClientError(error: NodeJS.ErrnoException, socket: Duplex, handlers: Http1Handlers): void {
  if (refusalPending.has(socket)) {
    if (error.code === 'ECONNRESET') socket.destroy();
    return;
  }
  // Requests pipelined before the bad one were parsed and are being answered: their answers go
  // back first, in order (RFC 9112 §9.3.2), then the 400, then the connection closes. Node assigns
  // the next queued response to the socket when one finishes (its own 'finish' listener runs
  // before ours), so this waits for each in turn. Only for requests read whole: if the in-flight
  // request's own body is what broke, its answer may never end, and the checks below apply.
  const inFlight = (socket as HttpSocket)._httpMessage;
  if (inFlight && inFlight.req.complete && !inFlight.writableFinished && error.code !== 'ECONNRESET') {
    refusalPending.add(socket);
    inFlight.once('finish', () => {
      refusalPending.delete(socket);
      onClientError(error, socket, handlers);
    });
    return;
  }
  const entry = refuseClientError(error, socket, handlers.detailsAllowed);
  if (entry) handlers.refused(entry);
}

/** Answers a connection Node could not parse a request from; the entry to log, if it was answered. */
function refuseClientError(error: NodeJS.ErrnoException, socket: Duplex, detailsAllowed: (address: string) => boolean): AccessLogEntry | null {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return null;
  }
  // A response already under way here (our refusal, or an upstream's answer to a request whose
  // body then broke) must not get a second status line spliced in. `_httpMessage` is the
  // in-flight response; Node's own clientError default checks it the same way.
  const inFlight = (socket as HttpSocket)._httpMessage;
  // A good request's answer already handed whole to the socket (Node detaches it just after): the
  // 400 follows it in order, unless that answer closed the connection (then nothing more is said).
  const answeredWhole = inFlight?.writableFinished === true && inFlight.req.complete && inFlight.shouldKeepAlive;
  if (inFlight?.headersSent && !answeredWhole) {
    if (inFlight.writableEnded) socket.end();
    else socket.destroy();
    return null;
  }
  let problem: ProxyError;
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      problem = new ProxyError('headers_too_large', `The request's headers are larger than ${MAX_HEADER_BYTES / 1024} KiB.`);
      break;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      problem = new ProxyError('request_timeout', 'The request headers did not arrive in time.');
      break;
    default:
      problem = new ProxyError('bad_request', 'The request is not valid HTTP/1.1.');
  }
  const client = peerAddress(socket as Socket);
  refuseUpgrade(socket, problem, { route: null, accept: undefined, details: detailsAllowed(client) });
  return {
    time: new Date().toISOString(),
    client,
    host: '',
    method: '',
    path: '',
    status: problem.status,
    bytes: 0,
    durationMs: 0,
    routeId: null,
    upstream: null,
    error: problem.code,
    detail: problem.detail,
    rule: null,
    user: null,
  };
}
