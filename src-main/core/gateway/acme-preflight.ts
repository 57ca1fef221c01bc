// The pre-flight as the gateway runs it: the route's account gives the CA (its name for sentences,
// its CAA identities), the DNS provider's credential test comes from the DNS provider members, the
// probe token goes into the same challenge store the proxy's HTTP listener answers from.
//
// Which DNS servers to ask: public DNS by default (the zone's own name servers, found through a few
// public resolvers). GATEHOUSE_DNS_SERVER=ip:port points every ACME DNS question (pre-flight and
// the DNS-01 propagation wait) at one server instead, for a private CA whose names live only in a
// LAN DNS server (a step-ca with a BIND on the LAN) and for tests; with it, LAN and loopback
// addresses count as reachable, since such a CA is on the LAN too. GATEHOUSE_ACME_HTTP_PORT names the
// port such a CA's HTTP-01 validation connects to when it is not 80 (Pebble's httpPort in tests).
import { isIP } from 'node:net';
import type { PreflightCheck, PreflightReport } from '../../../shared/acme.js';
import type { ApiParsedInput } from '../../../shared/api.js';
import { ApiError } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import type { AcmeService } from '../certs/acme/acme-service.js';
import type { ChallengeStore } from '../certs/acme/challenge-store.js';
import { caaIdentitiesFor, runPreflight, type PreflightDeps } from '../certs/acme/preflight/index.js';
import { caDisplayName } from '../certs/acme/problems.js';

/** Test and private-CA hooks for the pre-flight; every field defaults to public DNS as the CA sees it. */
export type PreflightOverrides = Partial<Pick<PreflightDeps, 'publicResolvers' | 'authoritativePort' | 'systemLookup' | 'isReachableAddress' | 'httpPort'>>;

/** One "ip:port" (or "ip") DNS server that every ACME DNS question goes to, from GATEHOUSE_DNS_SERVER; null when unset. */
export function dnsServerOverride(value: string | undefined): { resolvers: string[]; port: number } | null {
  if (value === undefined || value.trim() === '') return null;
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(value.trim());
  const port = match ? Number(match[2] ?? 53) : NaN;
  if (!match || isIP(match[1]!) !== 4 || port < 1 || port > 65535) {
    throw new Error(`GATEHOUSE_DNS_SERVER must be an IPv4 address with an optional port, such as 10.33.0.2:53, not "${value}"`);
  }
  return { resolvers: [`${match[1]}:${port}`], port };
}

/** The port a CA's HTTP-01 validation connects to, from GATEHOUSE_ACME_HTTP_PORT (default 80: every public CA). */
export function challengePortOverride(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const port = Number(value.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`GATEHOUSE_ACME_HTTP_PORT must be a port number from 1 to 65535, not "${value}"`);
  return port;
}

/** The overrides GATEHOUSE_DNS_SERVER and GATEHOUSE_ACME_HTTP_PORT stand for (see the file's comment). */
export function preflightOverridesFor(server: { resolvers: string[]; port: number } | null, challengePort: number | null = null): PreflightOverrides {
  const port = challengePort === null ? {} : { httpPort: challengePort };
  if (!server) return port;
  return { publicResolvers: server.resolvers, authoritativePort: server.port, isReachableAddress: () => true, ...port };
}

export interface GatewayPreflightDeps {
  current: () => Settings;
  acme: AcmeService;
  challenges: ChallengeStore;
  /** This machine's LAN addresses, for the probe's sentences. */
  localAddresses: () => string[];
  /** The DNS provider members' credential test (testDnsProvider). */
  testDnsProvider: (input: { id: string; name: string }) => Promise<PreflightCheck>;
  overrides: PreflightOverrides;
}

export function gatewayPreflight(deps: GatewayPreflightDeps): (input: ApiParsedInput<'preflightCertificate'>) => Promise<PreflightReport> {
  return async (input) => {
    const settings = deps.current();
    const account = settings.acme.accounts.find((candidate) => candidate.id === input.acme.accountId);
    if (!account) {
      throw new ApiError('invalid_input', `acme.accountId: there is no ACME account "${input.acme.accountId}": add one on the Certificates page`, {
        issues: [{ path: 'acme.accountId', message: `there is no ACME account "${input.acme.accountId}": add one on the Certificates page` }],
      });
    }
    const providerId = input.acme.challenge === 'dns-01' ? input.acme.dnsProviderId : null;
    const provider = providerId === null ? null : settings.acme.dnsProviders.find((candidate) => candidate.id === providerId) ?? null;
    if (providerId !== null && !provider) {
      throw new ApiError('invalid_input', `acme.dnsProviderId: there is no DNS provider "${providerId}": add one on the Certificates page`, {
        issues: [{ path: 'acme.dnsProviderId', message: `there is no DNS provider "${providerId}": add one on the Certificates page` }],
      });
    }
    // The directory's CAA names; a directory that cannot be read now still gets the other checks.
    const listed = await deps.acme.accounts.directory(account.directoryUrl, account.directoryCaPem, false).then(
      (info) => info.caaIdentities,
      () => null,
    );
    return runPreflight(input, {
      httpPort: 80,
      challenges: deps.challenges,
      caaIdentities: caaIdentitiesFor(account.directoryUrl, listed),
      caName: caDisplayName(account.directoryUrl),
      localAddresses: deps.localAddresses(),
      ...(provider ? { dnsProvider: provider, testDnsProvider: (name: string) => deps.testDnsProvider({ id: provider.id, name }) } : {}),
      ...deps.overrides,
    });
  };
}
