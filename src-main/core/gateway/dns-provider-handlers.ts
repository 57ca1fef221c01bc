// The DNS provider members of the API (DNS-01): add, change, remove, test. Credentials go to the
// secret store and never come back. Issue 15 foundation: declared; the providers answer next.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';

type DnsProviderMembers = 'addDnsProvider' | 'updateDnsProvider' | 'removeDnsProvider' | 'testDnsProvider';

function notYet(): never {
  throw new ApiError('internal', 'DNS providers are not available in this build yet.');
}

export function dnsProviderHandlers(): Pick<ApiHandlers, DnsProviderMembers> {
  return {
    addDnsProvider: async () => notYet(),
    updateDnsProvider: async () => notYet(),
    removeDnsProvider: async () => notYet(),
    testDnsProvider: async () => notYet(),
  };
}
