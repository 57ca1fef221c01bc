// Hostile ClientHellos: SNI values no browser would send, and bytes that are no ClientHello at all.
// Each may fail its own handshake; none may take the process down or stop the listener serving, and
// none may get a route's certificate: a hello offering TLS 1.2 only gets its Certificate message in
// the clear, so the test reads which certificate each odd name was given.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { echoHandler, route, startServer, type TestServer } from '../helpers/proxy-harness.js';
import { clientHello, httpsGet, sanNames, sendRaw } from '../helpers/tls-clients.js';
import { openTestCa, startTlsProxy, TestCertificates, type RunningTlsProxy, type TestCa } from '../helpers/tls-proxy.js';

let ca: TestCa;
let certs: TestCertificates;
let upstream: TestServer;
let proxy: RunningTlsProxy;

before(async () => {
  ca = await openTestCa();
  certs = new TestCertificates(await ca.leaf(['gatehouse.home.arpa']));
  certs.byRoute.set('app', await ca.leaf(['app.home.arpa']));
  upstream = await startServer(echoHandler('echo'));
  proxy = await startTlsProxy([route('app', upstream.url, ['app.home.arpa'], { tls: { mode: 'local', certificateId: null, acme: null, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const } })], certs);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await ca?.remove();
});

async function stillServing(): Promise<void> {
  const answer = await httpsGet(proxy.httpsPort, 'app.home.arpa', ca.caPath);
  assert.equal(answer.status, 200);
  assert.deepEqual(sanNames(answer.certificate), ['app.home.arpa']);
}

const names: [string, Buffer | null][] = [
  ['an empty SNI', Buffer.alloc(0)],
  ['a 300-byte SNI', Buffer.from('a'.repeat(290) + '.home.arpa')],
  ['an IP literal as SNI', Buffer.from('127.0.0.1')],
  ['an IPv6 literal as SNI', Buffer.from('[::1]')],
  ['non-ASCII bytes in the SNI', Buffer.from([0x61, 0x70, 0x70, 0xc3, 0xa9, 0xff, 0xfe, 0x2e, 0x68, 0x6f, 0x6d, 0x65])],
  ['a NUL inside the SNI', Buffer.from('app.home.arpa\0.evil.example')],
  ['a NUL right after a route name', Buffer.from('app.home.arpa\0')],
  ['a route name with a trailing dot', Buffer.from('APP.home.arpa.')],
  ['no SNI extension', null],
];

/** `hello` (from clientHello) without supported_versions: the server then answers TLS 1.2. */
function offeringTls12Only(hello: Buffer): Buffer {
  // record (5) → handshake header (4) → version (2), random (32), session id, suites, compression.
  let at = 5 + 4 + 2 + 32;
  at += 1 + (hello[at] as number);
  at += 2 + hello.readUInt16BE(at);
  at += 1 + (hello[at] as number);
  const kept: Buffer[] = [];
  for (let ext = at + 2; ext < hello.length; ) {
    const end = ext + 4 + hello.readUInt16BE(ext + 2);
    if (hello.readUInt16BE(ext) !== 0x002b) kept.push(hello.subarray(ext, end));
    ext = end;
  }
  const extensions = Buffer.concat(kept);
  const body = Buffer.concat([hello.subarray(9, at), Buffer.from([extensions.length >> 8, extensions.length & 0xff]), extensions]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff]), handshake]);
}

/** The leaf of the first Certificate message in a server's TLS 1.2 flight; null when none came (an alert, a close). */
function presentedLeaf(flight: Buffer): X509Certificate | null {
  const fragments: Buffer[] = [];
  for (let at = 0; at + 5 <= flight.length && flight[at] === 0x16; at += 5 + flight.readUInt16BE(at + 3)) {
    fragments.push(flight.subarray(at + 5, at + 5 + flight.readUInt16BE(at + 3)));
  }
  const messages = Buffer.concat(fragments);
  for (let at = 0; at + 4 <= messages.length; at += 4 + messages.readUIntBE(at + 1, 3)) {
    if (messages[at] !== 11) continue;
    // Certificate: total length (3), then each certificate as length (3) and DER; the leaf is first.
    const length = messages.readUIntBE(at + 7, 3);
    return new X509Certificate(messages.subarray(at + 10, at + 10 + length));
  }
  return null;
}

test('the TLS 1.2 probe reads the certificate a handshake presents', async () => {
  // Without this, "no certificate seen" below could mean the probe cannot see one.
  const route = presentedLeaf(await sendRaw(proxy.httpsPort, offeringTls12Only(clientHello(Buffer.from('app.home.arpa')))));
  assert.deepEqual(route && sanNames(route), ['app.home.arpa']);
  const neutral = presentedLeaf(await sendRaw(proxy.httpsPort, offeringTls12Only(clientHello(null))));
  assert.deepEqual(neutral && sanNames(neutral), ['gatehouse.home.arpa']);
});

/** Names that are a route's own name, written another way a resolver accepts: they get its certificate. */
const routeSpellings = new Set(['a route name with a trailing dot']);

for (const [what, name] of names) {
  test(`${what}: the handshake answers or fails alone, never with another name's certificate, and the listener keeps serving`, async () => {
    const answer = await sendRaw(proxy.httpsPort, clientHello(name));
    // A TLS record came back (ServerHello or an alert), or the connection was closed: never a hang.
    if (answer.length > 0) assert.ok(answer[0] === 0x16 || answer[0] === 0x15, `a handshake or alert record, got 0x${answer[0]?.toString(16)}`);
    const leaf = presentedLeaf(await sendRaw(proxy.httpsPort, offeringTls12Only(clientHello(name))));
    // Failing the handshake is fine; presenting a certificate is fine only if it is the neutral one.
    if (leaf !== null) assert.deepEqual(sanNames(leaf), routeSpellings.has(what) ? ['app.home.arpa'] : ['gatehouse.home.arpa']);
    await stillServing();
  });
}

test('a route whose certificate is unusable fails its own handshakes only, and says so once', async () => {
  const good = certs.byRoute.get('app') ?? null;
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (message: string) => warnings.push(message);
  try {
    certs.byRoute.set('app', { certificatePem: 'not a certificate', privateKeyPem: 'not a key' });
    for (let i = 0; i < 3; i++) await assert.rejects(httpsGet(proxy.httpsPort, 'app.home.arpa', ca.caPath));
    const answer = await httpsGet(proxy.httpsPort, null, ca.caPath, { host: 'app.home.arpa' });
    assert.equal(answer.status, 200, 'clients without SNI are still served');
  } finally {
    console.warn = warn;
    certs.byRoute.set('app', good);
  }
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] as string, /a TLS handshake for "app\.home\.arpa" failed/);
  await stillServing();
});

const garbage: [string, Buffer][] = [
  ['plain HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: app.home.arpa\r\n\r\n')],
  ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 151 + 7) % 256))],
  ['a handshake record whose length lies', Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0x00, 0x05])],
  ['a truncated ClientHello', clientHello(Buffer.from('app.home.arpa')).subarray(0, 60)],
  ['an SSLv2-style hello', Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10])],
];

for (const [what, bytes] of garbage) {
  test(`${what} instead of a ClientHello: the connection ends, the listener keeps serving`, async () => {
    // A truncated hello waits for the rest until the handshake timeout; 2 s is enough to show no crash.
    await sendRaw(proxy.httpsPort, bytes, 2000);
    await stillServing();
  });
}
