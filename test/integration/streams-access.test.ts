// Access rules on streams, from a real "internet client": a network namespace (test/helpers/
// outside-client.ts) whose address is on none of this machine's networks. A stream open to this
// network only closes its TCP connection before any upstream is dialed and logs the refusal with the
// rule; an access list allowing the client lets it in; a UDP stream drops its datagrams, counts each,
// and logs the client once a minute at most.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { defaultAccessSettings, type AccessList } from '../../shared/access.js';
import { freeUdpTcpPort } from '../helpers/dnsmasq.js';
import { needOutsideClient, OutsideClient } from '../helpers/outside-client.js';
import { waitUntil } from '../helpers/proxy-harness.js';
import { makeStream, startStreamHarness, type StreamHarness } from '../helpers/stream-harness.js';
import { freePortOn } from '../helpers/vsftpd.js';

const skip = needOutsideClient('nc');

describe('stream access from outside this network', { skip }, () => {
  let outside: OutsideClient;
  let harness: StreamHarness;
  let upstream: Server;
  let upstreamPort: number;
  const accepted: Socket[] = [];

  before(async () => {
    outside = await OutsideClient.create();
    const friends: AccessList = { id: 'friends', name: 'Friends', entries: [{ action: 'allow', range: `${outside.clientAddress}/32`, note: 'my phone' }] };
    harness = await startStreamHarness({ bindAddress: outside.hostAddress, access: { ...defaultAccessSettings(), lists: [friends] } });
    // Echoes, and ends when the client ends.
    upstream = createServer((socket) => {
      accepted.push(socket);
      socket.on('error', () => {});
      socket.write('upstream:');
      socket.pipe(socket);
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    upstreamPort = (upstream.address() as { port: number }).port;
  });
  after(async () => {
    await harness?.close();
    for (const socket of accepted) socket.destroy();
    upstream?.close();
    await outside?.destroy();
  });

  /** `printf hi | nc -N` from the namespace: what came back. */
  const tcpFromOutside = async (port: number): Promise<string> => {
    const result = await outside.exec(['sh', '-c', `printf hi | nc -N -w 3 ${outside.hostAddress} ${port}`], 15_000);
    return result.stdout;
  };

  test('exposure "this network only" refuses the outside client before dialing, logged with the rule; a list allowing it lets it in', async () => {
    const [lanPort, friendsPort] = [await freePortOn('127.0.0.1'), await freePortOn('127.0.0.1')];
    await harness.apply([
      makeStream('lan', { protocol: 'tcp', listenPort: lanPort, upstreams: [`127.0.0.1:${upstreamPort}`], access: { exposure: 'lan', lists: [] }, healthCheck: { enabled: false } }),
      makeStream('friends', { protocol: 'tcp', listenPort: friendsPort, upstreams: [`127.0.0.1:${upstreamPort}`], access: { exposure: 'lan', lists: ['friends'] }, healthCheck: { enabled: false } }),
    ]);
    const before = accepted.length;
    assert.equal(await tcpFromOutside(lanPort), '', 'the refused client gets nothing');
    await waitUntil(() => harness.logsFor('lan').length === 1, 3000, 'the refusal entry');
    assert.equal(accepted.length, before, 'no connection reached the upstream');
    const refusal = harness.logsFor('lan')[0]!;
    assert.equal(refusal.client, outside.clientAddress);
    assert.equal(refusal.method, 'TCP');
    assert.equal(refusal.path, `:${lanPort}`);
    assert.equal(refusal.status, 403);
    assert.equal(refusal.error, 'lan_only');
    assert.equal(refusal.rule, 'exposure: this network only');
    assert.equal(refusal.upstream, null);
    assert.equal(harness.status('lan').refused, 1);
    assert.equal(harness.status('lan').total, 0);

    assert.equal(await tcpFromOutside(friendsPort), 'upstream:hi');
    await waitUntil(() => harness.logsFor('friends').length === 1, 3000, 'the admitted entry');
    const admitted = harness.logsFor('friends')[0]!;
    assert.equal(admitted.client, outside.clientAddress);
    assert.equal(admitted.status, 0);
    assert.equal(harness.status('friends').total, 1);
  });

  test('a UDP stream drops a refused client\'s datagrams, counts each, and logs it once a minute at most', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (message, remote) => echo.send(message, remote.port, remote.address));
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    try {
      const port = await freeUdpTcpPort('127.0.0.1');
      await harness.apply([makeStream('udplan', { protocol: 'udp', listenPort: port, upstreams: [`127.0.0.1:${echo.address().port}`], access: { exposure: 'lan', lists: [] } })]);
      for (let i = 0; i < 3; i++) {
        const result = await outside.exec(['sh', '-c', `printf ping | nc -u -w 1 ${outside.hostAddress} ${port}`], 10_000);
        assert.equal(result.stdout, '', 'no answer for a refused client');
      }
      await waitUntil(() => harness.status('udplan').refused === 3, 3000, 'three refused datagrams');
      assert.equal(harness.status('udplan').total, 0, 'no session was opened');
      assert.equal(harness.manager.udpSessions('udplan'), 0);
      const entries = harness.logsFor('udplan');
      assert.equal(entries.length, 1, 'logged once');
      assert.equal(entries[0]!.method, 'UDP');
      assert.equal(entries[0]!.status, 403);
      assert.equal(entries[0]!.rule, 'exposure: this network only');
    } finally {
      echo.close();
    }
  });
});
