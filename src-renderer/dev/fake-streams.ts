// The streams' side of the in-memory Gatehouse: TCP, UDP and FTP streams kept in memory. Inputs
// arrive through parseInput (StreamInputSchema / StreamUpdateSchema already refused bad ones); here
// the cross-checks the settings file makes are repeated (ports two streams or the proxy both use,
// access lists and certificate routes that exist), and each stream gets a plausible status: a port
// below 1024 or one in `busyPorts` fails with the problem and its fix, as the real engine reports.
// Never part of the shipped bundle.
import { ApiError, type FieldIssue } from '../../shared/api.js';
import type { Route } from '../../shared/model.js';
import type { ProxyStatus } from '../../shared/status.js';
import { portClash, streamClaims, type PortClaim, type Stream, type StreamInput, type StreamStatus, type StreamView } from '../../shared/streams.js';

export interface FakeStreamsDeps {
  routes: () => Route[];
  status: () => ProxyStatus;
  /** The access lists that exist (ids). */
  listIds: () => string[];
  emit: (views: StreamView[]) => void;
  /** Ports another program holds (checkPorts and listening both fail on them). */
  busyPorts?: () => number[];
}

/** What the real engine says about a port below 1024 it may not bind (net/listen.ts words). */
export function lowPortProblem(port: number): NonNullable<StreamStatus['problem']> {
  return {
    code: 'port_privileged',
    message: `port ${port} is below 1024, and only programs with the right to bind low ports may listen there`,
    fix: `Choose a port from 1024 up (and forward port ${port} on the router to it), or allow Node to bind low ports: sudo setcap 'cap_net_bind_service=+ep' "$(command -v node)"`,
  };
}

export function portTakenProblem(port: number): NonNullable<StreamStatus['problem']> {
  return {
    code: 'port_in_use',
    message: `port ${port} is taken by another program`,
    fix: `Stop the program that listens on port ${port} (sudo ss -ltnup 'sport = :${port}' names it), or choose another port.`,
  };
}

/** Counters and health a stream starts with (the fake's "just started"). */
function freshStatus(stream: Stream): StreamStatus {
  return {
    streamId: stream.id,
    state: stream.enabled ? 'listening' : 'disabled',
    problem: null,
    open: 0,
    total: 0,
    refused: 0,
    failed: 0,
    bytesIn: 0,
    bytesOut: 0,
    upstreams: stream.upstreams.map((address, i) => ({ address, state: 'unknown', since: null, lastCheck: null, active: i === 0 })),
    health: 'unknown',
  };
}

export class FakeStreams {
  streams: Stream[] = [];
  /** Live numbers and health the screenshots set; anything else is computed from the settings. */
  readonly traffic = new Map<string, Partial<StreamStatus>>();
  #nextId = 1;

  constructor(private readonly deps: FakeStreamsDeps) {}

  views(): StreamView[] {
    return this.streams.map((stream) => this.view(stream));
  }

  view(stream: Stream): StreamView {
    return { stream: structuredClone(stream), status: this.status(stream) };
  }

  status(stream: Stream): StreamStatus {
    const base = freshStatus(stream);
    if (!stream.enabled) return base;
    if (this.deps.status().state !== 'running') return { ...base, state: 'stopped' };
    const busy = this.deps.busyPorts?.() ?? [];
    const ports = [stream.listenPort, ...(stream.ftp ? [stream.ftp.passivePortFrom] : [])];
    const low = ports.find((port) => port < 1024);
    const taken = ports.find((port) => busy.includes(port));
    if (low !== undefined) return { ...base, state: 'failed', problem: lowPortProblem(low) };
    if (taken !== undefined) return { ...base, state: 'failed', problem: portTakenProblem(taken) };
    const live = this.traffic.get(stream.id);
    return live ? { ...base, ...structuredClone(live), streamId: stream.id } : base;
  }

  get(id: string): Stream {
    const stream = this.streams.find((candidate) => candidate.id === id);
    if (!stream) throw new ApiError('not_found', `There is no stream "${id}"; it may have been removed.`);
    return stream;
  }

  add(input: Omit<Stream, 'id'>): StreamView {
    const stream: Stream = { id: `stream-${this.#nextId++}`, ...input };
    this.#save([...this.streams, stream], stream);
    return this.view(stream);
  }

  /** A stream for the fixtures, with the schema's defaults filled in by the caller's input. */
  seed(stream: Stream, live?: Partial<StreamStatus>): Stream {
    this.streams.push(stream);
    if (live) this.traffic.set(stream.id, live);
    return stream;
  }

  update(input: Stream): StreamView {
    this.get(input.id);
    this.#save(this.streams.map((stream) => (stream.id === input.id ? input : stream)), input);
    return this.view(input);
  }

  remove(id: string): { removed: Stream } {
    const removed = this.get(id);
    this.#save(this.streams.filter((stream) => stream.id !== id));
    this.traffic.delete(id);
    return { removed };
  }

  changed(): void {
    this.deps.emit(this.views());
  }

  #save(streams: Stream[], saved?: Stream): void {
    if (saved) {
      const issues = this.#issues(saved);
      if (issues.length > 0) throw new ApiError('invalid_input', `${issues[0]!.path}: ${issues[0]!.message}`, { issues });
    }
    const status = this.deps.status();
    const fixed: PortClaim[] = [
      { transport: 'tcp', from: status.http?.port ?? 0, to: status.http?.port ?? 0, owner: "the proxy's HTTP port" },
      { transport: 'tcp', from: status.https?.port ?? 0, to: status.https?.port ?? 0, owner: "the proxy's HTTPS port" },
    ];
    const clash = portClash([...fixed, ...streams.flatMap((stream) => streamClaims(stream))], fixed.length);
    // The settings file's cross-check names the list as a whole, as the real gateway does.
    if (clash) throw new ApiError('invalid_input', `streams: ${clash.message}`, { issues: [{ path: 'streams', message: clash.message }] });
    this.streams = streams;
    this.changed();
  }

  /** What the settings file's cross-checks say about one stream. */
  #issues(stream: Stream): FieldIssue[] {
    const issues: FieldIssue[] = [];
    const existing = this.streams.findIndex((candidate) => candidate.id === stream.id);
    const at = (path: string) => `streams.${existing === -1 ? this.streams.length : existing}.${path}`;
    const lists = new Set(this.deps.listIds());
    for (const id of stream.access.lists) {
      if (!lists.has(id)) issues.push({ path: at('access.lists'), message: `stream "${stream.title}" uses access list "${id}", which does not exist` });
    }
    const routeId = stream.ftp?.certificateRouteId;
    if (routeId) {
      const route = this.deps.routes().find((candidate) => candidate.id === routeId);
      if (!route) issues.push({ path: at('ftp.certificateRouteId'), message: `stream "${stream.title}" takes its FTPS certificate from route "${routeId}", which does not exist` });
      else if (route.tls.mode === 'none' || route.tls.mode === 'passthrough') {
        issues.push({ path: at('ftp.certificateRouteId'), message: `route "${route.title || route.names[0]}" has no certificate of Gatehouse's; give that route HTTPS or choose another` });
      }
    }
    return issues;
  }
}

/** A stream with the schema's defaults, for the fixtures and the tests. */
export function sampleStream(fields: Partial<Stream> & Pick<Stream, 'id' | 'title' | 'protocol' | 'listenPort' | 'upstreams'>): Stream {
  return {
    preset: 'custom',
    enabled: true,
    listenPortEnd: null,
    connectTimeoutMs: 5000,
    idleTimeoutMs: null,
    udpMaxSessions: 1024,
    proxyProtocol: 'off',
    access: { exposure: 'lan', lists: [], countries: { mode: 'off', countries: [] } },
    healthCheck: { enabled: true, intervalSeconds: 10, timeoutMs: 3000, udpProbeHex: null },
    ftp: null,
    ...fields,
  };
}

export type { StreamInput };
