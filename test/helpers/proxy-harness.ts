// What the proxy engine's integration tests share: the real engine on 127.0.0.1:0 (in this process,
// or in a child process when its memory must be measured alone), real upstream servers that stream
// and count their connections, and clients that show exactly what a user would receive — a raw
// socket for byte-exact heads, undici for ordinary requests, curl for a second opinion.
// Everything started here has a close/stop that the test calls in `after`.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request as undiciRequest } from 'undici';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { noTls, defaultSettings, type ProxySettings, type Route, type RouteTls, type Timeouts } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { defaultRouteAccess } from '../../shared/access.js';
import { defaultBalancing, defaultHealthCheck, singleUpstream } from '../../shared/upstreams.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Waiting, always with a limit

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 10 ms until it returns true; fails after `ms`. */
export async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The engine

/** Proxy settings for a test: the documented defaults on 127.0.0.1 and a free port. */
export function proxySettings(overrides: { timeouts?: Partial<Timeouts>; trustedProxies?: string[] } = {}): ProxySettings {
  const base = defaultSettings().proxy;
  return {
    ...base,
    httpPort: 0,
    httpsPort: 0,
    bindAddress: '127.0.0.1',
    trustedProxies: overrides.trustedProxies ?? [],
    timeouts: { ...base.timeouts, ...overrides.timeouts },
  };
}

/** A route's TLS settings for a certificate from the local CA, nothing else on. */
export function localTls(): RouteTls {
  return { ...noTls(), mode: 'local' };
}

/** A stored route with the model's defaults: enabled, WebSocket on, TLS verified, Host preserved. */
export function route(id: string, upstream: string, names: string[], extra: Partial<Route> = {}): Route {
  return { id, names, upstreams: singleUpstream(upstream), redirect: null, balancing: defaultBalancing(), healthCheck: defaultHealthCheck(), enabled: true, websocket: true, insecureUpstreamTls: false, rewriteHost: null, trustedProxies: null, tls: noTls(), publishOnLan: false, app: null, access: defaultRouteAccess(), ...extra };
}

export interface RunningProxy {
  readonly engine: ProxyEngine;
  readonly port: number;
  /** Every access-log entry the engine reported, in order. */
  readonly logged: AccessLogEntry[];
  /** Resolves with the first entry (already logged or still to come) that `match` accepts. */
  nextLogged(match: (entry: AccessLogEntry) => boolean, ms?: number): Promise<AccessLogEntry>;
  stop(): Promise<void>;
}

/** Starts a ProxyEngine in this process with `routes`. */
export async function startProxy(routes: Route[], options: { settings?: ProxySettings; stopGraceMs?: number } = {}): Promise<RunningProxy> {
  const logged: AccessLogEntry[] = [];
  const engine = new ProxyEngine({
    settings: options.settings ?? proxySettings(),
    stopGraceMs: options.stopGraceMs ?? 2000,
    onRequestLogged: (entry) => logged.push(entry),
  });
  engine.setRoutes(routes);
  const { address, port } = await engine.start();
  if (address !== '127.0.0.1' || port === 0) throw new Error(`the proxy listens on ${address}:${port}, not 127.0.0.1 and a real port`);
  return {
    engine,
    port,
    logged,
    async nextLogged(match, ms = 3000) {
      let found: AccessLogEntry | undefined;
      await waitUntil(() => (found = logged.find(match)) !== undefined, ms, 'an access-log entry');
      return found as AccessLogEntry;
    },
    stop: () => engine.stop(),
  };
}

export interface ProxyProcess {
  readonly pid: number;
  readonly port: number;
  /** The child's resident memory now, from /proc/PID/status, in bytes. */
  rssBytes(): Promise<number>;
  /** Ends the child (stdin closed, then SIGKILL by PID after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

// Runs in the child: the engine alone, so its memory is not mixed with the test's clients.
const CHILD_SCRIPT = `
const { ProxyEngine } = await import(process.env.GH_ENGINE_URL);
const engine = new ProxyEngine({ settings: JSON.parse(process.env.GH_SETTINGS), stopGraceMs: 1000 });
engine.setRoutes(JSON.parse(process.env.GH_ROUTES));
const info = await engine.start();
process.stdout.write(JSON.stringify(info) + '\\n');
process.stdin.on('end', () => engine.stop().then(() => process.exit(0)));
process.stdin.resume();
`;

/** Starts a ProxyEngine in a child Node process, for measuring its memory on its own. */
export async function startProxyProcess(routes: Route[], settings: ProxySettings = proxySettings()): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_SCRIPT], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      // The child is a plain program, not a test file reporting to this runner.
      NODE_TEST_CONTEXT: undefined,
      GH_ENGINE_URL: pathToFileURL(join(repoRoot, 'src-main/core/proxy/engine.ts')).href,
      GH_SETTINGS: JSON.stringify(settings),
      GH_ROUTES: JSON.stringify(routes),
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the proxy child process did not start');
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  let out = '';
  child.stdout.setEncoding('utf8');
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (text: string) => {
          out += text;
          if (out.includes('\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the proxy child exited (${code}) before listening`)));
      }),
      20_000,
      'the proxy child process to listen',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const { port } = JSON.parse(out.slice(0, out.indexOf('\n'))) as { port: number };
  return {
    pid,
    port,
    async rssBytes() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
      return Number(kb[1]) * 1024;
    },
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// Upstreams

export interface TestServer {
  readonly server: Server;
  /** `http://127.0.0.1:PORT` (or https://), the form a route's upstream takes. */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far: how a test sees whether the proxy pools them. */
  readonly connections: number;
  /** TCP connections open now. */
  readonly openConnections: number;
  /** Closes the listener and destroys every connection, upgraded ones included. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A real upstream on 127.0.0.1:0. Unlike upstream.ts's servers, `handler` runs as soon as the head
 * arrives and the body is left to it, so a test can stream. With `tls`, it serves https.
 */
export async function startServer(handler: Handler, options: { tls?: { key: string; cert: string } } = {}): Promise<TestServer> {
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Answers with JSON naming `name` and what arrived: method, url, headers (body is drained). */
export function echoHandler(name: string): Handler {
  return (req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const body = JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, bytes });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
      res.end(body);
    });
  };
}

export interface Echoed {
  upstream: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  bytes: number;
}

/** A self-signed certificate for CN=localhost and 127.0.0.1, made by openssl in `dir`. */
export async function selfSignedCert(dir: string): Promise<{ key: string; cert: string }> {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], 30_000);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
}

// ---------------------------------------------------------------------------------------------
// Clients

/** Runs a program to its end (killed by its PID after `ms`); resolves with its output whatever the exit code. */
export function run(program: string, args: string[], ms = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      if (error && code === null) reject(new Error(`${program} failed: ${error.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

export interface FetchedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** One request through the proxy with undici, Host set as given. Bodies come back as bytes, never decoded. */
export async function fetchThrough(
  dispatcher: Agent,
  port: number,
  host: string,
  path = '/',
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<FetchedResponse> {
  const res = await within(
    undiciRequest(`http://127.0.0.1:${port}${path}`, {
      dispatcher,
      method: (options.method ?? 'GET') as 'GET',
      headers: { ...options.headers, host },
      body: options.body,
    }),
    10_000,
    `the response to ${options.method ?? 'GET'} ${host}${path}`,
  );
  const body = Buffer.from(await within(res.body.arrayBuffer(), 10_000, 'the response body'));
  return { status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') };
}

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The status line and header lines exactly as received. */
  head: string;
  /** The message body, chunked coding undone. */
  body: Buffer;
  /** Bytes after this response (a next pipelined response, or junk that should not be there). */
  rest: Buffer;
  /** Everything the connection received. */
  raw: Buffer;
}

/** Where a chunked body that starts at `at` ends, and its decoded bytes; null while incomplete. */
function chunkedBody(raw: Buffer, at: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size line ${JSON.stringify(raw.subarray(at, lineEnd).toString('latin1'))}`);
    if (size === 0) {
      // The last chunk, then any trailer fields, then an empty line.
      const end = raw.indexOf('\r\n\r\n', lineEnd);
      return end === -1 ? null : { body: Buffer.concat(parts), end: end + 4 };
    }
    if (raw.length < lineEnd + 2 + size + 2) return null;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Splits the first HTTP/1.1 response off `raw`, framed as RFC 9112 says: by Content-Length, by
 * chunked coding, or (neither) by the connection's end. `bodyless` is for answers to HEAD.
 * Returns null while the response is incomplete, unless `closed` (then the rest is the body).
 */
export function parseResponse(raw: Buffer, options: { bodyless?: boolean; closed?: boolean } = {}): RawResponse | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) {
    if (options.closed) throw new Error(`no complete response head in ${JSON.stringify(raw.subarray(0, 300).toString('latin1'))}`);
    return null;
  }
  const head = raw.subarray(0, end).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const start = end + 4;
  const done = (bodyEnd: number, body = raw.subarray(start, bodyEnd)): RawResponse => ({ status, headers, head, body, rest: raw.subarray(bodyEnd), raw });
  if (options.bodyless || status === 204 || status === 304 || (status >= 100 && status < 200)) return done(start);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunked = chunkedBody(raw, start);
    if (chunked) return done(chunked.end, chunked.body);
    if (options.closed) throw new Error('the connection closed inside a chunked body');
    return null;
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (raw.length >= start + length) return done(start + length);
    if (options.closed) throw new Error(`the connection closed after ${raw.length - start} of ${length} body bytes`);
    return null;
  }
  return options.closed ? done(raw.length) : null;
}

/**
 * Writes `request` (a whole HTTP/1.1 request, head and any body, byte for byte) on a fresh socket and
 * reads one response: until it is complete by its framing, or until the proxy closes the connection.
 */
export function rawRequest(port: number, request: string | Buffer, options: { ms?: number; bodyless?: boolean } = {}): Promise<RawResponse> {
  const ms = options.ms ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${ms} ms; received ${JSON.stringify(received.toString('latin1').slice(0, 300))}`));
    }, ms);
    const settle = (closed: boolean) => {
      let res: RawResponse | null;
      try {
        res = parseResponse(received, { bodyless: options.bodyless, closed });
      } catch (error) {
        clearTimeout(timer);
        socket.destroy();
        reject(error as Error);
        return;
      }
      if (!res) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(res);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      settle(false);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => settle(true));
    socket.write(request);
  });
}

/** Writes `request` on a fresh socket and returns every byte received until the proxy closes it. */
export function rawExchange(port: number, request: string | Buffer, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the proxy did not close the connection within ${ms} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
    }, ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(request);
  });
}

// ---------------------------------------------------------------------------------------------
// WebSocket

export interface WsUpstream extends TestServer {
  /** Every upgrade request the upstream received, in order. */
  readonly upgrades: { url: string; headers: IncomingHttpHeaders }[];
  /** Bytes that reached the upstream on /silent upgrades (which it never answers). */
  readonly silentData: Buffer[];
}

/**
 * An upstream that speaks WebSocket (echoing every message, tagged with `name` on text ones when
 * asked) on any path but /refuse (403) and /silent (never answers). An upgrade to anything other
 * than websocket it accepts with 101, so the proxy has to be the one that refuses h2c.
 * Plain requests get echoHandler(name).
 */
export async function startWsUpstream(name = 'ws-upstream'): Promise<WsUpstream> {
  const server = await startServer(echoHandler(name));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * MiB });
  const upgrades: { url: string; headers: IncomingHttpHeaders }[] = [];
  const silentData: Buffer[] = [];
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`);
      return;
    }
    switch (req.url) {
      case '/refuse':
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nX-Reason: no-token\r\n\r\nupstream says: nope');
        return;
      case '/silent':
        if (head.length > 0) silentData.push(head);
        socket.on('data', (chunk: Buffer) => silentData.push(chunk));
        return;
      default:
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.on('message', (data: RawData, isBinary: boolean) => {
            if (!isBinary && data.toString() === 'who') ws.send(name);
            else ws.send(data, { binary: isBinary });
          });
        });
    }
  });
  const closeServer = server.close;
  return Object.assign(server, {
    upgrades,
    silentData,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await closeServer();
    },
  });
}

/** Opens a WebSocket through the proxy with `ws`; rejects naming the status if the upgrade is refused. */
export function openWs(port: number, host: string, path = '/echo'): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host }, maxPayload: 64 * MiB });
  return within(
    new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`the upgrade was refused with ${res.statusCode}`)));
      ws.once('error', reject);
    }),
    5000,
    `a WebSocket to ${host}${path}`,
  ).catch((error: unknown) => {
    ws.terminate();
    throw error;
  });
}

/** Sends `data` and resolves with the next message that comes back. */
export function roundTrip(ws: WebSocket, data: string | Buffer, ms = 10_000): Promise<{ data: Buffer; isBinary: boolean }> {
  let onMessage: ((reply: RawData, isBinary: boolean) => void) | undefined;
  let onClose: (() => void) | undefined;
  return within(
    new Promise<{ data: Buffer; isBinary: boolean }>((resolve, reject) => {
      onMessage = (reply, isBinary) => resolve({ data: Array.isArray(reply) ? Buffer.concat(reply) : Buffer.from(reply as Buffer), isBinary });
      onClose = () => reject(new Error('the WebSocket closed before the echo came back'));
      ws.once('message', onMessage);
      ws.once('close', onClose);
      ws.send(data, (error) => error && reject(error));
    }),
    ms,
    'a WebSocket echo',
  ).finally(() => {
    if (onMessage) ws.off('message', onMessage);
    if (onClose) ws.off('close', onClose);
  });
}

/** Closes cleanly, or cuts the connection if the close handshake does not finish in 3 s. */
export async function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close');
  ws.close();
  await within(closed, 3000, 'the WebSocket to close').catch(() => ws.terminate());
}
