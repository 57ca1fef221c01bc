// Imported certificates with cryptography browsers refuse are refused with the reason and the fix:
// an RSA key under 2048 bits, a leaf signed with SHA-1 or MD5, and an intermediate signed with
// SHA-1; the same certificate made soundly (RSA 2048 or EC, SHA-256) is taken. Every certificate
// is made by the real openssl command line.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { CertificateService } from '../../src-main/core/certs/certificate-service.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { needTools } from '../helpers/tools.js';

const NAME = 'app.home.example';
const LEAF_EXT = `subjectAltName=DNS:${NAME}\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n`;
const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';

interface Made {
  certificatePem: string;
  privateKeyPem: string;
}

async function must(...args: string[]): Promise<void> {
  const result = await openssl(...args);
  assert.equal(result.code, 0, `openssl ${args.join(' ')}: ${result.output}`);
}

/** A self-signed server certificate for NAME with key `key` ("rsa:1024", "ec") signed with `digest`. */
async function selfSigned(dir: string, id: string, key: string, digest: string): Promise<Made> {
  const newkey = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', key];
  await must('req', '-x509', ...newkey, `-${digest}`, '-nodes', '-keyout', join(dir, `${id}.key`), '-out', join(dir, `${id}.pem`), '-days', '5', '-subj', `/CN=${NAME}`,
    '-addext', `subjectAltName=DNS:${NAME}`, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth');
  return { certificatePem: await readFile(join(dir, `${id}.pem`), 'utf8'), privateKeyPem: await readFile(join(dir, `${id}.key`), 'utf8') };
}

/** `id`.pem issued by `issuer` for a new RSA 2048 key, signed with `digest`, extensions from `ext`. */
async function issued(dir: string, id: string, subject: string, issuer: string, digest: string, ext: string): Promise<void> {
  await writeFile(join(dir, `${id}.ext`), ext);
  await must('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${id}.key`), '-out', join(dir, `${id}.csr`), '-subj', `/CN=${subject}`);
  await must('x509', '-req', '-in', join(dir, `${id}.csr`), '-CA', join(dir, `${issuer}.pem`), '-CAkey', join(dir, `${issuer}.key`), '-set_serial', String(Date.now()),
    '-out', join(dir, `${id}.pem`), '-days', '5', `-${digest}`, '-extfile', join(dir, `${id}.ext`));
}

async function openService(t: TestContext) {
  const dir = await tempDataDir(t);
  const service = await CertificateService.open({ dataDir: dir, onChange: () => {}, now: () => new Date(), spareKeys: 0 });
  t.after(() => service.close());
  return { service, dir };
}

async function refusal(work: () => Promise<unknown>): Promise<[string, string][]> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.code, 'invalid_input');
    return (error.details.issues ?? []).map((issue) => [issue.path, issue.message]);
  }
  assert.fail('the import was accepted');
}

describe('weak cryptography in an imported certificate', { skip: needTools('openssl') }, () => {
  test('an RSA key under 2048 bits is refused, naming its size and how to make a new one', async (t) => {
    const { service, dir } = await openService(t);
    const small = await selfSigned(dir, 'small', 'rsa:1024', 'sha256');
    const issues = await refusal(() => service.importCertificate(small));
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0]![0], 'certificatePem');
    assert.match(issues[0]![1], /^the certificate for "app\.home\.example" has a 1024-bit RSA key, and browsers refuse RSA keys under 2048 bits: make a new key of at least 2048 bits \(openssl req -newkey rsa:2048/);
  });

  for (const [digest, hash] of [['sha1', 'SHA-1'], ['md5', 'MD5']] as const) {
    test(`a leaf signed with ${hash} is refused, saying it can be forged and to use SHA-256`, async (t) => {
      const { service, dir } = await openService(t);
      const weak = await selfSigned(dir, digest, 'rsa:2048', digest);
      const issues = await refusal(() => service.importCertificate(weak));
      assert.deepEqual(issues, [
        ['certificatePem', `the certificate for "app.home.example" is signed with ${hash}, which browsers refuse because ${hash} signatures can be forged: get it issued again with a SHA-256 signature (openssl: -sha256), or use Gatehouse's local CA for this route`],
      ]);
    });
  }

  test("an intermediate signed with SHA-1 is refused on the chain field; the root's own signature does not matter", async (t) => {
    const { service, dir } = await openService(t);
    // A root self-signed with SHA-1 (never checked by clients), an intermediate it signed with SHA-1, a SHA-256 leaf.
    await must('req', '-x509', '-newkey', 'rsa:2048', '-sha1', '-nodes', '-keyout', join(dir, 'root.key'), '-out', join(dir, 'root.pem'), '-days', '5',
      '-subj', '/CN=Weak Test Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    await issued(dir, 'int', 'Weak Test Intermediate', 'root', 'sha1', CA_EXT);
    await issued(dir, 'leaf', NAME, 'int', 'sha256', LEAF_EXT);
    const read = (id: string) => readFile(join(dir, `${id}.pem`), 'utf8');
    const leaf = { certificatePem: await read('leaf'), privateKeyPem: await readFile(join(dir, 'leaf.key'), 'utf8') };
    const weakChain = (await read('int')) + (await read('root'));
    const issues = await refusal(() => service.importCertificate({ ...leaf, chainPem: weakChain }));
    assert.deepEqual(issues, [
      ['chainPem', 'chain certificate 1 ("CN=Weak Test Intermediate") is signed with SHA-1, which browsers refuse because SHA-1 signatures can be forged: ask the issuer for its current intermediate certificate, signed with SHA-256, or use Gatehouse\'s local CA for this route'],
    ]);

    // The same chain with a SHA-256 intermediate is taken, though the root is still self-signed with SHA-1.
    await issued(dir, 'int', 'Weak Test Intermediate', 'root', 'sha256', CA_EXT);
    await issued(dir, 'leaf', NAME, 'int', 'sha256', LEAF_EXT);
    const sound = { certificatePem: await read('leaf'), privateKeyPem: await readFile(join(dir, 'leaf.key'), 'utf8'), chainPem: (await read('int')) + (await read('root')) };
    const imported = await service.importCertificate(sound);
    assert.deepEqual(imported.names, [NAME]);
  });

  test('RSA 2048 and EC P-256 certificates signed with SHA-256 are taken', async (t) => {
    const { service, dir } = await openService(t);
    for (const key of ['rsa:2048', 'ec']) {
      const made = await selfSigned(dir, key.replace(':', ''), key, 'sha256');
      const imported = await service.importCertificate(made);
      assert.deepEqual(imported.names, [NAME], key);
    }
  });
});
