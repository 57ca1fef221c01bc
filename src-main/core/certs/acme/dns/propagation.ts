// Waiting until the TXT record can be seen before the CA is asked to look: every authoritative
// server of the zone (its NS, resolved), or the resolvers given, must answer the value. Asking the
// CA earlier turns a slow provider into a failed order that counts against its rate limits.
import { Resolver } from 'node:dns/promises';
import { DnsProviderError, parentNames } from './errors.js';

export interface WaitForTxtOptions {
  /** Servers to ask ("ip" or "ip:port"); default: the zone's authoritative servers. Tests give their bind9. */
  resolvers?: readonly string[];
  /** How long to wait in all, ms. Default: 120000 (the provider's propagationTimeoutMs). */
  timeoutMs?: number;
  /** Stops the wait (the order was cancelled). */
  signal?: AbortSignal;
  /** Pause between rounds of questions, ms. Default: 2000. */
  intervalMs?: number;
  /** One question's limit, ms. Default: 2000. */
  queryTimeoutMs?: number;
}

export interface TxtVisible {
  /** The servers that answered the value. */
  servers: string[];
  durationMs: number;
}

function resolverFor(server: string | null, queryTimeoutMs: number): Resolver {
  const resolver = new Resolver({ timeout: queryTimeoutMs, tries: 1 });
  if (server !== null) resolver.setServers([server]);
  return resolver;
}

/** The zone's authoritative servers as addresses, found through the system's resolver; [] when that fails. */
export async function authoritativeServers(name: string, queryTimeoutMs = 2000): Promise<string[]> {
  const system = resolverFor(null, queryTimeoutMs);
  for (const candidate of parentNames(name)) {
    let nameServers: string[];
    try {
      await system.resolveSoa(candidate);
      nameServers = await system.resolveNs(candidate);
    } catch {
      continue;
    }
    const addresses = await Promise.all(
      nameServers.map(async (ns) => {
        const v4 = await system.resolve4(ns).catch(() => [] as string[]);
        const v6 = v4.length > 0 ? [] : await system.resolve6(ns).catch(() => [] as string[]);
        return v4[0] ?? (v6[0] ? `[${v6[0]}]` : null);
      }),
    );
    return [...new Set(addresses.filter((address): address is string => address !== null))];
  }
  return [];
}

/** What one server says about the name: the value seen, or what it answered instead. */
async function ask(server: string, name: string, value: string, queryTimeoutMs: number): Promise<{ seen: boolean; said: string }> {
  try {
    const records = await resolverFor(server, queryTimeoutMs).resolveTxt(name);
    const values = records.map((chunks) => chunks.join(''));
    if (values.includes(value)) return { seen: true, said: 'it answered the value' };
    return { seen: false, said: values.length === 0 ? 'it has no TXT record there' : `it answered other values (${values.slice(0, 3).map((v) => `"${v}"`).join(', ')})` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const said = code === 'ENODATA' || code === 'ENOTFOUND' ? 'it has no TXT record there' : code === 'ETIMEOUT' ? 'it did not answer' : code === 'EREFUSED' ? 'it answered REFUSED' : `it answered an error (${code ?? (error as Error).message})`;
    return { seen: false, said };
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves once every server answers `value` for the TXT of `lookupName`; rejects with a
 * record_not_visible DnsProviderError naming the servers that did not, after `timeoutMs`.
 */
export async function waitForTxt(lookupName: string, value: string, options: WaitForTxtOptions = {}): Promise<TxtVisible> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 2000;
  const name = lookupName.replace(/\.$/, '');
  const given = options.resolvers && options.resolvers.length > 0 ? [...options.resolvers] : null;
  const servers = given ?? (await authoritativeServers(name, queryTimeoutMs));
  if (servers.length === 0) {
    throw new DnsProviderError(
      'record_not_visible',
      `Gatehouse could not find the name servers of the zone holding ${name}, so it cannot tell whether the TXT record is visible.`,
      'Check that the domain is registered and delegated (its NS records resolve from this machine).',
    );
  }
  const pending = new Map(servers.map((server) => [server, 'it was not asked yet']));
  for (;;) {
    options.signal?.throwIfAborted();
    const answers = await Promise.all([...pending.keys()].map(async (server) => [server, await ask(server, name, value, queryTimeoutMs)] as const));
    for (const [server, answer] of answers) {
      if (answer.seen) pending.delete(server);
      else pending.set(server, answer.said);
    }
    if (pending.size === 0) return { servers, durationMs: Date.now() - started };
    const left = started + timeoutMs - Date.now();
    if (left <= 0) {
      const missing = [...pending].map(([server, said]) => `${server} (${said})`);
      throw new DnsProviderError(
        'record_not_visible',
        `The TXT record ${name} was not visible on ${missing.join(', ')} after ${Math.round(timeoutMs / 1000)} s.`,
        "Check that the provider changes the zone these servers serve; if it is only slow, raise the provider's propagation wait.",
        `asked ${servers.join(', ')} for TXT ${name} = "${value}"`,
      );
    }
    await sleep(Math.min(options.intervalMs ?? 2000, left), options.signal);
  }
}
