// Real HTTP(S) servers on 127.0.0.1 that answer like a home-lab app's landing page and well-known
// endpoints, from the small fixtures in test/fixtures/apps/<preset id>.json (shapes taken from the
// sources named in the presets table, trimmed). Appliances answer HTTPS with a self-signed
// certificate made at test time, as they do out of the box.
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { makeTestCertificate, type TestCertificate } from './test-certificates.js';

const fixturesDir = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

/** One answer: a status (default 200), headers, and a body or a JSON value. */
export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  json?: unknown;
}

export interface AppFixture {
  /** The preset id it imitates. */
  app: string;
  scheme: 'http' | 'https';
  /** Exact request targets (path and query) to answers; anything else is a JSON 404. */
  routes: Record<string, FakeAnswer>;
}

export interface FakeApp {
  readonly app: string;
  readonly scheme: 'http' | 'https';
  readonly port: number;
  /** Every request target received, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** The preset ids that have a fixture. */
export function appFixtureIds(): string[] {
  return readdirSync(fixturesDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

export function loadAppFixture(id: string): AppFixture {
  return JSON.parse(readFileSync(`${fixturesDir}${id}.json`, 'utf8')) as AppFixture;
}

let certificate: Promise<TestCertificate> | null = null;
/** One self-signed certificate for every fake appliance in the process (RSA keys are slow to make). */
export function applianceCertificate(): Promise<TestCertificate> {
  certificate ??= makeTestCertificate({ commonName: 'appliance.local', names: ['appliance.local'] });
  return certificate;
}

function answer(res: ServerResponse, found: FakeAnswer | undefined): void {
  if (!found) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    return;
  }
  const body = found.json !== undefined ? JSON.stringify(found.json) : (found.body ?? '');
  const headers = { ...(found.json !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...found.headers };
  res.writeHead(found.status ?? 200, headers).end(body);
}

/**
 * Starts `handler` on `address` (127.0.0.1 unless given; a namespace's LAN address in the mDNS flow)
 * and `port` (0 unless given), over HTTPS with the appliance certificate when asked.
 */
export async function startServer(
  scheme: 'http' | 'https',
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port = 0,
  address = '127.0.0.1',
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server =
    scheme === 'https'
      ? await applianceCertificate().then((cert) => createHttpsServer({ cert: cert.pem, key: cert.keyPem }, handler))
      : createHttpServer(handler);
  server.listen(port, address);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A fake of the app in test/fixtures/apps/<id>.json, on `address` (default 127.0.0.1). */
export async function startFakeApp(id: string, port = 0, address = '127.0.0.1'): Promise<FakeApp> {
  const fixture = loadAppFixture(id);
  const requests: string[] = [];
  const started = await startServer(
    fixture.scheme,
    (req, res) => {
      requests.push(req.url ?? '');
      answer(res, fixture.routes[req.url ?? '']);
    },
    port,
    address,
  );
  return { app: fixture.app, scheme: fixture.scheme, port: started.port, requests, close: started.close };
}

/** A TCP server on 127.0.0.1 that hands each connection to `onConnection` (say nothing: a silent port). */
export async function startTcpServer(onConnection: (socket: Socket) => void = () => {}): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
