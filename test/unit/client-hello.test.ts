// The ClientHello reader TLS passthrough decides on: real hellos from openssl s_client and Node's
// tls.connect (captured by a raw TCP server in the test), fed whole, byte by byte and re-fragmented
// over several TLS records; what is not TLS (HTTP, SSLv2, garbage) said so at once; and hostile or
// broken input bounded (a bounded fuzz: every answer is reached within the cap, nothing throws).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, test } from 'node:test';
import { ClientHelloReader, MAX_PEEK_BYTES, readClientHello, type HelloReading } from '../../src-main/core/streams/client-hello.js';
import { clientHello } from '../helpers/tls-clients.js';
import { needTools } from '../helpers/tools.js';

const skip = needTools('openssl');

/** Listens on 127.0.0.1, keeps the first `bytes` a client sends (then closes it), resolves with them. */
async function captureHello(sendHello: (port: number) => () => void, bytes = 4096): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let resolve!: (data: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolve = r));
  const server = createServer((socket: Socket) => {
    let timer: NodeJS.Timeout | null = null;
    const finish = () => {
      if (timer) clearTimeout(timer);
      resolve(Buffer.concat(chunks));
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (Buffer.concat(chunks).length >= bytes) return finish();
      // The hello comes in one flight: a quiet moment after it is its end.
      if (timer) clearTimeout(timer);
      timer = setTimeout(finish, 300);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = sendHello((server.address() as AddressInfo).port);
  try {
    return await got;
  } finally {
    stop();
    server.close();
  }
}

function openssl(port: number, args: string[]): () => void {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  return () => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  };
}

function node(port: number, options: { servername?: string; ALPNProtocols?: string[] }): () => void {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  socket.on('error', () => {});
  return () => socket.destroy();
}

/** Splits a hello's single record into records of `size` handshake bytes each. */
function refragment(record: Buffer, size: number): Buffer {
  assert.equal(record[0], 0x16);
  const length = record.readUInt16BE(3);
  const handshake = record.subarray(5, 5 + length);
  const out: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const piece = handshake.subarray(at, at + size);
    const head = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    head.writeUInt16BE(piece.length, 3);
    out.push(head, piece);
  }
  return Buffer.concat([...out, record.subarray(5 + length)]);
}

function byteByByte(data: Buffer): { result: HelloReading; at: number } {
  const reader = new ClientHelloReader();
  for (let i = 0; i < data.length; i++) {
    const result = reader.push(data.subarray(i, i + 1));
    if (result.kind !== 'more') return { result, at: i + 1 };
  }
  return { result: { kind: 'more' }, at: data.length };
}

const captured = new Map<string, Buffer>();

before(async () => {
  if (skip) return;
  captured.set('openssl pve.test h2', await captureHello((port) => openssl(port, ['-servername', 'pve.test', '-alpn', 'h2,http/1.1'])));
  captured.set('openssl tls1.2', await captureHello((port) => openssl(port, ['-servername', 'App.Test', '-tls1_2'])));
  captured.set('openssl no sni', await captureHello((port) => openssl(port, ['-noservername'])));
  captured.set('node sni', await captureHello((port) => node(port, { servername: 'node.example.org', ALPNProtocols: ['h2', 'http/1.1'] })));
  captured.set('node no sni', await captureHello((port) => node(port, {})));
});
after(() => captured.clear());

test('real ClientHellos from openssl s_client and Node give their name and ALPN', { skip }, () => {
  assert.deepEqual(readClientHello(captured.get('openssl pve.test h2')!), { kind: 'hello', serverName: 'pve.test', alpn: ['h2', 'http/1.1'] });
  // The name as the client sent it: the listener lowers it before matching.
  assert.deepEqual(readClientHello(captured.get('openssl tls1.2')!), { kind: 'hello', serverName: 'App.Test', alpn: [] });
  assert.deepEqual(readClientHello(captured.get('openssl no sni')!), { kind: 'hello', serverName: null, alpn: [] });
  assert.deepEqual(readClientHello(captured.get('node sni')!), { kind: 'hello', serverName: 'node.example.org', alpn: ['h2', 'http/1.1'] });
  // Node sends no SNI for an IP address (RFC 6066 forbids literal addresses).
  assert.deepEqual(readClientHello(captured.get('node no sni')!), { kind: 'hello', serverName: null, alpn: [] });
});

test('a hello split across TCP reads (byte by byte) is read once its last byte is in, not before', { skip }, () => {
  for (const [label, hello] of captured) {
    const whole = readClientHello(hello);
    const record = hello.readUInt16BE(3) + 5;
    const { result, at } = byteByByte(hello);
    assert.deepEqual(result, whole, label);
    assert.equal(at, record, `${label}: answered at the record's last byte`);
    assert.deepEqual(readClientHello(hello.subarray(0, record - 1)), { kind: 'more' }, label);
  }
});

test('a hello fragmented over several TLS records (handshake fragmentation) is put together', { skip }, () => {
  const hello = captured.get('openssl pve.test h2')!;
  for (const size of [1, 3, 4, 5, 50, 200]) {
    const fragmented = refragment(hello, size);
    const expected = { kind: 'hello', serverName: 'pve.test', alpn: ['h2', 'http/1.1'] };
    if (hello.readUInt16BE(3) / size > 64) {
      // More than 64 records: refused as not TLS (the TLS server then judges it itself).
      assert.equal(readClientHello(fragmented).kind, 'not-tls', `size ${size}`);
      continue;
    }
    assert.deepEqual(readClientHello(fragmented), expected, `size ${size}`);
    assert.deepEqual(byteByByte(fragmented).result, expected, `size ${size}, byte by byte`);
  }
});

test('what is not TLS is said so from its first byte: HTTP, SSLv2-style hellos, garbage', () => {
  assert.equal(readClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).kind, 'not-tls');
  assert.equal(readClientHello(Buffer.from('G')).kind, 'not-tls');
  // SSLv2-compatible ClientHello: a 2-byte length with the high bit set, then msg type 1.
  assert.equal(readClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])).kind, 'not-tls');
  assert.equal(readClientHello(Buffer.from([0x16, 0x02, 0x00, 0x00, 0x10])).kind, 'not-tls', 'record version 2.0');
  assert.equal(readClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])).kind, 'not-tls', 'empty record');
  assert.equal(readClientHello(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01])).kind, 'not-tls', 'record over 2^14');
  assert.equal(readClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])).kind, 'not-tls', 'a ServerHello');
  // A hello that claims more than the cap is refused at its header, before anything is waited for.
  assert.equal(readClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00])).kind, 'not-tls');
  assert.deepEqual(readClientHello(Buffer.alloc(0)), { kind: 'more' });
  assert.deepEqual(readClientHello(Buffer.from([0x16, 0x03])), { kind: 'more' });
});

test('hand-built hellos: names of any case, odd names left out, no extensions at all', () => {
  assert.deepEqual(readClientHello(clientHello(Buffer.from('PVE.Test'))), { kind: 'hello', serverName: 'PVE.Test', alpn: [] });
  assert.equal((readClientHello(clientHello(Buffer.from('bad name'))) as { serverName: string | null }).serverName, null);
  assert.equal((readClientHello(clientHello(Buffer.from('a\u0000b'))) as { serverName: string | null }).serverName, null);
  assert.equal((readClientHello(clientHello(Buffer.alloc(300, 0x61))) as { serverName: string | null }).serverName, null);
  assert.equal(readClientHello(clientHello(Buffer.alloc(0))).kind, 'not-tls', 'an empty host_name is malformed');
  assert.deepEqual(readClientHello(clientHello(null)), { kind: 'hello', serverName: null, alpn: [] });
});

test('a hello that never completes is cut at the size cap, and the bytes after an answer change nothing', () => {
  // A record header announcing 16 KiB, then dribbled bytes: "more" until the record ends, never beyond the cap.
  const reader = new ClientHelloReader();
  const head = Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc]);
  assert.equal(reader.push(head).kind, 'more');
  let result: HelloReading = { kind: 'more' };
  let fed = head.length;
  while (result.kind === 'more' && fed <= MAX_PEEK_BYTES + 10) {
    result = reader.push(Buffer.alloc(1000));
    fed += 1000;
  }
  assert.equal(result.kind, 'not-tls');
  assert.ok(fed <= MAX_PEEK_BYTES + 1000, `answered within the cap (after ${fed} bytes)`);
  assert.equal(reader.push(clientHello(Buffer.from('a.test'))).kind, 'not-tls', 'the answer stays');
  // Tiny records each carrying one byte: refused past 64 records rather than read forever.
  const tiny = new ClientHelloReader();
  let answer: HelloReading = { kind: 'more' };
  for (let i = 0; i < 100 && answer.kind === 'more'; i++) answer = tiny.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, i === 0 ? 0x01 : 0x00]));
  assert.equal(answer.kind, 'not-tls');
});

test('fuzz (bounded): mutated and truncated hellos never throw and always answer within the cap', () => {
  const base = clientHello(Buffer.from('fuzz.example'));
  const started = performance.now();
  for (let round = 0; round < 3000; round++) {
    const data = Buffer.from(base);
    const flips = 1 + (round % 8);
    for (let i = 0; i < flips; i++) data[(randomBytes(2).readUInt16BE(0) % (data.length - 1)) + 1] = randomBytes(1)[0]!;
    const cut = round % 3 === 0 ? data.subarray(0, randomBytes(2).readUInt16BE(0) % data.length) : data;
    const whole = readClientHello(cut);
    assert.ok(['more', 'hello', 'not-tls'].includes(whole.kind));
    if (whole.kind === 'hello') assert.ok(whole.serverName === null || /^[\x21-\x7e]{1,255}$/.test(whole.serverName));
    // Fed in random pieces, the answer is the same.
    const reader = new ClientHelloReader();
    let pieces: HelloReading = { kind: 'more' };
    for (let at = 0; at < cut.length; ) {
      const size = 1 + (randomBytes(1)[0]! % 64);
      pieces = reader.push(cut.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(pieces, whole);
  }
  for (let round = 0; round < 500; round++) {
    const junk = Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), randomBytes(randomBytes(2).readUInt16BE(0) % 20_000)]);
    const reader = new ClientHelloReader();
    let answer: HelloReading = { kind: 'more' };
    for (let at = 0; at < junk.length && answer.kind === 'more'; at += 4096) answer = reader.push(junk.subarray(at, at + 4096));
    if (junk.length > MAX_PEEK_BYTES) assert.notEqual(answer.kind, 'more', 'past the cap there is an answer');
  }
  assert.ok(performance.now() - started < 30_000, 'bounded in time');
});
