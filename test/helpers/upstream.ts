// Tiny real upstream servers for tests, on 127.0.0.1 and a free port: an echo server that answers
// with what it received, a server with a fixed answer, or any handler. Plus `requestThrough`, a
// plain HTTP client that sets the Host header (fetch will not), for requests through the proxy.
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  /** `http://127.0.0.1:PORT`, the form a route's upstream takes. */
  readonly url: string;
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[];
  /** Closes the listener and every connection (keep-alive ones included). */
  close(): Promise<void>;
}

/** What the echo upstream answers: which upstream it is, and what it received. */
export interface EchoBody extends ReceivedRequest {
  upstream: string;
}

/** An upstream whose answers come from `handler`, called once the whole body has arrived. */
export async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void): Promise<Upstream> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      handler(req, res, received);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Answers every request with JSON naming `name` and echoing method, url, headers and body. */
export function startEchoUpstream(name = 'echo'): Promise<Upstream> {
  return startUpstream((_req, res, received) => {
    const body = JSON.stringify({ upstream: name, ...received } satisfies EchoBody);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
    res.end(body);
  });
}

/** Answers every request with the same status, headers and body. */
export function startFixedUpstream(body: string | Buffer, options: { status?: number; headers?: Record<string, string> } = {}): Promise<Upstream> {
  return startUpstream((_req, res) => {
    res.writeHead(options.status ?? 200, { 'content-length': Buffer.byteLength(body), ...options.headers });
    res.end(body);
  });
}

export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Which echo server (startEchoUpstream) answered `host` through the proxy on `port`, or the status when none did. */
export async function answeredBy(port: number, host: string, path = '/'): Promise<string> {
  const response = await requestThrough(port, host, path);
  if (response.status !== 200 || response.headers['x-upstream'] === undefined) return `HTTP ${response.status}`;
  return (JSON.parse(response.body) as EchoBody).upstream;
}

/** One request to 127.0.0.1:`port` with the given Host header (a proxy test's client). */
export function requestThrough(
  port: number,
  host: string,
  path = '/',
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { ...options.headers, host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
