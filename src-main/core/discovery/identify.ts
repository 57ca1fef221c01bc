// Contract placeholder: probes one address:port over HTTP(S) and matches the presets.
import type { Identification } from '../../../shared/status.js';

export interface IdentifyTarget {
  address: string;
  port: number;
  /** Try this scheme first (from the mDNS type or TXT); both are tried when left out. */
  scheme?: 'http' | 'https';
  /** The host name to send in Host (the SRV target, such as "homeassistant.local"); default the address. */
  hostName?: string;
}

export interface IdentifyOptions {
  signal?: AbortSignal;
  /** Whole-identification budget. */
  timeoutMs?: number;
}

export async function identifyService(_target: IdentifyTarget, _options: IdentifyOptions = {}): Promise<Identification | null> {
  return null;
}
