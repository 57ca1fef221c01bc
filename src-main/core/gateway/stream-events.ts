// The stream engine as the gateway runs it: built with what it needs from the rest of Gatehouse (the
// access judge, the access log, certificates, the error-details rule, PROXY peers), started and
// stopped with the proxy, handed the saved streams after every change, and announced as one
// `streams` event at most every second.
//
// Streams follow the proxy's on/off switch, not its HTTP listeners: moving the HTTP or HTTPS port
// restarts those listeners but leaves every stream's connections open (an SSH session does not care
// about port 80), and a bind-address change moves the streams with a live apply. A stream that
// cannot listen never fails the proxy's start: its status says why.
import type { Stream, StreamAccess, StreamStatus, StreamView } from '../../../shared/streams.js';
import type { AccessLogEntry } from '../../../shared/status.js';
import type { Judgement } from '../access/route-judge.js';
import type { ConnectionAccess } from '../access/access-rules.js';
import type { ServedCertificate } from '../proxy/tls-certificates.js';
import type { StreamDeps, StreamEngine } from '../streams/stream-types.js';
import { TrailingThrottle } from './trailing-throttle.js';

/** Shortest time between two `streams` events: counters move with every byte. Default: 1000 ms. */
export const STREAMS_EVENT_INTERVAL_MS = 1000;

export interface StreamRunDeps {
  /** Builds the engine (StreamManager; tests may pass another StreamEngine). */
  engine: (deps: StreamDeps) => StreamEngine;
  /** The saved streams. */
  streams: () => readonly Stream[];
  /** Where the proxy listens now (proxy.bindAddress with this run's override). */
  bindAddress: () => string;
  /** AccessRules.connectionJudge. */
  connectionJudge: (access: ConnectionAccess) => (address: string) => Judgement | Promise<Judgement>;
  /** The access log (file, combined log, recent entries, `log` event). */
  log: (entry: AccessLogEntry) => void;
  certificateForRoute: (routeId: string) => ServedCertificate | null;
  fallbackCertificate: () => ServedCertificate;
  detailsAllowed: (address: string) => boolean;
  proxyProtocolFrom: () => readonly string[];
  /** access.maxConnectionsPerClient now (0 = no limit), and who it does not count. */
  connectionLimit: () => number;
  exemptFromConnectionLimit: (address: string) => boolean;
  /** Whether anyone listens for `streams` (the event costs a status of every stream). */
  wanted: () => boolean;
  emit: (views: StreamView[]) => void;
  intervalMs?: number;
}

/** Each stream with its status, in settings order. */
export function streamViews(streams: readonly Stream[], statuses: readonly StreamStatus[]): StreamView[] {
  return streams.map((stream, i) => ({ stream: structuredClone(stream), status: statuses[i] as StreamStatus }));
}

export class StreamRun {
  readonly #engine: StreamEngine;
  readonly #events: TrailingThrottle;
  /** One judge per stream's access object: a changed stream is a new object, so it gets a new judge. */
  readonly #judges = new WeakMap<StreamAccess, (address: string) => Judgement | Promise<Judgement>>();
  #running = false;
  /** Engine calls one after the other: a start, an apply and a stop never interleave. */
  #chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: StreamRunDeps) {
    this.#events = new TrailingThrottle(() => this.#emit(), deps.intervalMs ?? STREAMS_EVENT_INTERVAL_MS);
    this.#engine = deps.engine({
      judge: (access, address) => this.#judgeFor(access)(address),
      log: (entry) => deps.log(entry),
      certificateForRoute: (routeId) => deps.certificateForRoute(routeId),
      fallbackCertificate: () => deps.fallbackCertificate(),
      detailsAllowed: (address) => deps.detailsAllowed(address),
      proxyProtocolFrom: () => deps.proxyProtocolFrom(),
      connectionLimit: () => deps.connectionLimit(),
      exemptFromConnectionLimit: (address) => deps.exemptFromConnectionLimit(address),
      changed: () => this.changed(),
    });
  }

  get running(): boolean {
    return this.#running;
  }

  /** Each stream's status, in the order given (stopped while the proxy is). */
  status(streams: readonly Stream[]): StreamStatus[] {
    return this.#engine.status(streams);
  }

  views(): StreamView[] {
    const streams = this.deps.streams();
    return streamViews(streams, this.status(streams));
  }

  /** Asks for a `streams` event (at most one a second, with the newest state). */
  changed(): void {
    if (this.deps.wanted()) this.#events.request();
  }

  /**
   * With the proxy: listens for every enabled saved stream, or, already running, applies the saved
   * streams on the current bind address (a proxy restart after a port move). Never rejects: a
   * stream that cannot listen says so in its status, and an engine failure is reported.
   */
  start(): Promise<void> {
    return this.#serial(async () => {
      const streams = this.deps.streams();
      const bindAddress = this.deps.bindAddress();
      try {
        if (this.#running) await this.#engine.apply(streams, bindAddress);
        else await this.#engine.start(streams, bindAddress);
      } catch (error) {
        console.error('gatehouse: the streams could not start:', error);
      }
      this.#running = true;
    });
  }

  /** The saved streams (or the bind address) changed: applied live while running. */
  apply(): Promise<void> {
    return this.#serial(async () => {
      if (this.#running) await this.#engine.apply(this.deps.streams(), this.deps.bindAddress());
    });
  }

  /** With the proxy: closes every stream's listeners and connections. */
  stop(): Promise<void> {
    return this.#serial(async () => {
      if (!this.#running) return;
      this.#running = false;
      await this.#engine.stop();
    });
  }

  /** Stops and drops a pending event (the gateway closes). */
  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.#events.cancel();
    }
  }

  #judgeFor(access: StreamAccess): (address: string) => Judgement | Promise<Judgement> {
    let judge = this.#judges.get(access);
    if (!judge) {
      judge = this.deps.connectionJudge(access);
      this.#judges.set(access, judge);
    }
    return judge;
  }

  #serial(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    // The next call waits for this one, failed or not; the announcement follows every call.
    this.#chain = run.catch(() => {});
    return run.finally(() => this.changed());
  }

  #emit(): void {
    if (this.deps.wanted()) this.deps.emit(this.views());
  }
}
