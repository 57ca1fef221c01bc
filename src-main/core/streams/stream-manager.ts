// The stream engine: listens for every enabled stream (each port of a range), reads a PROXY header
// from trusted fronts, judges each connection by the stream's access rules (a refusal is closed before
// any upstream is dialed, counted and logged with its rule), caps the connections one client address
// holds across every TCP/FTP stream (access.maxConnectionsPerClient, counted like the HTTP listeners'
// front: IPv6 by its /64, this machine's networks and trusted proxies exempt; the streams have their
// own count, apart from the HTTP listeners'), and hands admitted connections to the
// stream's handler (plain TCP, or FTP when that module is loaded). UDP streams are its own
// (udp-stream.ts). Health checks run per stream (stream-health.ts).
//
// Changes apply live, by stream id and by (transport, port): an unchanged stream keeps its listeners
// and open connections; a stream whose ports changed binds the new ones and closes only the old ones;
// a stream whose forwarding changed (upstreams, access, timeouts, PROXY, FTP options) gets a new
// handler and its open connections are cut (they were admitted under the old rules); removed and
// disabled streams close. A port that cannot be bound fails that stream only, with the reason and
// the fix in its status; the next apply tries it again.
import { BlockList, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { listenPorts, parseStreamAddress, transportOf, type Stream, type StreamAccess, type StreamState, type StreamStatus } from '../../../shared/streams.js';
import { NEEDS_COUNTRIES, type Judgement } from '../access/route-judge.js';
import type { ServedCertificate } from '../proxy/tls-certificates.js';
import { ClientConnectionCount } from '../net/connection-front.js';
import { ListenError, listen } from '../net/listen.js';
import { parseProxyHeader, ProxyProtocolError } from '../net/proxy-protocol.js';
import { ProxyError } from '../proxy/errors.js';
import type { Problem } from '../../../shared/status.js';
import { StreamHealth } from './stream-health.js';
import type { ConnectionHandler, StreamClient, StreamCounters, StreamDeps, StreamEngine, StreamRuntime, UpstreamTarget } from './stream-types.js';
import { createTcpHandler, streamLogEntry } from './tcp-stream.js';
import { UdpStream } from './udp-stream.js';

/** How long a trusted front has to send its PROXY header. */
export const STREAM_PROXY_HEADER_TIMEOUT_MS = 3000;

export interface StreamManagerOptions {
  /** Builds an FTP stream's handler (streams/ftp/ftp-handler.ts); without it FTP streams fail with a clear problem. */
  createFtpHandler?: (runtime: StreamRuntime) => ConnectionHandler;
}

/** The parts of a stream whose change needs a new handler (and cuts its connections). */
function forwardingKey(stream: Stream): string {
  const { title: _t, preset: _p, listenPort: _l, listenPortEnd: _e, healthCheck: _h, enabled: _n, ...rest } = stream;
  return JSON.stringify(rest);
}

function healthKey(stream: Stream): string {
  return JSON.stringify([stream.protocol, stream.upstreams, stream.healthCheck]);
}

class Runtime implements StreamRuntime {
  constructor(
    public stream: Stream,
    readonly counters: StreamCounters,
    public health: StreamHealth,
    private readonly deps: StreamDeps,
    private readonly bind: () => string,
  ) {}

  targets(listenPort: number): UpstreamTarget[] {
    const offset = listenPort - this.stream.listenPort;
    const targets = this.health.order().map((index) => {
      const address = this.stream.upstreams[index] as string;
      const parsed = parseStreamAddress(address);
      if ('problem' in parsed) return { host: address, port: 0, address };
      return { host: parsed.host, port: parsed.port + (offset >= 0 && offset <= 65535 ? offset : 0), address };
    });
    return targets;
  }

  reportConnect(address: string, ok: boolean): void {
    this.health.report(address, ok);
  }

  log(entry: Parameters<StreamDeps['log']>[0]): void {
    this.deps.log({ ...entry, streamId: this.stream.id });
  }

  bindAddress(): string {
    return this.bind();
  }

  certificateForRoute(routeId: string): ServedCertificate | null {
    return this.deps.certificateForRoute(routeId);
  }

  fallbackCertificate(): ServedCertificate {
    return this.deps.fallbackCertificate();
  }
}

interface TcpListener {
  server: Server;
  /** Connections still being read (PROXY header) or judged. */
  pending: Set<Socket>;
}

interface Entry {
  stream: Stream;
  counters: StreamCounters;
  runtime: Runtime;
  handler: ConnectionHandler | null;
  udp: UdpStream | null;
  tcp: Map<number, TcpListener>;
  state: StreamState;
  problem: Problem | null;
}

const FTP_NOT_LOADED: Problem = {
  code: 'ftp_not_loaded',
  message: 'FTP support is not loaded in this Gatehouse, so the FTP stream cannot listen.',
  fix: 'Update Gatehouse to a version with FTP streams, or change the stream to plain TCP.',
};

export class StreamManager implements StreamEngine {
  private readonly entries = new Map<string, Entry>();
  private bindAddress = '0.0.0.0';
  private running = false;
  private proxyPeersFor: readonly string[] | null = null;
  private proxyPeers: BlockList | null = null;
  /** Applies run one after another. */
  private queue: Promise<void> = Promise.resolve();
  /** Open TCP/FTP stream connections per client address (access.maxConnectionsPerClient). */
  private readonly perClient: ClientConnectionCount;

  constructor(
    private readonly deps: StreamDeps,
    private readonly options: StreamManagerOptions = {},
  ) {
    this.perClient = new ClientConnectionCount((address) => deps.exemptFromConnectionLimit(address));
  }

  start(streams: readonly Stream[], bindAddress: string): Promise<void> {
    return this.serialize(async () => {
      this.running = true;
      await this.applyNow(streams, bindAddress);
    });
  }

  apply(streams: readonly Stream[], bindAddress: string): Promise<void> {
    return this.serialize(async () => {
      if (!this.running) return;
      await this.applyNow(streams, bindAddress);
    });
  }

  stop(): Promise<void> {
    return this.serialize(async () => {
      this.running = false;
      for (const entry of [...this.entries.values()]) await this.closeEntry(entry);
      this.entries.clear();
    });
  }

  status(streams: readonly Stream[]): StreamStatus[] {
    return streams.map((stream) => {
      const entry = this.running ? this.entries.get(stream.id) : undefined;
      const state: StreamState = !stream.enabled ? 'disabled' : entry ? entry.state : 'stopped';
      const counters = entry?.counters ?? { open: 0, total: 0, refused: 0, failed: 0, bytesIn: 0, bytesOut: 0 };
      const upstreams = entry
        ? entry.runtime.health.view()
        : stream.upstreams.map((address, i) => ({ address, state: 'unknown' as const, since: null, lastCheck: null, active: i === 0 }));
      return {
        streamId: stream.id,
        state,
        problem: entry?.problem ? { code: entry.problem.code, message: entry.problem.message, fix: entry.problem.fix ?? 'Choose another port.' } : null,
        ...counters,
        upstreams,
        health: entry && entry.state === 'listening' ? entry.runtime.health.overall() : 'unknown',
      };
    });
  }

  /** Open UDP sessions of a stream now (tests, the dashboard). */
  udpSessions(streamId: string): number {
    return this.entries.get(streamId)?.udp?.sessionCount ?? 0;
  }

  /** The ports a stream holds now, by transport (tests). */
  boundPorts(streamId: string): number[] {
    const entry = this.entries.get(streamId);
    if (!entry) return [];
    return entry.udp ? entry.udp.ports() : [...entry.tcp.keys()];
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => {});
    return next;
  }

  private async applyNow(streams: readonly Stream[], bindAddress: string): Promise<void> {
    const addressChanged = bindAddress !== this.bindAddress;
    this.bindAddress = bindAddress;
    const wanted = new Map(streams.filter((stream) => stream.enabled).map((stream) => [stream.id, stream]));
    // 1. Close what goes away first, so its ports are free for the streams that move onto them.
    for (const entry of [...this.entries.values()]) {
      const next = wanted.get(entry.stream.id);
      if (!next || addressChanged || transportOf(next.protocol) !== transportOf(entry.stream.protocol)) {
        await this.closeEntry(entry);
        this.entries.delete(entry.stream.id);
        if (next) this.entries.set(next.id, this.newEntry(next, entry.counters));
        continue;
      }
      this.update(entry, next);
      // Ports no longer wanted.
      const ports = new Set(listenPorts(next));
      for (const [port, listener] of entry.tcp) {
        if (!ports.has(port)) await this.closeTcp(entry, port, listener);
      }
      if (entry.udp) for (const port of entry.udp.ports()) if (!ports.has(port)) entry.udp.unbind(port);
    }
    for (const stream of wanted.values()) {
      if (!this.entries.has(stream.id)) this.entries.set(stream.id, this.newEntry(stream, null));
    }
    // 2. Bind what is missing, stream by stream (a failure fails that stream only).
    for (const stream of wanted.values()) await this.bindEntry(this.entries.get(stream.id) as Entry);
    this.deps.changed();
  }

  private newEntry(stream: Stream, counters: StreamCounters | null): Entry {
    const health = new StreamHealth(stream, () => this.deps.changed());
    const entry: Entry = {
      stream,
      counters: counters ?? { open: 0, total: 0, refused: 0, failed: 0, bytesIn: 0, bytesOut: 0 },
      runtime: null as unknown as Runtime,
      handler: null,
      udp: null,
      tcp: new Map(),
      state: 'stopped',
      problem: null,
    };
    entry.runtime = new Runtime(stream, entry.counters, health, this.deps, () => this.bindAddress);
    this.makeHandler(entry);
    return entry;
  }

  /** Builds the entry's handler (TCP, FTP) or UDP session table for its current stream. */
  private makeHandler(entry: Entry): void {
    entry.problem = null;
    if (entry.stream.protocol === 'udp') {
      entry.udp ??= new UdpStream({
        runtime: () => entry.runtime,
        judge: (address) => this.deps.judge(entry.stream.access, address),
        changed: () => this.deps.changed(),
      });
      return;
    }
    if (entry.stream.protocol === 'ftp') {
      if (!this.options.createFtpHandler) {
        entry.handler = null;
        entry.problem = FTP_NOT_LOADED;
        return;
      }
      entry.handler = this.options.createFtpHandler(entry.runtime);
      return;
    }
    entry.handler = createTcpHandler(entry.runtime);
  }

  /** The same stream id with new settings: keep what did not change. */
  private update(entry: Entry, next: Stream): void {
    const previous = entry.stream;
    if (JSON.stringify(previous) === JSON.stringify(next)) return;
    entry.stream = next;
    entry.runtime.stream = next;
    if (healthKey(previous) !== healthKey(next) || previous.healthCheck.enabled !== next.healthCheck.enabled) {
      entry.runtime.health.stop();
      entry.runtime.health = new StreamHealth(next, () => this.deps.changed());
    }
    if (forwardingKey(previous) !== forwardingKey(next)) {
      // Admitted under the old rules, to the old upstreams: cut, and a new handler for what comes.
      void entry.handler?.close();
      entry.udp?.closeSessions();
      this.makeHandler(entry);
    }
  }

  private async bindEntry(entry: Entry): Promise<void> {
    if (entry.stream.protocol === 'ftp' && !entry.handler) {
      entry.problem ??= FTP_NOT_LOADED;
      entry.state = 'failed';
      // A TCP stream turned FTP keeps no listener it cannot serve.
      for (const [port, listener] of [...entry.tcp]) await this.closeTcp(entry, port, listener);
      entry.runtime.health.stop();
      return;
    }
    const ports = listenPorts(entry.stream);
    try {
      for (const port of ports) {
        if (entry.udp) await entry.udp.bind(port, this.bindAddress);
        else if (!entry.tcp.has(port)) await this.bindTcp(entry, port);
      }
      entry.state = 'listening';
      entry.problem = null;
      entry.runtime.health.start();
    } catch (error) {
      // One port of the stream could not be bound: the whole stream fails (its status says why), others go on.
      entry.state = 'failed';
      entry.problem =
        error instanceof ListenError
          ? error.problem
          : { code: 'listen_failed', message: `Stream "${entry.stream.title}" cannot listen: ${(error as Error).message}.`, fix: 'Choose another port or address.' };
      entry.runtime.health.stop();
      for (const [port, listener] of entry.tcp) await this.closeTcp(entry, port, listener);
      entry.udp?.close();
    }
  }

  private async bindTcp(entry: Entry, port: number): Promise<void> {
    const pending = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    server.on('connection', (socket) => this.onConnection(entry, port, socket, pending));
    await listen(server, `TCP stream "${entry.stream.title}"`, this.bindAddress, port);
    server.on('error', () => {});
    entry.tcp.set(port, { server, pending });
  }

  private async closeTcp(entry: Entry, port: number, listener: TcpListener): Promise<void> {
    entry.tcp.delete(port);
    for (const socket of listener.pending) socket.destroy();
    listener.pending.clear();
    // The listening socket closes now; server.close's callback would wait for the connections it
    // accepted, which stay with the handler (a port dropped from a stream leaves its sessions be).
    listener.server.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private async closeEntry(entry: Entry): Promise<void> {
    entry.runtime.health.stop();
    const closing: Promise<void>[] = [];
    for (const [port, listener] of [...entry.tcp]) closing.push(this.closeTcp(entry, port, listener));
    closing.push(entry.handler?.close() ?? Promise.resolve());
    entry.udp?.close();
    await Promise.all(closing);
    entry.state = 'stopped';
  }

  /** Whether `address` must open with a PROXY header (proxy.proxyProtocolFrom). */
  private mustSendProxyHeader(address: string): boolean {
    const entries = this.deps.proxyProtocolFrom();
    if (entries !== this.proxyPeersFor) {
      this.proxyPeersFor = entries;
      if (entries.length === 0) this.proxyPeers = null;
      else {
        const list = new BlockList();
        for (const entry of entries) {
          const [base, prefix] = entry.split('/') as [string, string | undefined];
          const type = isIPv6(base) ? 'ipv6' : 'ipv4';
          try {
            if (prefix === undefined) list.addAddress(base, type);
            else list.addSubnet(base, Number(prefix), type);
          } catch {
            // settings validate these; a bad one matches nothing
          }
        }
        this.proxyPeers = list;
      }
    }
    return this.proxyPeers !== null && address !== '' && this.proxyPeers.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  }

  private onConnection(entry: Entry, listenPort: number, socket: Socket, pending: Set<Socket>): void {
    socket.on('error', () => {});
    const raw = plainAddress(socket.remoteAddress ?? '');
    const base: StreamClient = {
      address: raw,
      port: socket.remotePort ?? 0,
      localAddress: plainAddress(socket.localAddress ?? ''),
      localPort: listenPort,
      seesDetails: false,
    };
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
    if (this.mustSendProxyHeader(raw)) {
      readProxyHeader(socket, (source) => {
        // A header that names no client (v1 UNKNOWN, v2 LOCAL) says nothing about who is asking: like
        // the HTTP listeners, such a connection counts as from outside this network.
        if (source === null) return this.admit(entry, socket, base, pending, true);
        this.admit(entry, socket, { ...base, address: plainAddress(source.address), port: source.port }, pending);
      }, (reason) => {
        pending.delete(socket);
        socket.destroy();
        const started = { time: new Date().toISOString(), at: performance.now() };
        entry.counters.refused++;
        entry.runtime.log({ ...streamLogEntry(entry.runtime, methodOf(entry.stream), base, listenPort, started), status: 400, error: 'proxy_protocol', detail: `${raw} must open with a PROXY protocol header (proxy.proxyProtocolFrom): ${reason}` });
        this.deps.changed();
      });
      return;
    }
    this.admit(entry, socket, base, pending);
  }

  private admit(entry: Entry, socket: Socket, client: StreamClient, pending: Set<Socket>, namedNoClient = false): void {
    const started = { time: new Date().toISOString(), at: performance.now() };
    // The per-client cap first: over it, the connection is closed before it is judged or dialled.
    this.perClient.setLimit(this.deps.connectionLimit());
    if (!socket.destroyed && !this.perClient.take(socket, client.address)) {
      pending.delete(socket);
      socket.destroy();
      entry.counters.refused++;
      entry.runtime.log({
        ...streamLogEntry(entry.runtime, methodOf(entry.stream), client, client.localPort, started),
        status: 429,
        error: 'too_many_connections',
        rule: 'connections per client',
        detail: `${client.address} already has ${this.perClient.openFrom(client.address)} stream connections open (access.maxConnectionsPerClient).`,
      });
      this.deps.changed();
      return;
    }
    const decide = (judgement: Judgement) => {
      pending.delete(socket);
      if (socket.destroyed) return;
      if (judgement instanceof ProxyError || judgement === NEEDS_COUNTRIES) {
        socket.destroy();
        entry.counters.refused++;
        const refusal = judgement instanceof ProxyError ? judgement : null;
        entry.runtime.log({
          ...streamLogEntry(entry.runtime, methodOf(entry.stream), client, client.localPort, started),
          status: 403,
          error: refusal?.code ?? 'country_denied',
          rule: refusal?.refusal?.rule ?? 'countries',
          detail: refusal?.detail ?? 'The country database is not read yet, and the rules ask for a country.',
        });
        this.deps.changed();
        return;
      }
      const handler = entry.handler;
      if (!handler) return void socket.destroy();
      const admitted = { ...client, seesDetails: this.deps.detailsAllowed(client.address) };
      handler.handle(socket, admitted);
      this.deps.changed();
    };
    let judgement: Judgement | Promise<Judgement>;
    try {
      judgement =
        namedNoClient && entry.stream.access.exposure !== 'anyone'
          ? new ProxyError('lan_only', `The PROXY protocol header from ${client.address} named no client (UNKNOWN or LOCAL), so the connection counts as from outside this network.`, { rule: 'exposure: this network only' })
          : this.deps.judge(entry.stream.access as StreamAccess, client.address);
    } catch (error) {
      judgement = new ProxyError('access_denied', `The access rules could not be applied: ${(error as Error).message}`, { rule: 'access rules failed' });
    }
    if (judgement instanceof Promise) {
      judgement.then(decide, (error: Error) => decide(new ProxyError('access_denied', `The access rules could not be applied: ${error.message}`, { rule: 'access rules failed' })));
    } else decide(judgement);
  }
}

function methodOf(stream: Stream): string {
  return stream.protocol === 'ftp' ? 'FTP' : stream.protocol === 'udp' ? 'UDP' : 'TCP';
}

/** Reads a PROXY header within the deadline (size-bounded by the parser); the rest is put back. */
function readProxyHeader(socket: Socket, done: (source: { address: string; port: number } | null) => void, fail: (reason: string) => void): void {
  let received: Buffer = Buffer.alloc(0);
  let over = false;
  const finish = () => {
    over = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
  };
  const timer = setTimeout(() => {
    finish();
    fail(`no PROXY protocol header within ${STREAM_PROXY_HEADER_TIMEOUT_MS} ms`);
  }, STREAM_PROXY_HEADER_TIMEOUT_MS);
  const onClose = () => finish();
  const onData = (chunk: Buffer) => {
    if (over) return;
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    let header;
    try {
      header = parseProxyHeader(received);
    } catch (error) {
      finish();
      return fail(error instanceof ProxyProtocolError ? error.message : String(error));
    }
    if (header === null) return;
    socket.pause();
    finish();
    const rest = received.subarray(header.length);
    if (rest.length > 0) socket.unshift(rest);
    done(header.source);
  };
  socket.on('data', onData);
  socket.once('close', onClose);
  socket.resume();
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
