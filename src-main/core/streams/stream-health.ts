// Health of a stream's upstreams: every `intervalSeconds`, each upstream is checked on its own — a
// TCP (and FTP) upstream by connecting to it within `timeoutMs`; a UDP upstream by sending the
// stream's probe datagram and waiting for any reply (without a probe a UDP upstream stays "unknown":
// UDP has no connect to try). Connections themselves report too (passive health): a failed connect
// marks its upstream down until a check passes (or a later connection gets through).
// New connections go to the first upstream that is up (or not known to be down), else the first.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { parseStreamAddress, type Stream, type StreamUpstreamHealth } from '../../../shared/streams.js';
import { seconds } from '../proxy/errors.js';
import { connectionError } from '../upstreams/active-check.js';

type UpState = 'up' | 'down' | 'unknown';

interface Upstream {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  state: UpState;
  since: string | null;
  lastCheck: StreamUpstreamHealth['lastCheck'];
  timer: NodeJS.Timeout | null;
  cancel: (() => void) | null;
}

export interface CheckOutcome {
  passed: boolean;
  /** The failure in words ("refused the connection", "did not answer the probe within 3 s"); null when it passed. */
  error: string | null;
  latencyMs: number;
}

/** Connects to host:port within `timeoutMs`; never rejects. */
export function tcpConnectCheck(host: string, port: number, timeoutMs: number): { done: Promise<CheckOutcome>; cancel(): void } {
  const started = performance.now();
  let finish!: (outcome: CheckOutcome) => void;
  const done = new Promise<CheckOutcome>((resolve) => (finish = resolve));
  let settled = false;
  const socket = connect({ host, port });
  const end = (error: unknown) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    finish({ passed: error === null, error: error === null ? null : connectionError(error, timeoutMs), latencyMs: Math.round(performance.now() - started) });
  };
  const timer = setTimeout(() => end({ code: 'CHECK_TIMEOUT' }), timeoutMs);
  socket.once('connect', () => end(null));
  socket.once('error', (error) => end(error));
  return { done, cancel: () => end(null) };
}

/** Sends `probe` to host:port over UDP and waits `timeoutMs` for any reply; never rejects. */
export function udpProbeCheck(host: string, port: number, probe: Buffer, timeoutMs: number): { done: Promise<CheckOutcome>; cancel(): void } {
  const started = performance.now();
  let finish!: (outcome: CheckOutcome) => void;
  const done = new Promise<CheckOutcome>((resolve) => (finish = resolve));
  let settled = false;
  let socket: UdpSocket | null = null;
  const end = (error: string | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    try {
      socket?.close();
    } catch {
      // already closed
    }
    finish({ passed: error === null, error, latencyMs: Math.round(performance.now() - started) });
  };
  const timer = setTimeout(() => end(`did not answer the probe within ${seconds(timeoutMs)}`), timeoutMs);
  try {
    socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.on('error', (error: NodeJS.ErrnoException) => end(error.code === 'ECONNREFUSED' ? 'refused the probe (nothing listens on that UDP port)' : connectionError(error, timeoutMs)));
    socket.once('message', () => end(null));
    socket.connect(port, host, () => socket?.send(probe));
  } catch (error) {
    end(connectionError(error, timeoutMs));
  }
  return { done, cancel: () => end(null) };
}

export class StreamHealth {
  private readonly upstreams: Upstream[];
  private running = false;
  private readonly checks: boolean;
  private readonly probe: Buffer | null;

  constructor(
    private readonly stream: Stream,
    private readonly onChange: () => void,
  ) {
    this.upstreams = stream.upstreams.map((address) => {
      const parsed = parseStreamAddress(address);
      const { host, port } = 'problem' in parsed ? { host: address, port: 0 } : parsed;
      return { address, host: host.replace(/^\[|\]$/g, ''), port, state: 'unknown' as UpState, since: null, lastCheck: null, timer: null, cancel: null };
    });
    this.probe = stream.healthCheck.udpProbeHex ? Buffer.from(stream.healthCheck.udpProbeHex, 'hex') : null;
    this.checks = stream.healthCheck.enabled && (stream.protocol !== 'udp' || this.probe !== null);
  }

  /** Starts the checks (the first at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this.checks) return;
    for (const upstream of this.upstreams) this.schedule(upstream, 0);
  }

  /** Stops every check; nothing runs or is reported after this. */
  stop(): void {
    this.running = false;
    for (const upstream of this.upstreams) {
      if (upstream.timer) clearTimeout(upstream.timer);
      upstream.timer = null;
      upstream.cancel?.();
      upstream.cancel = null;
    }
  }

  /** Upstream indexes in the order a new connection tries them: the active one first, then the others in order, those known down last. */
  order(): number[] {
    const active = this.activeIndex();
    const rest = this.upstreams.map((_, i) => i).filter((i) => i !== active);
    return [active, ...rest.filter((i) => this.upstreams[i]!.state !== 'down'), ...rest.filter((i) => this.upstreams[i]!.state === 'down')];
  }

  /** Passive health: a connection to `address` failed (down until a check passes) or got through. */
  report(address: string, ok: boolean): void {
    const upstream = this.upstreams.find((candidate) => candidate.address === address);
    if (!upstream || !this.running) return;
    if (!ok) this.setState(upstream, 'down');
    else if (upstream.state === 'down') this.setState(upstream, 'up');
  }

  view(): StreamUpstreamHealth[] {
    const active = this.activeIndex();
    return this.upstreams.map((upstream, i) => ({
      address: upstream.address,
      state: upstream.state,
      since: upstream.since,
      lastCheck: upstream.lastCheck ? { ...upstream.lastCheck } : null,
      active: i === active,
    }));
  }

  /** Up while one upstream is up; down when all are; unknown otherwise. */
  overall(): 'up' | 'down' | 'unknown' {
    if (this.upstreams.some((upstream) => upstream.state === 'up')) return 'up';
    if (this.upstreams.every((upstream) => upstream.state === 'down')) return 'down';
    return 'unknown';
  }

  private activeIndex(): number {
    const index = this.upstreams.findIndex((upstream) => upstream.state !== 'down');
    return index === -1 ? 0 : index;
  }

  private schedule(upstream: Upstream, delayMs: number): void {
    if (!this.running) return;
    upstream.timer = setTimeout(() => void this.check(upstream), delayMs);
    upstream.timer.unref();
  }

  private async check(upstream: Upstream): Promise<void> {
    upstream.timer = null;
    if (!this.running) return;
    const { timeoutMs, intervalSeconds } = this.stream.healthCheck;
    const udp = this.stream.protocol === 'udp';
    const at = new Date().toISOString();
    const running = udp ? udpProbeCheck(upstream.host, upstream.port, this.probe as Buffer, timeoutMs) : tcpConnectCheck(upstream.host, upstream.port, timeoutMs);
    upstream.cancel = running.cancel;
    const outcome = await running.done;
    upstream.cancel = null;
    if (!this.running) return;
    upstream.lastCheck = { at, passed: outcome.passed, check: udp ? 'UDP probe' : 'TCP connect', error: outcome.error, latencyMs: outcome.latencyMs };
    if (!this.setState(upstream, outcome.passed ? 'up' : 'down')) this.onChange();
    this.schedule(upstream, intervalSeconds * 1000);
  }

  /** Returns whether the state changed (and told onChange). */
  private setState(upstream: Upstream, state: UpState): boolean {
    if (upstream.state === state) return false;
    upstream.state = state;
    upstream.since = new Date().toISOString();
    this.onChange();
    return true;
  }
}
