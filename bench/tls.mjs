// The HTTPS side every server shares: one name, one certificate. The peers and the bare forwarder
// get an RSA 2048 leaf for TLS_HOST from a local CA made with Gatehouse's own certificate code
// (the built dist/node, so `npm run bench` builds first); Gatehouse issues its own leaf of the
// same kind from its own CA. Same key type and size everywhere, so the handshakes cost the same.
//
// No client resolves TLS_HOST: wrk (bench/wrk-report.lua) and h2load (--connect-to) connect to
// 127.0.0.1 and send the name only as SNI and Host, so no system file is touched.
import { X509Certificate } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TLS_HOST } from './content.mjs';

const CERTS = fileURLToPath(new URL('../dist/node/src-main/core/certs/', import.meta.url));

/** Gatehouse's built LocalCa and issueLeaf (dist/node). */
export async function loadCertModules() {
  if (!existsSync(join(CERTS, 'leaf.js'))) throw new Error(`${CERTS}leaf.js is missing: run "npm run build" first (npm run bench does).`);
  const { LocalCa } = await import(pathToFileURL(join(CERTS, 'local-ca.js')).href);
  const { issueLeaf } = await import(pathToFileURL(join(CERTS, 'leaf.js')).href);
  return { LocalCa, issueLeaf };
}

/**
 * Writes the peers' certificate into `dir`: cert.pem, key.pem, cert+key.pem (HAProxy's format)
 * and ca.pem. Returns their paths.
 */
export async function makeBenchCertificate(dir) {
  const { LocalCa, issueLeaf } = await loadCertModules();
  const ca = await LocalCa.open(join(dir, 'ca'));
  const leaf = await issueLeaf(ca, [TLS_HOST]);
  const paths = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), combined: join(dir, 'cert+key.pem'), ca: join(dir, 'ca.pem') };
  writeFileSync(paths.cert, leaf.certificatePem, { mode: 0o644 });
  writeFileSync(paths.key, leaf.privateKeyPem, { mode: 0o644 }); // nginx reads it as root before dropping privileges; a throwaway key
  writeFileSync(paths.combined, `${leaf.certificatePem}${leaf.privateKeyPem}`, { mode: 0o644 });
  writeFileSync(paths.ca, ca.info.certificatePem, { mode: 0o644 });
  return paths;
}

/**
 * One TLS handshake with 127.0.0.1:`port` sending `servername` as SNI (and offering `alpn`).
 * Resolves {protocol (TLS version), alpn, names (the leaf's DNS SANs), keyBits, issuer, fingerprint
 * (the leaf's SHA-256, as X509Certificate.fingerprint256 writes it)}; the chain
 * is not verified here, the caller checks the names.
 */
export function handshake(port, servername, { alpn = ['http/1.1'], timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false, timeout: timeoutMs });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      const x509 = peer instanceof X509Certificate ? peer : null;
      const names = (x509?.subjectAltName ?? '')
        .split(', ')
        .filter((entry) => entry.startsWith('DNS:'))
        .map((entry) => entry.slice(4));
      const result = {
        protocol: socket.getProtocol(),
        alpn: socket.alpnProtocol || null,
        names,
        keyBits: x509?.publicKey.asymmetricKeyDetails?.modulusLength ?? null,
        keyType: x509?.publicKey.asymmetricKeyType ?? null,
        issuer: x509?.issuer.replace(/\n/g, ', ') ?? null,
        fingerprint: x509?.fingerprint256 ?? null,
      };
      socket.destroy();
      resolve(result);
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake with 127.0.0.1:${port} within ${timeoutMs} ms`)));
    socket.once('error', reject);
  });
}
