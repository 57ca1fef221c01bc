// What a certificate says it may be used for: its keyUsage bits and its extendedKeyUsage purposes.
// node:crypto reads only the second (X509Certificate.keyUsage, despite its name, lists the
// extendedKeyUsage OIDs), so the keyUsage extension is read from the DER here.
import type { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

const KEY_USAGE_OID = '2.5.29.15';

/**
 * forge's DER reader with its options object (its typings know only the older boolean). Bit strings
 * are kept as bytes: forge would otherwise try to read a keyUsage bit string as ASN.1 itself.
 */
const fromDer = forge.asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer | string, options: { decodeBitStrings: boolean }) => forge.asn1.Asn1;

/** The keyUsage bits in RFC 5280's order (bit 0 first). */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

/** The extendedKeyUsage purposes people meet, by OID; others are shown as their OID. */
const PURPOSE_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** The extendedKeyUsage purposes by name ("serverAuth", …), or null when the certificate has none (any use). */
export function extendedKeyUsageOf(cert: X509Certificate): string[] | null {
  const oids = cert.keyUsage as string[] | undefined;
  return oids ? oids.map((oid) => PURPOSE_NAMES[oid] ?? oid) : null;
}

/**
 * The keyUsage bits set, or null when the certificate has no keyUsage extension (any use).
 * Throws when the certificate's DER cannot be read as X.509 (node:crypto read it, so it can).
 */
export function keyUsageOf(cert: X509Certificate): KeyUsageBit[] | null {
  // Certificate ::= SEQUENCE { tbsCertificate, ... }; extensions are tbsCertificate's [3] EXPLICIT.
  const certificate = fromDer(forge.util.createBuffer(cert.raw.toString('binary')), { decodeBitStrings: false });
  const tbs = (certificate.value as forge.asn1.Asn1[])[0]!;
  const tagged = (tbs.value as forge.asn1.Asn1[]).find((part) => part.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && part.type === 3);
  const extensions = tagged ? ((tagged.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]) : [];
  for (const extension of extensions) {
    const parts = extension.value as forge.asn1.Asn1[];
    if (forge.asn1.derToOid(parts[0]!.value as string) !== KEY_USAGE_OID) continue;
    // extnValue is the last part (an optional "critical" BOOLEAN may come before it): OCTET STRING { BIT STRING }.
    const bitString = fromDer(parts.at(-1)!.value as string, { decodeBitStrings: false }).value as string;
    const bytes = [...bitString.slice(1)].map((char) => char.charCodeAt(0)); // first byte: unused bits
    return KEY_USAGE_BITS.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
  }
  return null;
}
