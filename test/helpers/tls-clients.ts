// Clients for the HTTPS listener's tests: openssl s_client (its verdict and the certificate it got),
// Node's https (a request with SNI, verified against the test CA), and raw ClientHellos built byte
// by byte, for names and bytes no TLS library would send.
import { spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { connect } from 'node:net';
import { within } from './proxy-harness.js';

export interface SClientResult {
  code: number | null;
  output: string;
  /** The leaf the server presented, or null when the handshake did not get that far. */
  certificate: X509Certificate | null;
}

/** `openssl s_client` against 127.0.0.1:port with `args`; stdin is closed at once, so it ends after the handshake. */
export function sClient(port: number, args: string[]): Promise<SClientResult> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const done = new Promise<SClientResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output);
      resolve({ code, output, certificate: pem ? new X509Certificate(pem[0]) : null });
    });
  });
  return within(done, 20_000, 'openssl s_client').finally(() => {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
  });
}

/** The DNS names of a certificate's SAN. */
export function sanNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The certificate the server presented. */
  certificate: X509Certificate;
}

/** One HTTP/1.1 request over TLS to 127.0.0.1:port, SNI `servername`, verified against `caPath`. */
export async function httpsGet(
  port: number,
  servername: string | null,
  caPath: string,
  options: { host?: string; path?: string; headers?: Record<string, string> } = {},
): Promise<HttpsAnswer> {
  const ca = await readFile(caPath, 'utf8');
  const host = options.host ?? servername ?? 'localhost';
  const requestOptions: RequestOptions = {
    host: '127.0.0.1',
    port,
    path: options.path ?? '/',
    headers: { host, ...options.headers },
    ca,
    agent: false,
    // Without SNI (servername null) the check is on the name the test expects the fallback to carry.
    checkServerIdentity: () => undefined,
  };
  // Node derives SNI from the Host header unless told '' (none).
  requestOptions.servername = servername ?? '';
  const answer = new Promise<HttpsAnswer>((resolve, reject) => {
    const req = request(requestOptions, (res) => {
      const raw = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.on('end', () => {
        if (!raw) return reject(new Error('the server presented no certificate'));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, certificate: raw });
      });
    });
    req.on('error', reject);
    req.end();
  });
  return within(answer, 10_000, `an HTTPS answer from 127.0.0.1:${port}`);
}

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const extension = (type: number, body: Buffer) => Buffer.concat([u16(type), u16(body.length), body]);

/**
 * A ClientHello offering TLS 1.2 and 1.3 with common suites, whose server_name extension carries
 * exactly `name` (any bytes, any length); `null` leaves the extension out.
 */
export function clientHello(name: Buffer | null): Buffer {
  const extensions: Buffer[] = [];
  if (name !== null) {
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
    extensions.push(extension(0x0000, Buffer.concat([u16(entry.length), entry])));
  }
  extensions.push(
    extension(0x000a, Buffer.concat([u16(4), u16(0x001d), u16(0x0017)])), // groups: X25519, P-256
    extension(0x000b, Buffer.from([1, 0])), // EC point formats: uncompressed
    extension(0x000d, Buffer.concat([u16(6), u16(0x0804), u16(0x0403), u16(0x0401)])), // signature algorithms
    extension(0x002b, Buffer.from([4, 0x03, 0x04, 0x03, 0x03])), // supported versions: 1.3, 1.2
    extension(0x0033, Buffer.concat([u16(36), u16(0x001d), u16(32), randomBytes(32)])), // key share X25519
  );
  const suites = Buffer.concat([u16(0x1301), u16(0xc02f), u16(0xc02b)]);
  const exts = Buffer.concat(extensions);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    randomBytes(32),
    Buffer.from([32]),
    randomBytes(32), // legacy session id, as TLS 1.3 clients send
    u16(suites.length),
    suites,
    Buffer.from([1, 0]),
    u16(exts.length),
    exts,
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

/** Sends `bytes` to 127.0.0.1:port; resolves with what came back once the server closes, shortly after it answers, or after `ms`. */
export function sendRaw(port: number, bytes: Buffer, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (chunk: Buffer) => {
      // The server answered (a ServerHello waits for the client's next flight, which never comes).
      if (chunks.push(chunk) === 1) setTimeout(() => socket.destroy(), 200);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(bytes);
  });
}
