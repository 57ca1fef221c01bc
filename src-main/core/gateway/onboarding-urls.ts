// Where other devices find the CA onboarding page: http://<address>[:port]/ca on the proxy's HTTP
// listener, for each address they can reach it on. The page is served only while the proxy runs.
import type { ListenerInfo } from '../../../shared/status.js';

const WILDCARD_V4 = '0.0.0.0';
const WILDCARD_V6 = new Set(['::', '::0']);

/**
 * The onboarding page's URLs, best first. A listener on every interface is reached at each LAN
 * address (IPv4 first; IPv6 only when it listens on `::` too); one bound to a single address only
 * there. No listener (proxy stopped): none.
 */
export function onboardingUrls(http: ListenerInfo | null, lanAddresses: readonly string[]): string[] {
  if (!http) return [];
  let hosts: readonly string[];
  if (http.address === WILDCARD_V4) hosts = lanAddresses.filter((address) => !address.includes(':'));
  else if (WILDCARD_V6.has(http.address)) hosts = lanAddresses;
  else hosts = [http.address];
  const port = http.port === 80 ? '' : `:${http.port}`;
  return hosts.map((host) => `http://${host.includes(':') ? `[${host}]` : host}${port}/ca`);
}
