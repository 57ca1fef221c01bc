// Upstreams for the health tests: a real HTTP(S) server on any loopback address (127.0.0.2, …) that
// can be stopped and started again on the same port, whose answer can be changed while it runs,
// and that counts the requests it got per path.
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { HealthCheckSchema, type HealthCheck } from '../../shared/upstreams.js';

export type Answer = (req: IncomingMessage, res: ServerResponse) => void;

export class HealthUpstream {
  port = 0;
  /** Requests per path, and every Host header received. */
  readonly hits = new Map<string, number>();
  readonly hosts: string[] = [];
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  constructor(
    public answer: Answer,
    readonly host = '127.0.0.1',
    readonly tls?: { key: string; cert: string },
  ) {}

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.hits.set(req.url ?? '', (this.hits.get(req.url ?? '') ?? 0) + 1);
      this.hosts.push(req.headers.host ?? '');
      this.answer(req, res);
    };
    const server = this.tls ? createHttpsServer(this.tls, handler) : createHttpServer(handler);
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.listen(this.port, this.host);
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Answers `status` with `body` (text/html unless the body looks like JSON). */
export function answer(status: number, body = ''): Answer {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** A health check from the schema's defaults and `active` / `passive` overrides (not re-validated: tests may go below the minimums). */
export function healthCheck(active: Partial<HealthCheck['active']> = {}, passive: Partial<HealthCheck['passive']> = {}): HealthCheck {
  const base = HealthCheckSchema.parse({});
  return { active: { ...base.active, ...active }, passive: { ...base.passive, ...passive } };
}
