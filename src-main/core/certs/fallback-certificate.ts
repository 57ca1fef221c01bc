// The neutral certificate the listener shows a client that names no route (no SNI, an unknown name,
// a route without a usable certificate). It is self-signed rather than issued by the local CA, and
// names only gatehouse.invalid (RFC 6761: a name that can never resolve), so no client can ever
// trust it for anything: a browser warns, and the person sees Gatehouse's error page if they go on.
// It is made in memory at every start and never stored; it lives as long as a leaf, so no browser
// shows a different error for it (Chrome refuses longer lifetimes with its own message).
import forge from 'node-forge';
import type { ServedCertificate } from '../proxy/tls-certificates.js';
import { LEAF_VALIDITY_DAYS } from './leaf.js';
import { randomSerialHex, signCertificate, validityFrom, type KeyPairPem } from './x509.js';

/** The only name in the neutral certificate. */
export const FALLBACK_NAME = 'gatehouse.invalid';


export function makeFallbackCertificate(keys: KeyPairPem, now: Date): ServedCertificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  const { notBefore, notAfter } = validityFrom(now, LEAF_VALIDITY_DAYS);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const subject = [{ name: 'commonName', value: 'Gatehouse' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: FALLBACK_NAME }] },
  ]);
  signCertificate(cert, keys.privateKeyPem);
  return Object.freeze({ certificatePem: forge.pki.certificateToPem(cert), privateKeyPem: keys.privateKeyPem });
}
