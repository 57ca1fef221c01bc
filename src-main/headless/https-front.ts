// The admin over HTTPS, on one port that speaks both protocols: a plain TCP server looks at the
// first byte of each connection. A TLS handshake (0x16) goes to the HTTPS server; anything else is a
// browser that was given "192.168.1.20:4780" and tried http://, and it gets a redirect to the same
// address over https:// instead of a reset connection it cannot explain.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import type { ApiErrorBody } from '../../shared/api.js';
import type { ServedCertificate } from '../core/proxy/tls-certificates.js';
import { TLS_POLICY } from '../core/proxy/tls-policy.js';
import { guardRequest } from './admin-guard.js';
import { splitHostHeader, type AdminHosts } from './admin-hosts.js';
import { answerClientError } from './client-errors.js';

/** The admin's certificate, which its owner renews and reissues (core/certs/admin-certificate.ts). */
export interface AdminTls {
  readonly current: ServedCertificate;
  onChange(listener: (certificate: ServedCertificate) => void): () => void;
}

/** The first byte of a TLS record carrying a handshake (ClientHello). */
const TLS_HANDSHAKE = 0x16;
/** How long a new connection may stay silent before it is dropped (ms). Default: 10 s. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The same address over https://, for a request that came in plain; a refusal when its Host is not ours. */
function redirectToHttps(hosts: AdminHosts): Handler {
  return (request, response) => {
    const refusal = guardRequest(request, hosts);
    const target = request.url?.startsWith('/') ? request.url : '/';
    // Always the admin's own port: a Host without one (80 implied) must not send the browser to 443.
    const host = splitHostHeader(request.headers.host ?? '')?.host ?? '';
    const location = `https://${host}${hosts.port === 443 ? '' : `:${hosts.port}`}${target}`;
    const body: ApiErrorBody = refusal?.toBody() ?? { error: { code: 'invalid_input', message: `This admin speaks HTTPS only: open ${location}` } };
    const text = JSON.stringify(body);
    response.writeHead(refusal?.status ?? 308, {
      ...(refusal ? {} : { location }),
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      connection: 'close',
    });
    response.end(text);
  };
}

export class HttpsFront {
  /** What listens: hands each connection to `tls` or `plain`. */
  readonly server: Server;
  readonly tls: HttpsServer;
  readonly #plain: HttpServer;
  /** Every connection accepted and still open, whichever server it went to. */
  readonly #sockets = new Set<Socket>();
  readonly #stopFollowing: () => void;

  constructor(certificate: AdminTls, handle: Handler, hosts: AdminHosts) {
    const pair = (served: ServedCertificate) => ({ ...TLS_POLICY, cert: served.certificatePem, key: served.privateKeyPem });
    // No SNI callback: every client, with or without SNI (an IP address has none), gets this one certificate.
    this.tls = createHttpsServer(pair(certificate.current), handle);
    this.#stopFollowing = certificate.onChange((served) => this.tls.setSecureContext(pair(served)));
    this.#plain = createHttpServer(redirectToHttps(hosts));
    this.#plain.on('clientError', answerClientError);
    this.server = createServer((socket) => this.#sniff(socket));
  }

  #sniff(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const drop = () => socket.destroy();
    socket.once('error', drop);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, drop);
    socket.once('data', (chunk: Buffer) => {
      socket.off('error', drop);
      socket.setTimeout(0);
      socket.pause();
      // Both servers read bytes already buffered on the socket before its next ones.
      socket.unshift(chunk);
      (chunk[0] === TLS_HANDSHAKE ? this.tls : this.#plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  }

  /** Stops listening, then ends every connection (undecided, mid-handshake, HTTPS and plain). */
  close(): Promise<void> {
    this.#stopFollowing();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // The HTTP layers first, so their responses count as destroyed at once (nothing writes to them
    // after), then whatever is still mid-handshake or undecided.
    this.tls.closeAllConnections();
    this.#plain.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    return stopped;
  }
}

export function createAdminHttps(certificate: AdminTls, handle: Handler, hosts: AdminHosts): HttpsFront {
  return new HttpsFront(certificate, handle, hosts);
}
