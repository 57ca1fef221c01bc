// The small pieces of the DNS providers that need no server: reading a name server address, TXT
// character-strings, names with compression pointers (and loops), TSIG secrets, DuckDNS's
// subdomain, and the challenge record of a wildcard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duckDnsSubdomain } from '../../src-main/core/certs/acme/dns/duckdns.js';
import { challengeRecord } from '../../src-main/core/certs/acme/dns/provider.js';
import { parseServer } from '../../src-main/core/certs/acme/dns/transport.js';
import { decodeTsigSecret } from '../../src-main/core/certs/acme/dns/tsig.js';
import { CLASS, decodeMessage, encodeMessage, OPCODE, txtData, TYPE } from '../../src-main/core/certs/acme/dns/wire.js';

test('name server addresses: host, host:port, bracketed IPv6; junk is null', () => {
  assert.deepEqual(parseServer('10.33.0.2'), { host: '10.33.0.2', port: 53, label: '10.33.0.2' });
  assert.deepEqual(parseServer('ns1.example.com:5353'), { host: 'ns1.example.com', port: 5353, label: 'ns1.example.com:5353' });
  assert.deepEqual(parseServer('[fd00::2]:54'), { host: 'fd00::2', port: 54, label: '[fd00::2]:54' });
  assert.deepEqual(parseServer('fd00::2'), { host: 'fd00::2', port: 53, label: 'fd00::2' });
  for (const bad of ['ns1:0', 'ns1:99999', 'a b', 'ns1:53:1', '']) assert.equal(parseServer(bad), null, bad);
});

test('TXT values are split into character-strings of at most 255 bytes', () => {
  assert.deepEqual([...txtData('abc')], [3, 97, 98, 99]);
  const long = txtData('y'.repeat(256));
  assert.equal(long[0], 255);
  assert.equal(long[256], 1);
  assert.equal(long.length, 258);
});

test('names with compression pointers are read; a pointer loop is an error, not a hang', () => {
  const query = encodeMessage({ id: 7, opcode: OPCODE.QUERY, response: true, truncated: false, rcode: 0, questions: [{ name: 'www.example.com', type: TYPE.TXT, class: CLASS.IN }], answers: [], authority: [], additional: [] });
  // An answer whose owner is a pointer to the question's name (offset 12).
  const answer = Buffer.concat([query, Buffer.from([0xc0, 12]), Buffer.from([0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 3, 97, 98, 99])]);
  answer.writeUInt16BE(1, 6);
  const parsed = decodeMessage(answer);
  assert.equal(parsed.answers[0]!.name, 'www.example.com');
  const loop = Buffer.from(answer);
  loop.writeUInt8(query.length, query.length + 1); // the pointer points at itself
  assert.throws(() => decodeMessage(loop), /loops/);
});

test('a TSIG secret must be base64', () => {
  assert.equal(decodeTsigSecret('not base64!'), null);
  assert.equal(decodeTsigSecret(''), null);
  assert.deepEqual(decodeTsigSecret(Buffer.alloc(32, 1).toString('base64')), Buffer.alloc(32, 1));
});

test("DuckDNS's subdomain and a wildcard's challenge record", () => {
  assert.equal(duckDnsSubdomain('_acme-challenge.www.myhome.duckdns.org'), 'myhome');
  assert.equal(duckDnsSubdomain('myhome.duckdns.org.'), 'myhome');
  assert.equal(duckDnsSubdomain('duckdns.org'), null);
  assert.equal(duckDnsSubdomain('www.example.com'), null);
  assert.deepEqual(challengeRecord('*.Lab.Example.com.', 'v'), { name: 'lab.example.com', fqdn: '_acme-challenge.lab.example.com', value: 'v' });
});
