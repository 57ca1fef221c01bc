// Adversarial review of issue 16 (streams, UDP, FTP, TLS passthrough): each test proves one defect
// with real sockets and real peers, and FAILS until the defect is fixed. One test per finding,
// named for the defect; the comment above each says what, why it matters and where in the code.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { createGateway } from '../../src-main/core/gateway.js';
import { call } from '../helpers/gateway-calls.js';
import { startFtpGate } from '../helpers/ftp-harness.js';
import { OutsideClient, needOutsideClient } from '../helpers/outside-client.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir } from '../helpers/serve.js';
import { makeStream, startStreamHarness } from '../helpers/stream-harness.js';
import { needVsftpd, startVsftpd } from '../helpers/vsftpd.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

/** A raw FTP control connection: send a line, read the next whole reply. */
class RawFtp {
  private text = '';
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
  }
  static async open(host: string, port: number): Promise<{ raw: RawFtp; banner: string }> {
    const socket = connect({ host, port });
    await once(socket, 'connect');
    const raw = new RawFtp(socket);
    return { raw, banner: await raw.reply() };
  }
  async reply(ms = 8000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const lines = this.text.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3}( |$)/.test(lines[i] as string)) {
          const reply = lines.slice(0, i + 1).join('\n');
          this.text = lines.slice(i + 1).join('\r\n');
          return reply;
        }
      }
      if (Date.now() > deadline) throw new Error(`no reply within ${ms} ms; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
  send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }
  close(): void {
    this.socket.destroy();
  }
}

async function udpEcho(host = '127.0.0.1'): Promise<{ port: number; socket: UdpSocket }> {
  const socket = createSocket('udp4');
  socket.on('message', (message, remote) => socket.send(Buffer.concat([Buffer.from('echo:'), message]), remote.port, remote.address));
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
  cleanups.push(() => socket.close());
  return { port: socket.address().port, socket };
}

async function tcpEcho(): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => socket.write(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, server };
}

/** One UDP exchange from a fresh IPv4 socket: the reply's text, or null after `ms`. */
async function udpAsk(port: number, text: string, host = '127.0.0.1', ms = 1500): Promise<string | null> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const reply = new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      socket.once('message', (message) => {
        clearTimeout(timer);
        resolve(message.toString());
      });
    });
    socket.send(text, port, host);
    return await reply;
  } finally {
    socket.close();
  }
}

// ---------------------------------------------------------------------------------------------
// FTP

describe('FTP stream (vsftpd on 127.0.0.2, a client outside the LAN)', { skip: needVsftpd() }, () => {
  // WHAT: vsftpd answers "P@SW" exactly like PASV (a documented alias for broken clients). The FTP
  // session rewrites only verbs it knows (ftp-session.ts onCommand: case 'PASV'), so P@SW is
  // forwarded as an unknown command and vsftpd's own 227 reply goes to the client unchanged. The
  // reply's address is in the comma form "(127,0,0,2,p1,p2)", which scrubAddresses (ftp-text.ts)
  // does not recognise (it only replaces dotted addresses), so the server's LAN address and its own
  // passive port reach a client that may not see internals.
  // WHY: the brief's rule "a visitor never learns an upstream address" (FTP replies to clients
  // outside the LAN). Any 227 reply, whatever command it answers, must be rewritten or refused, and
  // the scrub must cover the h1,h2,h3,h4 form.
  test('P@SW (vsftpd\'s PASV alias) returns the FTP server\'s LAN address to an outside client', async () => {
    const vsftpd = await startVsftpd({ address: '127.0.0.2', passivePorts: 4, tls: false });
    cleanups.push(() => vsftpd.close());
    const gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, passivePorts: 4, ftp: { tls: 'off', certificateRouteId: null, publicAddress: '203.0.113.7' } });
    cleanups.push(() => gate.close());
    const { raw, banner } = await RawFtp.open(gate.address, gate.port);
    try {
      assert.match(banner, /^220/);
      assert.match(await raw.send('USER anonymous'), /^230/);
      // PASV itself is rewritten (control: the rewrite works for the verb it knows).
      assert.match(await raw.send('PASV'), /^227 .*\(203,0,0?113,7,/);
      const reply = await raw.send('P@SW');
      assert.doesNotMatch(reply, /127,0,0,2/, `the server's LAN address reached the outside client: ${reply}`);
    } finally {
      raw.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// UDP

describe('UDP stream', () => {
  // WHAT: with proxy.bindAddress "::" (dual stack; IpAddressSchema allows it), a UDP stream's listen
  // socket is udp6 and an IPv4 client arrives as ::ffff:a.b.c.d. udp-stream.ts strips that to
  // "a.b.c.d" (plainAddress) and answers with socket.send(message, port, address) on the udp6
  // socket: Linux refuses an IPv4 destination on an AF_INET6 socket (EINVAL), the error is
  // swallowed (socket.on('error', () => {})), and the client never gets a reply. The session is
  // open, counted and logged as fine.
  // WHY: DNS/WireGuard/game servers through a dual-stack Gatehouse are silently one-way. The reply
  // must be sent to remote.address as received (the mapped form) on a udp6 socket.
  test('with bindAddress "::" an IPv4 client never gets the upstream\'s UDP replies', async () => {
    const echo = await udpEcho();
    const harness = await startStreamHarness({ bindAddress: '::' });
    cleanups.push(() => harness.close());
    const port = await freePort();
    await harness.apply([makeStream('u6', { protocol: 'udp', listenPort: port, upstreams: [`127.0.0.1:${echo.port}`], access: { exposure: 'anyone' } })]);
    assert.equal(harness.status('u6').state, 'listening');
    const reply = await udpAsk(port, 'ping');
    assert.equal(reply, 'echo:ping', 'an IPv4 client of a UDP stream on "::" got no reply');
  });
});

// ---------------------------------------------------------------------------------------------
// TCP streams and the per-client connection cap

describe('TCP stream from outside this network', { skip: needOutsideClient('node') }, () => {
  // WHAT: access.maxConnectionsPerClient (default 256) caps what one outside address may hold open
  // on the HTTP and HTTPS listeners (net/connection-front.ts). Stream listeners
  // (stream-manager.ts bindTcp/onConnection) never consult it, and StreamDeps has no such limit:
  // one outside address may open connections without bound, each with a 1 h idle timeout by default
  // and an upstream connection behind it (FTP sessions too, each with a data port).
  // WHY: a stream with exposure "anyone" (SSH, Minecraft, FTP) can be exhausted by one client
  // (file descriptors of Gatehouse and the upstream, the FTP passive pool), the slowloris shape the
  // HTTP side already refuses. The same cap should apply to stream connections.
  test('one outside address may hold more stream connections than access.maxConnectionsPerClient', async () => {
    const outside = await OutsideClient.create();
    cleanups.push(() => outside.destroy());
    const echo = await tcpEcho();
    const dataDir = await makeDataDir();
    const gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: outside.hostAddress } });
    cleanups.push(async () => {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    await gateway.startup();
    await call(gateway, 'updateAccessSettings', { maxConnectionsPerClient: 3 });
    const port = await freePort();
    await call(gateway, 'addStream', { title: 'Open SSH', protocol: 'tcp', listenPort: port, upstreams: [`127.0.0.1:${echo.port}`], access: { exposure: 'anyone', lists: [], countries: { mode: 'off', countries: [] } } } as never);
    // Ten connections from the one outside address, all held open; count those the upstream answered.
    const script = `
      const net = require('node:net');
      let answered = 0, done = 0; const sockets = [];
      for (let i = 0; i < 10; i++) {
        const s = net.connect(${port}, '${outside.hostAddress}');
        sockets.push(s);
        s.on('error', () => {});
        s.on('connect', () => s.write('x'));
        s.once('data', () => answered++);
      }
      setTimeout(() => { console.log(answered); for (const s of sockets) s.destroy(); }, 2500);
    `;
    const result = await outside.exec([process.execPath, '-e', script], 15_000);
    assert.equal(result.code, 0, result.stderr);
    const answered = Number(result.stdout.trim());
    assert.ok(answered <= 3, `one outside address held ${answered} stream connections with maxConnectionsPerClient 3`);
  });
});

describe('UDP session table', () => {
  // WHAT: the session table is bounded (udpMaxSessions) and, when full, the longest-idle session is
  // closed to make room (udp-stream.ts open(): `while (this.sessions.size >= max) closeSession(oldest)`),
  // with no limit per client address and no minimum idle time before a session may be evicted. One
  // address cycling through source ports (or a spoofed-source flood, which costs the sender nothing
  // on UDP) therefore closes every other client's live session, however recently it was used.
  // WHY: the point is that a flood must not hurt the service: here a flood from one address
  // costs a WireGuard/game client its session (new upstream source port, lost server state) within
  // milliseconds. A per-address session cap (and/or not evicting sessions active in the last few
  // seconds: refuse the newcomer instead) keeps the real client.
  test('one address cycling source ports evicts another client\'s session that was active a moment ago', async () => {
    const echo = await udpEcho();
    const harness = await startStreamHarness({ detailsAllowed: () => false });
    cleanups.push(() => harness.close());
    const port = await freePort();
    await harness.apply([makeStream('ev', { protocol: 'udp', listenPort: port, upstreams: [`127.0.0.1:${echo.port}`], udpMaxSessions: 8, access: { exposure: 'anyone' } })]);
    // The real client: one socket, one session, answered.
    const real = createSocket('udp4');
    cleanups.push(() => real.close());
    await new Promise<void>((resolve) => real.bind(0, '127.0.0.1', () => resolve()));
    const realPort = real.address().port;
    const answered = once(real, 'message');
    real.send('hello', port, '127.0.0.1');
    await answered;
    // Another address (127.0.0.3) from 20 source ports, right after.
    const flood: UdpSocket[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = createSocket('udp4');
      flood.push(socket);
      cleanups.push(() => socket.close());
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.3', () => resolve()));
      socket.send('x', port, '127.0.0.1');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const evicted = harness.logsFor('ev').filter((entry) => entry.client === '127.0.0.1' && entry.error === 'session_evicted');
    assert.equal(evicted.length, 0, `the real client's session (port ${realPort}), active 0.5 s ago, was evicted by one other address's source ports`);
  });
});

describe('UDP stream health without a probe (the WireGuard preset)', () => {
  // WHAT: a UDP stream without udpProbeHex runs no health checks (stream-health.ts: `checks` is
  // false), but a session whose upstream socket gets ICMP "port unreachable" reports the upstream
  // down (udp-stream.ts open(): runtime.reportConnect(target, false)). Nothing ever reports it up
  // again: udp-stream.ts never calls reportConnect(…, true), and no check runs to clear it. One
  // refused datagram (WireGuard restarting for a second) marks the upstream "down" for good, while
  // datagrams flow and are answered; with two upstreams, failover stays on the second one for good.
  // WHY: "health shown like HTTP routes'": the dashboard shows a working WireGuard as down until the
  // stream is edited or Gatehouse restarts. A reply from the upstream should report it up.
  test('one ICMP-refused datagram marks a probe-less UDP upstream down forever, though it answers again', async () => {
    // A port nothing listens on (yet): its ICMP "unreachable" reaches the session's connected socket.
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', () => resolve()));
    const upstreamPort = holder.address().port;
    holder.close();
    const harness = await startStreamHarness();
    cleanups.push(() => harness.close());
    const port = await freePort();
    await harness.apply([makeStream('wg', { protocol: 'udp', preset: 'wireguard', listenPort: port, upstreams: [`127.0.0.1:${upstreamPort}`], access: { exposure: 'anyone' } })]);
    assert.equal(await udpAsk(port, 'first', '127.0.0.1', 700), null);
    const deadline = Date.now() + 3000;
    while (harness.status('wg').health !== 'down' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(harness.status('wg').health, 'down', 'the refused datagram marked it down (the precondition)');
    // The server is back on its port and answers.
    const server = createSocket('udp4');
    cleanups.push(() => server.close());
    server.on('message', (message, remote) => server.send(Buffer.concat([Buffer.from('echo:'), message]), remote.port, remote.address));
    await new Promise<void>((resolve) => server.bind(upstreamPort, '127.0.0.1', () => resolve()));
    assert.equal(await udpAsk(port, 'again'), 'echo:again', 'datagrams flow through the stream again');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const status = harness.status('wg');
    assert.notEqual(status.health, 'down', `the upstream answers through the stream, yet its health is ${status.health}: ${JSON.stringify(status.upstreams)}`);
  });
});
