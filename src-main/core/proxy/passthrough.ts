// TLS passthrough by name: the HTTPS listener read a ClientHello whose name belongs to a route with
// tls.mode "passthrough" (tls-listener.ts); here that raw connection is judged by the client's
// address alone (exposure, lists, countries, bans: AccessRules.connectionJudge) before a byte goes
// anywhere, then joined byte for byte (streams/splice.ts) to the first of the route's upstreams that
// accepts within the connect timeout (in order, available ones by health first), after a PROXY
// protocol header when the route asks for one. Gatehouse never sees the requests inside: sign-in,
// limits per request and header rules cannot apply. Each connection is one access-log entry (method
// "TLS", host = the SNI name), refusals included, and counts as one request of the route.
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AccessLogEntry } from '../../../shared/status.js';
import type { Judgement } from '../access/route-judge.js';
import { formatProxyHeader } from '../net/proxy-protocol.js';
import { splice } from '../streams/splice.js';
import type { UpstreamHealthLink } from '../upstreams/health-view.js';
import { hostPort } from '../upstreams/registry.js';
import { ProxyError, upstreamFailure } from './errors.js';
import { peerAddress, proxyNamedNoClient } from './request-head.js';
import type { ProvisionedRoute } from './route-table.js';
import type { ProxyStats } from './stats.js';
import type { PassthroughClaims } from './tls-listener.js';

/** Judges one connection's client address for a route (see AccessRules.connectionJudge). */
export type ConnectionJudge = (address: string) => Exclude<Judgement, symbol> | Promise<Exclude<Judgement, symbol>>;

export interface PassthroughDeps {
  /** The route a normalized name belongs to now (the same table Host headers use). */
  route(name: string): ProvisionedRoute | undefined;
  /** True while any route passes TLS through. */
  any(): boolean;
  /** The route's address judge; null when the engine has none (every address admitted). */
  judge(route: ProvisionedRoute): ConnectionJudge | null;
  health: UpstreamHealthLink;
  counters: ProxyStats;
  connectTimeoutMs(): number;
  /** A passed-through connection silent both ways this long is closed (the WebSocket idle timeout). */
  idleMs(): number;
  log(entry: AccessLogEntry): void;
  /** Open passed-through connections, cut when the proxy stops. */
  tunnels: Set<Duplex>;
}

export class Passthrough implements PassthroughClaims {
  constructor(private readonly deps: PassthroughDeps) {}

  active(): boolean {
    return this.deps.any();
  }

  claim(socket: Socket, name: string): boolean {
    const route = this.deps.route(name);
    if (!route || route.tls.mode !== 'passthrough') return false;
    void this.pass(socket, name, route);
    return true;
  }

  private async pass(socket: Socket, name: string, route: ProvisionedRoute): Promise<void> {
    const started = performance.now();
    const startedAt = Date.now();
    const client = peerAddress(socket);
    const base = { time: new Date(startedAt).toISOString(), client, host: name, method: 'TLS', path: '', routeId: route.id, user: null } as const;
    socket.on('error', () => {});
    this.deps.tunnels.add(socket);
    socket.once('close', () => this.deps.tunnels.delete(socket));
    let refusal: ProxyError | null = null;
    let rule: string | null = null;
    if (proxyNamedNoClient(socket) && route.access.exposure !== 'anyone') {
      refusal = new ProxyError('lan_only', `The PROXY protocol header from ${client} named no client (UNKNOWN or LOCAL), so the connection counts as from outside this network.`, { rule: 'exposure: this network only' });
    } else {
      const judge = this.deps.judge(route);
      const judged = judge === null ? null : await judge(client);
      if (judged instanceof ProxyError) refusal = judged;
      else if (typeof judged === 'string') rule = judged;
    }
    if (refusal) {
      socket.destroy();
      this.deps.counters.counters(route.id).recordRefused(startedAt);
      return this.deps.log({ ...base, status: refusal.status, bytes: 0, durationMs: Math.round(performance.now() - started), upstream: null, error: refusal.code, detail: refusal.detail, rule: refusal.refusal?.rule ?? null });
    }
    if (socket.destroyed) return;
    const { connected, address, error } = await this.connectUpstream(route);
    if (!connected) {
      socket.destroy();
      this.deps.counters.counters(route.id).recordUpgraded(true, 0, 0, startedAt, address);
      const failure = error ?? new ProxyError('no_upstream', `${route.title} has no upstream to pass TLS to.`);
      return this.deps.log({ ...base, status: failure.status, bytes: 0, durationMs: Math.round(performance.now() - started), upstream: address, error: failure.code, detail: failure.detail, rule });
    }
    if (socket.destroyed) return void connected.destroy();
    if (route.tls.proxyProtocol !== 'off') {
      const version = route.tls.proxyProtocol === 'v1' ? 1 : 2;
      const fromHeader = client !== plain(socket.remoteAddress ?? '');
      connected.write(formatProxyHeader(version, { address: client, port: fromHeader ? 0 : (socket.remotePort ?? 0) }, { address: plain(socket.localAddress ?? ''), port: socket.localPort ?? 0 }));
    }
    // Both ways half-close (an end is passed on, the other direction carries on).
    (socket as Socket & { allowHalfOpen: boolean }).allowHalfOpen = true;
    this.deps.tunnels.add(connected);
    splice(socket, connected, {
      idleMs: this.deps.idleMs(),
      onClose: (reason, totals) => {
        this.deps.tunnels.delete(connected);
        const failed = reason === 'upstream_error';
        this.deps.counters.counters(route.id).recordUpgraded(failed, totals.fromClient, totals.fromUpstream, startedAt, address);
        this.deps.log({ ...base, status: 0, bytes: totals.fromUpstream, durationMs: Math.round(performance.now() - started), upstream: address, error: failed ? 'upstream_reset' : null, detail: null, rule });
      },
    });
  }

  /**
   * Dials the route's upstreams in order, available ones (by health) first, each within the connect
   * timeout; the first that accepts wins. Failures are told to passive health.
   */
  private async connectUpstream(route: ProvisionedRoute): Promise<{ connected: Socket | null; address: string | null; error: ProxyError | null }> {
    const { health } = this.deps;
    const targets = route.upstreams.map((upstream) => hostPort(upstream.target.url));
    const ordered = [...targets.filter((target) => health.isAvailable(target.address)), ...targets.filter((target) => !health.isAvailable(target.address))];
    let lastError: ProxyError | null = null;
    let lastAddress: string | null = null;
    for (const target of ordered) {
      lastAddress = target.address;
      try {
        const socket = await dial(target.host, target.port, this.deps.connectTimeoutMs());
        return { connected: socket, address: target.address, error: null };
      } catch (error) {
        health.failed(route.id, target.address, error);
        lastError = upstreamFailure(error, route.title, target.address, { connectMs: this.deps.connectTimeoutMs(), headersMs: 0 });
      }
    }
    return { connected: null, address: lastAddress, error: lastError };
  }
}

function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

function plain(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
