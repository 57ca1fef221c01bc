// Which form field an issue's dotted path belongs to ("names.1" → names, "upstreams.2.url" → the
// third server's address, "healthCheck.active.path" → the check's path), so the shared schema's and
// the server's problems land where the person can fix them.
import { HealthCheckSchema, type ActiveCheck, type PassiveCheck } from '../../shared/upstreams.js';

export const routeFields = [
  'title',
  'names',
  /** The list as a whole (too many servers); a row's own problems have fields of their own. */
  'upstreams',
  /** A redirect route's target, status and keep-path (the redirect as a whole too). */
  'redirect',
  'redirectTo',
  'redirectStatus',
  'rewriteHost',
  'trustedProxies',
  'tls',
  'tlsCertificate',
  /** The Let's Encrypt (ACME) choice: account, challenge, DNS provider, profile, key type. */
  'tlsAcmeAccount',
  'tlsAcmeChallenge',
  'tlsAcmeDnsProvider',
  'tlsAcmeProfile',
  'tlsAcmeKeyType',
  'publishOnLan',
  'app',
  'access',
  'accessLists',
  'accessCountries',
  'accessSignIn',
  'accessRequests',
  'accessLogin',
  'accessBody',
] as const;
/** A server row's address or weight: `upstreams.1.url`, as the schema's issue path names it. */
export type UpstreamField = `upstreams.${number}.url` | `upstreams.${number}.weight`;
export type HealthField = `healthCheck.active.${keyof ActiveCheck}` | `healthCheck.passive.${keyof PassiveCheck}`;
export type RouteField = (typeof routeFields)[number] | UpstreamField | 'balancing.policy' | 'balancing.tries' | HealthField;

const healthKeys = {
  active: Object.keys(HealthCheckSchema.shape.active.unwrap().shape),
  passive: Object.keys(HealthCheckSchema.shape.passive.unwrap().shape),
};

/** The field of an issue under `upstreams`, `balancing` or `healthCheck`; null when none. */
function serverFieldOf(first: string, second: string, third: string): RouteField | null {
  if (first === 'upstream') return 'upstreams.0.url'; // the one-server shorthand
  if (first === 'upstreams') {
    if (!/^\d+$/.test(second)) return 'upstreams';
    return third === 'weight' ? `upstreams.${Number(second)}.weight` : `upstreams.${Number(second)}.url`;
  }
  if (first === 'balancing') return second === 'policy' || second === 'tries' ? `balancing.${second}` : null;
  if (first === 'healthCheck' && (second === 'active' || second === 'passive') && healthKeys[second].includes(third)) {
    return `healthCheck.${second}.${third}` as HealthField;
  }
  return null;
}

/** "Who can reach this" has a control per part; a problem of its own (exposure, say) is the section's. */
const accessParts: Record<string, RouteField> = {
  lists: 'accessLists',
  countries: 'accessCountries',
  signIn: 'accessSignIn',
  'limits.requestsPerMinute': 'accessRequests',
  'limits.loginPerMinute': 'accessLogin',
  'limits.maxBodyBytes': 'accessBody',
};

/** The field a dotted issue path ("names.1") belongs to, or null (shown in the alert instead). */
/** `tls.acme.<key>` → its control; `tls.acme` itself (no account chosen) is the account's. */
const acmeParts: Record<string, RouteField> = {
  '': 'tlsAcmeAccount',
  accountId: 'tlsAcmeAccount',
  challenge: 'tlsAcmeChallenge',
  dnsProviderId: 'tlsAcmeDnsProvider',
  profile: 'tlsAcmeProfile',
  keyType: 'tlsAcmeKeyType',
};

export function routeFieldOf(path: string): RouteField | null {
  // The certificate has its own control; every other tls problem belongs to the HTTPS choice.
  if (path === 'tls.certificateId') return 'tlsCertificate';
  if (path === 'tls.acme' || path.startsWith('tls.acme.')) return acmeParts[path.split('.')[2] ?? ''] ?? 'tls';
  const [first = '', second = '', third = ''] = path.split('.');
  if (['upstream', 'upstreams', 'balancing', 'healthCheck'].includes(first)) return serverFieldOf(first, second, third);
  if (first === 'redirect') return second === 'to' ? 'redirectTo' : second === 'status' ? 'redirectStatus' : 'redirect';
  if (first === 'access') return accessParts[second] ?? accessParts[`${second}.${third}`] ?? 'access';
  return (routeFields as readonly string[]).includes(first) ? (first as RouteField) : null;
}
