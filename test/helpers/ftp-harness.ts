// The FTP stream handler alone, as the stream manager will drive it: a listener on a free port that
// gives every accepted socket to createFtpHandler with a hand-made StreamRuntime (a real stream from
// the schema, counters, a log array, a real certificate).
// The certificates are self-signed for CN "Gatehouse FTPS test" (SAN localhost + the address), not
// from Gatehouse's local CA: lftp's GnuTLS refuses an IP address SAN under that CA's DNS-only name
// constraints, and a distinct subject shows in curl -v which server's certificate a client got.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFtpHandler } from '../../src-main/core/streams/ftp/ftp-handler.js';
import { plainAddress } from '../../src-main/core/streams/ftp/ftp-text.js';
import type { ConnectionHandler, StreamCounters, StreamRuntime, UpstreamTarget } from '../../src-main/core/streams/stream-types.js';
import type { ServedCertificate } from '../../src-main/core/proxy/tls-certificates.js';
import { StreamSchema, type FtpOptions, type Stream } from '../../shared/streams.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { describeRun, runBounded } from './ftp-clients.js';
import { freePortOn, freePortRange } from './vsftpd.js';

export interface FtpGateOptions {
  /** The FTP server, host:port. */
  upstream: string;
  /** Gatehouse's address (control port and passive ports). Default 127.0.0.1. */
  address?: string;
  /** How many passive ports Gatehouse gets (a free consecutive range). Default 10. */
  passivePorts?: number;
  /** FTP options besides the passive range (tls defaults to explicit with route "ftp-route"). */
  ftp?: Partial<Omit<FtpOptions, 'passivePortFrom' | 'passivePortTo'>>;
  /** Whether clients may see internals (error details). Default false: a client outside the LAN. */
  seesDetails?: boolean;
  /** More stream fields (proxyProtocol, connectTimeoutMs…). */
  stream?: Partial<Record<keyof Stream, unknown>>;
}

export interface FtpGate {
  readonly address: string;
  readonly port: number;
  /** ftp://address:port */
  readonly url: string;
  readonly passivePortRange: [from: number, to: number];
  readonly stream: Stream;
  readonly counters: StreamCounters;
  readonly logged: AccessLogEntry[];
  readonly reported: { address: string; ok: boolean }[];
  /** Gatehouse's FTPS certificate, self-signed (curl --cacert, lftp ssl:ca-file). */
  readonly caPath: string;
  readonly handler: ConnectionHandler;
  /** Waits until `match` holds (polling), or throws after `ms`. */
  until(match: () => boolean, ms?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFtpGate(options: FtpGateOptions): Promise<FtpGate> {
  const address = options.address ?? '127.0.0.1';
  const count = options.passivePorts ?? 10;
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-ftp-gate-'));
  const routeCertificate = await selfSigned(dir, 'route', 'Gatehouse FTPS test', address);
  const neutral = await selfSigned(dir, 'neutral', 'Gatehouse neutral', address);
  const server: Server = createServer({ allowHalfOpen: false });
  const controlPort = await freePortOn(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: controlPort, host: address }, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const passiveFrom = await freePortRange(address, count);
  const stream = StreamSchema.parse({
    id: 'ftp-test',
    title: 'FTP test',
    preset: 'ftp',
    protocol: 'ftp',
    listenPort: port,
    upstreams: [options.upstream],
    connectTimeoutMs: 3000,
    ...options.stream,
    ftp: { passivePortFrom: passiveFrom, passivePortTo: passiveFrom + count - 1, tls: 'explicit', certificateRouteId: 'ftp-route', ...options.ftp },
  });
  const counters: StreamCounters = { open: 0, total: 0, refused: 0, failed: 0, bytesIn: 0, bytesOut: 0 };
  const logged: AccessLogEntry[] = [];
  const reported: { address: string; ok: boolean }[] = [];
  const runtime: StreamRuntime = {
    stream,
    counters,
    targets(listenPort: number): UpstreamTarget[] {
      const offset = listenPort - stream.listenPort;
      return stream.upstreams.map((upstream) => {
        const at = upstream.lastIndexOf(':');
        const host = upstream.slice(0, at).replace(/^\[|\]$/g, '');
        return { host, port: Number(upstream.slice(at + 1)) + offset, address: upstream };
      });
    },
    reportConnect: (upstreamAddress, ok) => reported.push({ address: upstreamAddress, ok }),
    log: (entry) => logged.push(entry),
    bindAddress: () => address,
    certificateForRoute: (routeId) => (routeId === 'ftp-route' ? routeCertificate : null),
    fallbackCertificate: () => neutral,
  };
  const handler = createFtpHandler(runtime);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handler.handle(socket, {
      address: plainAddress(socket.remoteAddress ?? ''),
      port: socket.remotePort ?? 0,
      localAddress: plainAddress(socket.localAddress ?? ''),
      localPort: socket.localPort ?? 0,
      seesDetails: options.seesDetails ?? false,
    });
  });
  const until = async (match: () => boolean, ms = 10_000, what = 'the condition'): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!match()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    address,
    port,
    url: `ftp://${address}:${port}`,
    passivePortRange: [passiveFrom, passiveFrom + count - 1],
    stream,
    counters,
    logged,
    reported,
    caPath: join(dir, 'route-cert.pem'),
    handler,
    until,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await handler.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A self-signed certificate for `subject`, SAN localhost + `address`, written to dir/NAME-cert.pem. */
async function selfSigned(dir: string, name: string, subject: string, address: string): Promise<ServedCertificate> {
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${subject}`, '-addext', `subjectAltName=DNS:localhost,IP:${address}`];
  const result = await runBounded('openssl', args, { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`openssl req failed: ${describeRun(result)}`);
  return { certificatePem: await readFile(certFile, 'utf8'), privateKeyPem: await readFile(keyFile, 'utf8') };
}
