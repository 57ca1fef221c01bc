// Raw-socket tools for the proxy's hardening tests: a client that sends exact bytes (malformed,
// smuggled, slow) and reads back whatever the proxy answers, a parser for what comes back, an
// upstream that records every request it receives (so a test can prove a smuggled one never
// arrived), and a proxy engine started on 127.0.0.1:0 with a test's own timeouts.
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { noTls, defaultSettings, type Route, type Timeouts } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

// ---------------------------------------------------------------------------------------------
// The proxy under test

export interface ProxyUnderTest {
  readonly engine: ProxyEngine;
  readonly port: number;
  /** Every access-log entry, in order. */
  readonly logged: AccessLogEntry[];
  stop(): Promise<void>;
}

/** A route as the settings store would hold it, pointing at `upstream` (`http://127.0.0.1:PORT`). */
export function testRoute(id: string, names: string[], upstream: string, extra: Partial<Route> = {}): Route {
  return { id, title: id, names, upstreams: singleUpstream(upstream), redirect: null, balancing: defaultBalancing(), healthCheck: defaultHealthCheck(), enabled: true, websocket: true, insecureUpstreamTls: false, rewriteHost: null, trustedProxies: null, tls: noTls(), publishOnLan: false, app: null, access: defaultRouteAccess(), ...extra };
}

/** Starts an engine on 127.0.0.1:0 with the default settings, `timeouts` overriding some of them. */
export async function startProxy(routes: Route[], timeouts: Partial<Timeouts> = {}, trustedProxies: string[] = []): Promise<ProxyUnderTest> {
  const settings = defaultSettings().proxy;
  settings.httpPort = 0;
  settings.httpsPort = 0;
  settings.bindAddress = '127.0.0.1';
  settings.trustedProxies = trustedProxies;
  settings.timeouts = { ...settings.timeouts, ...timeouts };
  const logged: AccessLogEntry[] = [];
  const engine = new ProxyEngine({ settings, onRequestLogged: (entry) => logged.push(entry), stopGraceMs: 500 });
  engine.setRoutes(routes);
  const { port } = await engine.start();
  return { engine, port, logged, stop: () => engine.stop() };
}

// ---------------------------------------------------------------------------------------------
// Raw client

export interface RawResult {
  /** Everything the server sent, as latin1 text (byte for byte). */
  text: string;
  /** True when the server closed the connection before we gave up waiting. */
  closed: boolean;
  /** Milliseconds from the first write until the result was taken. */
  ms: number;
}

export interface RawOptions {
  /** Stop waiting this long after the last byte received (once something arrived). Default 300. */
  settleMs?: number;
  /** Stop waiting after this long in any case. Default 3000. */
  timeoutMs?: number;
}

/** Opens a plain TCP connection to 127.0.0.1:`port`. */
export async function openRaw(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // resets are expected in these tests; the result says what happened
  await once(socket, 'connect');
  return socket;
}

/**
 * Collects what arrives on `socket` until it closes, until `settleMs` of quiet after some data, or
 * until `timeoutMs`. `started` is when the interesting part began (for `ms`).
 */
export function collect(socket: Socket, options: RawOptions = {}, started = performance.now()): Promise<RawResult> {
  const settleMs = options.settleMs ?? 300;
  const timeoutMs = options.timeoutMs ?? 3000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settle: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(settle);
      clearTimeout(deadline);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, ms: performance.now() - started });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(settle);
      if (settleMs > 0) settle = setTimeout(() => finish(false), settleMs);
    };
    const onClose = () => finish(true);
    const deadline = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    if (socket.destroyed) finish(true);
  });
}

/** Sends `bytes` on a new connection and collects the answer (see `collect`); closes the socket after. */
export async function rawExchange(port: number, bytes: string | Buffer, options: RawOptions = {}): Promise<RawResult> {
  const socket = await openRaw(port);
  const started = performance.now();
  const result = collect(socket, options, started);
  socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  try {
    return await result;
  } finally {
    socket.destroy();
  }
}

/** Writes `text` one byte every `intervalMs` until done or the socket closes. Resolves with bytes written. */
export async function dribble(socket: Socket, text: string, intervalMs: number): Promise<number> {
  let written = 0;
  for (const char of text) {
    if (socket.destroyed || !socket.writable) break;
    socket.write(char);
    written++;
    await sleep(intervalMs);
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// Parsing what came back

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits a byte stream into the HTTP/1.1 responses it holds (Content-Length, chunked or
 * close-delimited). Throws on bytes that are not a response, so a corrupted stream fails a test.
 */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`incomplete response head: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!match) throw new Error(`not a status line: ${JSON.stringify(statusLine.slice(0, 200))}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body: string;
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      body = '';
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd === -1) throw new Error('cut chunked body');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n');
          rest = rest.slice(trailerEnd + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      body = rest;
      rest = '';
    }
    out.push({ status: Number(match[1]), headers, body });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// An upstream that records everything

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** True once the whole body arrived; false for a request the proxy cut. */
  complete: boolean;
  /** True when the connection or request closed before the body was complete. */
  aborted: boolean;
}

export interface RecordingUpstream {
  readonly url: string;
  readonly address: string;
  readonly port: number;
  /** Every request head that arrived, in order, with its body once read. */
  readonly requests: SeenRequest[];
  /** TCP connections accepted so far. */
  connections: number;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * A plain `http.createServer` that records every request it receives. `handler` answers (default:
 * 200 "ok from NAME" once the body is in); it gets the record so it can answer before the body ends.
 */
export async function startRecordingUpstream(
  name = 'upstream',
  handler?: (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void,
): Promise<RecordingUpstream> {
  const requests: SeenRequest[] = [];
  const server = createHttpServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', complete: false, aborted: false };
    requests.push(seen);
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => (seen.body += chunk));
    req.on('end', () => (seen.complete = true));
    req.on('close', () => {
      if (!seen.complete) seen.aborted = true;
    });
    req.on('error', () => {});
    res.on('error', () => {});
    if (handler) handler(req, res, seen);
    else {
      req.on('end', () => {
        const body = `ok from ${name}`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
        res.end(body);
      });
    }
  });
  const upstream: RecordingUpstream = {
    url: '',
    address: '',
    port: 0,
    requests,
    connections: 0,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on('connection', (socket: Socket) => {
    upstream.connections++;
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(upstream, { url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}`, port });
}

/** Waits until `predicate` holds, polling every 10 ms; throws after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A simple GET through the proxy on a fresh connection, returning the parsed response. */
export async function getThrough(port: number, host: string, path = '/', extraHeaders = ''): Promise<RawResponse> {
  const result = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extraHeaders}\r\n`, { settleMs: 0 });
  if (!result.closed) throw new Error(`the proxy did not finish answering GET ${path} for ${host}: ${JSON.stringify(result.text.slice(0, 200))}`);
  const responses = parseResponses(result.text);
  if (responses.length !== 1) throw new Error(`expected one response, got ${responses.length}`);
  return responses[0] as RawResponse;
}

export interface TcpUpstream {
  url: string;
  address: string;
  /** Connections currently open. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A bare TCP server on 127.0.0.1 that hands each connection to `onSocket`: an upstream misbehaving on cue. */
export async function startTcpUpstream(onSocket: (socket: Socket) => void): Promise<TcpUpstream> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
