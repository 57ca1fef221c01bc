// The Discovery members of the API: the overview from core/discovery, "Probe a host" with a time
// budget and one run per address at a time, and the presets table.
import { ApiError, type ApiHandlers } from '../../../shared/api.js';
import type { Discovery } from '../discovery/discovery.js';
import { HostProbeLimiter } from '../discovery/identification-queue.js';
import { presets } from '../discovery/presets.js';
import { probeHost } from '../discovery/probe-host.js';

export type DiscoveryHandlers = Pick<ApiHandlers, 'getDiscovery' | 'probeHost' | 'getPresets'>;

/** The most one "Probe a host" may take (the port list is meant to finish within 3 s). */
export const PROBE_HOST_BUDGET_MS = 10_000;

export interface DiscoveryHandlerDeps {
  discovery: Pick<Discovery, 'overview'>;
  /** Default: probeHost from core/discovery/probe-host.ts. */
  probe?: typeof probeHost;
}

export function discoveryHandlers(deps: DiscoveryHandlerDeps): DiscoveryHandlers {
  const probe = deps.probe ?? probeHost;
  const limiter = new HostProbeLimiter();
  return {
    getDiscovery: async () => deps.discovery.overview(),
    probeHost: ({ address, ports }) =>
      limiter.run(address, ports, async () => {
        const signal = AbortSignal.timeout(PROBE_HOST_BUDGET_MS);
        try {
          return await probe(address, { signal, ...(ports ? { ports } : {}) });
        } catch (error) {
          throw probeFailure(address, error, signal);
        }
      }),
    getPresets: async () => structuredClone([...presets]),
  };
}

function probeFailure(address: string, error: unknown, signal: AbortSignal): ApiError {
  if (error instanceof ApiError) return error;
  if (signal.aborted) {
    return new ApiError('internal', `Probing ${address} took longer than ${PROBE_HOST_BUDGET_MS / 1000} s and was stopped.`, {
      fix: 'Check that the address belongs to a device on your LAN, or probe fewer ports.',
    });
  }
  console.error(`gatehouse: probing ${address} failed:`, error);
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError('internal', `Gatehouse could not probe ${address}: ${detail}.`, { fix: 'Try again; if it keeps failing, probe one port at a time to find the one at fault.' });
}
