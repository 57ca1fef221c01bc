// The DNS providers of the DNS-01 challenge: the API members that add, change, remove and test
// them, the views the Certificates page lists, and `providerFor`, which the ACME orders use. The
// settings file keeps only what is not secret; the credentials go to the secret store (sealed,
// 0600) and never come back out: not in an answer, an error message or the log.
import { randomBytes } from 'node:crypto';
import type { DnsProvider, DnsProviderView, PreflightCheck } from '../../../shared/acme.js';
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import { DnsProviderError } from '../certs/acme/dns/errors.js';
import { waitForTxt } from '../certs/acme/dns/propagation.js';
import { challengeRecord, createDnsProvider, type DnsChallengeProvider } from '../certs/acme/dns/provider.js';
import { SecretUnreadableError, type SecretStore } from '../certs/acme/secret-store.js';
import { newRouteId, routeLabel } from './route-edits.js';

type DnsProviderMembers = 'addDnsProvider' | 'updateDnsProvider' | 'removeDnsProvider' | 'testDnsProvider';

export interface DnsProviderDeps {
  current: () => Settings;
  /** Saves an edit of the settings (invalid_input naming the field when the schema refuses it). */
  persist: (edit: (current: Settings) => Settings) => Promise<Settings>;
  /** Runs a change after the ones before it. */
  change: <T>(task: () => Promise<T>) => Promise<T>;
  secrets: SecretStore;
  /** DNS servers to ask instead of the zone's own name servers ("ip" or "ip:port"). Default: the zone's. Tests give their bind9. */
  resolvers?: readonly string[];
  /** A provider was added, changed or removed: the Certificates page should show it. */
  changed?: () => void;
}

/** The longest testDnsProvider waits to see its record, ms: a person is waiting for the answer. Default: 30000. */
export const TEST_VISIBLE_WAIT_MS = 30_000;

/** The secret store's id of a provider's credentials. */
const secretId = (id: string) => `dns-${id}`;

export interface DnsProviderService {
  handlers: Pick<ApiHandlers, DnsProviderMembers>;
  /** What the Certificates page lists: each provider's settings, whether credentials are set, which routes use it. */
  views(): DnsProviderView[];
  /** The provider with its credentials opened, for an order; errors are DnsProviderErrors with a sentence. */
  providerFor(id: string): Promise<{ settings: DnsProvider; provider: DnsChallengeProvider }>;
}

/** The provider's view: settings, never the credentials. */
export function dnsProviderView(provider: DnsProvider, settings: Settings, secrets: Pick<SecretStore, 'has'>): DnsProviderView {
  return {
    ...structuredClone(provider),
    credentialsSet: provider.kind === 'exec' || secrets.has(secretId(provider.id)),
    usedBy: settings.routes.filter((route) => route.tls.acme?.dnsProviderId === provider.id).map((route) => route.id),
  };
}

/**
 * Which setting that says where the credentials go changed, or null. The stored secret is never
 * sent to a new address on its own: otherwise anyone who may call the API (or a typo) could point
 * the provider at their own server and read the token from the first request.
 */
export function destinationChange(before: DnsProvider, after: DnsProvider): string | null {
  const where = (provider: DnsProvider): Record<string, string> => {
    switch (provider.kind) {
      case 'cloudflare':
      case 'duckdns':
        return { apiUrl: provider.apiUrl };
      case 'acme-dns':
        return { serverUrl: provider.serverUrl };
      case 'rfc2136':
        return { server: provider.server, keyName: provider.keyName, algorithm: provider.algorithm };
      case 'exec':
        return {};
    }
  };
  const was = where(before);
  const now = where(after);
  return Object.keys(now).find((field) => now[field] !== was[field]) ?? null;
}

export function dnsProviders(deps: DnsProviderDeps): DnsProviderService {
  const { current, persist, change, secrets } = deps;

  const find = (id: string): DnsProvider => {
    const provider = current().acme.dnsProviders.find((candidate) => candidate.id === id);
    if (!provider) throw new ApiError('not_found', `There is no DNS provider "${id}"; it may have been removed.`);
    return provider;
  };
  const view = (provider: DnsProvider) => dnsProviderView(provider, current(), secrets);
  const save = async (edit: (providers: DnsProvider[]) => DnsProvider[]) => {
    await persist((settings) => ({ ...settings, acme: { ...settings.acme, dnsProviders: edit(settings.acme.dnsProviders) } }));
    deps.changed?.();
  };

  async function providerFor(id: string): Promise<{ settings: DnsProvider; provider: DnsChallengeProvider }> {
    const settings = current().acme.dnsProviders.find((candidate) => candidate.id === id);
    if (!settings) throw new DnsProviderError('internal', `The DNS provider "${id}" no longer exists.`, "Choose another DNS provider in the route's HTTPS settings.");
    let credentials: string | null = null;
    if (settings.kind !== 'exec') {
      try {
        credentials = await secrets.get(secretId(id));
      } catch (error) {
        if (!(error instanceof SecretUnreadableError)) throw error;
        throw new DnsProviderError(
          'credentials_rejected',
          `The credentials stored for the DNS provider "${settings.label}" cannot be decrypted.`,
          'Enter them again in the DNS provider settings on the Certificates page.',
          error.message,
        );
      }
      if (credentials === null) {
        throw new DnsProviderError('credentials_rejected', `No credentials are stored for the DNS provider "${settings.label}".`, 'Enter them in the DNS provider settings on the Certificates page.');
      }
    }
    return { settings, provider: createDnsProvider(settings, { credentials, ...(deps.resolvers ? { resolvers: deps.resolvers } : {}) }) };
  }

  async function test(id: string, name: string): Promise<PreflightCheck> {
    const started = Date.now();
    const settings = find(id);
    // A value marked as Gatehouse's test, 43 characters like a real one (acme-dns takes no other length).
    const record = challengeRecord(name, `gatehouse-test-${randomBytes(21).toString('base64url')}`);
    const check = (state: PreflightCheck['state'], message: string, fix: string | null, details: string | null = null): PreflightCheck => ({
      id: 'dns-credentials',
      label: `"${settings.label}" can create the TXT record ${record.fqdn}`,
      state,
      message,
      fix,
      details,
      durationMs: Date.now() - started,
    });
    const failed = (error: unknown): PreflightCheck => {
      if (error instanceof DnsProviderError) return check('fail', error.message, error.fix, error.details);
      if (error instanceof ApiError) throw error;
      return check('fail', `Testing "${settings.label}" failed unexpectedly: ${(error as Error).message}`, null);
    };
    let provider: DnsChallengeProvider;
    try {
      provider = (await providerFor(id)).provider;
      await provider.present(record);
    } catch (error) {
      return failed(error);
    }
    let result: PreflightCheck;
    const bound = Math.min(settings.propagationTimeoutMs, TEST_VISIBLE_WAIT_MS);
    try {
      const seen = await waitForTxt(provider.lookupName(record), record.value, { timeoutMs: bound, ...(deps.resolvers ? { resolvers: deps.resolvers } : {}) });
      result = check('pass', `Created a test TXT record for ${record.name}, saw it on ${seen.servers.join(', ')} after ${(seen.durationMs / 1000).toFixed(1)} s, and removed it.`, null);
    } catch (error) {
      result = error instanceof DnsProviderError
        ? check('warn', `The test TXT record was created, but ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`, `Orders wait up to ${Math.round(settings.propagationTimeoutMs / 1000)} s; if the record never shows, ${error.fix?.charAt(0).toLowerCase()}${error.fix?.slice(1) ?? ''}`, error.details)
        : failed(error);
    }
    try {
      await provider.cleanup(record);
    } catch (error) {
      const why = error instanceof DnsProviderError ? error.message : (error as Error).message;
      return check('warn', `The test TXT record was created but could not be removed: ${why}`, `Remove the TXT record ${record.fqdn} with the value "${record.value}" by hand.`, error instanceof DnsProviderError ? error.details : null);
    }
    return { ...result, durationMs: Date.now() - started };
  }

  const handlers: Pick<ApiHandlers, DnsProviderMembers> = {
    addDnsProvider: (input) =>
      change(async () => {
        const { credentials, ...fields } = input as typeof input & { credentials?: string };
        const provider = { id: newRouteId(current().acme.dnsProviders), ...fields } as DnsProvider;
        // The secret first: a provider saved without its credentials would fail its first order.
        if (credentials !== undefined) await secrets.set(secretId(provider.id), credentials);
        try {
          await save((providers) => [...providers, provider]);
        } catch (error) {
          await secrets.remove(secretId(provider.id));
          throw error;
        }
        return view(provider);
      }),

    updateDnsProvider: (input) =>
      change(async () => {
        const { credentials, ...fields } = input as typeof input & { credentials?: string };
        const before = find(input.id);
        const provider = fields as DnsProvider;
        if (credentials === undefined && provider.kind !== 'exec') {
          const moved = provider.kind === before.kind ? destinationChange(before, provider) : null;
          const message =
            provider.kind !== before.kind ? `enter the credentials for ${provider.kind}: the provider's kind changed`
            : !secrets.has(secretId(input.id)) ? 'enter the credentials: none are stored for this provider'
            : moved ? 'enter the credentials again: they are sent to the new address'
            : null;
          if (message) throw new ApiError('invalid_input', `credentials: ${message}`, { issues: [{ path: 'credentials', message }] });
        }
        if (credentials !== undefined) await secrets.set(secretId(provider.id), credentials);
        await save((providers) => providers.map((existing) => (existing.id === provider.id ? provider : existing)));
        if (provider.kind === 'exec') await secrets.remove(secretId(provider.id));
        return view(provider);
      }),

    removeDnsProvider: ({ id }) =>
      change(async () => {
        const provider = find(id);
        const users = current().routes.filter((route) => route.tls.acme?.dnsProviderId === id).map((route) => `"${routeLabel(route)}"`);
        if (users.length > 0) {
          throw new ApiError('conflict', `"${provider.label}" gets the certificates of ${users.join(', ')}. Choose another DNS provider for ${users.length > 1 ? 'those routes' : 'that route'} first.`);
        }
        const removed = view(provider);
        await save((providers) => providers.filter((existing) => existing.id !== id));
        await secrets.remove(secretId(id));
        return { removed: { ...removed, credentialsSet: false } };
      }),

    testDnsProvider: ({ id, name }) => test(id, name),
  };

  return {
    handlers,
    views: () => current().acme.dnsProviders.map(view),
    providerFor,
  };
}
