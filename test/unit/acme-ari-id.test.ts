// The ARI certificate id (RFC 9773 §4.1) from real certificates openssl makes, including the RFC's
// own example (AKI 69:88:5B:…, serial 0x87654321 whose high bit needs a leading 0x00), and what a
// renewalInfo answer must look like before Gatehouse believes it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ariCertificateId, parseRenewalInfo, retryAfterFrom } from '../../src-main/core/certs/acme/ari.js';
import { openssl } from '../helpers/openssl.js';
import { needTools } from '../helpers/tools.js';

const skip = needTools('openssl');
let dir = '';

async function run(...args: string[]): Promise<void> {
  const result = await openssl(...args);
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.output}`);
}

/** A leaf signed by a CA whose Subject Key Identifier is `ski`, with the given serial and AKI setting. */
async function leaf(name: string, ski: string, serial: string, aki: string | null): Promise<string> {
  const ca = join(dir, `${name}-ca`);
  await run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '30', '-subj', '/CN=ca', '-addext', `subjectKeyIdentifier=${ski}`);
  await run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', '/CN=leaf', '-out', join(dir, `${name}.csr`));
  await writeFile(join(dir, `${name}.ext`), aki ? `authorityKeyIdentifier=${aki}\n` : 'authorityKeyIdentifier=none\nsubjectKeyIdentifier=none\n');
  await run('x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', serial, '-days', '10', '-extfile', join(dir, `${name}.ext`), '-out', join(dir, `${name}.pem`));
  return readFile(join(dir, `${name}.pem`), 'utf8');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-ari-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('RFC 9773 §4.1’s example: AKI 69:88:5B:… and serial 00:87:65:43:21 → aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE', { skip }, async () => {
  const pem = await leaf('rfc', '69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4', '0x87654321', 'keyid:always');
  assert.equal(ariCertificateId(pem), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  // A chain: the leaf (first) is the one that counts.
  const chain = pem + (await readFile(join(dir, 'rfc-ca.pem'), 'utf8'));
  assert.equal(ariCertificateId(chain), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
});

test('a serial without the high bit has no leading zero; a long AKI-with-issuer extension still yields the key id', { skip }, async () => {
  const pem = await leaf('low', '01:02:03:04', '0x0a0b0c', 'keyid:always,issuer:always');
  assert.equal(ariCertificateId(pem), `${Buffer.from([1, 2, 3, 4]).toString('base64url')}.${Buffer.from([0x0a, 0x0b, 0x0c]).toString('base64url')}`);
});

test('no Authority Key Identifier, or not a certificate: a sentence, not a crash', { skip }, async () => {
  const pem = await leaf('noaki', '05:06', '0x01', null);
  assert.throws(() => ariCertificateId(pem), /no Authority Key Identifier, so it has no ARI id/);
  assert.throws(() => ariCertificateId('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /could not be read to find its ARI id/);
});

test('a renewalInfo answer: window, explanation URL, and refusals naming what is wrong', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const good = parseRenewalInfo({ suggestedWindow: { start: '2026-01-12T00:00:00Z', end: '2026-01-14T00:00:00Z' }, explanationURL: 'https://ca.test/why' }, '60', now);
  assert.deepEqual(good, {
    window: { start: new Date('2026-01-12T00:00:00Z'), end: new Date('2026-01-14T00:00:00Z') },
    explanationUrl: 'https://ca.test/why',
    retryAfter: new Date('2026-01-01T00:01:00Z'),
  });
  assert.equal(parseRenewalInfo({ suggestedWindow: { start: '2026-01-12T00:00:00Z', end: '2026-01-14T00:00:00Z' }, explanationURL: 'javascript:alert(1)' }, null, now).explanationUrl, null);
  assert.throws(() => parseRenewalInfo({}, null, now), /has no suggestedWindow/);
  assert.throws(() => parseRenewalInfo({ suggestedWindow: { start: 'soon', end: '2026-01-14T00:00:00Z' } }, null, now), /not a date/);
  assert.throws(() => parseRenewalInfo({ suggestedWindow: { start: '2026-01-14T00:00:00Z', end: '2026-01-14T00:00:00Z' } }, null, now), /ends .* before it starts/);
});

test('Retry-After: seconds or an HTTP date, six hours without one, kept between a minute and a day', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const rows: [header: string | null, delayMs: number][] = [
    [null, 6 * 3_600_000],
    ['', 6 * 3_600_000],
    ['gibberish', 6 * 3_600_000],
    ['3600', 3_600_000],
    ['0', 60_000],
    ['86401', 86_400_000],
    ['Thu, 01 Jan 2026 02:00:00 GMT', 7_200_000],
    ['Wed, 31 Dec 2025 00:00:00 GMT', 60_000],
  ];
  for (const [header, delay] of rows) assert.equal(retryAfterFrom(header, now).getTime() - now.getTime(), delay, String(header));
});
