// Turns the service instances the browser sees (one per type and instance name) into the services
// the Discovery page lists: announcements of one host and port under several types are one thing to
// the user ("Home Assistant" as _home-assistant._tcp and _http._tcp). Pure functions, tested alone.
import { isIPv4 } from 'node:net';
import type { Route } from '../../../shared/model.js';
import type { DiscoveredService } from '../../../shared/status.js';

/** One announced service instance, as the browser tracks it. */
export interface SeenInstance {
  /** "Living Room._http._tcp.local", the key the browser tracks it by. */
  fqdn: string;
  name: string;
  /** "_http._tcp". */
  type: string;
  host: string;
  port: number;
  addresses: string[];
  txt: Record<string, string>;
  /** Epoch ms. */
  firstSeen: number;
  lastSeen: number;
}

/** A merged service before identification and route matching. */
export type MergedService = Omit<DiscoveredService, 'identification' | 'routeIds'>;

const GENERIC_TYPES = new Set(['_http._tcp', '_https._tcp', '_workstation._tcp']);

function addressRank(address: string): number {
  if (isIPv4(address)) return 0;
  return /^fe[89ab]/i.test(address) ? 2 : 1;
}

/** IPv4 first, then IPv6, link-local last; each group in the order first seen, without repeats. */
export function sortAddresses(addresses: Iterable<string>): string[] {
  return [...new Set(addresses)].map((address, index) => ({ address, index })).sort((a, b) => addressRank(a.address) - addressRank(b.address) || a.index - b.index).map((entry) => entry.address);
}

export function serviceId(host: string, port: number): string {
  return `${host.toLowerCase().replace(/\.$/, '')}:${port}`;
}

/**
 * Merges instances by host and port. The name comes from the most specific announcement (a
 * `_home-assistant._tcp` instance names the app better than its `_http._tcp` twin); TXT keys of a
 * specific type win over a generic one's. Newest first seen first.
 */
export function mergeInstances(instances: readonly SeenInstance[]): MergedService[] {
  const groups = new Map<string, SeenInstance[]>();
  for (const instance of instances) {
    const id = serviceId(instance.host, instance.port);
    groups.set(id, [...(groups.get(id) ?? []), instance]);
  }
  const services: MergedService[] = [];
  for (const [id, group] of groups) {
    // Generic types first, so the specific ones' name and TXT keys land last and win.
    const ordered = [...group].sort((a, b) => Number(!GENERIC_TYPES.has(a.type)) - Number(!GENERIC_TYPES.has(b.type)) || a.firstSeen - b.firstSeen);
    const best = ordered.at(-1)!;
    services.push({
      id,
      name: best.name,
      types: [...new Set(group.map((instance) => instance.type))].sort(),
      host: best.host.replace(/\.$/, ''),
      addresses: sortAddresses(ordered.flatMap((instance) => instance.addresses)),
      port: best.port,
      txt: Object.assign({}, ...ordered.map((instance) => instance.txt)) as Record<string, string>,
      firstSeen: new Date(Math.min(...group.map((instance) => instance.firstSeen))).toISOString(),
      lastSeen: new Date(Math.max(...group.map((instance) => instance.lastSeen))).toISOString(),
    });
  }
  return services.sort((a, b) => b.firstSeen.localeCompare(a.firstSeen) || a.id.localeCompare(b.id));
}

/** The host and port a route's upstream points at, or null when it cannot be read. */
function upstreamTarget(upstream: string): { host: string; port: number } | null {
  try {
    const url = new URL(upstream.includes('://') ? upstream : `http://${upstream}`);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port };
  } catch {
    return null;
  }
}

/** Routes with an upstream at one of the service's addresses (or its host name) and its port. */
export function routesFor(service: Pick<MergedService, 'addresses' | 'host' | 'port'>, routes: readonly Pick<Route, 'id' | 'upstreams'>[]): string[] {
  const hosts = new Set([...service.addresses.map((address) => address.toLowerCase()), service.host.toLowerCase()]);
  return routes
    .filter((route) =>
      route.upstreams.some((upstream) => {
        const target = upstreamTarget(upstream.url);
        return target !== null && target.port === service.port && hosts.has(target.host);
      }),
    )
    .map((route) => route.id);
}
