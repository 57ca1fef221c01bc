// TCP streams through a real StreamManager (test/helpers/stream-harness.ts), with real upstreams on
// 127.0.0.1: half-close passed on both ways, the idle timeout, failover over refused and silent
// (connect timeout) upstreams with a 502 entry when none answers, port ranges mapped one to one and
// shifted, PROXY protocol v1/v2 towards the upstream and from a trusted front, and a port already
// taken failing that stream only.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { formatProxyHeader, parseProxyHeader, type ProxyHeader } from '../../src-main/core/net/proxy-protocol.js';
import { sleep, waitUntil, within } from '../helpers/proxy-harness.js';
import { makeStream, startStreamHarness, type StreamHarness } from '../helpers/stream-harness.js';
import { freePortOn, freePortRange, stopPeer } from '../helpers/vsftpd.js';

const HOST = '127.0.0.1';

/** A TCP server on 127.0.0.1 (allowHalfOpen) calling `onSocket` per connection. */
async function tcpServer(onSocket: (socket: Socket) => void, port = 0): Promise<Server & { port: number; sockets: Set<Socket> }> {
  // Health checks connect and leave at once: a reset is routine.
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(port, HOST);
  await once(server, 'listening');
  return Object.assign(server, { port: (server.address() as { port: number }).port, sockets });
}

/** Replies "name:" + what it got, as it comes. */
function echo(name: string) {
  return (socket: Socket) => {
    socket.on('error', () => {});
    socket.write(`${name}:`);
    socket.pipe(socket);
  };
}

async function closeServer(server: (Server & { sockets?: Set<Socket> }) | undefined): Promise<void> {
  if (!server) return;
  for (const socket of server.sockets ?? []) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Connects, sends `data` (then ends when `end`), and collects every byte until the other side ends. */
function exchange(port: number, data: Buffer | string, options: { end?: boolean; ms?: number; localAddress?: string } = {}): Promise<Buffer> {
  return within(
    new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ host: HOST, port, allowHalfOpen: true, localAddress: options.localAddress });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => {
        socket.end();
        resolve(Buffer.concat(chunks));
      });
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      // Closed by the proxy with our bytes unread (a refusal, no upstream): the kernel resets.
      socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks)) : reject(error)));
      socket.write(data);
      if (options.end !== false) socket.end();
    }),
    options.ms ?? 10_000,
    `an exchange on port ${port}`,
  );
}

/** Sends `line`, waits until `expect` came back (or the connection closed), then closes. */
function ask(port: number, line: string | Buffer, expect: string, ms = 5000): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = connect({ host: HOST, port });
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        got += text;
        if (got.includes(expect)) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.write(line);
    }),
    ms,
    `"${expect}" on port ${port}`,
  );
}

/** A listening port whose accept queue is full, so a connect to it hangs (a silent upstream). */
async function silentPort(): Promise<{ port: number; child: ChildProcess }> {
  const script = [
    'import socket, time',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    'fill = []',
    'for i in range(3):',
    '    c = socket.socket(); c.setblocking(False)',
    '    try: c.connect(s.getsockname())',
    '    except BlockingIOError: pass',
    '    fill.append(c)',
    'print(s.getsockname()[1], flush=True)',
    'time.sleep(120)',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await within(once(child.stdout!, 'data'), 10_000, 'the silent port')) as [Buffer];
  return { port: Number(line.toString().trim()), child };
}

describe('TCP streams', () => {
  let harness: StreamHarness;
  const servers: (Server & { sockets: Set<Socket> })[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    harness = await startStreamHarness();
  });
  after(async () => {
    await harness?.close();
    for (const server of servers) await closeServer(server);
    for (const child of children) await stopPeer(child);
  });

  test('half-close: a client that ends its side still gets the whole answer', async () => {
    // The upstream reads to the end, then answers with the size and hash of what it got, and more.
    const upstream = await tcpServer((socket) => {
      const hash = createHash('sha256');
      let size = 0;
      socket.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      socket.on('end', () => {
        socket.write(`${size} ${hash.digest('hex')}\n`);
        socket.end(Buffer.alloc(300_000, 0x61));
      });
    });
    servers.push(upstream);
    const port = await freePortOn(HOST);
    await harness.apply([makeStream('half', { protocol: 'tcp', listenPort: port, upstreams: [`${HOST}:${upstream.port}`] })]);
    const payload = randomBytes(500_000);
    const answer = await exchange(port, payload);
    const newline = answer.indexOf('\n');
    assert.equal(answer.subarray(0, newline).toString(), `${payload.length} ${createHash('sha256').update(payload).digest('hex')}`);
    assert.equal(answer.length - newline - 1, 300_000, 'every byte after the half-close arrived');
    await waitUntil(() => harness.logsFor('half').length === 1, 3000, 'the connection\'s log entry');
    const [entry] = harness.logsFor('half');
    assert.equal(entry!.method, 'TCP');
    assert.equal(entry!.path, `:${port}`);
    assert.equal(entry!.status, 0);
    assert.equal(entry!.upstream, `${HOST}:${upstream.port}`);
    assert.equal(entry!.bytes, answer.length);
    const status = harness.status('half');
    assert.equal(status.state, 'listening');
    assert.equal(status.total, 1);
    assert.equal(status.open, 0);
    assert.equal(status.bytesIn, payload.length);
    assert.equal(status.bytesOut, answer.length);
  });

  test('idle timeout closes a silent connection; refused and silent upstreams fail over; none reachable is a 502', async () => {
    const live = await tcpServer(echo('live'));
    servers.push(live);
    const refusedPort = await freePortOn(HOST); // nothing listens there
    const silent = await silentPort();
    children.push(silent.child);
    const [idlePort, failoverPort, deadPort] = [await freePortOn(HOST), await freePortOn(HOST), await freePortOn(HOST)];
    const streams = [
      makeStream('idle', { protocol: 'tcp', listenPort: idlePort, upstreams: [`${HOST}:${live.port}`], idleTimeoutMs: 1000 }),
      makeStream('failover', {
        protocol: 'tcp',
        listenPort: failoverPort,
        upstreams: [`${HOST}:${refusedPort}`, `${HOST}:${silent.port}`, `${HOST}:${live.port}`],
        connectTimeoutMs: 300,
        healthCheck: { enabled: false },
      }),
      makeStream('dead', { protocol: 'tcp', listenPort: deadPort, upstreams: [`${HOST}:${refusedPort}`, `${HOST}:${silent.port}`], connectTimeoutMs: 300, healthCheck: { enabled: false } }),
    ];
    await harness.apply(streams);

    // Idle: the upstream greets, then nobody says anything; closed after about a second.
    const started = Date.now();
    const greeting = await exchange(idlePort, '', { end: false, ms: 8000 });
    assert.equal(greeting.toString(), 'live:');
    assert.ok(Date.now() - started >= 900, `closed after ${Date.now() - started} ms, before the idle timeout`);
    await waitUntil(() => harness.logsFor('idle').length === 1, 3000, 'the idle entry');
    assert.equal(harness.logsFor('idle')[0]!.error, 'idle_timeout');

    // Failover: refused, then silent past the connect timeout, then the live one.
    assert.equal(await ask(failoverPort, 'hello', 'live:hello'), 'live:hello');
    await waitUntil(() => harness.logsFor('failover').length === 1, 3000, 'the failover entry');
    assert.equal(harness.logsFor('failover')[0]!.upstream, `${HOST}:${live.port}`);
    const view = harness.status('failover');
    assert.deepEqual(view.upstreams.map((upstream) => upstream.state), ['down', 'down', 'unknown'], 'passive health marked the failed ones down (checks are off: the live one stays unknown)');
    assert.equal(view.upstreams[2]!.active, true);

    // None reachable: the client is just closed (it learns no address), the log has the 502.
    const answer = await exchange(deadPort, 'anyone?', { end: false });
    assert.equal(answer.length, 0, 'the client got nothing');
    await waitUntil(() => harness.logsFor('dead').length === 1, 3000, 'the 502 entry');
    const entry = harness.logsFor('dead')[0]!;
    assert.equal(entry.status, 502);
    assert.equal(entry.upstream, null);
    assert.match(entry.error ?? '', /^upstream_(refused|connect_timeout|unreachable)$/);
    assert.match(entry.detail ?? '', new RegExp(`${refusedPort} refused the connection; .*${silent.port} timed out`));
    assert.equal(harness.status('dead').failed, 1);
  });

  test('ranges map each port one to one, or shifted', async () => {
    const base = await freePortRange(HOST, 3);
    const shiftedBase = await freePortRange(HOST, 3);
    const upstreams: (Server & { sockets: Set<Socket> })[] = [];
    for (let i = 0; i < 3; i++) upstreams.push(await tcpServer(echo(`u${i}`), shiftedBase + i));
    servers.push(...upstreams);
    // One to one: a harness on another address (127.0.0.2), listening on the very ports the upstreams use on 127.0.0.1.
    const other = await startStreamHarness({ bindAddress: '127.0.0.2' });
    try {
      await other.apply([makeStream('same', { protocol: 'tcp', listenPort: shiftedBase, listenPortEnd: shiftedBase + 2, upstreams: [`${HOST}:${shiftedBase}`] })]);
      await harness.apply([makeStream('shifted', { protocol: 'tcp', listenPort: base, listenPortEnd: base + 2, upstreams: [`${HOST}:${shiftedBase}`] })]);
      for (let i = 0; i < 3; i++) {
        assert.equal(await ask(base + i, 'x', `u${i}:x`), `u${i}:x`, `shifted: port ${base + i} → ${shiftedBase + i}`);
        const viaOther = await within(
          new Promise<string>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.2', port: shiftedBase + i });
            let got = '';
            socket.setEncoding('utf8').on('data', (text: string) => {
              got += text;
              if (got.includes('y')) {
                socket.destroy();
                resolve(got);
              }
            });
            socket.on('error', reject);
            socket.write('y');
          }),
          5000,
          'one to one',
        );
        assert.equal(viaOther, `u${i}:y`, `one to one: port ${shiftedBase + i} → ${shiftedBase + i}`);
      }
      assert.deepEqual(harness.manager.boundPorts('shifted'), [base, base + 1, base + 2]);
    } finally {
      await other.close();
    }
  });

  test('PROXY protocol out (v1, v2): the upstream sees the real client; in: a trusted front names the client that is judged and logged', async () => {
    const seen: ProxyHeader[] = [];
    // An upstream that expects a PROXY header and answers with the client it names.
    const upstream = await tcpServer((socket) => {
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const header = parseProxyHeader(received);
        if (!header || received.length < header.length + 'payload'.length) return;
        seen.push(header);
        socket.end(`you are ${header.source?.address}:${header.source?.port} rest=${received.subarray(header.length).toString()}`);
      });
      socket.on('error', () => {});
    });
    servers.push(upstream);
    const [v1Port, v2Port, frontPort] = [await freePortOn(HOST), await freePortOn(HOST), await freePortOn(HOST)];
    const echoUpstream = await tcpServer(echo('behind'));
    servers.push(echoUpstream);
    await harness.apply([
      makeStream('pp1', { protocol: 'tcp', listenPort: v1Port, upstreams: [`${HOST}:${upstream.port}`], proxyProtocol: 'v1' }),
      makeStream('pp2', { protocol: 'tcp', listenPort: v2Port, upstreams: [`${HOST}:${upstream.port}`], proxyProtocol: 'v2' }),
      makeStream('front', { protocol: 'tcp', listenPort: frontPort, upstreams: [`${HOST}:${echoUpstream.port}`], access: { exposure: 'lan', lists: [] } }),
    ]);
    for (const [port, version] of [[v1Port, 1], [v2Port, 2]] as const) {
      const got = await new Promise<{ text: string; localPort: number }>((resolve, reject) => {
        const socket = connect({ host: HOST, port, localAddress: '127.0.0.9' });
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve({ text, localPort: socket.localPort ?? 0 }));
        socket.on('error', reject);
        socket.write('payload');
      });
      assert.equal(got.text, `you are 127.0.0.9:${got.localPort} rest=payload`);
      assert.equal(seen.at(-1)!.version, version);
      assert.deepEqual(seen.at(-1)!.destination, { address: HOST, port });
    }

    // PROXY in: 127.0.0.1 is a trusted front. It names 198.51.100.7, an outsider: the lan-only stream refuses it.
    harness.proxyProtocolFrom = ['127.0.0.1'];
    try {
      const outsider = Buffer.concat([formatProxyHeader(2, { address: '198.51.100.7', port: 4242 }, { address: HOST, port: frontPort }), Buffer.from('hi')]);
      assert.equal((await exchange(frontPort, outsider, { end: false })).length, 0, 'refused: nothing came back');
      await waitUntil(() => harness.logsFor('front').length === 1, 3000, 'the refusal entry');
      const refusal = harness.logsFor('front')[0]!;
      assert.equal(refusal.client, '198.51.100.7');
      assert.equal(refusal.status, 403);
      assert.equal(refusal.error, 'lan_only');
      assert.equal(refusal.rule, 'exposure: this network only');
      // It names a client on this network: admitted, and logged under that name; the bytes after the header go through.
      const insider = Buffer.concat([formatProxyHeader(2, { address: '192.168.1.20', port: 5000 }, { address: HOST, port: frontPort }), Buffer.from('hi')]);
      assert.equal(await ask(frontPort, insider, 'behind:hi'), 'behind:hi');
      await waitUntil(() => harness.logsFor('front').length === 2, 3000, 'the admitted entry');
      assert.equal(harness.logsFor('front')[1]!.client, '192.168.1.20');
      // A listed front that sends no header is cut off, and nothing reaches the upstream.
      assert.equal((await exchange(frontPort, 'GET / HTTP/1.0\r\n\r\n', { end: false })).length, 0);
      await waitUntil(() => harness.logsFor('front').length === 3, 3000, 'the bad-header entry');
      assert.equal(harness.logsFor('front')[2]!.error, 'proxy_protocol');
      // A header that names no client (v1 UNKNOWN) says nothing about who asks: outside this network, so refused.
      assert.equal((await exchange(frontPort, Buffer.from('PROXY UNKNOWN\r\nhi'), { end: false })).length, 0, 'UNKNOWN: nothing came back');
      await waitUntil(() => harness.logsFor('front').length === 4, 3000, 'the UNKNOWN refusal entry');
      assert.equal(harness.logsFor('front')[3]!.error, 'lan_only');
      assert.match(harness.logsFor('front')[3]!.detail ?? '', /named no client/);
      assert.equal(harness.status('front').refused, 3);
    } finally {
      harness.proxyProtocolFrom = [];
    }
  });

  test('an FTP stream without the FTP module fails with a clear problem; with a factory, its handler gets the admitted connections', async () => {
    const upstream = await tcpServer(echo('ftp'));
    servers.push(upstream);
    const [controlPort, passiveFrom] = [await freePortOn(HOST), await freePortRange(HOST, 2)];
    const ftp = makeStream('ftp', { protocol: 'ftp', listenPort: controlPort, upstreams: [`${HOST}:${upstream.port}`], ftp: { passivePortFrom: passiveFrom, passivePortTo: passiveFrom + 1, tls: 'off', certificateRouteId: null } });
    await harness.apply([ftp]);
    const failed = harness.status('ftp');
    assert.equal(failed.state, 'failed');
    assert.equal(failed.problem?.code, 'ftp_not_loaded');
    assert.match(failed.problem?.message ?? '', /FTP support is not loaded/);

    // With a factory: the manager admits, the factory's handler (here the plain TCP one) forwards.
    const { createTcpHandler } = await import('../../src-main/core/streams/tcp-stream.js');
    const made: string[] = [];
    const withFtp = await startStreamHarness({ manager: { createFtpHandler: (runtime) => (made.push(runtime.stream.id), createTcpHandler(runtime)) } });
    try {
      await withFtp.apply([ftp]);
      assert.equal(withFtp.status('ftp').state, 'listening');
      assert.deepEqual(made, ['ftp']);
      assert.equal(await ask(controlPort, 'USER x', 'ftp:USER x'), 'ftp:USER x');
    } finally {
      await withFtp.close();
    }
  });

  test('health: TCP connect checks per upstream, the first one up is active, down when it stops, checks end with the stream', async () => {
    let checks = 0;
    const live = await tcpServer(() => void checks++);
    servers.push(live);
    const deadPort = await freePortOn(HOST);
    const port = await freePortOn(HOST);
    const changesBefore = harness.changes.count;
    await harness.apply([makeStream('health', { protocol: 'tcp', listenPort: port, upstreams: [`${HOST}:${deadPort}`, `${HOST}:${live.port}`], healthCheck: { intervalSeconds: 2, timeoutMs: 500 } })]);
    await waitUntil(() => harness.status('health').upstreams.every((upstream) => upstream.lastCheck !== null), 5000, 'the first checks');
    let status = harness.status('health');
    assert.equal(status.upstreams[0]!.state, 'down');
    assert.equal(status.upstreams[0]!.lastCheck?.check, 'TCP connect');
    assert.equal(status.upstreams[0]!.lastCheck?.error, 'refused the connection');
    assert.equal(status.upstreams[0]!.active, false);
    assert.equal(status.upstreams[1]!.state, 'up');
    assert.equal(status.upstreams[1]!.active, true, 'new connections go to the first one up');
    assert.ok(status.upstreams[1]!.since !== null);
    assert.equal(status.health, 'up');
    assert.ok(harness.changes.count > changesBefore, 'deps.changed() was told');
    await closeServer(live);
    servers.splice(servers.indexOf(live), 1);
    await waitUntil(() => harness.status('health').health === 'down', 6000, 'both down');
    status = harness.status('health');
    assert.equal(status.upstreams[0]!.active, true, 'all down: the first is tried');
    // Removed: no more checks.
    const again = await tcpServer(() => void checks++, live.port);
    servers.push(again);
    await harness.apply([]);
    const seen = checks;
    await sleep(2500);
    assert.equal(checks, seen, 'no check after the stream was removed');
  });

  test('a port already taken fails that stream only, with the problem and its fix', async () => {
    const squatter = await tcpServer(() => {});
    servers.push(squatter);
    const upstream = await tcpServer(echo('ok'));
    servers.push(upstream);
    const freePort = await freePortOn(HOST);
    await harness.apply([
      makeStream('taken', { protocol: 'tcp', listenPort: squatter.port, upstreams: [`${HOST}:${upstream.port}`] }),
      makeStream('fine', { protocol: 'tcp', listenPort: freePort, upstreams: [`${HOST}:${upstream.port}`] }),
    ]);
    const taken = harness.status('taken');
    assert.equal(taken.state, 'failed');
    assert.equal(taken.problem?.code, 'port_in_use');
    assert.match(taken.problem?.message ?? '', new RegExp(`another program is already using port ${squatter.port}`));
    assert.match(taken.problem?.fix ?? '', /ss -ltnp/);
    assert.equal(harness.status('fine').state, 'listening');
    assert.equal(await ask(freePort, 'z', 'ok:z'), 'ok:z');
    // Freed, the next apply binds it.
    await closeServer(squatter);
    servers.splice(servers.indexOf(squatter), 1);
    await sleep(50);
    await harness.apply([...harness.streams]);
    assert.equal(harness.status('taken').state, 'listening');
    assert.equal(harness.status('taken').problem, null);
    assert.equal(await ask(squatter.port, 'w', 'ok:w'), 'ok:w');
  });
});
