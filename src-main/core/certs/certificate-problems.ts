// What the certificate service says when something cannot be done: the problem a route's
// certificate shows, and the errors a change is refused with. Each names what is wrong and what
// to do, in the words the Certificates page shows.
import { ApiError } from '../../../shared/api.js';
import type { Route } from '../../../shared/model.js';
import type { Problem } from '../../../shared/status.js';
import { routeLabel } from '../gateway/route-edits.js';
import { readableDate } from './certificate-facts.js';
import type { Held } from './held-certificates.js';
import { canonicalDomain, isWithinDomain } from './name-constraints.js';

/** What a route's certificate shows after a failed issuance: what failed, and when it is tried again. */
export function issuanceProblem(leaf: Held | null, error: Error, retryAt: number): Problem {
  const again = `Gatehouse tries again at ${readableDate(new Date(retryAt))}.`;
  const fix = 'Renew it on the Certificates page once the cause is fixed; if it fails again, check that the data directory is writable and has free space.';
  return leaf
    ? {
        code: 'certificate_not_renewed',
        message: `Gatehouse could not renew the certificate: ${error.message}. The current one is served until it expires on ${readableDate(leaf.facts.notAfter)}. ${again}`,
        fix,
      }
    : { code: 'certificate_not_issued', message: `Gatehouse could not issue the certificate: ${error.message}. ${again}`, fix };
}

export function outsideDomains(name: string, domains: readonly string[]): string {
  return `"${name}" is outside the local CA's domains (${domains.join(', ')})`;
}

/** A local-CA route with a name the CA cannot issue for (only a settings file edited by hand has one). */
export function outsideDomainsProblem(name: string, domains: readonly string[]): Problem {
  return { code: 'name_outside_ca_domains', message: `${outsideDomains(name, domains)}.`, fix: 'Add its domain on the Certificates page, or choose a custom certificate for this route.' };
}

/** Throws ApiError('conflict') naming each local-CA route, and its names, that `domains` would leave out. */
export function refuseRoutesLeftOut(domains: readonly string[], routes: readonly Route[]): void {
  const leftOut = routes.flatMap((route) => {
    const names = route.tls.mode === 'local' ? route.names.filter((name) => !domains.some((domain) => isWithinDomain(name, domain))) : [];
    return names.length > 0 ? [`"${routeLabel(route)}" (${names.join(', ')})`] : [];
  });
  if (leftOut.length === 0) return;
  throw new ApiError('conflict', `The local CA limited to ${domains.join(', ')} could not issue for these routes: ${leftOut.join('; ')}.`, {
    fix: 'Change those names or remove those routes first (or choose a custom certificate for them), or keep a domain that covers them in the list.',
  });
}

/** The domain, canonical; a bad one is refused naming it (the API's schema normally catches it first). */
export function caDomainOrInvalid(domain: string, index: number): string {
  try {
    return canonicalDomain(domain);
  } catch (error) {
    const issues = [{ path: `domains.${index}`, message: (error as Error).message }];
    throw new ApiError('invalid_input', `domains.${index}: ${(error as Error).message}`, { issues });
  }
}
