// A UDP stream: one socket per listen port, and per client (address and port) a session with its own
// socket connected to the upstream, so the upstream's replies find their way back to that client.
// A session is closed, with its socket, after `idleTimeoutMs` without a datagram either way; at most
// `udpMaxSessions` are open at once for the stream, and a new client past that closes the longest-
// idle session to make room: a flood of source addresses costs at most that many sockets, never a
// leak. One client address (an IPv6 one by its /64) holds at most perAddressSessions(max) of them,
// and a session active within the last second is never closed for a newcomer: the newcomer's
// datagrams are dropped instead (counted as refused), so one address cycling its source ports, or a
// spoofed flood, cannot push out the clients that are using the stream.
// Access is judged once per new session; a refused client's datagrams are dropped and counted, and
// logged at most once a minute per client address, so a flood cannot flood the log either.
// Replies go back to the client's address exactly as it arrived (an IPv4 client of a dual-stack "::"
// socket is ::ffff:a.b.c.d there); the plain form is for judging and the log. A datagram from the
// upstream reports it up (passive health), at most once a second per session.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { AccessLogEntry } from '../../../shared/status.js';
import { effectiveIdleMs } from '../../../shared/streams.js';
import { clientKey } from '../access/client-key.js';
import { NEEDS_COUNTRIES, type Judgement } from '../access/route-judge.js';
import { explainListenError, ListenError, udpInUseFix } from '../net/listen.js';
import { ProxyError, seconds } from '../proxy/errors.js';
import { connectionError } from '../upstreams/active-check.js';
import type { StreamRuntime, UpstreamTarget } from './stream-types.js';
import { streamLogEntry } from './tcp-stream.js';

/** Datagrams held per client while its first one is being judged or its upstream socket connects. */
const MAX_QUEUED = 16;
/** A refused client address is logged again after this long. */
const REFUSAL_LOG_MS = 60_000;
/** Refused addresses remembered for the log's once-a-minute rule (past this, the oldest are forgotten). */
const MAX_REFUSAL_MEMORY = 10_000;
/** A session active within this long is never closed to make room for a newcomer. */
export const UDP_EVICT_AFTER_IDLE_MS = 1000;
/** A session reports its upstream up (passive health) at most this often. */
const HEALTH_REPORT_MS = 1000;

/**
 * Sessions one client address (an IPv6 one by its /64) may hold at once: an eighth of the stream's
 * `udpMaxSessions`, at least 16 (a household behind one NAT), never more than the stream's maximum.
 */
export function perAddressSessions(maxSessions: number): number {
  return Math.min(maxSessions, Math.max(16, Math.floor(maxSessions / 8)));
}

interface Session {
  readonly key: string;
  /** The client's address as judged and logged (an IPv4-mapped one as plain IPv4). */
  readonly address: string;
  /** The client's address as it arrived, which replies are sent to. */
  readonly replyAddress: string;
  /** The per-address counting key (clientKey). */
  readonly addressKey: string;
  readonly port: number;
  readonly listenPort: number;
  readonly target: UpstreamTarget;
  readonly upstream: UdpSocket;
  readonly started: { time: string; at: number };
  /** Datagrams waiting for the upstream socket to connect; null once connected. */
  queue: Buffer[] | null;
  lastActivity: number;
  bytesIn: number;
  bytesOut: number;
  closed: boolean;
  /** When a datagram from the upstream last reported it up (performance.now()). */
  healthReportedAt: number;
  /** Replies that could not be sent to the client, and the last error's code. */
  sendErrors: number;
  sendError: string | null;
}

export interface UdpStreamContext {
  /** The stream's runtime now (it is replaced when the stream changes). */
  runtime(): StreamRuntime;
  /** The access judge for the stream's current rules. */
  judge(address: string): Judgement | Promise<Judgement>;
  /** Something the status shows changed (a session opened or closed, a refusal). */
  changed(): void;
}

export class UdpStream {
  private readonly sockets = new Map<number, UdpSocket>();
  /** Open sessions, least recently active first (a touched session is moved to the end). */
  private readonly sessions = new Map<string, Session>();
  /** The same sessions by client address (clientKey), each least recently active first. */
  private readonly byAddress = new Map<string, Map<string, Session>>();
  /** Send errors already told to the console (once per error code). */
  private readonly sendErrorsWarned = new Set<string>();
  /** First datagrams of clients being judged. */
  private readonly judging = new Map<string, Buffer[]>();
  private readonly refusalLogged = new Map<string, number>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly context: UdpStreamContext) {}

  /** Open sessions now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The ports bound now. */
  ports(): number[] {
    return [...this.sockets.keys()];
  }

  /** Binds `port` on `address`; rejects with a ListenError that says how to fix it. */
  async bind(port: number, address: string): Promise<void> {
    if (this.sockets.has(port)) return;
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        socket.removeListener('listening', onListening);
        try {
          socket.close();
        } catch {
          // never bound
        }
        explainListenError(error, 'UDP stream', address, port).then(
          (problem) => reject(new ListenError(error.code === 'EADDRINUSE' ? { ...problem, fix: udpInUseFix(port, process.platform) } : problem, error.code)),
          reject,
        );
      };
      const onListening = () => {
        socket.removeListener('error', onError);
        resolve();
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.bind({ port, address, exclusive: true });
    });
    socket.on('error', () => {}); // send errors (a client gone) are routine
    socket.on('message', (message: Buffer, remote: RemoteInfo) => this.onDatagram(port, socket, message, remote));
    this.sockets.set(port, socket);
    this.ensureSweeper();
  }

  /** Closes `port`'s socket and the sessions that came in through it. */
  unbind(port: number): void {
    const socket = this.sockets.get(port);
    if (!socket) return;
    this.sockets.delete(port);
    for (const session of [...this.sessions.values()]) if (session.listenPort === port) this.closeSession(session, 'stream_closed');
    for (const key of [...this.judging.keys()]) if (key.startsWith(`${port}|`)) this.judging.delete(key);
    socket.close();
  }

  /** Closes every session (the stream's rules or upstreams changed); the ports stay bound. */
  closeSessions(reason = 'stream_closed'): void {
    for (const session of [...this.sessions.values()]) this.closeSession(session, reason);
    this.judging.clear();
  }

  /** Closes every port and session. */
  close(): void {
    this.closeSessions();
    for (const port of [...this.sockets.keys()]) this.unbind(port);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private ensureSweeper(): void {
    if (this.sweeper) return;
    // Sessions are in order of last activity: the sweep stops at the first one still in time.
    const idleMs = () => effectiveIdleMs(this.context.runtime().stream);
    this.sweeper = setInterval(() => {
      const now = performance.now();
      const limit = idleMs();
      for (const session of this.sessions.values()) {
        if (now - session.lastActivity < limit) break;
        this.closeSession(session, 'idle_timeout');
      }
      // The refusal memory forgets addresses after their minute.
      for (const [address, at] of this.refusalLogged) {
        if (now - at < REFUSAL_LOG_MS) break;
        this.refusalLogged.delete(address);
      }
    }, Math.max(50, Math.min(1000, Math.floor(idleMs() / 4))));
    this.sweeper.unref();
  }

  private touch(session: Session): void {
    session.lastActivity = performance.now();
    this.sessions.delete(session.key);
    this.sessions.set(session.key, session);
    const mine = this.byAddress.get(session.addressKey);
    if (mine) {
      mine.delete(session.key);
      mine.set(session.key, session);
    }
  }

  private onDatagram(listenPort: number, socket: UdpSocket, message: Buffer, remote: RemoteInfo): void {
    const key = `${listenPort}|${remote.address}|${remote.port}`;
    const session = this.sessions.get(key);
    if (session) {
      this.touch(session);
      session.bytesIn += message.length;
      this.context.runtime().counters.bytesIn += message.length;
      if (session.queue) {
        if (session.queue.length < MAX_QUEUED) session.queue.push(message);
      } else session.upstream.send(message);
      return;
    }
    const waiting = this.judging.get(key);
    if (waiting) {
      if (waiting.length < MAX_QUEUED) waiting.push(message);
      return;
    }
    const runtime = this.context.runtime();
    // Bounded like the sessions: a flood of new addresses being judged at once is dropped past it.
    if (this.judging.size >= runtime.stream.udpMaxSessions) return;
    const address = plainAddress(remote.address);
    const judgement = this.context.judge(address);
    if (judgement instanceof Promise) {
      const queue = [message];
      this.judging.set(key, queue);
      judgement.then(
        (result) => {
          if (this.judging.get(key) !== queue) return; // closed meanwhile
          this.judging.delete(key);
          this.decide(result, listenPort, socket, key, address, remote, queue);
        },
        () => this.judging.delete(key),
      );
      return;
    }
    this.decide(judgement, listenPort, socket, key, address, remote, [message]);
  }

  private decide(judgement: Judgement, listenPort: number, socket: UdpSocket, key: string, address: string, remote: RemoteInfo, queue: Buffer[]): void {
    if (!this.sockets.has(listenPort)) return;
    if (judgement instanceof ProxyError || judgement === NEEDS_COUNTRIES) return this.refuse(judgement, listenPort, address, queue.length);
    this.open(listenPort, socket, key, address, remote, queue);
  }

  /** Whether a refusal of `address` is logged now (at most once a minute per address). */
  private logRefusal(address: string, now: number): boolean {
    const last = this.refusalLogged.get(address);
    if (last !== undefined && now - last < REFUSAL_LOG_MS) return false;
    if (last !== undefined) this.refusalLogged.delete(address);
    if (this.refusalLogged.size >= MAX_REFUSAL_MEMORY) {
      const oldest = this.refusalLogged.keys().next().value;
      if (oldest !== undefined) this.refusalLogged.delete(oldest);
    }
    this.refusalLogged.set(address, now);
    return true;
  }

  private refuse(refusal: ProxyError | typeof NEEDS_COUNTRIES, listenPort: number, address: string, datagrams: number): void {
    const runtime = this.context.runtime();
    runtime.counters.refused += datagrams;
    this.context.changed();
    const now = performance.now();
    if (!this.logRefusal(address, now)) return;
    const entry = streamLogEntry(runtime, 'UDP', { address }, listenPort, { time: new Date().toISOString(), at: now });
    const error = refusal instanceof ProxyError ? refusal : null;
    runtime.log({
      ...entry,
      status: 403,
      error: error?.code ?? 'country_denied',
      rule: error?.refusal?.rule ?? 'countries',
      detail: `${error?.detail ?? 'The country database is not read yet.'} Further datagrams from this address are dropped without a log entry for a minute.`,
    });
  }

  /**
   * A new client's datagrams are dropped: the table (or the client address's share of it) is full of
   * sessions active within the last second. Counted as refused; logged at most once a minute per address.
   */
  private dropNewcomer(listenPort: number, address: string, datagrams: number, why: string): void {
    const runtime = this.context.runtime();
    runtime.counters.refused += datagrams;
    this.context.changed();
    const now = performance.now();
    if (!this.logRefusal(address, now)) return;
    runtime.log({
      ...streamLogEntry(runtime, 'UDP', { address }, listenPort, { time: new Date().toISOString(), at: now }),
      status: 503,
      error: 'too_many_sessions',
      rule: 'UDP sessions',
      detail: `${why}; no session has been quiet for ${seconds(UDP_EVICT_AFTER_IDLE_MS)} to make room, so this client's datagrams are dropped. Further drops from this address are not logged for a minute.`,
    });
  }

  private open(listenPort: number, socket: UdpSocket, key: string, address: string, remote: RemoteInfo, queue: Buffer[]): void {
    const runtime = this.context.runtime();
    const max = runtime.stream.udpMaxSessions;
    const now = performance.now();
    const addressKey = clientKey(address);
    // The client address's share: its own longest-idle session makes room, if quiet long enough.
    const cap = perAddressSessions(max);
    const mine = this.byAddress.get(addressKey);
    if (mine && mine.size >= cap) {
      const oldest = mine.values().next().value as Session;
      if (now - oldest.lastActivity < UDP_EVICT_AFTER_IDLE_MS) return this.dropNewcomer(listenPort, address, queue.length, `${address} already holds ${mine.size} UDP sessions (at most ${cap} per client address)`);
      this.closeSession(oldest, 'session_evicted', `closed to make room: one client address may hold ${cap} sessions at once`);
    }
    // Full: the longest-idle session makes room (the first in the map), if quiet long enough.
    while (this.sessions.size >= max) {
      const oldest = this.sessions.values().next().value as Session | undefined;
      if (!oldest) break;
      if (now - oldest.lastActivity < UDP_EVICT_AFTER_IDLE_MS) return this.dropNewcomer(listenPort, address, queue.length, `the stream's ${max} UDP sessions are all in use`);
      this.closeSession(oldest, 'session_evicted');
    }
    const target = runtime.targets(listenPort)[0] as UpstreamTarget;
    const upstream = createSocket({ type: isIPv6(target.host) ? 'udp6' : 'udp4' });
    const session: Session = {
      key,
      address,
      replyAddress: remote.address,
      addressKey,
      port: remote.port,
      listenPort,
      target,
      upstream,
      started: { time: new Date().toISOString(), at: performance.now() },
      queue: [...queue],
      lastActivity: performance.now(),
      bytesIn: 0,
      bytesOut: 0,
      closed: false,
      healthReportedAt: -Infinity,
      sendErrors: 0,
      sendError: null,
    };
    for (const message of queue) session.bytesIn += message.length;
    runtime.counters.bytesIn += session.bytesIn;
    runtime.counters.open++;
    runtime.counters.total++;
    this.sessions.set(key, session);
    let byKey = this.byAddress.get(addressKey);
    if (!byKey) this.byAddress.set(addressKey, (byKey = new Map()));
    byKey.set(key, session);
    this.context.changed();
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (session.closed) return;
      // A connected UDP socket is told of an ICMP "port unreachable": nothing listens there.
      const words = error.code === 'ECONNREFUSED' ? 'refused the datagrams (nothing listens on that UDP port)' : connectionError(error, runtime.stream.connectTimeoutMs);
      runtime.reportConnect(target.address, false, words);
      this.closeSession(session, error.code === 'ECONNREFUSED' ? 'upstream_refused' : 'upstream_unreachable', `${target.address} ${words}`);
    });
    upstream.on('message', (message: Buffer) => {
      if (session.closed) return;
      this.touch(session);
      session.bytesOut += message.length;
      const current = this.context.runtime();
      current.counters.bytesOut += message.length;
      // The upstream answers: it is up (only a down → up change costs anything; at most once a second).
      if (session.lastActivity - session.healthReportedAt >= HEALTH_REPORT_MS) {
        session.healthReportedAt = session.lastActivity;
        current.reportConnect(target.address, true);
      }
      socket.send(message, session.port, session.replyAddress, (error) => {
        if (error) this.sendFailed(session, error as NodeJS.ErrnoException);
      });
    });
    upstream.connect(target.port, target.host, () => {
      if (session.closed) return;
      const pending = session.queue ?? [];
      session.queue = null;
      for (const message of pending) upstream.send(message);
    });
  }

  /** A reply could not be sent to the client: counted on the session (its log entry says so), told to the console once per error code. */
  private sendFailed(session: Session, error: NodeJS.ErrnoException): void {
    session.sendErrors++;
    session.sendError = error.code ?? error.message;
    if (this.sendErrorsWarned.has(session.sendError)) return;
    this.sendErrorsWarned.add(session.sendError);
    console.warn(`gatehouse: UDP stream "${this.context.runtime().stream.title}" could not send a reply to ${session.replyAddress}:${session.port}: ${error.message} (further ${session.sendError} errors are counted in the sessions' log entries)`);
  }

  private closeSession(session: Session, reason: string, detail: string | null = null): void {
    if (session.closed) return;
    session.closed = true;
    this.sessions.delete(session.key);
    const mine = this.byAddress.get(session.addressKey);
    if (mine) {
      mine.delete(session.key);
      if (mine.size === 0) this.byAddress.delete(session.addressKey);
    }
    try {
      session.upstream.close();
    } catch {
      // already closed
    }
    const runtime = this.context.runtime();
    runtime.counters.open--;
    const entry = streamLogEntry(runtime, 'UDP', session, session.listenPort, session.started);
    const quiet = reason === 'idle_timeout' ? `closed after ${seconds(effectiveIdleMs(runtime.stream))} without a datagram either way` : null;
    const evicted = reason === 'session_evicted' ? `closed to make room: the stream allows ${runtime.stream.udpMaxSessions} sessions at once` : null;
    const failed = reason === 'upstream_refused' || reason === 'upstream_unreachable';
    if (failed && session.bytesOut === 0) runtime.counters.failed++;
    const logged: AccessLogEntry = {
      ...entry,
      status: failed && session.bytesOut === 0 ? 502 : 0,
      bytes: session.bytesOut,
      upstream: session.target.address,
      error: reason,
      detail: [detail ?? quiet ?? evicted, session.sendErrors > 0 ? `${session.sendErrors} replies could not be sent to the client (${session.sendError})` : null].filter(Boolean).join('; ') || null,
    };
    runtime.log(logged);
    this.context.changed();
  }
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
