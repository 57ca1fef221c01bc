// The PROXY protocol parser, byte by byte: every valid header is recognised only once complete, and
// every invalid one is refused as early as its bytes show it, within the size bounds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_V1_BYTES, MAX_V2_LENGTH, parseProxyHeader, ProxyProtocolError, V2_SIGNATURE } from '../../src-main/core/net/proxy-protocol.js';

/** Feeds `bytes` one more byte at a time: null until the last, then the header. */
function byteByByte(bytes: Buffer) {
  for (let n = 0; n < bytes.length; n++) assert.equal(parseProxyHeader(bytes.subarray(0, n)), null, `null after ${n} of ${bytes.length} bytes`);
  return parseProxyHeader(bytes);
}

function v2(command: number, family: number, block: Buffer): Buffer {
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head);
  head[12] = 0x20 | command;
  head[13] = family;
  head.writeUInt16BE(block.length, 14);
  return Buffer.concat([head, block]);
}

const refused = (bytes: Buffer | string, message: RegExp) =>
  assert.throws(() => parseProxyHeader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')), (error: unknown) => error instanceof ProxyProtocolError && message.test(error.message));

describe('PROXY protocol v1', () => {
  test('TCP4 and TCP6 lines give the source, only once the CRLF is in', () => {
    const line = Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET / HTTP/1.1\r\n', 'latin1');
    const end = line.indexOf('\r\n') + 2;
    assert.deepEqual(byteByByte(line.subarray(0, end)), { version: 1, source: { address: '203.0.113.7', port: 56324 }, destination: { address: '192.0.2.1', port: 443 }, length: end });
    assert.equal(parseProxyHeader(line)?.length, end, 'the bytes after the header are the client stream');
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n'));
    assert.deepEqual(six?.source, { address: '2001:db8::1', port: 65535 });
  });

  test('UNKNOWN keeps the socket peer', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { version: 1, source: null, destination: null, length: 15 });
    assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n'))?.source, null);
  });

  test('the longest valid line (107 bytes) passes; a line that reaches 107 bytes without CRLF is refused', () => {
    // The spec's worst case: UNKNOWN followed by two full IPv6 addresses and ports.
    const longest = 'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    assert.equal(longest.length, MAX_V1_BYTES);
    assert.equal(byteByByte(Buffer.from(longest))?.length, 107);
    const tcp6 = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    assert.equal(parseProxyHeader(Buffer.from(tcp6))?.source?.address, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(90))), null, '104 bytes without CRLF: could still end');
    refused('PROXY UNKNOWN ' + 'a'.repeat(93), /longer than 107/);
    refused('PROXY UNKNOWN ' + 'a'.repeat(92) + '\r\n', /longer than 107/);
  });

  test('malformed lines are refused: wrong family, addresses, ports, field count, stray bytes', () => {
    refused('PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n', /not IPv4/);
    refused('PROXY TCP6 203.0.113.7 2001:db8::1 1 2\r\n', /not IPv6/);
    refused('PROXY TCP4 203.0.113.7 192.0.2.1 01 2\r\n', /port "01"/);
    refused('PROXY TCP4 203.0.113.7 192.0.2.1 65536 2\r\n', /port "65536"/);
    refused('PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n', /TCP4\|TCP6/);
    refused('PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n', /TCP4\|TCP6/);
    refused('PROXY TCP4  203.0.113.7 192.0.2.1 1 2\r\n', /TCP4\|TCP6/);
    refused('PROXY TCP4 203.0.113.7\n', /character/);
    refused('PROXY TCP4 \x00', /character/);
  });

  test('anything that is not a PROXY header is refused at its first wrong byte', () => {
    refused('G', /did not start/);
    refused('PROX ', /did not start/);
    refused('proxy TCP4', /did not start/);
    assert.equal(parseProxyHeader(Buffer.from('PROX')), null);
  });
});

describe('PROXY protocol v2', () => {
  const tcp4 = Buffer.from([203, 0, 113, 7, 192, 0, 2, 1, 0xdc, 0x04, 0x01, 0xbb]);

  test('PROXY over TCP4 gives the source, only once the whole block is in', () => {
    const header = v2(1, 0x11, tcp4);
    assert.deepEqual(byteByByte(header), { version: 2, source: { address: '203.0.113.7', port: 56324 }, destination: { address: '192.0.2.1', port: 443 }, length: 28 });
  });

  test('PROXY over TCP6, addresses written compressed; IPv4-mapped ones as IPv4', () => {
    const block = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(block, 0);
    Buffer.from('00000000000000000000ffffc0000201', 'hex').copy(block, 16);
    block.writeUInt16BE(4711, 32);
    block.writeUInt16BE(443, 34);
    const header = parseProxyHeader(v2(1, 0x21, block));
    assert.deepEqual(header?.source, { address: '2001:db8::1', port: 4711 });
    assert.deepEqual(header?.destination, { address: '192.0.2.1', port: 443 });
    const full = Buffer.from('20010db8000100020003000400050006', 'hex');
    const other = parseProxyHeader(v2(1, 0x21, Buffer.concat([full, full, Buffer.alloc(4)])));
    assert.equal(other?.source?.address, '2001:db8:1:2:3:4:5:6');
  });

  test('TLVs after the addresses are skipped; the length covers them', () => {
    const tlv = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]); // ALPN "h2"
    const header = parseProxyHeader(Buffer.concat([v2(1, 0x11, Buffer.concat([tcp4, tlv])), Buffer.from('rest')]));
    assert.equal(header?.length, 16 + 12 + 5);
    assert.equal(header?.source?.address, '203.0.113.7');
  });

  test('LOCAL and UNSPEC keep the socket peer', () => {
    assert.deepEqual(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0))), { version: 2, source: null, destination: null, length: 16 });
    assert.equal(parseProxyHeader(v2(0, 0x11, tcp4))?.source, null, 'LOCAL ignores addresses it carries');
    assert.equal(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)))?.source, null);
  });

  test('the length field is bounded: more than the bound is refused from the 16th byte, before any of it arrives', () => {
    const head = v2(1, 0x11, Buffer.alloc(0));
    head.writeUInt16BE(MAX_V2_LENGTH + 1, 14);
    refused(head, /at most 1024/);
    head.writeUInt16BE(0xffff, 14);
    refused(head, /65535 bytes/);
    head.writeUInt16BE(MAX_V2_LENGTH, 14);
    assert.equal(parseProxyHeader(head), null, 'exactly the bound waits for its bytes');
  });

  test('bad version, command, family, or a block too short for its addresses is refused', () => {
    const badVersion = v2(1, 0x11, tcp4);
    badVersion[12] = 0x11;
    refused(badVersion, /version 1/);
    refused(v2(2, 0x11, tcp4), /unknown command 2/);
    refused(v2(1, 0x12, tcp4), /family\/protocol 0x12/);
    refused(v2(1, 0x31, Buffer.alloc(216)), /family\/protocol 0x31/);
    refused(v2(1, 0x11, tcp4.subarray(0, 11)), /too short for TCP over IPv4/);
    refused(v2(1, 0x21, Buffer.alloc(35)), /too short for TCP over IPv6/);
  });

  test('a broken signature is refused at its first wrong byte', () => {
    refused(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0b]), /did not start/);
    refused(Buffer.from([0x0d, 0x0b]), /did not start/);
    assert.equal(parseProxyHeader(V2_SIGNATURE.subarray(0, 5)), null);
  });
});
