// Certificates made for tests: a private CA, intermediates and server certificates with any dates,
// built with node-forge and signed by node:crypto (the same path as Gatehouse's own), so a test can
// make an expired certificate or a broken chain without faking the clock.
import forge from 'node-forge';
import { generateRsaKeyPair, randomSerialHex, signCertificate } from '../../src-main/core/certs/x509.js';
import type { Route, RouteTls } from '../../shared/model.js';
import { sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';

export interface TestCertificate {
  pem: string;
  keyPem: string;
  subject: forge.pki.CertificateField[];
}

export interface TestCertificateOptions {
  commonName: string;
  /** DNS names of the SAN; none leaves the extension out. */
  names?: string[];
  /** Signs with this certificate's key; default self-signed. */
  issuer?: TestCertificate;
  /** A CA certificate (basicConstraints cA). */
  ca?: boolean;
  /** Default: a day ago and 90 days ahead. */
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function makeTestCertificate(options: TestCertificateOptions): Promise<TestCertificate> {
  const keys = await generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 90 * DAY_MS);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer?.subject ?? subject);
  const extensions: object[] = [
    options.ca
      ? { name: 'basicConstraints', critical: true, cA: true }
      : { name: 'basicConstraints', critical: true, cA: false },
    options.ca ? { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true } : { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
  ];
  if (options.names?.length) extensions.push({ name: 'subjectAltName', altNames: options.names.map((value) => ({ type: 2, value })) });
  cert.setExtensions(extensions);
  signCertificate(cert, options.issuer?.keyPem ?? keys.privateKeyPem);
  return { pem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem, subject: cert.subject.attributes };
}

/** A stored route with the model's defaults and the given names and TLS choice. */
export function tlsRoute(id: string, names: string[], tls: Partial<RouteTls> = {}): Route {
  return sampleRoute({ id, names, upstream: 'http://127.0.0.1:9', tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off', ...tls } });
}
