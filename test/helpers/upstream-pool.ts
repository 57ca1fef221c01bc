// Several upstream servers behind one route, for the failover, retry and sticky tests: HTTP servers
// on 127.0.0.2, .3, .4… (all of 127/8 is loopback) that can be killed, hung and restarted on the
// same address, an engine started with a health view of the test's choosing, and a client that
// opens a fresh connection per request so nothing is hidden by a reused socket.
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defaultSettings, type ProxySettings, type Route, type Timeouts } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import type { UpstreamTargetInput } from '../../shared/upstreams.js';
import { UpstreamTargetSchema } from '../../shared/upstreams.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import type { UpstreamHealthLink } from '../../src-main/core/upstreams/health-view.js';
import { testRoute } from './raw-http.js';

export type Answer = (req: IncomingMessage, res: ServerResponse) => void;

/** One upstream server that a test can kill, hang and bring back on the same address. */
export interface PoolServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly address: string;
  /** Requests it received (counted when their head arrived), health checks left out. */
  hits: number;
  /** What it answers; replace to change behaviour (default: 200 "from NAME"). */
  answer: Answer;
  /** Stops listening and cuts every connection at once (a crash). */
  kill(): Promise<void>;
  /** Listens again on the same host and port. */
  restart(): Promise<void>;
  readonly sockets: Set<Socket>;
}

export function named(name: string): Answer {
  return (_req, res) => {
    const body = `from ${name}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
    res.end(body);
  };
}

/** An HTTP server on `host` (127.0.0.x), port 0 unless given. */
export async function poolServer(name: string, host: string, port = 0): Promise<PoolServer> {
  const sockets = new Set<Socket>();
  let server: Server;
  const self: PoolServer = {
    name,
    host,
    port,
    url: '',
    address: '',
    hits: 0,
    answer: named(name),
    sockets,
    kill: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    restart: () => listen(),
  };
  async function listen(): Promise<void> {
    server = createServer((req, res) => {
      if (req.headers['user-agent'] !== 'Gatehouse health check') self.hits++;
      res.on('error', () => {});
      req.on('error', () => {});
      self.answer(req, res);
    });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    });
    server.listen(self.port, host);
    await once(server, 'listening');
    const bound = (server.address() as AddressInfo).port;
    Object.assign(self, { port: bound, url: `http://${host}:${bound}`, address: `${host}:${bound}` });
  }
  await listen();
  return self;
}

/** A route over `upstreams` (URLs, or targets with weight/backup/drained). */
export function poolRoute(id: string, names: string[], upstreams: (string | UpstreamTargetInput)[], extra: Partial<Route> = {}): Route {
  const targets = upstreams.map((item) => UpstreamTargetSchema.parse(typeof item === 'string' ? { url: item } : item));
  return testRoute(id, names, targets[0]?.url ?? 'http://127.0.0.1:1', { upstreams: targets, ...extra });
}

export interface PoolProxy {
  readonly engine: ProxyEngine;
  readonly port: number;
  readonly logged: AccessLogEntry[];
  stop(): Promise<void>;
}

/** An engine on 127.0.0.1:0 with `health` (default: none, everything available). */
export async function startPoolProxy(
  routes: Route[],
  options: { timeouts?: Partial<Timeouts>; health?: UpstreamHealthLink; settings?: Partial<ProxySettings> } = {},
): Promise<PoolProxy> {
  const base = defaultSettings().proxy;
  const settings: ProxySettings = { ...base, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', ...options.settings, timeouts: { ...base.timeouts, ...options.timeouts } };
  const logged: AccessLogEntry[] = [];
  const engine = new ProxyEngine({ settings, onRequestLogged: (entry) => logged.push(entry), stopGraceMs: 500, ...(options.health ? { health: options.health } : {}) });
  engine.setRoutes(routes);
  const { port } = await engine.start();
  return { engine, port, logged, stop: () => engine.stop() };
}

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through the proxy on a fresh connection; rejects only when no answer came. */
export function send(port: number, host: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', agent: false, headers: { host, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The Set-Cookie values of an answer, as a list. */
export function setCookies(got: Got): string[] {
  const value = got.headers['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** `http://host:PORT` where nothing listens (a port just freed): connecting is refused. */
export async function deadUrl(host: string): Promise<string> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://${host}:${port}`;
}

/** A health view where the test says what is available and when each address last failed. */
export function fakeHealth(view: { available?: (address: string) => boolean; lastFailedAt?: (address: string) => number } = {}): UpstreamHealthLink & { failures: string[]; answers: string[] } {
  const failures: string[] = [];
  const answers: string[] = [];
  return {
    failures,
    answers,
    answered: (_routeId, address, status) => void answers.push(`${address} ${status}`),
    failed: (_routeId, address) => void failures.push(address),
    isAvailable: (address) => view.available?.(address) ?? true,
    lastFailedAt: (address) => view.lastFailedAt?.(address) ?? 0,
  };
}
