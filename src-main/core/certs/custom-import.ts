// Checks an imported certificate before anything is stored: the text is PEM of the right kind in
// the right field, the key is readable and belongs to the leaf, the leaf is a server certificate
// (not a CA; its key usages allow serving TLS) with DNS names, valid now, its chain builds up to a
// root, and nothing served uses cryptography browsers refuse (weak-crypto.ts). Every failure is a FieldIssue on
// the field to fix, with a message that says what to do, so the import form can show each one.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { ApiError, type FieldIssue } from '../../../shared/api.js';
import { certificateFacts, oneLine, pemBlocks, readableDate, type CertificateFacts, type PemBlock } from './certificate-facts.js';
import { extendedKeyUsageOf, keyUsageOf } from './key-usage.js';
import { MIN_RSA_BITS, shortRsaKeyBits, weakSignatureOf } from './weak-crypto.js';

export interface ImportedPem {
  certificatePem: string;
  privateKeyPem: string;
  chainPem?: string | undefined;
}

export interface CheckedImport {
  /** The leaf, then its chain, PEM: what the listener serves and cert.pem holds. */
  certificatePem: string;
  /** The key as PKCS#8 PEM. */
  privateKeyPem: string;
  facts: CertificateFacts;
  /** Certificates served after the leaf (a self-signed root at the end is checked, not served). */
  chainLength: number;
}

type CertificateField = 'certificatePem' | 'chainPem';

/** The import, checked; throws ApiError('invalid_input') naming each field that fails. */
export function checkImport(input: ImportedPem, now: Date): CheckedImport {
  const issues: FieldIssue[] = [];
  const given = readCertificates('certificatePem', input.certificatePem, issues);
  const chain = input.chainPem?.trim() ? readCertificates('chainPem', input.chainPem, issues) : [];
  const key = readPrivateKey(input.privateKeyPem, issues);
  if (issues.length > 0 || key === null) throw invalid(issues);

  const [leaf, ...rest] = [...given, ...chain];
  const facts = certificateFacts(leaf!);
  const name = facts.names[0] ?? facts.subject;
  if (leaf!.ca) {
    // `openssl req -x509` marks what it makes as a CA unless told otherwise: the usual way a home-lab
    // certificate ends up here. Firefox refuses a CA certificate as a server's, so it is not taken.
    const selfSigned = leaf!.checkIssued(leaf!) && facts.names.length > 0;
    issues.push({
      path: 'certificatePem',
      message: selfSigned
        ? `the certificate for "${name}" is marked as a CA (basicConstraints CA:TRUE, what openssl req -x509 makes by default), and browsers refuse a CA certificate as a server's: make it again with -addext basicConstraints=critical,CA:FALSE, or use Gatehouse's local CA for this route`
        : `the first certificate ("${facts.subject}") is a CA certificate, not a server certificate: paste the server's own certificate first, then its chain`,
    });
    throw invalid(issues);
  }
  issues.push(...servingUsageIssues(leaf!, name));
  if (!keyMatches(leaf!, key)) {
    issues.push({ path: 'privateKeyPem', message: `this key does not belong to the certificate for "${name}": paste the key that was made together with this certificate` });
  }
  if (facts.names.length === 0) {
    issues.push({
      path: 'certificatePem',
      message: `the certificate ("${facts.subject}") has no DNS names in its subjectAltName: browsers ignore the common name, so it would match no route; get one issued with every host name as a DNS entry`,
    });
  }
  if (now < facts.notBefore) {
    issues.push({ path: 'certificatePem', message: `the certificate is not valid until ${readableDate(facts.notBefore)}: check this machine's clock, or import it once that time has come` });
  }
  if (now >= facts.notAfter) {
    issues.push({ path: 'certificatePem', message: `the certificate expired on ${readableDate(facts.notAfter)}: import the renewed one` });
  }
  const chainProblem = chainProblemOf([leaf!, ...rest]);
  if (chainProblem) issues.push({ path: chain.length > 0 ? 'chainPem' : 'certificatePem', message: chainProblem });
  // A root at the end was needed to check the chain, but a client never uses one sent to it (nor
  // checks its self-signature: it trusts the root itself), so its algorithms do not matter.
  const servedChain = rest.length > 0 && isSelfSigned(rest.at(-1)!) ? rest.slice(0, -1) : rest;
  issues.push(...weakCryptoIssues(leaf!, servedChain, given.length, name));
  if (issues.length > 0) throw invalid(issues);

  if (servedChain.length < rest.length) rest.pop();
  return {
    certificatePem: [leaf!, ...rest].map((cert) => cert.toString()).join(''),
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    facts,
    chainLength: rest.length,
  };
}

/**
 * Why browsers would refuse the leaf or a chain certificate it is served with for their
 * cryptography: an RSA key under 2048 bits, or a signature made with MD5 or SHA-1. `given` is how
 * many certificates came in the certificate field (the rest came in the chain field).
 */
function weakCryptoIssues(leaf: X509Certificate, chain: X509Certificate[], given: number, name: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [i, cert] of [leaf, ...chain].entries()) {
    const path = i < given ? 'certificatePem' : 'chainPem';
    const which = i === 0 ? `the certificate for "${name}"` : `chain certificate ${i} ("${oneLine(cert.subject)}")`;
    const bits = shortRsaKeyBits(cert);
    if (bits !== null) {
      issues.push({
        path,
        message: `${which} has a ${bits}-bit RSA key, and browsers refuse RSA keys under ${MIN_RSA_BITS} bits: ${i === 0 ? `make a new key of at least ${MIN_RSA_BITS} bits (openssl req -newkey rsa:${MIN_RSA_BITS} …) and get the certificate issued again for it` : 'ask the issuer for its current intermediate certificate'}, or use Gatehouse's local CA for this route`,
      });
    }
    const hash = weakSignatureOf(cert);
    if (hash !== null) {
      issues.push({
        path,
        message: `${which} is signed with ${hash}, which browsers refuse because ${hash} signatures can be forged: ${i === 0 ? 'get it issued again with a SHA-256 signature (openssl: -sha256)' : 'ask the issuer for its current intermediate certificate, signed with SHA-256'}, or use Gatehouse's local CA for this route`,
      });
    }
  }
  return issues;
}

/**
 * Why browsers would refuse `leaf` for serving HTTPS by what it says it may be used for, one issue
 * per reason. No extendedKeyUsage or no keyUsage means any use; when present, extendedKeyUsage must
 * list serverAuth, and keyUsage must allow the handshake's use of the key: digitalSignature (the
 * server signs), or for RSA keyEncipherment (the client encrypts to it, TLS 1.2's RSA exchange).
 */
function servingUsageIssues(leaf: X509Certificate, name: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const purposes = extendedKeyUsageOf(leaf);
  if (purposes && !purposes.includes('serverAuth')) {
    issues.push({
      path: 'certificatePem',
      message: `the certificate for "${name}" may be used only for ${purposes.join(', ') || 'nothing'} (its extendedKeyUsage), not for serving HTTPS (serverAuth), so browsers refuse it: get it issued again with serverAuth in its extendedKeyUsage (openssl: -addext extendedKeyUsage=serverAuth)`,
    });
  }
  const usages = keyUsageOf(leaf);
  const rsa = leaf.publicKey.asymmetricKeyType === 'rsa';
  if (usages && !usages.includes('digitalSignature') && !(rsa && usages.includes('keyEncipherment'))) {
    const needed = rsa ? 'digitalSignature (or keyEncipherment, for an RSA key)' : 'digitalSignature';
    issues.push({
      path: 'certificatePem',
      message: `the certificate for "${name}" has a keyUsage of ${usages.join(', ') || 'nothing'}, without ${needed}, which serving HTTPS needs, so browsers refuse it: get it issued again with keyUsage digitalSignature${rsa ? ', keyEncipherment' : ''} (openssl: -addext keyUsage=critical,digitalSignature${rsa ? ',keyEncipherment' : ''})`,
    });
  }
  return issues;
}

function invalid(issues: FieldIssue[]): ApiError {
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return new ApiError('invalid_input', summary || 'the certificate cannot be imported', { issues });
}

function readCertificates(field: CertificateField, text: string, issues: FieldIssue[]): X509Certificate[] {
  const what = field === 'chainPem' ? 'chain' : 'certificate';
  const blocks = pemBlocks(text);
  const fail = (message: string) => (issues.push({ path: field, message }), []);
  if (blocks.length === 0) {
    return fail(
      text.includes('-----BEGIN')
        ? `the ${what} has a "-----BEGIN" line without its "-----END" line: paste the whole block`
        : `this is not PEM: paste the ${what} as text starting with -----BEGIN CERTIFICATE----- (a binary .der or .cer file converts with: openssl x509 -inform der -in cert.der -out cert.pem)`,
    );
  }
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE');
  if (blocks.some(isPrivateKey)) {
    return fail(
      certificates.length === 0
        ? `this is a private key, not a certificate: paste it in the private key field, and the ${what} here`
        : `besides certificates this holds a private key: paste the key in the private key field only, since certificates are stored readable by others`,
    );
  }
  if (certificates.length === 0) {
    return fail(`there is no certificate in it (found ${labelsOf(blocks)}): paste the block starting with -----BEGIN CERTIFICATE-----`);
  }
  const read: X509Certificate[] = [];
  for (const [i, block] of certificates.entries()) {
    try {
      read.push(new X509Certificate(block.text));
    } catch (error) {
      fail(`certificate ${i + 1} cannot be read (${(error as Error).message}): paste it again, whole and unchanged`);
    }
  }
  return read;
}

function readPrivateKey(text: string, issues: FieldIssue[]): KeyObject | null {
  const fail = (message: string) => (issues.push({ path: 'privateKeyPem', message }), null);
  const blocks = pemBlocks(text);
  if (blocks.length === 0) {
    return fail('this is not PEM: paste the private key as text starting with -----BEGIN PRIVATE KEY----- (or BEGIN RSA PRIVATE KEY, BEGIN EC PRIVATE KEY)');
  }
  const keys = blocks.filter(isPrivateKey);
  if (keys.length === 0) {
    return fail(
      blocks.some((block) => block.label === 'CERTIFICATE')
        ? 'this is a certificate, not a private key: paste it in the certificate field, and the key here'
        : `there is no private key in it (found ${labelsOf(blocks)}): paste the block starting with -----BEGIN PRIVATE KEY-----`,
    );
  }
  if (keys.length > 1) return fail('this holds more than one private key: paste only the key of this certificate');
  const key = keys[0]!;
  if (key.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,\s*ENCRYPTED/.test(key.text)) {
    return fail(
      'the key is encrypted with a passphrase, and Gatehouse needs it decrypted to serve it: ' +
        'run openssl pkey -in key.pem -out key-decrypted.pem (it asks for the passphrase), then paste key-decrypted.pem',
    );
  }
  try {
    return createPrivateKey(key.text);
  } catch (error) {
    return fail(`the private key cannot be read (${(error as Error).message}): paste it again, whole and unchanged`);
  }
}

function isPrivateKey(block: PemBlock): boolean {
  return block.label.endsWith('PRIVATE KEY');
}

function labelsOf(blocks: PemBlock[]): string {
  return [...new Set(blocks.map((block) => `"${block.label}"`))].join(', ');
}

function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false; // a key of another type (EC for an RSA certificate) cannot match
  }
}

/**
 * Why `certs` (leaf first, each next one its issuer) does not build a chain, or null when it does:
 * it must end in a self-signed root or in a certificate issued by a root Node trusts (Mozilla's).
 */
function chainProblemOf(certs: X509Certificate[]): string | null {
  const which = (i: number) => (i === 0 ? 'the certificate' : `chain certificate ${i}`);
  for (const [i, cert] of certs.entries()) {
    const subject = oneLine(cert.subject);
    const issuer = oneLine(cert.issuer);
    const next = certs[i + 1];
    if (next) {
      if (!cert.checkIssued(next)) {
        return `${which(i)} ("${subject}") was issued by "${issuer}", but the next certificate is "${oneLine(next.subject)}": put the chain in order, each certificate's issuer right after it`;
      }
      if (!cert.verify(next.publicKey)) {
        return `the signature on ${which(i)} ("${subject}") does not verify with the key of "${issuer}": the chain holds another certificate of that name; paste the issuer's certificate that signed this one`;
      }
      continue;
    }
    if (isSelfSigned(cert)) return null;
    if (trustedRoots().some((root) => cert.checkIssued(root) && cert.verify(root.publicKey))) return null;
    return `the issuer of ${which(i)} ("${subject}") is missing: paste "${issuer}" in the chain field (the intermediate certificates, and for a private CA its root as well)`;
  }
  return null;
}

/** Issued by itself: OpenSSL's checkIssued(self) would also want keyCertSign, which a self-signed server certificate lacks. */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

let roots: X509Certificate[] | null = null;

/** The root certificates Node ships (Mozilla's list), read once on the first import that needs them. */
function trustedRoots(): X509Certificate[] {
  roots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  return roots;
}
