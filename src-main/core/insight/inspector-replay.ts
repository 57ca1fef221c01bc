// Replaying a captured request (docs/inspector.md): it is sent again, over HTTP/1.1, to the proxy's
// own listener on loopback (HTTPS when it came over HTTPS, with its name as SNI), with its original
// Host, headers (secrets included: they were kept in memory for this) and body. So it takes the
// route's whole path again — access rules, limits, sign-in, balancing, retries — and is captured
// like any request, marked as a replay. Its answer is read and dropped: the capture holds what the
// inspector keeps of it.
import { request as httpRequest, type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiError } from '../../../shared/api.js';
import type { ListenerInfo } from '../../../shared/status.js';
import type { Capture, Inspector } from './inspector.js';

/** How long a replay may take, answer included. */
const REPLAY_TIMEOUT_MS = 60_000;
/** How long after the answer ended its capture may take to end (the proxy's side closes then too). */
const CAPTURE_GRACE_MS = 2000;

/** Never sent again: they describe the original connection, or are set for the replay's own. */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'http2-settings', 'content-length', 'host']);

function loopback(listener: ListenerInfo): string {
  const address = listener.address;
  if (address === '0.0.0.0' || address === '') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

/** The headers to send: the original ones in their order, Host first, Content-Length for the body. */
export function replayHeaders(capture: Capture): string[] {
  const out: string[] = ['Host', capture.host];
  for (const [name, value] of capture.requestHeaderPairs()) {
    if (NOT_REPLAYED.has(name.toLowerCase())) continue;
    out.push(name, value);
  }
  const body = capture.body;
  if (body.length > 0 || capture.method === 'POST' || capture.method === 'PUT' || capture.method === 'PATCH') out.push('Content-Length', String(body.length));
  return out;
}

/** Sends `capture` again through the proxy's `listener`; resolves with the replay's capture. */
export function replayCapture(inspector: Inspector, capture: Capture, target: { listener: ListenerInfo; tls: boolean }): Promise<Capture> {
  const servername = capture.host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const options = {
    host: loopback(target.listener),
    port: target.listener.port,
    method: capture.method,
    path: capture.path,
    // An array of name, value pairs (as rawHeaders): repeated headers and their order stay as they came.
    headers: replayHeaders(capture) as unknown as OutgoingHttpHeaders,
    setHost: false,
    agent: false,
    ...(target.tls ? { servername: /^[\d.]+$|:/.test(servername) ? undefined : servername, rejectUnauthorized: false } : {}),
  };
  return new Promise<Capture>((resolve, reject) => {
    let forget: () => void = () => {};
    let settled = false;
    const timer = setTimeout(() => fail(new ApiError('conflict', `The replay got no complete answer within ${REPLAY_TIMEOUT_MS / 1000} seconds.`)), REPLAY_TIMEOUT_MS);
    const fail = (error: ApiError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      forget();
      req.destroy();
      reject(error);
    };
    const done = (replayed: Capture) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(replayed);
    };
    // The proxy learns the replay by its connection's source (this socket's local address and port,
    // on loopback or on the LAN address the listener is bound to), before the request reaches it:
    // the mark is set on connect, and the request is read from the socket only after that.
    const req: ClientRequest = (target.tls ? httpsRequest : httpRequest)(options, (res) => {
      res.on('data', () => {});
      res.on('error', () => {});
      // The capture ends with the exchange, as the answer does; one that never comes means the
      // request did not reach the inspected route (it was disabled or renamed meanwhile).
      res.once('end', () => {
        setTimeout(() => fail(new ApiError('conflict', `The replay was answered (${res.statusCode ?? 'no status'}) but not by this route, so it was not captured: was the route changed meanwhile?`)), CAPTURE_GRACE_MS).unref();
      });
    });
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        forget = inspector.expectReplay(socket.localAddress ?? '', socket.localPort as number, done);
      });
    });
    req.on('error', (error) => fail(new ApiError('conflict', `The replay could not reach Gatehouse's own listener on port ${target.listener.port}: ${error.message}.`)));
    req.end(capture.body.length > 0 ? capture.body : undefined);
  });
}
