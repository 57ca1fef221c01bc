// The one TLS policy of the HTTPS listener, and the secure contexts built under it. Every
// certificate, local or imported, is served with these settings and no others: a certificate
// carries a key and a chain, never a protocol version or a cipher.
import { constants } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { ServedCertificate } from './tls-certificates.js';

/**
 * TLS 1.3 suites (all three AEAD), then TLS 1.2 suites with forward secrecy (ECDHE) and an AEAD
 * cipher only: no CBC (Lucky13, padding oracles), no RSA key exchange (no forward secrecy), no
 * SHA-1 MACs. AES-GCM first: every current CPU accelerates it; ChaCha20 serves the rest.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Key exchange groups, fastest first. */
export const TLS_CURVES = 'X25519:P-256:P-384';

/** Protocols offered by ALPN, preferred first: browsers and h2load get HTTP/2. */
export const ALPN_PROTOCOLS = ['h2', 'http/1.1'];

/** What every context and the listener itself are created with. */
export const TLS_POLICY: Readonly<SecureContextOptions> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: TLS_CIPHERS,
  ecdhCurve: TLS_CURVES,
  // The server's order wins: a client that lists a weaker suite first still gets the strongest.
  honorCipherOrder: true,
  // Renegotiation is a denial-of-service lever and useless to browsers; compression is CRIME.
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION,
});

/**
 * Secure contexts per certificate object. A certificate keeps its identity until it is replaced
 * (renewal, import), so a handshake costs one WeakMap lookup, and a replaced one is collected.
 */
export class SecureContexts {
  private readonly built = new WeakMap<ServedCertificate, SecureContext>();

  /** The context serving `certificate`; throws when its PEM is unusable (bad key, mismatched pair). */
  contextFor(certificate: ServedCertificate): SecureContext {
    let context = this.built.get(certificate);
    if (!context) {
      context = createSecureContext({ ...TLS_POLICY, cert: certificate.certificatePem, key: certificate.privateKeyPem });
      this.built.set(certificate, context);
    }
    return context;
  }
}
