// What Gatehouse reads out of a certificate to show it and to decide about it: its names, issuer,
// dates and fingerprint, whether it covers a host name, and which state its dates put it in. All of
// it is public: nothing here ever sees a private key.
import { X509Certificate } from 'node:crypto';
import { RENEWAL_WARNING_DAYS, type CertificateState, type Problem } from '../../../shared/status.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One PEM block: its label ("CERTIFICATE", "PRIVATE KEY", …) and its whole text. */
export interface PemBlock {
  label: string;
  text: string;
}

/** The PEM blocks in `text`, in order; text around them (openssl's "subject=" lines) is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
    blocks.push({ label: match[1]!, text: `${match[0]}\n` });
  }
  return blocks;
}

/** The facts the API shows about a certificate. */
export interface CertificateFacts {
  /** DNS names of its SAN, lower case, wildcards included. */
  names: string[];
  /** Its issuer's distinguished name, one line ("CN=…, O=…"). */
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
}

export function certificateFacts(cert: X509Certificate): CertificateFacts {
  return {
    names: dnsNames(cert),
    issuer: oneLine(cert.issuer),
    subject: oneLine(cert.subject),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprintSha256: cert.fingerprint256,
  };
}

/** The DNS names of the certificate's subjectAltName ("DNS:a, IP Address:…, DNS:b"). */
export function dnsNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const match of (cert.subjectAltName ?? '').matchAll(/(?:^|, )DNS:([^,]+)/g)) names.push(match[1]!.toLowerCase());
  return names;
}

/** "CN=x\nO=y" (node's form) as "CN=x, O=y". */
export function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').join(', ');
}

/**
 * Whether a certificate name covers a route's host name, as clients match (RFC 6125 §6.4.3):
 * equal names, or `*.x.y` for a name with exactly one more label (`a.x.y`, not `a.b.x.y`). A
 * wildcard route name (`*.x.y`) is covered only by the same wildcard.
 */
export function nameCovers(certificateName: string, hostName: string): boolean {
  if (certificateName === hostName) return true;
  if (!certificateName.startsWith('*.') || hostName.startsWith('*.')) return false;
  const dot = hostName.indexOf('.');
  return dot > 0 && hostName.slice(dot + 1) === certificateName.slice(2);
}

/** True when one of `names` covers `hostName`. */
export function namesCover(names: readonly string[], hostName: string): boolean {
  return names.some((name) => nameCovers(name, hostName));
}

/** The state a certificate's dates put it in at `now`. */
export function stateAt(facts: Pick<CertificateFacts, 'notAfter'>, now: Date): 'valid' | 'expiring' | 'expired' {
  if (now.getTime() >= facts.notAfter.getTime()) return 'expired';
  if (now.getTime() >= facts.notAfter.getTime() - RENEWAL_WARNING_DAYS * DAY_MS) return 'expiring';
  return 'valid';
}

/** The times (ms) at which a certificate's state changes on its own: the warning, the expiry. */
export function stateChangeTimes(facts: Pick<CertificateFacts, 'notAfter'>): number[] {
  return [facts.notAfter.getTime() - RENEWAL_WARNING_DAYS * DAY_MS, facts.notAfter.getTime()];
}

/** The date as people read it in a message: "2027-12-23 18:00 UTC". */
export function readableDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Why a certificate in `state` cannot be (or soon will not be) served, and what to do. */
export function dateProblem(
  state: Extract<CertificateState, 'expiring' | 'expired'>,
  facts: Pick<CertificateFacts, 'notAfter'>,
  fix: string,
): Problem {
  return state === 'expired'
    ? { code: 'certificate_expired', message: `The certificate expired on ${readableDate(facts.notAfter)}.`, fix }
    : { code: 'certificate_expiring', message: `The certificate expires on ${readableDate(facts.notAfter)}.`, fix };
}
