// The Discovery members of the API. Contract placeholder: the mDNS browser, the publisher,
// identification and host probes land in core/discovery/ and replace these bodies.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { DiscoveryOverview } from '../../../shared/status.js';

export type DiscoveryHandlers = Pick<ApiHandlers, 'getDiscovery' | 'probeHost' | 'getPresets'>;

export function discoveryHandlers(): DiscoveryHandlers {
  const overview = (): DiscoveryOverview => ({
    state: 'off',
    problem: { code: 'discovery_unavailable', message: 'Discovery is not built yet.' },
    serviceTypes: [],
    services: [],
    published: [],
  });
  return {
    getDiscovery: async () => overview(),
    probeHost: async () => {
      throw new ApiError('internal', 'Probing a host is not built yet.');
    },
    getPresets: async () => [],
  };
}
