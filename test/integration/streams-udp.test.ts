// UDP streams through a real StreamManager: dig asks a real dnsmasq through a stream; the DNS probe
// shows dnsmasq up, and down once it stops; and a flood of 10,000 distinct client addresses (127.x.y.z:
// loopback takes any 127/8 source) stays within the session bound and, after the idle timeout, leaves
// at most 64 more file descriptors open than before (counted in /proc/self/fd) — no socket per client.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DNS_PROBE_HEX } from '../../shared/streams.js';
import { dig, freeUdpTcpPort, needDnsmasq, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { sleep, waitUntil } from '../helpers/proxy-harness.js';
import { makeStream, startStreamHarness, type StreamHarness } from '../helpers/stream-harness.js';

const HOST = '127.0.0.1';

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('UDP streams', () => {
  let harness: StreamHarness;

  before(async () => {
    harness = await startStreamHarness();
  });
  after(async () => {
    await harness?.close();
  });

  test('dig through a UDP stream to dnsmasq; the DNS probe shows it up, then down once it stops', { skip: needDnsmasq() }, async () => {
    let dns: Dnsmasq | undefined = await startDnsmasq();
    try {
      const port = await freeUdpTcpPort(HOST);
      await harness.apply([
        makeStream('dns', {
          protocol: 'udp',
          listenPort: port,
          upstreams: [`${HOST}:${dns.port}`],
          idleTimeoutMs: 1000,
          healthCheck: { intervalSeconds: 2, timeoutMs: 500, udpProbeHex: DNS_PROBE_HEX },
        }),
      ]);
      assert.deepEqual(await dig(HOST, port, 'www.test.example', 'A'), ['192.0.2.10']);
      assert.deepEqual(await dig(HOST, port, 'www.test.example', 'A'), ['192.0.2.10'], 'a second query (another session: dig uses a new port)');
      assert.match(dns.log(), /query\[A\] www\.test\.example from 127\.0\.0\.1/);
      await waitUntil(() => harness.status('dns').upstreams[0]!.state === 'up', 5000, 'the probe to pass');
      let status = harness.status('dns');
      assert.equal(status.health, 'up');
      assert.equal(status.upstreams[0]!.lastCheck?.check, 'UDP probe');
      assert.equal(status.upstreams[0]!.lastCheck?.passed, true);
      assert.ok(status.total >= 2, `sessions counted: ${status.total}`);
      assert.ok(status.bytesIn > 0 && status.bytesOut > 0);
      // The sessions close after the idle timeout, one log entry each.
      await waitUntil(() => harness.status('dns').open === 0, 5000, 'the idle sessions to close');
      const entries = harness.logsFor('dns');
      assert.equal(entries.length, harness.status('dns').total);
      assert.equal(entries[0]!.method, 'UDP');
      assert.equal(entries[0]!.path, `:${port}`);
      assert.equal(entries[0]!.error, 'idle_timeout');
      assert.ok(entries[0]!.bytes > 0, 'the answer\'s bytes');

      await dns.close();
      dns = undefined;
      await waitUntil(() => harness.status('dns').upstreams[0]!.state === 'down', 8000, 'the probe to fail');
      status = harness.status('dns');
      assert.equal(status.health, 'down');
      assert.equal(status.upstreams[0]!.lastCheck?.passed, false);
      assert.match(status.upstreams[0]!.lastCheck?.error ?? '', /did not answer the probe|refused the probe/);
    } finally {
      await dns?.close();
    }
  });

  test('a UDP stream without a probe reports its upstream unknown', async () => {
    const port = await freeUdpTcpPort(HOST);
    await harness.apply([makeStream('wg', { protocol: 'udp', listenPort: port, upstreams: [`${HOST}:9`] })]);
    const status = harness.status('wg');
    assert.equal(status.state, 'listening');
    assert.equal(status.upstreams[0]!.state, 'unknown');
    assert.equal(status.health, 'unknown');
  });

  test('10,000 client addresses: sessions stay within udpMaxSessions, and the idle timeout gives back every socket', async () => {
    // The upstream answers every datagram (so each session's socket is really used both ways).
    const upstream = createSocket('udp4');
    upstream.on('message', (message, remote) => upstream.send(message, remote.port, remote.address));
    upstream.bind(0, HOST);
    await once(upstream, 'listening');
    try {
      const port = await freeUdpTcpPort(HOST);
      const maxSessions = 32;
      await harness.apply([
        makeStream('flood', { protocol: 'udp', listenPort: port, upstreams: [`${HOST}:${upstream.address().port}`], idleTimeoutMs: 1000, udpMaxSessions: maxSessions }),
      ]);
      await sleep(100);
      const before = openFds();
      let most = 0;
      let sent = 0;
      const errors: string[] = [];
      const sampler = setInterval(() => (most = Math.max(most, harness.manager.udpSessions('flood'))), 5);
      const started = Date.now();
      // 100 batches of 100 addresses, one every ~100 ms: 127.20.0.1 … 127.20.39.250 (each client socket closed once sent).
      for (let batch = 0; batch < 100; batch++) {
        const sends: Promise<void>[] = [];
        for (let i = 0; i < 100; i++) {
          const n = batch * 100 + i;
          const address = `127.20.${Math.floor(n / 250)}.${(n % 250) + 1}`;
          sends.push(
            new Promise<void>((resolve) => {
              const client: UdpSocket = createSocket('udp4');
              client.on('error', (error: NodeJS.ErrnoException) => {
                errors.push(error.code ?? error.message);
                client.close();
                resolve();
              });
              client.bind(0, address, () => {
                client.send(`hello from ${address}`, port, HOST, () => {
                  sent++;
                  client.close();
                  resolve();
                });
              });
            }),
          );
        }
        await Promise.all(sends);
        most = Math.max(most, harness.manager.udpSessions('flood'));
        const due = started + (batch + 1) * 100;
        if (Date.now() < due) await sleep(due - Date.now());
      }
      clearInterval(sampler);
      assert.deepEqual(errors, [], 'no client socket failed (no EMFILE)');
      assert.equal(sent, 10_000);
      assert.ok(most <= maxSessions, `at most ${maxSessions} sessions at once, saw ${most}`);
      // Each address either got a session or, while every session was active within the last
      // second (udp-stream.ts: none is evicted for a newcomer then), had its datagram dropped and counted.
      await waitUntil(() => harness.status('flood').total + harness.status('flood').refused >= 9000, 5000, 'the sessions and drops to be counted').catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(harness.status('flood'))}`);
      });
      const during = harness.status('flood');
      assert.ok(during.bytesOut > 0, 'the upstream answered');
      // After the idle timeout every session (and its socket) is gone.
      await waitUntil(() => harness.manager.udpSessions('flood') === 0, 5000, 'the sessions to time out');
      await sleep(100);
      const afterwards = openFds();
      assert.ok(afterwards - before <= 64, `file descriptors: ${before} before, ${afterwards} after`);
      const status = harness.status('flood');
      assert.equal(status.open, 0);
      const sessionEntries = harness.logsFor('flood').filter((entry) => entry.error !== 'too_many_sessions');
      assert.equal(sessionEntries.length, status.total, 'one log entry per session');
      assert.ok(
        harness.logsFor('flood').some((entry) => entry.error === 'session_evicted' || entry.error === 'too_many_sessions'),
        'a full table made room or dropped newcomers',
      );
    } finally {
      upstream.close();
    }
  });
});
