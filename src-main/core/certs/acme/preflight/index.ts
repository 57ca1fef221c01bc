// The pre-flight: before asking the CA for anything, check on this machine what would make the order
// fail, and say each problem in one sentence with its fix. Nothing here asks a third party: DNS
// questions go to the public resolvers and then to the zone's own name servers, the HTTP probe goes
// to the name's public address and back to this machine. Every check runs in parallel and each name
// is bounded (nameDeadlineMs) even when a DNS server never answers.
import { lookup } from 'node:dns/promises';
import { KNOWN_ACME_DIRECTORIES, type DnsProvider, type PreflightCheck, type PreflightReport, type RouteAcme } from '../../../../../shared/acme.js';
import { addressesOf, findZone, type DnsAsker, type ZoneOutcome } from './public-dns.js';
import { isPubliclyReachable } from './reachable.js';
import { acmeDnsCnameCheck, caaCheck, httpProbeCheck, publicDnsCheck, splitDnsCheck, type NameFacts } from './checks.js';

/** Well-known public resolvers (Cloudflare, Google, Quad9), asked only for NS and the NS hosts' addresses. */
export const DEFAULT_PUBLIC_RESOLVERS = ['1.1.1.1', '8.8.8.8', '9.9.9.9'] as const;

export interface PreflightInput {
  names: readonly string[];
  acme: RouteAcme;
}

export interface PreflightDeps {
  /** The port the CA connects to for HTTP-01: 80 (tests: the engine's HTTP port). */
  httpPort: number;
  /** Serves the probe token, as the proxy's HTTP listener serves orders' tokens. */
  challenges: { add(token: string, keyAuthorization: string): () => void };
  /**
   * The CA's names in CAA records: caaIdentitiesFor(directory URL, the directory's meta.caaIdentities).
   * Empty (a CA that does not say): CAA records found only warn, since they cannot be matched.
   */
  caaIdentities: readonly string[];
  /** What to call the CA in sentences (problems.ts caDisplayName(directoryUrl)). Default: "the CA". */
  caName?: string;
  /** This machine's addresses, for the probe's sentences. Default: none. */
  localAddresses?: readonly string[];
  /** The DNS provider's credential test for a name (helper DNS: testDnsProvider); absent = that check is skipped. */
  testDnsProvider?: (name: string) => Promise<PreflightCheck>;
  /** The route's DNS provider settings, for the acme-dns CNAME check. Default: none (not checked). */
  dnsProvider?: DnsProvider | null;
  /** Resolvers to find zones through ("ip" or "ip:port"). Default: DEFAULT_PUBLIC_RESOLVERS. */
  publicResolvers?: readonly string[];
  /** The port the zones' name servers answer on. Default: 53 (tests: their bind9's). */
  authoritativePort?: number;
  /** This machine's own answer for a name, for the split-DNS comparison. Default: the OS resolver (dns.lookup). */
  systemLookup?: (name: string) => Promise<string[]>;
  /** Whether the CA can reach an address. Default: isPubliclyReachable (tests also allow 127.0.0.0/8). */
  isReachableAddress?: (address: string) => boolean;
  /** Per DNS query, ms. Default: 900. */
  queryTimeoutMs?: number;
  /** The HTTP probe's whole request, ms. Default: 2000. */
  probeTimeoutMs?: number;
  /** Every check of one name ends within this, ms. Default: 2800. */
  nameDeadlineMs?: number;
}

/** The directory's own caaIdentities when it lists any; for Let's Encrypt's directories "letsencrypt.org" regardless. */
export function caaIdentitiesFor(directoryUrl: string, listed: readonly string[] | null | undefined): string[] {
  if (listed && listed.length > 0) return [...listed];
  return KNOWN_ACME_DIRECTORIES.some((directory) => directory.url === directoryUrl) ? ['letsencrypt.org'] : [];
}

async function systemAddresses(name: string): Promise<string[]> {
  return (await lookup(name, { all: true, verbatim: true })).map((entry) => entry.address);
}

/** The check `promise` gives, or `late()` once `ms` has passed. */
async function byDeadline(promise: Promise<PreflightCheck>, ms: number, late: () => PreflightCheck): Promise<PreflightCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PreflightCheck>((resolve) => (timer = setTimeout(() => resolve(late()), Math.max(0, ms))));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function lateCheck(id: string, label: string, started: number): () => PreflightCheck {
  // This machine's own resolver being slow says nothing about what the CA will see: a warning.
  if (id.startsWith('split-dns:')) {
    return () => ({ id, label, state: 'warn', message: 'This machine\'s own DNS resolver did not answer in time, so its answer could not be compared with public DNS.', fix: 'Check the DNS server this machine uses (the router, a Pi-hole); the CA is not affected.', details: null, durationMs: Date.now() - started });
  }
  return () => ({ id, label, state: 'fail', message: 'The DNS servers did not answer in time, so this could not be checked.', fix: 'Check that this machine can reach DNS servers on the internet (UDP and TCP port 53), then run the check again.', details: null, durationMs: Date.now() - started });
}

async function credentialsCheck(name: string, deps: PreflightDeps): Promise<PreflightCheck> {
  const started = Date.now();
  const id = `dns-credentials:${name}`;
  const label = `The DNS provider can add the TXT record for ${name}`;
  if (!deps.testDnsProvider) {
    return { id, label, state: 'skipped', message: 'The DNS provider\'s credentials were not tested here; the order will show whether they work.', fix: null, details: null, durationMs: 0 };
  }
  try {
    const check = await deps.testDnsProvider(name);
    return { ...check, id, durationMs: check.durationMs || Date.now() - started };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return { id, label, state: 'fail', message: `The DNS provider could not be tested for ${name}.`, fix: 'Check the DNS provider\'s settings and credentials on the Certificates page.', details: text, durationMs: Date.now() - started };
  }
}

async function checksForName(name: string, input: PreflightInput, deps: PreflightDeps): Promise<PreflightCheck[]> {
  const started = Date.now();
  const deadline = deps.nameDeadlineMs ?? 2800;
  const timeoutMs = deps.queryTimeoutMs ?? 900;
  const resolvers: DnsAsker = { servers: [...(deps.publicResolvers ?? DEFAULT_PUBLIC_RESOLVERS)], timeoutMs };
  const bare = name.replace(/^\*\./, '').toLowerCase();
  const wildcard = name.startsWith('*.');
  const challenge = input.acme.challenge;
  const zone: Promise<ZoneOutcome> = findZone(bare, resolvers, deps.authoritativePort ?? 53);
  const facts: Promise<NameFacts> = zone.then(async (found) => {
    if (!found.ok) return { name, bare, wildcard, challenge, zone: found, addresses: [], cname: null, addressFailure: null };
    const answer = await addressesOf(bare, { servers: found.zone.servers, timeoutMs }, resolvers);
    return { name, bare, wildcard, challenge, zone: found, addresses: answer.addresses, cname: answer.cname, addressFailure: answer.failure };
  });
  const system = (deps.systemLookup ?? systemAddresses)(bare).then(
    (addresses) => ({ ok: true as const, addresses }),
    (error: NodeJS.ErrnoException) => ({ ok: false as const, code: error.code ?? 'ERROR' }),
  );
  const reachable = deps.isReachableAddress ?? isPubliclyReachable;
  const remaining = () => deadline - (Date.now() - started);
  const bounded = (id: string, label: string, check: Promise<PreflightCheck>) => byDeadline(check, remaining(), lateCheck(id, label, started));

  const checks: Promise<PreflightCheck>[] = [
    bounded(`public-dns:${name}`, `${name} resolves in public DNS`, facts.then((known) => publicDnsCheck(known, reachable, deps.caName ?? 'the CA', started))),
    bounded(`split-dns:${name}`, `This machine sees ${bare} as public DNS does`, facts.then(async (known) => splitDnsCheck(known, await system, started))),
  ];
  checks.push(bounded(`caa:${name}`, `CAA allows ${deps.caName ?? 'the CA'} to issue for ${name}`, zone.then((found) => caaCheck(name, found, resolvers, timeoutMs, deps.caaIdentities, deps.caName ?? 'the CA', started))));
  if (challenge === 'http-01') {
    checks.push(bounded(`http-probe:${name}`, `Port ${deps.httpPort} on ${name}'s public address reaches Gatehouse`, facts.then((known) => httpProbeCheck(known, { ...deps, reachable, probeTimeoutMs: Math.min(deps.probeTimeoutMs ?? 2000, Math.max(200, remaining() - 50)) }, started))));
  } else {
    checks.push(bounded(`dns-credentials:${name}`, `The DNS provider can add the TXT record for ${name}`, credentialsCheck(name, deps)));
    if (deps.dnsProvider?.kind === 'acme-dns') {
      const fulldomain = deps.dnsProvider.fulldomain;
      checks.push(bounded(`acme-dns-cname:${name}`, `_acme-challenge.${bare} points to acme-dns`, zone.then((found) => acmeDnsCnameCheck(bare, fulldomain, found, timeoutMs, started))));
    }
  }
  return Promise.all(checks);
}

/** Checks every name of a route before an order; ok is false when any check failed. */
export async function runPreflight(input: PreflightInput, deps: PreflightDeps): Promise<PreflightReport> {
  const startedAt = new Date();
  const names = [...new Set(input.names.map((name) => name.trim().toLowerCase().replace(/\.$/, '')))];
  const perName = await Promise.all(names.map((name) => checksForName(name, input, deps)));
  const checks = perName.flat();
  return { names, challenge: input.acme.challenge, ok: !checks.some((check) => check.state === 'fail'), checks, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime() };
}
