// The RFC 2136 provider against a real bind9: the TXT record appears (dig sees it), cleanup removes
// only its own value, the zone is found from the SOA, a wrong secret or an unknown key is a
// "rejected the TSIG key" sentence, a key not allowed TXT records gets the REFUSED sentence, an
// answer not signed with our key (or changed on the way) is not trusted, and a truncated UDP answer is retried over TCP.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, Socket, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider } from '../../shared/acme.js';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { challengeRecord, createDnsProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';

type Rfc2136 = Extract<DnsProvider, { kind: 'rfc2136' }>;

function settings(server: string, overrides: Partial<Rfc2136> = {}): Rfc2136 {
  return { id: 'ns', label: 'Home DNS', propagationTimeoutMs: 10_000, kind: 'rfc2136', server, zone: null, keyName: 'acme-key', algorithm: 'hmac-sha256', ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<DnsProviderError> {
  const error = await promise.then(() => assert.fail('expected the provider to refuse'), (caught: unknown) => caught);
  assert.ok(error instanceof DnsProviderError, `expected a DnsProviderError, got ${String(error)}`);
  return error;
}

describe('RFC 2136 provider against bind9', { skip: needBind9() }, () => {
  let bind: Bind9;
  before(async () => {
    bind = await startBind9();
  });
  after(async () => {
    await bind?.close();
  });

  test('present puts the TXT value in the zone, cleanup removes only that value', async () => {
    const provider = createDnsProvider(settings(bind.address), { credentials: bind.acmeKey.secret });
    const first = challengeRecord('www.test.example', 'first-value-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    const second = challengeRecord('www.test.example', 'second-value-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
    assert.equal(provider.lookupName(first), '_acme-challenge.www.test.example');
    await provider.present(first);
    await provider.present(second);
    assert.deepEqual((await bind.dig(first.fqdn, 'TXT')).sort(), [`"${first.value}"`, `"${second.value}"`]);
    await provider.cleanup(first);
    assert.deepEqual(await bind.dig(first.fqdn, 'TXT'), [`"${second.value}"`]);
    await provider.cleanup(second);
    assert.deepEqual(await bind.dig(first.fqdn, 'TXT'), []);
  });

  test('a value longer than 255 bytes is split into character-strings and still removed exactly', async () => {
    const provider = createDnsProvider(settings(bind.address, { zone: 'test.example' }), { credentials: bind.acmeKey.secret });
    const record = challengeRecord('long.test.example', 'x'.repeat(300));
    await provider.present(record);
    assert.deepEqual(await bind.dig(record.fqdn, 'TXT'), [`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`]);
    await provider.cleanup(record);
    assert.deepEqual(await bind.dig(record.fqdn, 'TXT'), []);
  });

  test('a wrong secret is a sentence about the TSIG key, with BADSIG behind details and no secret anywhere', async () => {
    const wrong = Buffer.alloc(32, 7).toString('base64');
    const provider = createDnsProvider(settings(bind.address), { credentials: wrong });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.code, 'credentials_rejected');
    assert.equal(error.message, `The name server ${bind.address} rejected the TSIG key acme-key: the secret does not match the one it holds.`);
    assert.match(error.details ?? '', /NOTAUTH, TSIG BADSIG/);
    assert.ok(!JSON.stringify(error.toProblem()).includes(wrong));
  });

  test('an unknown key name is BADKEY: the sentence says the server does not know it', async () => {
    const provider = createDnsProvider(settings(bind.address, { keyName: 'no-such-key' }), { credentials: bind.acmeKey.secret });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.code, 'credentials_rejected');
    assert.match(error.message, /rejected the TSIG key no-such-key: it does not know a key named no-such-key with hmac-sha256\.$/);
  });

  test('a secret that is not base64 is refused before anything is sent', async () => {
    const provider = createDnsProvider(settings(bind.address), { credentials: 'not base64!' });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.message, 'The TSIG secret stored for the key acme-key is not base64 text.');
  });

  test('a key that may not change TXT records gets the REFUSED sentence naming the key and the record', async () => {
    const provider = createDnsProvider(settings(bind.address, { keyName: bind.webKey.name }), { credentials: bind.webKey.secret });
    const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
    assert.equal(error.code, 'credentials_rejected');
    assert.equal(error.message, `The name server ${bind.address} refused the update: the TSIG key web-key may not change _acme-challenge.www.test.example.`);
    assert.match(error.fix ?? '', /grant web-key zonesub TXT;/);
    assert.match(error.details ?? '', /rcode REFUSED/);
  });

  test('a name outside every zone of the server is a sentence asking for the zone', async () => {
    const provider = createDnsProvider(settings(bind.address), { credentials: bind.acmeKey.secret });
    const error = await rejection(provider.present(challengeRecord('www.elsewhere.example', 'v')));
    assert.equal(error.code, 'name_rejected');
    assert.match(error.message, /does not serve a zone holding _acme-challenge\.www\.elsewhere\.example/);
  });

  test('a server that does not answer is named, within seconds', async () => {
    const silent = createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const address = `127.0.0.1:${silent.address().port}`;
      const provider = createDnsProvider(settings(address, { zone: 'test.example' }), { credentials: bind.acmeKey.secret });
      const started = Date.now();
      const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
      assert.equal(error.message, `The name server ${address} did not answer the update of _acme-challenge.www.test.example.`);
      assert.ok(Date.now() - started < 15_000);
    } finally {
      silent.close();
    }
  });

  test('an answer not signed with our key is not trusted', async () => {
    // A "server" that answers every update NOERROR without a TSIG record.
    const liar = createSocket('udp4');
    liar.on('message', (query, peer) => {
      const answer = Buffer.from(query.subarray(0, 12));
      answer.writeUInt16BE(0xa800, 2); // QR, opcode UPDATE, NOERROR
      answer.writeUInt16BE(0, 4);
      answer.writeUInt16BE(0, 6);
      answer.writeUInt16BE(0, 8);
      answer.writeUInt16BE(0, 10);
      liar.send(answer, peer.port, peer.address);
    });
    liar.bind(0, '127.0.0.1');
    await once(liar, 'listening');
    try {
      const address = `127.0.0.1:${liar.address().port}`;
      const provider = createDnsProvider(settings(address, { zone: 'test.example' }), { credentials: bind.acmeKey.secret });
      const error = await rejection(provider.present(challengeRecord('www.test.example', 'v')));
      assert.equal(error.message, `The name server ${address} answered the update without a valid TSIG signature, so Gatehouse cannot trust it.`);
    } finally {
      liar.close();
    }
  });

  test("a signed answer changed on the way (one header bit) fails the server's signature check", async () => {
    // A relay to bind9 that sets the AA bit of every answer: the TSIG no longer matches.
    const relay = createSocket('udp4');
    relay.on('message', (query, peer) => {
      const upstream = createSocket('udp4');
      upstream.on('message', (answer) => {
        answer.writeUInt16BE(answer.readUInt16BE(2) | 0x0400, 2);
        relay.send(answer, peer.port, peer.address);
        upstream.close();
      });
      upstream.send(query, bind.port, '127.0.0.1');
    });
    relay.bind(0, '127.0.0.1');
    await once(relay, 'listening');
    try {
      const address = `127.0.0.1:${relay.address().port}`;
      const provider = createDnsProvider(settings(address, { zone: 'test.example' }), { credentials: bind.acmeKey.secret });
      const error = await rejection(provider.present(challengeRecord('tampered.test.example', 'v')));
      assert.equal(error.message, `The name server ${address} answered the update without a valid TSIG signature, so Gatehouse cannot trust it.`);
    } finally {
      relay.close();
    }
  });

  test('a truncated UDP answer is retried over TCP', async () => {
    // UDP: every answer truncated and empty. TCP: relayed to bind9, which really does the update.
    const udp = createSocket('udp4');
    udp.on('message', (query, peer) => {
      const answer = Buffer.from(query.subarray(0, 12));
      answer.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7800) | 0x0200, 2);
      for (const at of [4, 6, 8, 10]) answer.writeUInt16BE(0, at);
      udp.send(answer, peer.port, peer.address);
    });
    let tcpConnections = 0;
    const tcp: Server = createServer((client) => {
      tcpConnections++;
      const upstream = new Socket();
      upstream.connect(bind.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const port = (tcp.address() as { port: number }).port;
    udp.bind(port, '127.0.0.1');
    await once(udp, 'listening');
    try {
      const provider = createDnsProvider(settings(`127.0.0.1:${port}`), { credentials: bind.acmeKey.secret });
      const record = challengeRecord('tcp.test.example', 'over-tcp');
      await provider.present(record);
      assert.deepEqual(await bind.dig(record.fqdn, 'TXT'), ['"over-tcp"']);
      assert.ok(tcpConnections >= 2, `expected the SOA query and the update over TCP, saw ${tcpConnections} connections`);
      await provider.cleanup(record);
    } finally {
      udp.close();
      tcp.close();
    }
  });
});
