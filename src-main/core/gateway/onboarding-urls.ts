// Where other devices find the CA onboarding page: http://<address>[:port]/ca on the proxy's HTTP
// listener, for each address they can reach it on. The page is served only while the proxy runs.
// A loopback address is never one of them: a phone that scans a QR code for 127.0.0.1 opens itself.
import { isIP } from 'node:net';
import type { ListenerInfo, Problem } from '../../../shared/status.js';

const WILDCARD_V4 = '0.0.0.0';
const WILDCARD_V6 = new Set(['::', '::0']);

/** 127.0.0.0/8, ::1 and the IPv4-mapped loopback: addresses only this machine can use. */
export function isLoopback(address: string): boolean {
  const lower = address.toLowerCase();
  if (isIP(lower) === 4) return lower.startsWith('127.');
  return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || lower.startsWith('::ffff:127.');
}

/**
 * The onboarding page's URLs other devices can use, best first. A listener on every interface is
 * reached at each LAN address (IPv4 first; IPv6 only when it listens on `::` too); one bound to a
 * single address only there, unless that address is loopback. No listener (proxy stopped): none.
 */
export function onboardingUrls(http: ListenerInfo | null, lanAddresses: readonly string[]): string[] {
  if (!http) return [];
  let hosts: readonly string[];
  if (http.address === WILDCARD_V4) hosts = lanAddresses.filter((address) => !address.includes(':'));
  else if (WILDCARD_V6.has(http.address)) hosts = lanAddresses;
  else hosts = [http.address];
  const port = http.port === 80 ? '' : `:${http.port}`;
  return hosts.filter((host) => !isLoopback(host)).map((host) => `http://${host.includes(':') ? `[${host}]` : host}${port}/ca`);
}

/**
 * Why a running proxy's onboarding page has no address other devices can use, with the fix; null
 * when it has one, or when the proxy is stopped (the page then says to start it).
 */
export function onboardingProblem(http: ListenerInfo | null, lanAddresses: readonly string[]): Problem | null {
  if (!http || onboardingUrls(http, lanAddresses).length > 0) return null;
  if (isLoopback(http.address)) {
    return {
      code: 'proxy_loopback_only',
      message: `The proxy listens only on this machine (${http.address}), so phones and other computers cannot reach the onboarding page.`,
      fix: 'Set the bind address to 0.0.0.0 in Settings (or start gatehouse serve without --bind), then scan the QR code.',
    };
  }
  return {
    code: 'no_lan_address',
    message: 'This machine has no address on a local network, so phones and other computers cannot reach the onboarding page.',
    fix: 'Connect this machine to your network (Wi-Fi or Ethernet); the address and QR code appear once it has one.',
  };
}
