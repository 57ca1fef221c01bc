// What the HTTPS listener's tests share: a local CA in a temporary directory, leaves from it, a
// RouteCertificates the test can change between handshakes, and the real engine with both listeners.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLeaf } from '../../src-main/core/certs/leaf.js';
import { LocalCa, localCaFiles } from '../../src-main/core/certs/local-ca.js';
import { ProxyEngine, type ProxyEngineOptions } from '../../src-main/core/proxy/engine.js';
import type { PublicPages, RouteCertificates, ServedCertificate } from '../../src-main/core/proxy/tls-certificates.js';
import type { Route } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { proxySettings, waitUntil } from './proxy-harness.js';

export interface TestCa {
  ca: LocalCa;
  dir: string;
  /** The CA certificate's file, for openssl -CAfile and curl --cacert. */
  caPath: string;
  /** A leaf for `names`, ready to serve. */
  leaf(names: string[]): Promise<ServedCertificate>;
  remove(): Promise<void>;
}

export async function openTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-tls-'));
  const ca = await LocalCa.open(dir);
  return {
    ca,
    dir,
    caPath: localCaFiles(dir).certPath,
    async leaf(names) {
      const issued = await issueLeaf(ca, names);
      return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Certificates per route id, which a test may replace at any time, and the neutral fallback. */
export class TestCertificates implements RouteCertificates {
  readonly byRoute = new Map<string, ServedCertificate | null>();
  /** Route ids asked for, in order. */
  readonly asked: string[] = [];
  constructor(public neutral: ServedCertificate) {}
  certificateFor(routeId: string): ServedCertificate | null {
    this.asked.push(routeId);
    return this.byRoute.get(routeId) ?? null;
  }
  fallback(): ServedCertificate {
    return this.neutral;
  }
}

export interface RunningTlsProxy {
  readonly engine: ProxyEngine;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly logged: AccessLogEntry[];
  nextLogged(match: (entry: AccessLogEntry) => boolean, ms?: number): Promise<AccessLogEntry>;
  stop(): Promise<void>;
}

/** Starts the engine on 127.0.0.1 with both listeners. */
export async function startTlsProxy(
  routes: Route[],
  certificates: RouteCertificates,
  options: { publicPages?: PublicPages; engine?: Partial<ProxyEngineOptions> } = {},
): Promise<RunningTlsProxy> {
  const logged: AccessLogEntry[] = [];
  const engine = new ProxyEngine({
    settings: proxySettings(),
    stopGraceMs: 2000,
    onRequestLogged: (entry) => logged.push(entry),
    certificates,
    ...(options.publicPages ? { publicPages: options.publicPages } : {}),
    ...options.engine,
  });
  engine.setRoutes(routes);
  const http = await engine.start();
  const https = engine.https;
  if (!https || https.port === 0 || http.port === 0) throw new Error('the proxy did not bind both listeners on real ports');
  return {
    engine,
    httpPort: http.port,
    httpsPort: https.port,
    logged,
    async nextLogged(match, ms = 3000) {
      await waitUntil(() => logged.some(match), ms, 'an access-log entry');
      return logged.find(match) as AccessLogEntry;
    },
    stop: () => engine.stop(),
  };
}

/** Writes `pem` into the CA's directory and returns the path (for curl and openssl). */
export async function pemFile(ca: TestCa, name: string, pem: string): Promise<string> {
  const path = join(ca.dir, name);
  await writeFile(path, pem);
  return path;
}
