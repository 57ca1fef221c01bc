// What the local CA and its leaves share: key generation, serial numbers and signing.
// node-forge builds the certificate structure (it knows X.509 extensions); node:crypto makes the
// keys and the signature, because forge's RSA runs in JavaScript on the event loop that also serves
// the proxy, while node:crypto generates keys on the thread pool and signs in OpenSSL.
import { generateKeyPair, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * RSA, because node-forge's certificate code handles only RSA public keys, and RSA is what every
 * device that may import the CA accepts (old Android, iOS, Windows, NSS). 2048 bits is the size the
 * CA/Browser Forum minimum and Apple's requirement both name, and keeps issuance quick.
 */
export const RSA_KEY_BITS = 2048;

/** Serial number length in bytes: 16 bytes gives ~126 random bits, well above the required 64. */
const SERIAL_BYTES = 16;

/**
 * How far notBefore lies in the past, in milliseconds (1 hour): a phone whose clock runs a few
 * minutes slow would otherwise reject a certificate issued a moment ago as "not yet valid".
 */
export const BACKDATE_MS = 60 * 60 * 1000;

export interface KeyPairPem {
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"), what node:tls and openssl read directly. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
}

/** A fresh RSA key pair, generated off the event loop (libuv thread pool). */
export async function generateRsaKeyPair(): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * A random positive serial as hex. The first byte is forced into 0x40–0x7f: below 0x80 keeps the
 * DER INTEGER positive, and non-zero keeps its encoding minimal (OpenSSL rejects padded integers).
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** The parts of forge's certificate object that its typings leave out. */
interface ForgeSigningInternals {
  tbsCertificate: forge.asn1.Asn1;
  signatureOid: string;
  signature: string;
  siginfo: { algorithmOid: string };
}

/** forge's own TBSCertificate encoder (present at runtime, missing from @types/node-forge). */
const getTbsCertificate = (forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 })
  .getTBSCertificate;

/**
 * Signs `cert` with sha256WithRSAEncryption using node:crypto: the same steps as forge's
 * cert.sign(), but the RSA operation runs in OpenSSL rather than in forge's JavaScript.
 */
export function signCertificate(cert: forge.pki.Certificate, signerKeyPem: string): void {
  const internals = cert as unknown as ForgeSigningInternals;
  const oid = forge.pki.oids['sha256WithRSAEncryption']!;
  internals.signatureOid = oid;
  internals.siginfo.algorithmOid = oid;
  internals.tbsCertificate = getTbsCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(internals.tbsCertificate).getBytes(), 'binary');
  internals.signature = sign('sha256', tbsDer, signerKeyPem).toString('binary');
}

/** A validity window starting BACKDATE_MS ago and lasting `days` days from now. */
export function validityFrom(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  const DAY_MS = 24 * 60 * 60 * 1000;
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}
