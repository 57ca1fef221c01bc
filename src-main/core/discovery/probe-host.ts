// Contract placeholder: tries the common home-lab ports on one address and identifies what answers.
import type { HostProbe } from '../../../shared/status.js';

/** The ports "Probe a host" tries when the caller gives none. */
export const COMMON_PORTS: readonly number[] = [];

export interface ProbeHostOptions {
  ports?: readonly number[];
  signal?: AbortSignal;
}

export async function probeHost(address: string, _options: ProbeHostOptions = {}): Promise<HostProbe> {
  throw new Error(`probing ${address} is not built yet`);
}
