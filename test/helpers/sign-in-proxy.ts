// The proxy engine with the real access runtime in this process, for the sign-in tests: routes
// with basic or forward auth, providers in the access settings, users in a temporary data dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultAccessSettings, defaultRouteAccess, type AccessSettings, type SignIn, type SignInProvider } from '../../shared/access.js';
import type { ProxySettings, Route } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { proxySettings, route, waitUntil } from './proxy-harness.js';
import type { PlainResponse } from './upstream.js';

export interface SignInProxy {
  readonly engine: ProxyEngine;
  readonly access: AccessRuntime;
  readonly port: number;
  readonly dataDir: string;
  readonly logged: AccessLogEntry[];
  nextLogged(match: (entry: AccessLogEntry) => boolean, ms?: number): Promise<AccessLogEntry>;
  stop(): Promise<void>;
}

/** A route to `upstream` for `names` whose sign-in is `signIn`. */
export function signInRoute(id: string, upstream: string, names: string[], signIn: SignIn, extra: Partial<Route> = {}): Route {
  return route(id, upstream, names, { access: { ...defaultRouteAccess(), exposure: 'anyone', signIn }, ...extra });
}

/** A provider for the access settings. */
export function provider(id: string, kind: SignInProvider['kind'], url: string, copyHeaders: string[] = []): SignInProvider {
  return { id, name: `${kind} ${id}`, kind, url, copyHeaders, insecureTls: false };
}

export async function startSignInProxy(
  routes: Route[],
  options: { providers?: SignInProvider[]; settings?: ProxySettings; dataDir?: string } = {},
): Promise<SignInProxy> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-signin-')));
  const settings: AccessSettings = { ...defaultAccessSettings(), providers: options.providers ?? [] };
  const access = await AccessRuntime.open({ dataDir, ownNetworks: new OwnNetworks(), settings });
  const logged: AccessLogEntry[] = [];
  const engine = new ProxyEngine({
    settings: options.settings ?? proxySettings(),
    stopGraceMs: 2000,
    onRequestLogged: (entry) => logged.push(entry),
    passesFor: access.passesFor,
  });
  engine.setRoutes(routes);
  const { port } = await engine.start();
  return {
    engine,
    access,
    port,
    dataDir,
    logged,
    async nextLogged(match, ms = 3000) {
      let found: AccessLogEntry | undefined;
      await waitUntil(() => (found = logged.find(match)) !== undefined, ms, 'an access-log entry');
      return found as AccessLogEntry;
    },
    async stop() {
      await engine.stop();
      await access.close();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One request to the proxy on 127.0.0.1:`port` for `host`, from `localAddress` (any 127.x address). */
export function requestFrom(port: number, host: string, path: string, options: { method?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', localAddress: options.localAddress, headers: { ...options.headers, host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An Authorization header for basic auth. */
export function basic(name: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` };
}
