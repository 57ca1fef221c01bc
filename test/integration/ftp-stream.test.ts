// The FTP stream in plain FTP, with a real vsftpd on 127.0.0.2 (its own passive range) behind
// Gatehouse on 127.0.0.1 (a passive range of its own): curl and lftp in every data-connection mode.
// That the rewrite happened is proven by what the clients saw (curl -v, lftp -d): 227/229 ports in
// GATEHOUSE's range, the 227 address Gatehouse's, and curl told to dial that address.
// Also: the FTP bounce attack refused, a full passive pool answered with 425 in words and every
// port free again afterwards, the server's LAN address never shown to the client.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFtpGate, type FtpGate } from '../helpers/ftp-harness.js';
import { curlFtp, describeRun, lftpRun } from '../helpers/ftp-clients.js';
import { needTools } from '../helpers/tools.js';
import { needVsftpd, startVsftpd, type Vsftpd } from '../helpers/vsftpd.js';

function needFtpClients(): string | false {
  return needVsftpd() || needTools('curl', 'lftp');
}

/** Ports in every "(|||port|)" and "(h1,…,p1,p2)" reply of a client trace, with the 227 addresses. */
function passivePorts(trace: string): { ports: number[]; addresses: string[] } {
  const ports: number[] = [];
  const addresses: string[] = [];
  for (const match of trace.matchAll(/227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/g)) {
    addresses.push(match.slice(1, 5).join('.'));
    ports.push(Number(match[5]) * 256 + Number(match[6]));
  }
  for (const match of trace.matchAll(/229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)/g)) ports.push(Number(match[1]));
  return { ports, addresses };
}

function inRange(port: number, [from, to]: [number, number]): boolean {
  return port >= from && port <= to;
}

/** A raw control connection: send lines, read replies (for what clients will not do: bounces, pool floods). */
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
  static async open(host: string, port: number): Promise<RawFtp> {
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const raw = new RawFtp(socket);
    await raw.reply();
    return raw;
  }
  /** The next complete reply (last line "NNN text"), consumed. */
  async reply(ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const lines = this.text.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i] as string) || /^\d{3}$/.test(lines[i] as string)) {
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
  async send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }
  close(): void {
    this.socket.destroy();
  }
}

describe('FTP stream, plain FTP (vsftpd on 127.0.0.2 behind Gatehouse on 127.0.0.1)', { skip: needFtpClients() }, () => {
  let vsftpd: Vsftpd;
  let gate: FtpGate;
  let work: string;
  before(async () => {
    // A banner naming the server's LAN address, as some servers' do: the client must not see it.
    vsftpd = await startVsftpd({ address: '127.0.0.2', passivePorts: 10, extraConfig: ['ftpd_banner=FTP server 127.0.0.2 ready.'] });
    gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, passivePorts: 6, ftp: { tls: 'off', certificateRouteId: null } });
    work = await mkdtemp(join(tmpdir(), 'gatehouse-ftp-stream-'));
  });
  after(async () => {
    await gate?.close();
    await vsftpd?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('curl passive EPSV: the 229 port is Gatehouse\'s, not vsftpd\'s', async () => {
    const result = await curlFtp(`${gate.url}/readme.txt`, { verbose: true });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    const { ports } = passivePorts(result.stderr);
    assert.equal(ports.length, 1, result.stderr);
    assert.ok(inRange(ports[0]!, gate.passivePortRange), `229 port ${ports[0]} outside Gatehouse's ${gate.passivePortRange.join('–')}`);
    assert.ok(!inRange(ports[0]!, vsftpd.passivePortRange));
    // vsftpd did answer EPSV with a port of its own range: the rewrite is real.
    assert.match(vsftpd.log(), /"229 Entering Extended Passive Mode \(\|\|\|\d+\|\)/);
  });

  test('curl passive PASV, dialling the 227 address: Gatehouse\'s address and port', async () => {
    const result = await curlFtp(`${gate.url}/readme.txt`, { epsv: false, skipPasvIp: false, verbose: true });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    const { ports, addresses } = passivePorts(result.stderr);
    assert.deepEqual(addresses, ['127.0.0.1']);
    assert.ok(inRange(ports[0]!, gate.passivePortRange), result.stderr);
    assert.match(result.stderr, new RegExp(`Connecting to 127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1\\) port ${ports[0]}`));
    assert.match(vsftpd.log(), /"227 Entering Passive Mode \(127,0,0,2,/);
    assert.match(result.stderr, /< 220 FTP server 127\.0\.0\.1 ready\./);
    assert.doesNotMatch(result.stderr, /127,0,0,2|127\.0\.0\.2/, 'the server\'s address reached the client');
  });

  test('curl active PORT (--disable-eprt) and EPRT download', async () => {
    for (const eprt of [false, true]) {
      const result = await curlFtp(`${gate.url}/readme.txt`, { active: '127.0.0.1', eprt, verbose: true });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout, 'hello\n');
      assert.match(result.stderr, eprt ? /> EPRT \|1\|127\.0\.0\.1\|\d+\|/ : /> PORT 127,0,0,1,\d+,\d+/);
    }
    // vsftpd was told Gatehouse's LAN-side address and a port of Gatehouse's range (PORT both times).
    const ports = [...vsftpd.log().matchAll(/"PORT 127,0,0,1,(\d+),(\d+)"/g)].map((m) => Number(m[1]) * 256 + Number(m[2]));
    assert.equal(ports.length, 2, vsftpd.log());
    for (const port of ports) assert.ok(inRange(port, gate.passivePortRange), `PORT to vsftpd with ${port}`);
  });

  test('lftp passive and active: upload and download', async () => {
    for (const passive of [true, false]) {
      const name = passive ? 'lftp-passive.txt' : 'lftp-active.txt';
      const source = join(work, name);
      await writeFile(source, `through Gatehouse, ${name}\n`);
      const back = join(work, `back-${name}`);
      const result = await lftpRun(gate.url, [`put ${source} -o pub/${name}`, `get pub/${name} -o ${back}`], { passive, ssl: 'off', trace: true, timeoutSeconds: 20 });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(await readFile(join(vsftpd.anonRoot, 'pub', name), 'utf8'), `through Gatehouse, ${name}\n`);
      assert.equal(await readFile(back, 'utf8'), `through Gatehouse, ${name}\n`);
      if (passive) {
        const { ports, addresses } = passivePorts(result.stderr);
        assert.ok(ports.length >= 2, result.stderr);
        for (const port of ports) assert.ok(inRange(port, gate.passivePortRange), `lftp saw ${port}`);
        assert.deepEqual([...new Set(addresses)], ['127.0.0.1']);
      } else assert.match(result.stderr, /---> PORT 127,0,0,1,/);
    }
  });

  test('PORT or EPRT to another address (FTP bounce) is refused and never reaches vsftpd', async () => {
    const raw = await RawFtp.open(gate.address, gate.port);
    try {
      assert.match(await raw.send('USER anonymous'), /^230/);
      assert.match(await raw.send('PORT 127,0,0,9,100,100'), /^504 .*your own address/);
      assert.match(await raw.send('EPRT |1|10.1.2.3|2121|'), /^504 /);
      assert.match(await raw.send('PORT 127,0,0,1,0,25'), /^504 /, 'a privileged port on the client is refused too');
      assert.match(await raw.send('PORT nonsense'), /^501 /);
      assert.match(await raw.send('NOOP'), /^200/);
      // A command line over 4 KiB ends the session with 500.
      assert.match(await raw.send(`NOOP ${'x'.repeat(5000)}`), /^500 Command line too long/);
    } finally {
      raw.close();
    }
    assert.doesNotMatch(vsftpd.log(), /127,0,0,9|10\.1\.2\.3|"PORT 127,0,0,1,0,25"/);
  });

  test('FEAT hides vsftpd\'s own TLS (FTPS off here); STAT shows no LAN address of the server', async () => {
    const raw = await RawFtp.open(gate.address, gate.port);
    try {
      const feat = await raw.send('FEAT');
      assert.match(feat, /^211-[^]*\n EPSV[^]*\n211 /);
      assert.doesNotMatch(feat, /AUTH|PBSZ|PROT/);
      assert.match(vsftpd.log(), /FTP response: Client "[^"]*", " AUTH TLS/, 'vsftpd itself offers AUTH TLS');
      assert.match(await raw.send('AUTH TLS'), /^534 /);
      await raw.send('USER anonymous');
      const stat = await raw.send('STAT');
      assert.match(stat, /^211-/);
      assert.doesNotMatch(stat, /127\.0\.0\.2/);
    } finally {
      raw.close();
    }
  });

  test('counters and one log entry per session (method FTP, the anonymous user)', async () => {
    await gate.until(() => gate.counters.open === 0, 10_000, 'every session to end');
    assert.ok(gate.counters.total >= 8, JSON.stringify(gate.counters));
    assert.ok(gate.counters.bytesOut > 0 && gate.counters.bytesIn > 0);
    assert.equal(gate.logged.length, gate.counters.total);
    const entry = gate.logged.find((logged) => logged.user === 'anonymous');
    assert.ok(entry, JSON.stringify(gate.logged));
    assert.equal(entry.method, 'FTP');
    assert.equal(entry.streamId, 'ftp-test');
    assert.equal(entry.path, `:${gate.port}`);
    assert.equal(entry.status, 0);
  });
});

/** Binds every port of Gatehouse's passive range (throws when one is still held); returns how many. */
async function bindAll(gate: FtpGate): Promise<number> {
  const held: Server[] = [];
  try {
    for (let port = gate.passivePortRange[0]; port <= gate.passivePortRange[1]; port++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: gate.address, exclusive: true }, () => resolve());
      });
      held.push(server);
    }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  return held.length;
}

describe('FTP stream passive pool', { skip: needFtpClients() }, () => {
  let vsftpd: Vsftpd;
  let gate: FtpGate;
  before(async () => {
    vsftpd = await startVsftpd({ address: '127.0.0.2', tls: false, passivePorts: 6 });
    gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, passivePorts: 2, ftp: { tls: 'off', certificateRouteId: null } });
  });
  after(async () => {
    await gate?.close();
    await vsftpd?.close();
  });

  test('a full pool answers 425 in words; every port is free again after the sessions', async () => {
    const sessions: RawFtp[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const raw = await RawFtp.open(gate.address, gate.port);
        sessions.push(raw);
        assert.match(await raw.send('USER anonymous'), /^230/);
      }
      // Two sessions each hold a data port nobody connects to; the third finds none.
      assert.match(await sessions[0]!.send('EPSV'), /^229 /);
      assert.match(await sessions[1]!.send('PASV'), /^227 /);
      const refused = await sessions[2]!.send('EPSV');
      assert.match(refused, /^425 no data port free; widen the passive range/);
      assert.match(await sessions[2]!.send('PORT 127,0,0,1,200,1'), /^425 no data port free/);
    } finally {
      for (const raw of sessions) raw.close();
    }
    await gate.until(() => gate.counters.open === 0, 10_000, 'the sessions to end');
    assert.ok(gate.logged.some((entry) => entry.error === 'ftp_passive_exhausted'), JSON.stringify(gate.logged));
    assert.equal(await bindAll(gate), 2);
  });

  test('a stranger connecting to a waiting data port is cut; the client still gets its data', async () => {
    const raw = await RawFtp.open(gate.address, gate.port);
    try {
      await raw.send('USER anonymous');
      await raw.send('TYPE I');
      const epsv = await raw.send('EPSV');
      const port = Number(/\(\|\|\|(\d+)\|\)/.exec(epsv)?.[1]);
      // 127.0.0.3 is not the control client's address.
      const stranger = connect({ host: gate.address, port, localAddress: '127.0.0.3' });
      const strangerEnd = await new Promise<string>((resolve) => {
        let got = '';
        stranger.on('data', (chunk) => (got += chunk.toString()));
        stranger.on('close', () => resolve(got));
        stranger.on('error', () => {});
      });
      assert.equal(strangerEnd, '');
      const data = connect({ host: gate.address, port });
      let body = '';
      data.on('data', (chunk) => (body += chunk.toString()));
      const closed = new Promise((resolve) => data.on('close', resolve));
      assert.match(await raw.send('RETR readme.txt'), /^150/);
      assert.match(await raw.reply(), /^226/);
      await closed;
      assert.equal(body, 'hello\n');
    } finally {
      raw.close();
    }
  });

  test('close() cuts every session and frees every data port, waiting ones included', async () => {
    const raw = await RawFtp.open(gate.address, gate.port);
    await raw.send('USER anonymous');
    assert.match(await raw.send('EPSV'), /^229 /);
    assert.equal(gate.counters.open, 1);
    const cut = new Promise((resolve) => raw.socket.once('close', resolve));
    await gate.handler.close();
    await cut;
    assert.equal(gate.counters.open, 0);
    await bindAll(gate);
  });
});

describe('FTP stream for an IPv6 client (Gatehouse on ::1, vsftpd on IPv4 127.0.0.2)', { skip: needFtpClients() }, () => {
  let vsftpd: Vsftpd;
  let gate: FtpGate | undefined;
  let noIpv6: string | false = false;
  before(async () => {
    vsftpd = await startVsftpd({ address: '127.0.0.2', tls: false, passivePorts: 4 });
    try {
      gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, address: '::1', passivePorts: 4, ftp: { tls: 'off', certificateRouteId: null } });
    } catch (error) {
      if (process.env.CI === 'true') throw error;
      noIpv6 = `no IPv6 loopback here: ${(error as Error).message}`;
    }
  });
  after(async () => {
    await gate?.close();
    await vsftpd?.close();
  });

  test('EPSV and EPRT work; PASV is answered "use EPSV"; PORT with an IPv4 address is refused', async (t) => {
    if (noIpv6 || !gate) return t.skip(noIpv6 || 'no gate');
    const url = `ftp://[::1]:${gate.port}/readme.txt`;
    const epsv = await curlFtp(url, { verbose: true, extraArgs: ['-g'] });
    assert.equal(epsv.code, 0, describeRun(epsv));
    assert.equal(epsv.stdout, 'hello\n');
    const port = passivePorts(epsv.stderr).ports[0]!;
    assert.ok(inRange(port, gate.passivePortRange), epsv.stderr);
    const eprt = await curlFtp(url, { active: '::1', verbose: true, extraArgs: ['-g'] });
    assert.equal(eprt.code, 0, describeRun(eprt));
    assert.equal(eprt.stdout, 'hello\n');
    assert.match(eprt.stderr, /> EPRT \|2\|::1\|\d+\|/);
    const raw = await RawFtp.open('::1', gate.port);
    try {
      await raw.send('USER anonymous');
      assert.match(await raw.send('PASV'), /^425 .*use EPSV/);
      assert.match(await raw.send('PORT 127,0,0,1,100,100'), /^504 /);
    } finally {
      raw.close();
    }
  });
});
