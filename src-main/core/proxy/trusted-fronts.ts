// Named proxies in front of Gatehouse whose published address ranges can be trusted in one click
// (proxy.trustedFronts). The ranges are embedded, not fetched: Gatehouse never phones home, and a
// list that changed under a running proxy could trust addresses nobody reviewed. They are updated
// with Gatehouse releases (docs/client-address.md says how to check them).
import type { TrustedFront } from '../../../shared/access.js';

/**
 * Cloudflare's published ranges, from https://www.cloudflare.com/ips-v4 and
 * https://www.cloudflare.com/ips-v6, as mirrored (daily) in rezmoss/cloud-provider-ip-addresses,
 * "Updated: 2026-02-11", and unchanged in the copies checked on 2026-12-06.
 */
export const CLOUDFLARE_RANGES: readonly string[] = [
  '173.245.48.0/20',
  '103.21.244.0/22',
  '103.22.200.0/22',
  '103.31.4.0/22',
  '141.101.64.0/18',
  '108.162.192.0/18',
  '190.93.240.0/20',
  '188.114.96.0/20',
  '197.234.240.0/22',
  '198.41.128.0/17',
  '162.158.0.0/15',
  '104.16.0.0/13',
  '104.24.0.0/14',
  '172.64.0.0/13',
  '131.0.72.0/22',
  '2400:cb00::/32',
  '2606:4700::/32',
  '2803:f800::/32',
  '2405:b500::/32',
  '2405:8100::/32',
  '2a06:98c0::/29',
  '2c0f:f248::/32',
];

export const FRONT_RANGES: Readonly<Record<TrustedFront, readonly string[]>> = {
  cloudflare: CLOUDFLARE_RANGES,
};
