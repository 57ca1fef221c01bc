// The ACME members of the API: directories, accounts, pre-flight (DNS providers: dns-provider-handlers.ts).
// The ACME service does the work with the CA; this checks the input against the saved settings,
// saves account changes through the gateway's change queue, and announces the overview.
import { KNOWN_ACME_DIRECTORIES, type AcmeAccount, type AcmeOverview, type DnsProviderView, type PreflightReport } from '../../../shared/acme.js';
import { ApiError, type ApiHandlers, type ApiParsedInput } from '../../../shared/api.js';
import type { Settings } from '../../../shared/model.js';
import type { AcmeService } from '../certs/acme/acme-service.js';

type AcmeMembers =
  | 'getAcmeDirectory'
  | 'addAcmeAccount'
  | 'updateAcmeAccount'
  | 'rolloverAcmeKey'
  | 'removeAcmeAccount'
  | 'preflightCertificate';

/** What the gateway's ACME side takes from outside (DNS providers, pre-flight, the secret store): defaults until they are built in. */
export interface AcmeExtensions {
  /** The pre-flight checks for names and a route's ACME choice. Default: refuses, saying it is not available. */
  preflight?: (input: ApiParsedInput<'preflightCertificate'>) => Promise<PreflightReport>;
  /** The DNS providers as the Certificates page lists them. Default: none. */
  dnsProviderViews?: () => DnsProviderView[];
  /** Where secrets are kept. Default: 'key-file'. */
  secretsStoredIn?: AcmeOverview['secretsStoredIn'];
}

export interface AcmeHandlerDeps extends AcmeExtensions {
  acme: AcmeService;
  current: () => Settings;
  persist: (edit: (current: Settings) => Settings) => Promise<Settings>;
  change: <T>(task: () => Promise<T>) => Promise<T>;
  /** Tells subscribers the certificates overview changed. */
  announce: () => void;
}

export function acmeOverview(deps: Pick<AcmeHandlerDeps, 'acme' | 'current' | 'dnsProviderViews' | 'secretsStoredIn'>): AcmeOverview {
  const settings = deps.current();
  return {
    directories: KNOWN_ACME_DIRECTORIES.map((directory) => ({ ...directory })),
    accounts: deps.acme.accounts.views(settings.acme.accounts, settings.routes),
    dnsProviders: deps.dnsProviderViews?.() ?? [],
    secretsStoredIn: deps.secretsStoredIn ?? 'key-file',
  };
}

export function acmeHandlers(deps: AcmeHandlerDeps): Pick<ApiHandlers, AcmeMembers> {
  const { acme, current, persist, change } = deps;
  const find = (id: string): AcmeAccount => {
    const account = current().acme.accounts.find((candidate) => candidate.id === id);
    if (!account) throw new ApiError('not_found', `There is no ACME account "${id}"; it may have been removed.`);
    return account;
  };
  const view = (id: string) => acme.accounts.views(current().acme.accounts, current().routes).find((entry) => entry.id === id)!;
  const saveAccounts = async (edit: (accounts: AcmeAccount[]) => AcmeAccount[]) => {
    await persist((settings) => ({ ...settings, acme: { ...settings.acme, accounts: edit(settings.acme.accounts) } }));
    deps.announce();
  };

  return {
    getAcmeDirectory: ({ directoryUrl, directoryCaPem }) => acme.accounts.directory(directoryUrl, directoryCaPem, true),

    addAcmeAccount: (input) =>
      change(async () => {
        const taken = current().acme.accounts.map((account) => account.id);
        if (taken.length >= 32) throw new ApiError('conflict', 'Gatehouse keeps at most 32 ACME accounts.', { fix: 'Remove an account you no longer use first.' });
        const account = await acme.accounts.register(input, taken);
        try {
          await saveAccounts((accounts) => [...accounts, account]);
        } catch (error) {
          await acme.accounts.forget(account.id);
          throw error;
        }
        return view(account.id);
      }),

    updateAcmeAccount: (patch) =>
      change(async () => {
        const account = find(patch.id);
        const next = await acme.accounts.update(account, patch);
        await saveAccounts((accounts) => accounts.map((entry) => (entry.id === next.id ? next : entry)));
        return view(next.id);
      }),

    rolloverAcmeKey: ({ id }) =>
      change(async () => {
        await acme.accounts.rollover(find(id));
        deps.announce();
        return view(id);
      }),

    removeAcmeAccount: ({ id }) =>
      change(async () => {
        const account = find(id);
        acme.accounts.assertRemovable(account, current().routes);
        const removed = view(id);
        await saveAccounts((accounts) => accounts.filter((entry) => entry.id !== id));
        await acme.accounts.forget(id);
        return { removed };
      }),

    preflightCertificate: async (input) => {
      if (!deps.preflight) throw new ApiError('internal', 'The pre-flight checks are not available in this build of Gatehouse yet.');
      const report = await deps.preflight(input);
      acme.notePreflight(report);
      return report;
    },
  };
}
