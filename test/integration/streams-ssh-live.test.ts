// SSH and SFTP are "TCP by port": a real sshd behind a TCP stream, ssh and sftp checking its host key
// as recorded for Gatehouse's address and port. And live changes while streams carry traffic: an open
// ssh session (`cat`, echoing lines) on one stream and a raw connection on another keep working while
// a third stream is added, the second's port is changed and a stream is removed; the removed and the
// moved-away ports refuse connections.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeRun } from '../helpers/ftp-clients.js';
import { sleep, waitUntil, within } from '../helpers/proxy-harness.js';
import { needSshd, startSshd, type Sshd } from '../helpers/sshd.js';
import { makeStream, startStreamHarness, type StreamHarness } from '../helpers/stream-harness.js';
import { freePortOn, sha256File, writeRandomFile } from '../helpers/vsftpd.js';

const HOST = '127.0.0.1';

/** A line-echo upstream named `name`. */
async function echoServer(name: string): Promise<Server & { port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8').on('data', (text: string) => socket.write(`${name}:${text}`));
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return Object.assign(server, { port: (server.address() as { port: number }).port, sockets });
}

/** A connection kept open, asked one line at a time. */
class Line {
  private got = '';
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (text: string) => (this.got += text));
    socket.on('error', () => {});
  }
  static async open(port: number): Promise<Line> {
    const socket = connect({ host: HOST, port });
    await within(once(socket, 'connect'), 5000, `a connection to ${port}`);
    return new Line(socket);
  }
  async ask(text: string, expect: string): Promise<void> {
    this.socket.write(text);
    await waitUntil(() => this.got.includes(expect) || this.socket.destroyed, 5000, `"${expect}"`);
    assert.ok(this.got.includes(expect), `the connection closed before "${expect}" (got ${JSON.stringify(this.got)})`);
  }
  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }
}

/** Whether a connection to `port` is refused (nothing listens there). */
async function refuses(port: number): Promise<boolean> {
  const socket = connect({ host: HOST, port });
  try {
    await within(once(socket, 'connect'), 3000, `connect to ${port}`);
    socket.destroy();
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

describe('SSH and SFTP through a TCP stream; live changes', { skip: needSshd() }, () => {
  let sshd: Sshd;
  let harness: StreamHarness;
  let work: string;
  const servers: (Server & { sockets: Set<Socket> })[] = [];

  before(async () => {
    sshd = await startSshd();
    harness = await startStreamHarness();
    work = await mkdtemp(join(tmpdir(), 'gh-streams-ssh-'));
  });
  after(async () => {
    await harness?.close();
    await sshd?.close();
    for (const server of servers) {
      for (const socket of server.sockets) socket.destroy();
      server.close();
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('ssh runs id -un, and sftp puts and gets 1 MB, through the stream with the host key checked', async () => {
    const port = await freePortOn(HOST);
    await harness.apply([makeStream('ssh', { preset: 'ssh', protocol: 'tcp', listenPort: port, upstreams: [`${HOST}:${sshd.port}`] })]);
    const via = { host: HOST, port };
    const who = await sshd.ssh('id -un', via);
    assert.equal(who.code, 0, `${describeRun(who)}\n${sshd.log()}`);
    assert.equal(who.stdout.trim(), sshd.user);

    const source = join(work, 'one-mb');
    const back = join(work, 'one-mb-back');
    const sum = await writeRandomFile(source, 1 << 20);
    const transfer = await sshd.sftp(['mkdir up', `put ${source} up/x`, `get up/x ${back}`, 'rm up/x', 'rmdir up'], via);
    assert.equal(transfer.code, 0, `${describeRun(transfer)}\n${sshd.log()}`);
    assert.equal(await sha256File(back), sum);

    await waitUntil(() => harness.logsFor('ssh').length === 2, 5000, 'two log entries');
    const status = harness.status('ssh');
    assert.equal(status.total, 2);
    assert.ok(status.bytesIn > 1 << 20 && status.bytesOut > 1 << 20, `bytes both ways: ${status.bytesIn} in, ${status.bytesOut} out`);
    // sshd saw Gatehouse (this machine), as it does for any TCP stream without PROXY protocol.
    assert.match(sshd.log(), new RegExp(`Accepted publickey for ${sshd.user} from 127\\.0\\.0\\.1`));
  });

  test('a stream added, another moved and one removed: the untouched ssh session keeps flowing', async () => {
    const b = await echoServer('b');
    const c = await echoServer('c');
    servers.push(b, c);
    const [sshPort, bPort, bMoved, cPort] = [await freePortOn(HOST), await freePortOn(HOST), await freePortOn(HOST), await freePortOn(HOST)];
    const sshStream = makeStream('ssh', { protocol: 'tcp', listenPort: sshPort, upstreams: [`${HOST}:${sshd.port}`] });
    const bStream = makeStream('b', { protocol: 'tcp', listenPort: bPort, upstreams: [`${HOST}:${b.port}`] });
    const cStream = makeStream('c', { protocol: 'tcp', listenPort: cPort, upstreams: [`${HOST}:${c.port}`] });
    await harness.apply([sshStream, bStream]);

    // An interactive ssh session: cat echoes each line back.
    const session: ChildProcessWithoutNullStreams = spawn('ssh', [...sshd.sshArgs(HOST, sshPort), HOST, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let echoed = '';
    let stderr = '';
    session.stdout.setEncoding('utf8').on('data', (text: string) => (echoed += text));
    session.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = once(session, 'exit');
    let lines = 0;
    const sshFlows = async (what: string) => {
      lines++;
      session.stdin.write(`line ${lines} (${what})\n`);
      await waitUntil(() => echoed.includes(`line ${lines} (${what})\n`) || session.exitCode !== null, 15_000, `the ssh session to echo line ${lines}: ${stderr}`);
      assert.ok(echoed.includes(`line ${lines} (${what})\n`), `the ssh session ended: ${stderr}`);
    };
    try {
      await sshFlows('start');
      const onB = await Line.open(bPort);
      await onB.ask('1\n', 'b:1');

      // Add c.
      await harness.apply([sshStream, bStream, cStream]);
      await sshFlows('after adding c');
      await onB.ask('2\n', 'b:2');
      const onC = await Line.open(cPort);
      await onC.ask('1\n', 'c:1');

      // Move b to another port: the old one refuses, the new one answers; b's open connection stays.
      const bMovedStream = { ...bStream, listenPort: bMoved };
      await harness.apply([sshStream, bMovedStream, cStream]);
      await sshFlows('after moving b');
      assert.ok(await refuses(bPort), `b's old port ${bPort} still answers`);
      const onBMoved = await Line.open(bMoved);
      await onBMoved.ask('x\n', 'b:x');
      await onB.ask('3\n', 'b:3');
      await onC.ask('2\n', 'c:2');
      assert.equal(harness.status('c').state, 'listening');

      // Remove c: its port refuses and its connection is cut; ssh and b go on.
      await harness.apply([sshStream, bMovedStream]);
      assert.ok(await refuses(cPort), `c's port ${cPort} still answers after removal`);
      await waitUntil(() => onC.closed, 3000, 'c\'s connection to be cut');
      await sshFlows('after removing c');
      await onBMoved.ask('y\n', 'b:y');
      await sleep(200);
      await sshFlows('at the end');
      assert.equal(harness.status('ssh').open, 1, 'the ssh connection was never dropped');
      assert.equal(harness.status('ssh').total, 3, 'and never reconnected (two from the first test, this one)');
      onB.socket.destroy();
      onBMoved.socket.destroy();
    } finally {
      session.stdin.end();
      await within(exited, 10_000, 'ssh to exit').catch(() => session.kill('SIGKILL'));
    }
    assert.equal(session.exitCode, 0, stderr);
    assert.equal(echoed.split('\n').filter(Boolean).length, lines);
  });
});
