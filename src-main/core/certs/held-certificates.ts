// A certificate the service holds (the served PEM with the facts read from it once), and how it
// looks through the API: a route's certificate and an imported one, with their state and problem.
// Pure functions of what is held, the routes and the clock; the service decides what to hold.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Route } from '../../../shared/model.js';
import type { CustomCertificate, Problem, RouteCertificate } from '../../../shared/status.js';
import type { ServedCertificate } from '../proxy/tls-certificates.js';
import { certificateFacts, dateProblem, namesCover, stateAt, type CertificateFacts } from './certificate-facts.js';
import type { StoredPair } from './certificate-files.js';

/**
 * A leaf is renewed once less than this share of its lifetime remains (1/3: 132 of 397 days). The
 * service checks against this threshold whenever it looks (saves, its regular checks, a timer set
 * for the threshold itself), so renewal never hangs on one long timer that could pass the expiry.
 */
const RENEW_WHEN_REMAINING_SHARE = 1 / 3;

/** A certificate ready to serve, with the facts read from it once. */
export interface Held {
  served: ServedCertificate;
  facts: CertificateFacts;
  x509: X509Certificate;
}

/** A local-CA route's leaf: the one served (if any), whether a new one is being issued, and why not. */
export interface LeafSlot {
  leaf: Held | null;
  pending: boolean;
  problem: Problem | null;
  /** After a failed issuance: when (ms) the service tries again on its own; null otherwise. */
  retryAt: number | null;
}

export interface CustomEntry extends Held {
  id: string;
  label: string;
  importedAt: string;
  chainLength: number;
}

/** When Gatehouse renews a leaf: once less than RENEW_WHEN_REMAINING_SHARE of its lifetime remains, in ms. */
export function renewsAt(facts: Pick<CertificateFacts, 'notBefore' | 'notAfter'>): number {
  const end = facts.notAfter.getTime();
  return end - (end - facts.notBefore.getTime()) * RENEW_WHEN_REMAINING_SHARE;
}

export function held(pair: StoredPair): Held {
  const x509 = new X509Certificate(pair.certificatePem);
  return { served: Object.freeze({ certificatePem: pair.certificatePem, privateKeyPem: pair.privateKeyPem }), facts: certificateFacts(x509), x509 };
}

/** A stored pair that reads and matches, or null (the route then gets a new leaf). */
export function heldIfPair(pair: StoredPair): Held | null {
  try {
    const entry = held(pair);
    return entry.x509.checkPrivateKey(createPrivateKey(pair.privateKeyPem)) ? entry : null;
  } catch {
    return null;
  }
}

function publicFacts(facts: CertificateFacts) {
  return { names: facts.names, issuer: facts.issuer, notBefore: facts.notBefore.toISOString(), notAfter: facts.notAfter.toISOString(), fingerprintSha256: facts.fingerprintSha256 };
}

/** What the API shows about a local-CA route's certificate; `slot` is undefined before its first issuance. */
export function localRouteCertificate(route: Route, slot: LeafSlot | undefined, now: Date): RouteCertificate {
  const base = noCertificate(route);
  const leaf = slot?.leaf;
  if (!leaf) return slot?.problem ? { ...base, state: 'error', problem: slot.problem } : { ...base, state: 'pending', problem: null };
  const facts = { ...base, ...publicFacts(leaf.facts), renewsAt: new Date(renewsAt(leaf.facts)).toISOString() };
  const state = stateAt(leaf.facts, now);
  // A renewal that failed: the leaf is still served, but it is not renewed ("expiring" in the
  // contract), whatever its dates say, until a retry succeeds; once expired it is "expired".
  if (slot.problem) return { ...facts, state: state === 'expired' ? 'expired' : 'expiring', problem: slot.problem };
  return { ...facts, state, problem: state === 'valid' ? null : dateProblem(state, leaf.facts, 'Renew it on the Certificates page.') };
}

/** What the API shows about a route without HTTPS, or one using the imported certificate `custom`. */
export function customRouteCertificate(route: Route, custom: CustomEntry | undefined, now: Date): RouteCertificate {
  const base = noCertificate(route);
  // Passed through: no certificate of Gatehouse's (the page says "Passed through"), and nothing wrong.
  if (route.tls.mode === 'none' || route.tls.mode === 'passthrough') return { ...base, state: 'none', problem: null };
  if (!custom) {
    return { ...base, state: 'error', problem: { code: 'certificate_missing', message: 'The chosen certificate is no longer imported.', fix: 'Import it again, or choose another certificate for this route.' } };
  }
  const uncovered = route.names.find((name) => !namesCover(custom.facts.names, name));
  if (uncovered !== undefined) {
    return {
      ...base,
      ...publicFacts(custom.facts),
      state: 'error',
      problem: { code: 'certificate_names', message: `The certificate "${custom.label}" does not cover "${uncovered}".`, fix: 'Choose or import a certificate that covers every name of the route.' },
    };
  }
  const state = stateAt(custom.facts, now);
  const problem = state === 'valid' ? null : dateProblem(state, custom.facts, 'Import the renewed certificate and choose it for this route.');
  return { ...base, ...publicFacts(custom.facts), state, problem };
}

function noCertificate(route: Route) {
  return { routeId: route.id, mode: route.tls.mode, names: [] as string[], issuer: null, notBefore: null, notAfter: null, fingerprintSha256: null, renewsAt: null, acme: null };
}

/** What the API shows about an imported certificate; `usedBy` from `routes`. */
export function customCertificateOf(entry: CustomEntry, routes: readonly Route[], now: Date): CustomCertificate {
  const state = stateAt(entry.facts, now);
  const usedBy = routes.filter((route) => route.tls.mode === 'custom' && route.tls.certificateId === entry.id).map((route) => route.id);
  return {
    id: entry.id,
    label: entry.label,
    names: entry.facts.names,
    issuer: entry.facts.issuer,
    notBefore: entry.facts.notBefore.toISOString(),
    notAfter: entry.facts.notAfter.toISOString(),
    fingerprintSha256: entry.facts.fingerprintSha256,
    chainLength: entry.chainLength,
    usedBy,
    state,
    problem: state === 'valid' ? null : dateProblem(state, entry.facts, 'Import the renewed certificate, then choose it for the routes that use this one.'),
  };
}
