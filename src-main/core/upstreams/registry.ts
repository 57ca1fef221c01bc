// The upstream registry: one pooled keep-alive transport per backend address (and TLS mode), shared
// by every route that points there, so two names for one service reuse the same connections.
// Pools no route needs any more are closed gracefully: requests already on them finish first.
import type { Pool } from 'undici';
// undici's package entry loads all of undici (fetch, WebSocket, caches): about 20 MiB of resident
// memory. The proxy needs only the pool, and loading that module alone keeps `gatehouse serve`
// about 8 MiB smaller at idle. The version is pinned, and every proxy test goes through this class.
import PoolClass from 'undici/lib/dispatcher/pool.js';
import { defaultUpstreamLimits, type UpstreamLimits } from '../../../shared/upstreams.js';
import { UpstreamGate } from './gate.js';
import { continueSkippingConnector } from './skip-continue.js';

export interface UpstreamOptions {
  /** `http://host:port` or `https://host:port`, as stored on the route. */
  origin: string;
  /** Accept a self-signed or otherwise unverifiable certificate (https only). */
  insecureTls: boolean;
  connectTimeoutMs: number;
}

/** One backend as the request path sees it. */
export interface Upstream {
  readonly key: string;
  readonly origin: string;
  /** `host:port`, for logs and error pages. */
  readonly address: string;
  readonly pool: Pool;
  /** Admission to this address (shared by every pool to it): see gate.ts. */
  readonly gate: UpstreamGate;
}


/**
 * Where an origin points: `host` as a socket connects to it (no brackets), `address` as people
 * write it (`10.33.0.4:8096`, `[fd00::4]:443`), with the scheme's default port written out.
 */
export function hostPort(origin: string): { host: string; port: number; address: string } {
  const url = new URL(origin);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port, address: `${url.hostname}:${port}` };
}

/**
 * The pool's connection cap is in its key: undici cannot change it on a live pool, so a new
 * `connections` limit provisions new pools (the old ones finish what they carry, then close).
 */
function keyOf(options: UpstreamOptions, connections: number): string {
  return `${options.origin}|${options.insecureTls && options.origin.startsWith('https:') ? 'insecure' : 'verify'}|${options.connectTimeoutMs}|${connections}`;
}

export class UpstreamRegistry {
  private upstreams = new Map<string, Upstream>();
  /** One gate per address: the limits are on the service, whatever TLS mode reaches it. */
  private readonly gates = new Map<string, UpstreamGate>();
  private limits: UpstreamLimits = defaultUpstreamLimits();

  /** New limits for every gate (proxy.upstreamLimits changed). */
  setLimits(limits: UpstreamLimits): void {
    this.limits = limits;
    for (const gate of this.gates.values()) gate.setLimits(limits);
  }

  private gateFor(address: string): UpstreamGate {
    let gate = this.gates.get(address);
    if (!gate) {
      gate = new UpstreamGate(this.limits, address);
      this.gates.set(address, gate);
    }
    return gate;
  }

  /** The upstream for these options, creating its pool on first use. */
  get(options: UpstreamOptions): Upstream {
    const key = keyOf(options, this.limits.connections);
    let upstream = this.upstreams.get(key);
    if (!upstream) {
      const url = new URL(options.origin);
      const pool = new PoolClass(options.origin, {
        // The gate admits at most `connections` requests to this address, so a pool this size never
        // queues a request behind the gate's back (which would hide it from the gate's fair queue
        // and its wait limit), nor opens a connection the gate did not grant.
        connections: this.limits.connections,
        pipelining: 1,
        // undici's connector, made to skip an unsolicited 100 Continue (skip-continue.ts says why).
        connect: continueSkippingConnector({
          timeout: options.connectTimeoutMs,
          rejectUnauthorized: !(options.insecureTls && url.protocol === 'https:'),
        }),
      });
      // A pool error surfaces on the request that hit it; this keeps a stray one from crashing us.
      pool.on('connectionError', () => {});
      const address = hostPort(options.origin).address;
      upstream = { key, origin: options.origin, address, pool, gate: this.gateFor(address) };
      this.upstreams.set(key, upstream);
    }
    return upstream;
  }

  /** What the dashboard shows of an address's gate: requests under way, waiting, refused as busy. */
  load(address: string): { inFlight: number; waiting: number; busyRefusals: number } | null {
    const gate = this.gates.get(address);
    return gate ? { inFlight: gate.inFlight, waiting: gate.waiting, busyRefusals: gate.busyRefusals } : null;
  }

  /** Closes (drains) every pool whose key is not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, upstream] of this.upstreams) {
      if (keep.has(key)) continue;
      this.upstreams.delete(key);
      upstream.pool.close().catch(() => {});
    }
    // A gate outlives its last route while requests hold or wait for its slots (they run on the
    // closing pool): an address added back meanwhile must count them, not start from zero and let
    // twice `connections` reach the service. An idle one left over goes at a later settings change.
    const addresses = new Set([...this.upstreams.values()].map((u) => u.address));
    for (const [address, gate] of this.gates) {
      if (!addresses.has(address) && gate.inFlight === 0 && gate.waiting === 0) this.gates.delete(address);
    }
  }

  /** Aborts every pool at once (shutdown after the grace period). */
  async destroyAll(): Promise<void> {
    const pools = [...this.upstreams.values()].map((u) => u.pool);
    this.upstreams.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }
}
