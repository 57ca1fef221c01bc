// What the limits and scanner integration tests share: the real ProxyEngine on 127.0.0.1:0 with a
// real AccessRuntime providing its passes, and clients bound to 127.x.y.z addresses.
//
// All of 127/8 is this machine's own network, which limits and scanner bans exempt. So the engine
// and the runtime get an OwnNetworks in which only 127.0.0.1 (and ::1) is "this network": 127.0.0.1
// plays the household, every other 127.x.y.z plays someone on the internet.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { defaultAccessSettings, defaultRouteAccess, type AccessSettings, type RouteAccess } from '../../shared/access.js';
import type { Route } from '../../shared/model.js';
import type { AccessLogEntry } from '../../shared/status.js';
import { AccessRuntime } from '../../src-main/core/access/access-runtime.js';
import { OwnNetworks } from '../../src-main/core/net/own-networks.js';
import { ProxyEngine } from '../../src-main/core/proxy/engine.js';
import { proxySettings, route, waitUntil } from './proxy-harness.js';

/** This machine's network is 127.0.0.1 alone: other 127.x.y.z addresses stand for the internet. */
export class OnlyLocalhost extends OwnNetworks {
  constructor() {
    super(() => ({}));
  }
  override isOwnNetwork(address: string): boolean {
    return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
  }
  override isThisMachine(address: string): boolean {
    return this.isOwnNetwork(address);
  }
}

/** A route reachable by anyone (so access rules never decide), with these access settings on top. */
export function openRoute(id: string, upstream: string, access: Partial<RouteAccess> = {}, extra: Partial<Route> = {}): Route {
  const base = defaultRouteAccess();
  return route(id, upstream, [`${id}.test`], { ...extra, access: { ...base, exposure: 'anyone', ...access, limits: { ...base.limits, ...access.limits } } });
}

export interface GuardedProxy {
  readonly engine: ProxyEngine;
  readonly runtime: AccessRuntime;
  readonly port: number;
  readonly logged: AccessLogEntry[];
  /** How often the runtime said the Access page changed. */
  readonly changes: number;
  nextLogged(match: (entry: AccessLogEntry) => boolean, ms?: number): Promise<AccessLogEntry>;
  stop(): Promise<void>;
}

export async function startGuardedProxy(routes: Route[], access: Partial<AccessSettings> = {}): Promise<GuardedProxy> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-limits-'));
  const ownNetworks = new OnlyLocalhost();
  let changes = 0;
  const runtime = await AccessRuntime.open({ dataDir, ownNetworks, settings: { ...defaultAccessSettings(), ...access }, onChange: () => changes++ });
  const logged: AccessLogEntry[] = [];
  const engine = new ProxyEngine({ settings: proxySettings(), stopGraceMs: 1000, ownNetworks, passesFor: runtime.passesFor, onRequestLogged: (entry) => logged.push(entry) });
  engine.setRoutes(routes);
  const { port } = await engine.start();
  return {
    engine,
    runtime,
    port,
    logged,
    get changes() {
      return changes;
    },
    async nextLogged(match, ms = 3000) {
      let found: AccessLogEntry | undefined;
      await waitUntil(() => (found = logged.find(match)) !== undefined, ms, 'an access-log entry');
      return found as AccessLogEntry;
    },
    async stop() {
      await engine.stop();
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const agents = new Map<string, Agent>();

/** An undici dispatcher whose connections come from `address` (a 127.x.y.z). */
export function clientFrom(address: string): Agent {
  let agent = agents.get(address);
  if (!agent) agents.set(address, (agent = new Agent({ localAddress: address })));
  return agent;
}

/** Closes every client made by clientFrom. */
export async function closeClients(): Promise<void> {
  await Promise.all([...agents.values()].map((agent) => agent.close()));
  agents.clear();
}
