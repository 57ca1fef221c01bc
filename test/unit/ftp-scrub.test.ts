// scrubAddresses (streams/ftp/ftp-text.ts): every form an FTP server may write its LAN address in is
// replaced before a reply reaches a client that may not see internals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scrubAddresses } from '../../src-main/core/streams/ftp/ftp-text.js';

const PUBLIC = '203.0.113.7';

test('dotted and comma forms of an IPv4 address are replaced; other numbers stay', () => {
  assert.equal(scrubAddresses('227 Entering Passive Mode (10,0,0,2,39,16).', ['10.0.0.2'], PUBLIC), '227 Entering Passive Mode (203,0,113,7,39,16).');
  assert.equal(scrubAddresses('227 (010,000,000,002,1,2)', ['10.0.0.2'], PUBLIC), '227 (203,0,113,7,1,2)');
  assert.equal(scrubAddresses('211 Connected to 10.0.0.2; 10.0.0.23 and 110.0.0.2 stay', ['10.0.0.2'], PUBLIC), '211 Connected to 203.0.113.7; 10.0.0.23 and 110.0.0.2 stay');
  // A replacement that is not IPv4 cannot be written in the comma form: the address becomes 0,0,0,0.
  assert.equal(scrubAddresses('227 (10,0,0,2,1,2)', ['10.0.0.2'], '2001:db8::7'), '227 (0,0,0,0,1,2)');
});

test('IPv6 spellings of the address are replaced, IPv4-mapped ones too', () => {
  for (const spelling of ['fd00::2', 'FD00::2', 'fd00:0:0:0:0:0:0:2', '[fd00::2]']) {
    assert.equal(scrubAddresses(`211 at ${spelling}.`, ['fd00::2'], PUBLIC), `211 at ${spelling.startsWith('[') ? `[${PUBLIC}]` : PUBLIC}.`);
  }
  assert.equal(scrubAddresses('211 fd00::22 and 12:30:45', ['fd00::2'], PUBLIC), '211 fd00::22 and 12:30:45');
  assert.equal(scrubAddresses('211 ::ffff:7f00:2 and ::FFFF:127.0.0.2', ['127.0.0.2'], PUBLIC), `211 ${PUBLIC} and ::FFFF:${PUBLIC}`);
});

test('a host name is replaced as a whole name only', () => {
  assert.equal(scrubAddresses('220 ftp.lan ready; ftp.lan.example stays', ['ftp.lan'], PUBLIC), `220 ${PUBLIC} ready; ftp.lan.example stays`);
});
