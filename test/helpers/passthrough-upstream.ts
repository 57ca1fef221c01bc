// An upstream that does its own TLS, for the TLS passthrough tests: a Node HTTP/2 server (HTTP/1.1
// allowed) with its OWN self-signed certificate for the given names, answering JSON that says what
// it negotiated (ALPN, HTTP version) and who it saw. With `proxyProtocol`, each connection must open
// with a PROXY header (v1/v2), which is read and recorded before TLS starts, as a real service that
// accepts the PROXY protocol (Proxmox behind HAProxy, nginx `proxy_protocol`) does.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parseProxyHeader, type ProxyHeader } from '../../src-main/core/net/proxy-protocol.js';
import { run } from './proxy-harness.js';

export interface PassthroughUpstream {
  readonly port: number;
  readonly url: string;
  /** The certificate file (curl --cacert, openssl -CAfile) and its SHA-256 fingerprint. */
  readonly certPath: string;
  readonly cert: string;
  readonly fingerprint256: string;
  /** PROXY headers read, in order (with proxyProtocol). */
  readonly headers: ProxyHeader[];
  /** TCP connections accepted. */
  readonly connections: number;
  close(): Promise<void>;
}

export interface UpstreamAnswer {
  upstream: string;
  alpn: string | false;
  httpVersion: string;
  path: string;
  remoteAddress: string;
}

/** A self-signed certificate for `names` (the first is the CN), made by openssl in `dir`. */
export async function ownCertificate(dir: string, names: string[]): Promise<{ key: string; cert: string; certPath: string }> {
  const keyFile = join(dir, `${names[0]}.key.pem`);
  const certFile = join(dir, `${names[0]}.cert.pem`);
  // prettier-ignore
  const made = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`], 30_000);
  if (made.code !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8'), certPath: certFile };
}

export async function startPassthroughUpstream(dir: string, name: string, options: { names: string[]; proxyProtocol?: boolean }): Promise<PassthroughUpstream> {
  const own = await ownCertificate(dir, options.names);
  const secure: Http2SecureServer = createSecureServer({ key: own.key, cert: own.cert, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'] });
  secure.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const socket = req.socket as unknown as TLSSocket;
    const answer: UpstreamAnswer = { upstream: name, alpn: socket.alpnProtocol ?? false, httpVersion: req.httpVersion, path: req.url, remoteAddress: socket.remoteAddress ?? '' };
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  secure.on('tlsClientError', () => {});
  const headers: ProxyHeader[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  // The raw TCP door in front of the TLS server: reads the PROXY header first when asked to.
  const door: Server = createServer((socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (!options.proxyProtocol) return void secure.emit('connection', socket);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let header: ProxyHeader | null;
      try {
        header = parseProxyHeader(received);
      } catch {
        return void socket.destroy();
      }
      if (header === null) return;
      socket.removeListener('data', onData);
      socket.pause();
      headers.push(header);
      const rest = received.subarray(header.length);
      if (rest.length > 0) socket.unshift(rest);
      secure.emit('connection', socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => door.listen(0, '127.0.0.1', resolve));
  const port = (door.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    certPath: own.certPath,
    cert: own.cert,
    fingerprint256: new X509Certificate(own.cert).fingerprint256,
    headers,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        door.close(() => resolve());
        secure.close();
      }),
  };
}
