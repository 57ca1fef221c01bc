// DNS as the CA sees it, asked from this machine with no third party: the public resolvers find the
// zone (NS, walking up the labels), then the zone's own name servers are asked directly, so a stale
// cache or a Pi-hole override on the LAN cannot hide what Let's Encrypt will be told. Every query has
// its own timeout (one try, no retries across servers beyond c-ares' list), because a pre-flight that
// hangs on a dead server tells the person nothing.
import { Resolver } from 'node:dns';
import { isIP } from 'node:net';

export type DnsOutcome<T> = { ok: true; values: T[] } | { ok: false; code: DnsFailure; server: string };
/** nodata: the name exists without that type; nxdomain: no such name; the rest: the server failed. */
export type DnsFailure = 'nodata' | 'nxdomain' | 'timeout' | 'servfail' | 'refused' | 'error';

export interface CaaRecord {
  critical: number;
  tag: string;
  value: string;
}

export interface DnsAsker {
  /** Servers to ask ("ip" or "ip:port"), such as the public resolvers or the zone's name servers. */
  servers: readonly string[];
  /** Per query, ms. */
  timeoutMs: number;
}

const CODE: Record<string, DnsFailure> = {
  ENODATA: 'nodata',
  ENOTFOUND: 'nxdomain',
  ETIMEOUT: 'timeout',
  ESERVFAIL: 'servfail',
  EREFUSED: 'refused',
  ECONNREFUSED: 'timeout',
};

type Method = 'resolve4' | 'resolve6' | 'resolveNs' | 'resolveCaa' | 'resolveCname' | 'resolveTxt';

async function ask<T>(asker: DnsAsker, method: Method, name: string): Promise<DnsOutcome<T>> {
  const server = asker.servers.join(', ');
  // c-ares asks the servers one after another: split the budget so up to three get their turn.
  const perServer = Math.max(300, Math.floor(asker.timeoutMs / Math.min(3, Math.max(1, asker.servers.length))));
  const resolver = new Resolver({ timeout: perServer, tries: 1 });
  resolver.setServers([...asker.servers]);
  let timer: NodeJS.Timeout | undefined;
  // c-ares tries the servers one after another; the race bounds the whole query to about one timeout.
  const late = new Promise<DnsOutcome<T>>((resolve) => {
    timer = setTimeout(() => {
      resolver.cancel();
      resolve({ ok: false, code: 'timeout', server });
    }, asker.timeoutMs + 100);
  });
  const answer = new Promise<DnsOutcome<T>>((resolve) => {
    (resolver[method] as unknown as (name: string, callback: (error: NodeJS.ErrnoException | null, values: T[]) => void) => void).call(resolver, name, (error, values) => {
      if (error) resolve({ ok: false, code: CODE[error.code ?? ''] ?? (error.code === 'ECANCELLED' ? 'timeout' : 'error'), server });
      else resolve({ ok: true, values });
    });
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

export const askA = (asker: DnsAsker, name: string) => ask<string>(asker, 'resolve4', name);
export const askAaaa = (asker: DnsAsker, name: string) => ask<string>(asker, 'resolve6', name);
export const askNs = (asker: DnsAsker, name: string) => ask<string>(asker, 'resolveNs', name);
export const askCname = (asker: DnsAsker, name: string) => ask<string>(asker, 'resolveCname', name);

export async function askCaa(asker: DnsAsker, name: string): Promise<DnsOutcome<CaaRecord>> {
  const outcome = await ask<Record<string, string | number>>(asker, 'resolveCaa', name);
  if (!outcome.ok) return outcome;
  return {
    ok: true,
    values: outcome.values.map((record) => {
      const tag = Object.keys(record).find((key) => key !== 'critical') ?? 'unknown';
      return { critical: Number(record.critical ?? 0), tag: tag.toLowerCase(), value: String(record[tag] ?? '') };
    }),
  };
}

/** The zone a name lives in, and the addresses of its name servers. */
export interface Zone {
  apex: string;
  nameServers: string[];
  /** "ip:port" of the name servers that resolved, to ask directly. */
  servers: string[];
}

export type ZoneOutcome = { ok: true; zone: Zone } | { ok: false; code: DnsFailure; asked: string; server: string };

/** Parents of `name`, itself first, down to two labels ("a.b.example.com" … "example.com"). */
export function selfAndParents(name: string, minLabels = 2): string[] {
  const labels = name.replace(/\.$/, '').split('.');
  const out: string[] = [];
  for (let index = 0; labels.length - index >= minLabels; index++) out.push(labels.slice(index).join('.'));
  return out;
}

function withPort(address: string, port: number): string {
  if (port === 53) return address;
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** NS walking up from `name` through the public resolvers; the first name with NS records is the zone apex. */
export async function findZone(name: string, resolvers: DnsAsker, authoritativePort: number): Promise<ZoneOutcome> {
  for (const candidate of selfAndParents(name)) {
    const ns = await askNs(resolvers, candidate);
    if (!ns.ok) {
      if (ns.code === 'nodata' || ns.code === 'nxdomain') continue;
      return { ok: false, code: ns.code, asked: candidate, server: ns.server };
    }
    const hosts = [...new Set(ns.values.map((host) => host.replace(/\.$/, '').toLowerCase()))].sort();
    const addresses = await Promise.all(hosts.map(async (host) => (isIP(host) ? [host] : (await Promise.all([askA(resolvers, host), askAaaa(resolvers, host)])).flatMap((outcome) => (outcome.ok ? outcome.values : [])))));
    // IPv4 first: a machine without IPv6 would spend the query's whole time on an unreachable server.
    const servers = [...new Set(addresses.flat())].sort((a, b) => isIP(a) - isIP(b)).map((address) => withPort(address, authoritativePort));
    if (servers.length === 0) return { ok: false, code: 'error', asked: `the addresses of ${hosts.join(', ')}`, server: resolvers.servers.join(', ') };
    return { ok: true, zone: { apex: candidate, nameServers: hosts, servers } };
  }
  return { ok: false, code: 'nxdomain', asked: name, server: resolvers.servers.join(', ') };
}

/** A and AAAA for `name` from the zone's own servers, following one CNAME through the public resolvers. */
export async function addressesOf(name: string, authoritative: DnsAsker, resolvers: DnsAsker): Promise<{ addresses: string[]; cname: string | null; failure: DnsOutcome<string> | null }> {
  const [a, aaaa] = await Promise.all([askA(authoritative, name), askAaaa(authoritative, name)]);
  const addresses = [a, aaaa].flatMap((outcome) => (outcome.ok ? outcome.values : []));
  if (addresses.length > 0) return { addresses, cname: null, failure: null };
  const hard = [a, aaaa].find((outcome) => !outcome.ok && outcome.code !== 'nodata' && outcome.code !== 'nxdomain') ?? null;
  const cname = await askCname(authoritative, name);
  if (cname.ok && cname.values[0]) {
    const target = cname.values[0].replace(/\.$/, '');
    const [ta, taaaa] = await Promise.all([askA(resolvers, target), askAaaa(resolvers, target)]);
    return { addresses: [ta, taaaa].flatMap((outcome) => (outcome.ok ? outcome.values : [])), cname: target, failure: null };
  }
  return { addresses: [], cname: null, failure: hard ?? a };
}
