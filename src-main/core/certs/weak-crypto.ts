// Cryptography browsers no longer accept in a server's certificate: RSA keys under 2048 bits
// (CA/Browser Forum Baseline Requirements §6.1.5) and signatures made with MD5 or SHA-1 (collisions
// can be forged). node:crypto in Node 20 does not say how a certificate was signed, so the
// signatureAlgorithm field is read from the DER (Certificate ::= SEQUENCE { tbsCertificate,
// signatureAlgorithm, signatureValue }).
import type { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/** The smallest RSA key a certificate may carry. */
export const MIN_RSA_BITS = 2048;

/** Signature algorithms by OID whose hash is broken, with the name people know them by. */
const WEAK_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'MD2',
  '1.2.840.113549.1.1.3': 'MD4',
  '1.2.840.113549.1.1.4': 'MD5',
  '1.2.840.113549.1.1.5': 'SHA-1',
  '1.3.14.3.2.29': 'SHA-1',
  '1.2.840.10045.4.1': 'SHA-1',
  '1.2.840.10040.4.3': 'SHA-1',
};

const fromDer = forge.asn1.fromDer as unknown as (bytes: string, options: { decodeBitStrings: boolean; parseAllBytes: boolean }) => forge.asn1.Asn1;

/** The OID of the algorithm `cert` was signed with, or null when its DER cannot be read. */
export function signatureAlgorithmOid(cert: X509Certificate): string | null {
  try {
    const certificate = fromDer(cert.raw.toString('binary'), { decodeBitStrings: false, parseAllBytes: false });
    const algorithm = (certificate.value as forge.asn1.Asn1[])[1];
    const oid = (algorithm?.value as forge.asn1.Asn1[] | undefined)?.[0];
    return oid && oid.type === forge.asn1.Type.OID ? forge.asn1.derToOid(oid.value as string) : null;
  } catch {
    return null;
  }
}

/** The broken hash `cert` was signed with ("SHA-1", "MD5"), or null when its signature is sound. */
export function weakSignatureOf(cert: X509Certificate): string | null {
  const oid = signatureAlgorithmOid(cert);
  return oid === null ? null : (WEAK_SIGNATURES[oid] ?? null);
}

/** The size of `cert`'s RSA key when it is under MIN_RSA_BITS, else null (other key types pass). */
export function shortRsaKeyBits(cert: X509Certificate): number | null {
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return null;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return bits !== undefined && bits < MIN_RSA_BITS ? bits : null;
}
