// The small rules the certificate service decides with: which certificate name covers which host
// name (RFC 6125), how PEM text splits into blocks, which state a date puts a certificate in, and
// which folder a route id may name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameCovers, namesCover, pemBlocks, stateAt } from '../../src-main/core/certs/certificate-facts.js';
import { leafFolder } from '../../src-main/core/certs/certificate-files.js';
import { RENEWAL_WARNING_DAYS } from '../../shared/status.js';

const DAY_MS = 24 * 60 * 60 * 1000;

test('a wildcard covers exactly one label, and a wildcard route only the same wildcard', () => {
  assert.equal(nameCovers('app.home.example', 'app.home.example'), true);
  assert.equal(nameCovers('*.home.example', 'app.home.example'), true);
  assert.equal(nameCovers('*.home.example', 'a.b.home.example'), false, 'one label only');
  assert.equal(nameCovers('*.home.example', 'home.example'), false, 'not the bare domain');
  assert.equal(nameCovers('*.home.example', '*.home.example'), true);
  assert.equal(nameCovers('app.home.example', '*.home.example'), false, 'an exact name does not cover a wildcard route');
  assert.equal(nameCovers('*.example', '*.home.example'), false);
  assert.equal(nameCovers('*.ome.example', 'app.home.example'), false, 'whole labels, not a text suffix');
  assert.equal(namesCover(['x.home.example', '*.svc.home.example'], 'grafana.svc.home.example'), true);
  assert.equal(namesCover([], 'x.home.example'), false);
});

test('PEM blocks are found with their labels, text around them ignored', () => {
  const text = 'subject=CN = a\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\nnoise\n-----BEGIN EC PRIVATE KEY-----\nBBBB\n-----END EC PRIVATE KEY-----';
  assert.deepEqual(pemBlocks(text), [
    { label: 'CERTIFICATE', text: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' },
    { label: 'EC PRIVATE KEY', text: '-----BEGIN EC PRIVATE KEY-----\nBBBB\n-----END EC PRIVATE KEY-----\n' },
  ]);
  assert.deepEqual(pemBlocks('-----BEGIN CERTIFICATE-----\nAAAA\n'), [], 'a block without its END line is no block');
  assert.deepEqual(pemBlocks('-----BEGIN CERTIFICATE-----\nA\n-----END PRIVATE KEY-----'), [], 'BEGIN and END must agree');
});

test('valid, then expiring RENEWAL_WARNING_DAYS before notAfter, then expired at notAfter', () => {
  const notAfter = new Date(Date.UTC(2030, 0, 31));
  const at = (ms: number) => stateAt({ notAfter }, new Date(notAfter.getTime() + ms));
  assert.equal(at(-RENEWAL_WARNING_DAYS * DAY_MS - 1), 'valid');
  assert.equal(at(-RENEWAL_WARNING_DAYS * DAY_MS), 'expiring');
  assert.equal(at(-1), 'expiring');
  assert.equal(at(0), 'expired');
});

test('a route id names a folder inside certs/routes only, one Windows can create', () => {
  for (const id of ['k3v9x0a1b2', 'a', 'x'.repeat(64), 'com10', 'console', 'lpt0']) assert.equal(leafFolder(id), id);
  const hashed = ['../../etc', '..', 'a/b', 'a\\b', '', 'x'.repeat(65), 'MyRoute', 'a_b', 'a-b', 'a.b', 'con', 'nul', 'prn', 'aux', 'com1', 'com9', 'lpt1', 'lpt9'];
  for (const id of hashed) assert.match(leafFolder(id), /^id-[0-9a-f]{32}$/, id);
  assert.equal(new Set(hashed.map(leafFolder)).size, hashed.length, 'distinct ids, distinct folders');
  assert.notEqual(leafFolder('MyRoute'), leafFolder('myroute'), 'ids differing in case never share a folder');
});
