// Explicit FTPS terminated by Gatehouse: the client's control (and, with PROT P, data) connections
// are TLS with Gatehouse's certificate, while vsftpd on the LAN side is spoken to in plain FTP (it
// never sees AUTH TLS, though it offers it). With tls 'required', a plain login is refused before the
// credentials reach vsftpd.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
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

/** The FEAT reply through Gatehouse, read on a raw control connection. */
async function featThrough(gate: FtpGate): Promise<string> {
  const socket = connect({ host: gate.address, port: gate.port });
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (/^220 /m.test(text) && !text.includes('FEAT-SENT')) {
      text += 'FEAT-SENT\n';
      socket.write('FEAT\r\n');
    }
  });
  const deadline = Date.now() + 10_000;
  while (!/\r\n211 [^\r]*\r\n/.test(text) && !/\n211 No features/.test(text)) {
    if (Date.now() > deadline) throw new Error(`no FEAT reply: ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  socket.destroy();
  return text.slice(text.indexOf('FEAT-SENT'));
}

describe('FTP stream, explicit FTPS terminated by Gatehouse', { skip: needFtpClients() }, () => {
  let vsftpd: Vsftpd;
  let gate: FtpGate;
  let work: string;
  before(async () => {
    vsftpd = await startVsftpd({ address: '127.0.0.2', passivePorts: 10, localUser: true });
    gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, passivePorts: 6, ftp: { tls: 'explicit', certificateRouteId: 'ftp-route' } });
    work = await mkdtemp(join(tmpdir(), 'gatehouse-ftp-tls-'));
  });
  after(async () => {
    await gate?.close();
    await vsftpd?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('curl --ssl-reqd passive: the client sees Gatehouse\'s certificate; vsftpd sees plain FTP', async () => {
    const result = await curlFtp(`${gate.url}/readme.txt`, { ssl: 'reqd', cacert: gate.caPath, verbose: true, epsv: false, skipPasvIp: false });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    assert.match(result.stderr, /issuer: CN=Gatehouse FTPS test/);
    assert.match(result.stderr, /subjectAltName: host "127\.0\.0\.1" matched/);
    assert.match(result.stderr, /< 234 Proceed with negotiation\./);
    assert.match(result.stderr, /< 200 PROT now Private\./);
    const pasv = /227 Entering Passive Mode \(127,0,0,1,(\d+),(\d+)\)/.exec(result.stderr);
    assert.ok(pasv, result.stderr);
    const port = Number(pasv[1]) * 256 + Number(pasv[2]);
    assert.ok(port >= gate.passivePortRange[0] && port <= gate.passivePortRange[1]);
    // vsftpd's certificate (CN=localhost, self-signed) is not what the client trusted: curl with
    // vsftpd's own certificate as CA fails.
    const vsftpdTrust = await curlFtp(`${gate.url}/readme.txt`, { ssl: 'reqd', cacert: vsftpd.certFile });
    assert.equal(vsftpdTrust.code, 60, describeRun(vsftpdTrust));
    assert.doesNotMatch(vsftpd.log(), /"AUTH|"PBSZ|"PROT/);
  });

  test('FEAT advertises AUTH TLS, PBSZ and PROT once each', async () => {
    const feat = await featThrough(gate);
    for (const feature of ['AUTH TLS', 'PBSZ', 'PROT']) assert.equal(feat.split(`\r\n ${feature}\r\n`).length, 2, `${feature} in ${JSON.stringify(feat)}`);
  });

  test('lftp ssl-force + protect-data, passive and active: upload and download', async () => {
    for (const passive of [true, false]) {
      const name = passive ? 'tls-passive.txt' : 'tls-active.txt';
      const source = join(work, name);
      await writeFile(source, `over FTPS, ${name}\n`);
      const back = join(work, `back-${name}`);
      const result = await lftpRun(gate.url, [`put ${source} -o pub/${name}`, `get pub/${name} -o ${back}`], { passive, ssl: 'force', cafile: gate.caPath, trace: true, timeoutSeconds: 25 });
      assert.equal(result.code, 0, describeRun(result));
      assert.match(result.stderr, /---> PROT P/);
      assert.match(result.stderr, passive ? /---> PASV/ : /---> PORT 127,0,0,1,/);
      assert.equal(await readFile(join(vsftpd.anonRoot, 'pub', name), 'utf8'), `over FTPS, ${name}\n`);
      assert.equal(await readFile(back, 'utf8'), `over FTPS, ${name}\n`);
    }
    assert.doesNotMatch(vsftpd.log(), /"AUTH|"PROT/);
  });

  test('a local user logs in over FTPS and uploads into its home; a wrong password is refused', async () => {
    const user = vsftpd.user!;
    const source = join(work, 'mine.txt');
    await writeFile(source, 'local user over FTPS\n');
    const result = await curlFtp(`${gate.url}/mine.txt`, { user: `${user.name}:${user.password}`, ssl: 'reqd', cacert: gate.caPath, upload: source });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(await readFile(join(user.home, 'mine.txt'), 'utf8'), 'local user over FTPS\n');
    const wrong = await curlFtp(`${gate.url}/`, { user: `${user.name}:not-the-password`, ssl: 'reqd', cacert: gate.caPath });
    assert.equal(wrong.code, 67, describeRun(wrong));
    await gate.until(() => gate.logged.some((entry) => entry.user === user.name), 10_000, 'the local user\'s log entry');
  });
});

describe('FTP stream with FTPS required, in front of a vsftpd without TLS', { skip: needFtpClients() }, () => {
  let vsftpd: Vsftpd;
  let gate: FtpGate;
  before(async () => {
    vsftpd = await startVsftpd({ address: '127.0.0.2', tls: false, passivePorts: 4 });
    gate = await startFtpGate({ upstream: `${vsftpd.address}:${vsftpd.port}`, passivePorts: 4, ftp: { tls: 'required', certificateRouteId: 'ftp-route' } });
  });
  after(async () => {
    await gate?.close();
    await vsftpd?.close();
  });

  test('a plain login gets 530 and its USER never reaches vsftpd', async () => {
    const result = await curlFtp(`${gate.url}/readme.txt`, { verbose: true });
    assert.equal(result.code, 67, describeRun(result));
    assert.match(result.stderr, /< 530 this server requires TLS \(AUTH TLS\)/);
    assert.match(vsftpd.log(), /CONNECT: Client/);
    assert.doesNotMatch(vsftpd.log(), /"USER|"PASS/);
  });

  test('FEAT gains AUTH TLS, PBSZ and PROT though vsftpd has no TLS; FTPS then works', async () => {
    const feat = await featThrough(gate);
    assert.match(feat, /\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 /);
    assert.match(feat, /\r\n EPSV\r\n/);
    const result = await curlFtp(`${gate.url}/readme.txt`, { ssl: 'reqd', cacert: gate.caPath });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    assert.match(vsftpd.log(), /"USER anonymous"/);
  });
});
