// The seams inside the stream engine: what the manager (which owns listeners, access, PROXY headers
// in, counters, health) gives each protocol's connection handler (plain TCP, FTP), and what the rest
// of Gatehouse gives the manager. Nothing here does anything.
import type { Socket } from 'node:net';
import type { AccessLogEntry } from '../../../shared/status.js';
import type { Stream, StreamAccess, StreamStatus } from '../../../shared/streams.js';
import type { Judgement } from '../access/route-judge.js';
import type { ServedCertificate } from '../proxy/tls-certificates.js';

/** Counters of one stream since the proxy started (StreamStatus's numbers). */
export interface StreamCounters {
  open: number;
  total: number;
  refused: number;
  failed: number;
  bytesIn: number;
  bytesOut: number;
}

/** The client of one accepted connection, as judged (a PROXY header from a trusted front already applied). */
export interface StreamClient {
  /** The real client's address and port. */
  address: string;
  port: number;
  /** The address and port of this machine the client connected to (FTP puts it in 227 replies). */
  localAddress: string;
  localPort: number;
  /** Whether this client may see internals (upstream addresses) in messages: the error-details rule. */
  seesDetails: boolean;
}

/** An upstream to dial: the stream's choice for this connection, after health and failover. */
export interface UpstreamTarget {
  host: string;
  port: number;
  /** `host:port` as configured (for the log and counters). */
  address: string;
}

/** What the manager gives a connection handler for one stream (one per stream, rebuilt on change). */
export interface StreamRuntime {
  readonly stream: Stream;
  readonly counters: StreamCounters;
  /**
   * The upstreams to try for a connection that arrived on `listenPort`, in order (the first whose
   * check passes first; each with the range offset applied). Never empty.
   */
  targets(listenPort: number): UpstreamTarget[];
  /** Told that connecting to `address` failed (passive health), or succeeded. */
  reportConnect(address: string, ok: boolean, error?: string): void;
  /** Writes one access-log entry (streamId set by the caller). */
  log(entry: AccessLogEntry): void;
  /** The bind address the proxy listens on (FTP data listeners use it too). */
  bindAddress(): string;
  /** The certificate of a route with HTTPS (FTPS answers AUTH TLS with it); null when it has none now. */
  certificateForRoute(routeId: string): ServedCertificate | null;
  /** The neutral certificate, when the route's is missing (a client then sees a warning, not a hang). */
  fallbackCertificate(): ServedCertificate;
}

/** Handles the connections of one TCP or FTP stream after they were admitted. */
export interface ConnectionHandler {
  /** `socket` is admitted (access passed, PROXY header read); the handler owns it from here. */
  handle(socket: Socket, client: StreamClient): void;
  /** The stream was changed or removed, or the proxy stops: cut everything it holds, free its ports. */
  close(): Promise<void>;
}

/** What the manager needs from the rest of Gatehouse. */
export interface StreamDeps {
  /** The access judge for a stream's rules (exposure, lists, countries, reputation); see access/route-judge.ts. */
  judge(access: StreamAccess, address: string): Judgement | Promise<Judgement>;
  log(entry: AccessLogEntry): void;
  certificateForRoute(routeId: string): ServedCertificate | null;
  fallbackCertificate(): ServedCertificate;
  /** Whether `address` may see internals in messages (proxy.errorDetails). */
  detailsAllowed(address: string): boolean;
  /** Peers that must open with a PROXY header (proxy.proxyProtocolFrom). */
  proxyProtocolFrom(): readonly string[];
  /**
   * Open TCP/FTP stream connections one client address may hold across all streams
   * (access.maxConnectionsPerClient, read for every new connection); 0 = no limit.
   */
  connectionLimit(): number;
  /** Addresses the connection limit does not count: this machine's networks, trusted proxies. */
  exemptFromConnectionLimit(address: string): boolean;
  /** Told whenever a stream's status changed (state, counters, health), for the `streams` event (throttled by the caller). */
  changed(): void;
}

/** The stream engine as the gateway drives it (streams/stream-manager.ts). */
export interface StreamEngine {
  /** Starts listening for every enabled stream; a port that cannot be bound fails that stream only (its status says why). */
  start(streams: readonly Stream[], bindAddress: string): Promise<void>;
  /**
   * Applies a new stream list live: unchanged streams keep their listeners and connections; changed
   * ones rebind only what changed; removed ones close. Resolves once every listener is bound or failed.
   */
  apply(streams: readonly Stream[], bindAddress: string): Promise<void>;
  /** Stops every listener and cuts every connection. */
  stop(): Promise<void>;
  /** Status of each stream in `streams`' order (stopped when the engine is not running). */
  status(streams: readonly Stream[]): StreamStatus[];
}
