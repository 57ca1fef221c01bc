// A route's certificate, issued by the local CA for the route's host names.
import forge from 'node-forge';
import type { LocalCa } from './local-ca.js';
import { canonicalHostName, isWithinDomain } from './name-constraints.js';
import { generateRsaKeyPair, randomSerialHex, validityFrom, type KeyPairPem } from './x509.js';

/**
 * Leaf lifetime in days (397). Apple accepts at most 825 days for locally trusted roots and
 * browsers cap publicly trusted leaves at 398 days; staying under both means no client applies a
 * stricter rule to these certificates than to public ones. 397 leaves a day's margin for the
 * backdated notBefore (x509.ts BACKDATE_MS) and for clock skew.
 */
export const LEAF_VALIDITY_DAYS = 397;

export interface IssuedLeaf {
  certificatePem: string;
  /** The leaf's own RSA 2048 key, PKCS#8 PEM: it goes to the TLS listener and nowhere else. */
  privateKeyPem: string;
  /** The names it carries, canonical, in the order given (the first one is also its CN). */
  hostNames: string[];
  notBefore: Date;
  notAfter: Date;
}

/** Thrown when a name lies outside the CA's permitted domains: the certificate would be rejected. */
export class NameOutsideCaDomainsError extends Error {
  readonly code = 'NAME_OUTSIDE_CA_DOMAINS';
  constructor(
    readonly hostName: string,
    readonly permittedDomains: readonly string[],
  ) {
    super(
      `The local CA cannot issue a certificate for "${hostName}": it is limited to ` +
        `${permittedDomains.map((domain) => `${domain} (and names below it)`).join(', ')}. ` +
        `Use a name under one of those domains, add the domain to the local CA, or import a custom certificate.`,
    );
    this.name = 'NameOutsideCaDomainsError';
  }
}

export interface IssueLeafOptions {
  /** Clock for the validity window; default the current time. */
  now?: Date;
  /** The leaf's key pair, e.g. one generated ahead of time; default a new RSA 2048 pair. */
  keys?: KeyPairPem;
  /**
   * IP addresses the leaf carries too (iPAddress SANs). The CA's name constraints permit DNS names
   * only, and RFC 5280 leaves a name form without constraints unconstrained, so any address may go
   * here. Default: none.
   */
  ipAddresses?: readonly string[];
}

/** Issues a leaf for `names` (exact names and `*.` wildcards), signed by `ca`. */
export async function issueLeaf(ca: LocalCa, names: readonly string[], options: IssueLeafOptions = {}): Promise<IssuedLeaf> {
  const hostNames = [...new Set(names.map(canonicalHostName))];
  const ipAddresses = [...new Set(options.ipAddresses ?? [])];
  if (hostNames.length === 0 && ipAddresses.length === 0) throw new Error('A certificate needs at least one host name.');
  const domains = ca.info.permittedDomains;
  const outside = hostNames.find((name) => !domains.some((domain) => isWithinDomain(name, domain)));
  if (outside !== undefined) throw new NameOutsideCaDomainsError(outside, domains);

  const keys = options.keys ?? (await generateRsaKeyPair());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  const { notBefore, notAfter } = validityFrom(options.now ?? new Date(), LEAF_VALIDITY_DAYS);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  // Clients match on the SAN only; the CN is there for people reading the certificate. Never an
  // address: OpenSSL checks a CN that looks like a host name against the CA's DNS constraints.
  cert.setSubject([{ name: 'commonName', value: hostNames[0] ?? 'Gatehouse admin' }]);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...hostNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyIdentifier },
  ]);
  ca.signWithCaKey(cert);
  return { certificatePem: forge.pki.certificateToPem(cert), privateKeyPem: keys.privateKeyPem, hostNames, notBefore, notAfter };
}
