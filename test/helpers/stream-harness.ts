// A StreamManager with real StreamDeps, for stream tests (TCP, UDP, FTP, the gateway's wiring): the
// access judge is a real AccessRuntime's AccessRules.connectionJudge (exposure, lists, countries,
// bans), the access log is an in-memory list, the fallback certificate a self-signed one, and
// PROXY-protocol fronts and route certificates are whatever the test sets. Streams are written with
// makeStream (the schema's defaults applied, so a test states only what it is about).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultAccessSettings, type AccessSettings } from '../../shared/access.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { StreamSchema, type Stream, type StreamAccess, type StreamInput, type StreamStatus } from '../../shared/streams.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import type { Judgement } from '../../src-main/core/access/route-judge.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import type { ServedCertificate } from '../../src-main/core/proxy/tls-certificates.js';
import { StreamManager, type StreamManagerOptions } from '../../src-main/core/streams/stream-manager.js';
import type { StreamDeps } from '../../src-main/core/streams/stream-types.js';
import { makeTestCertificate } from './test-certificates.js';

/** A stored stream from the fields a test cares about (the schema fills in the rest and checks it). */
export function makeStream(id: string, fields: Partial<StreamInput> & Pick<StreamInput, 'protocol' | 'listenPort' | 'upstreams'>): Stream {
  return StreamSchema.parse({ title: `Stream ${id}`, ...fields, id });
}

export interface StreamHarnessOptions {
  /** Access settings (lists…). Default: none. */
  access?: AccessSettings;
  /** proxy.proxyProtocolFrom. Default: none. */
  proxyProtocolFrom?: string[];
  /** The address StreamManager listens on. Default 127.0.0.1. */
  bindAddress?: string;
  /** Passed to StreamManager (the FTP handler factory). */
  manager?: StreamManagerOptions;
  /** Route certificates by route id (FTPS). Default: none. */
  certificates?: Record<string, ServedCertificate>;
  /** Which clients may see details (proxy.errorDetails). Default: loopback only. */
  detailsAllowed?(address: string): boolean;
  /** access.maxConnectionsPerClient for streams (no address exempt, loopback counted too). Default: 0, no limit. */
  maxConnectionsPerClient?: number;
}

export interface StreamHarness {
  readonly manager: StreamManager;
  readonly deps: StreamDeps;
  readonly access: AccessRuntime;
  /** Every entry logged, in order. */
  readonly logs: AccessLogEntry[];
  /** How many times deps.changed() was called. */
  readonly changes: { count: number };
  readonly bindAddress: string;
  /** The streams last started/applied. */
  streams: Stream[];
  /** Mutable: proxy.proxyProtocolFrom, as the deps see it. */
  proxyProtocolFrom: string[];
  /** Mutable: access.maxConnectionsPerClient, as the deps see it (0 = no limit). */
  maxConnectionsPerClient: number;
  readonly certificates: Record<string, ServedCertificate>;
  readonly fallback: ServedCertificate;
  /** start() the first time, apply() after. */
  apply(streams: Stream[]): Promise<void>;
  status(id: string): StreamStatus;
  /** Entries logged for one stream. */
  logsFor(streamId: string): AccessLogEntry[];
  close(): Promise<void>;
}

let fallbackCache: Promise<ServedCertificate> | null = null;

/** A self-signed certificate for "Gatehouse", made once per test process. */
export function fallbackCertificate(): Promise<ServedCertificate> {
  fallbackCache ??= makeTestCertificate({ commonName: 'Gatehouse', names: ['gatehouse.invalid'] }).then((made) => ({ certificatePem: made.pem, privateKeyPem: made.keyPem }));
  return fallbackCache;
}

export async function startStreamHarness(options: StreamHarnessOptions = {}): Promise<StreamHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-streams-'));
  const access = await AccessRuntime.open({ dataDir, ownNetworks: new OwnNetworks(), settings: options.access ?? defaultAccessSettings() });
  const fallback = await fallbackCertificate();
  const logs: AccessLogEntry[] = [];
  const changes = { count: 0 };
  const judges = new WeakMap<StreamAccess, (address: string) => Judgement | Promise<Judgement>>();
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  const harness: StreamHarness = {
    manager: null as unknown as StreamManager,
    deps: null as unknown as StreamDeps,
    access,
    logs,
    changes,
    bindAddress,
    streams: [],
    proxyProtocolFrom: options.proxyProtocolFrom ?? [],
    maxConnectionsPerClient: options.maxConnectionsPerClient ?? 0,
    certificates: options.certificates ?? {},
    fallback,
    async apply(streams) {
      const first = harness.streams.length === 0 && !started;
      harness.streams = streams;
      if (first) {
        started = true;
        await harness.manager.start(streams, bindAddress);
      } else await harness.manager.apply(streams, bindAddress);
    },
    status(id) {
      const stream = harness.streams.find((candidate) => candidate.id === id);
      if (!stream) throw new Error(`no stream "${id}" in the harness`);
      return harness.manager.status([stream])[0] as StreamStatus;
    },
    logsFor: (streamId) => logs.filter((entry) => entry.streamId === streamId),
    async close() {
      await harness.manager.stop();
      await access.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  let started = false;
  const deps: StreamDeps = {
    judge(streamAccess, address) {
      let judge = judges.get(streamAccess);
      if (!judge) {
        judge = access.rules.connectionJudge(streamAccess);
        judges.set(streamAccess, judge);
      }
      return judge(address);
    },
    log: (entry) => void logs.push(entry),
    certificateForRoute: (routeId) => harness.certificates[routeId] ?? null,
    fallbackCertificate: () => fallback,
    detailsAllowed: options.detailsAllowed ?? ((address) => address.startsWith('127.') || address === '::1'),
    proxyProtocolFrom: () => harness.proxyProtocolFrom,
    connectionLimit: () => harness.maxConnectionsPerClient,
    exemptFromConnectionLimit: () => false,
    changed: () => void changes.count++,
  };
  (harness as { deps: StreamDeps }).deps = deps;
  (harness as { manager: StreamManager }).manager = new StreamManager(deps, options.manager);
  return harness;
}
