// The X.509 name constraints extension (RFC 5280 §4.2.1.10) limits what the local CA can vouch
// for: browsers and OpenSSL reject any leaf below it whose DNS names lie outside the permitted
// domains, so a stolen CA key cannot mint a certificate for a bank. node-forge has no encoder for
// this extension, so its DER value is built here with forge.asn1.
import forge from 'node-forge';
import { hostnameProblem, normalizeHostname } from '../../../shared/model.js';

/** The extension's OID (id-ce-nameConstraints). */
export const NAME_CONSTRAINTS_OID = '2.5.29.30';

/** Domains a new CA is limited to: the home-network names of RFC 8375 and mDNS (RFC 6762). */
export const DEFAULT_PERMITTED_DOMAINS: readonly string[] = ['home.arpa', 'local'];

const { asn1 } = forge;

/** The DER bytes (as a forge byte string) of a nameConstraints value permitting `domains`. */
export function encodePermittedDomains(domains: readonly string[]): string {
  const subtrees = domains.map((domain) =>
    // GeneralSubtree ::= SEQUENCE { base GeneralName, ... }; dNSName is [2] IMPLICIT IA5String.
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, domain),
    ]),
  );
  // NameConstraints ::= SEQUENCE { permittedSubtrees [0] IMPLICIT GeneralSubtrees OPTIONAL, ... }
  const value = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, subtrees),
  ]);
  return asn1.toDer(value).getBytes();
}

/** The permitted dNSName subtrees of a nameConstraints value; other name forms are ignored. */
export function decodePermittedDomains(der: string): string[] {
  const root = asn1.fromDer(der);
  const permitted = asChildren(root).find((part) => part.tagClass === asn1.Class.CONTEXT_SPECIFIC && part.type === 0);
  if (!permitted) return [];
  return asChildren(permitted).flatMap((subtree) => {
    const base = asChildren(subtree)[0];
    const isDnsName = base && base.tagClass === asn1.Class.CONTEXT_SPECIFIC && base.type === 2;
    return isDnsName && typeof base.value === 'string' ? [base.value] : [];
  });
}

function asChildren(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  return Array.isArray(node.value) ? node.value : [];
}

/**
 * A domain the CA may be limited to, in canonical form (lower case, no trailing dot), or an error
 * saying what is wrong with it. The label rules are the route names' (shared/model.ts).
 */
export function canonicalDomain(input: string): string {
  const domain = normalizeHostname(input);
  const problem = domain.includes('*') ? 'a CA domain covers every name below it already; leave out the "*."' : hostnameProblem(domain);
  if (problem) throw new Error(`"${input}" cannot be a domain of the local CA: ${problem}`);
  return domain;
}

/**
 * A host name a leaf may carry, canonical: the same rules as a route's names (shared/model.ts), so
 * a name a route accepts is a name its certificate can carry; `*.` only as the whole first label.
 */
export function canonicalHostName(input: string): string {
  const name = normalizeHostname(input);
  const problem = hostnameProblem(name);
  if (problem) throw new Error(`"${input}" is not a host name a certificate can carry: ${problem}`);
  return name;
}

/** True when `name` (exact or wildcard) lies in `domain` or below it, as RFC 5280 matches dNSName. */
export function isWithinDomain(name: string, domain: string): boolean {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  return bare === domain || bare.endsWith(`.${domain}`);
}
