// The peer helpers themselves, with no Gatehouse in between: the throwaway vsftpd answers curl and lftp
// in every data-connection mode (EPSV, PASV, PORT, explicit FTPS passive and active) and moves a 5 MB
// file both ways intact; the throwaway sshd lets ssh and sftp in with the key and a strict host-key check,
// also through a plain TCP forwarder (how a test reaches it through Gatehouse); dnsmasq answers dig over
// UDP and TCP. Stream tests build on these, so a broken helper shows up here first.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dig, digStatus, needDnsmasq, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { curlFtp, describeRun, lftpRun, runBounded } from '../helpers/ftp-clients.js';
import { needSshd, startSshd, type Sshd } from '../helpers/sshd.js';
import { needTools } from '../helpers/tools.js';
import { freePortOn, needVsftpd, sha256File, startVsftpd, stopPeer, writeRandomFile, type Vsftpd } from '../helpers/vsftpd.js';

function needFtpClients(): string | false {
  return needVsftpd() || needTools('curl', 'lftp');
}

/** The vsftpd log lines for one command's reply, e.g. reply(log, '227') → ['227 Entering Passive Mode (…).']. */
function replies(log: string, code: string): string[] {
  return [...log.matchAll(/FTP response: Client "[^"]*", "(\d{3}[^"]*)"/g)].map((match) => match[1]!).filter((line) => line.startsWith(code));
}

describe('vsftpd helper', { skip: needFtpClients() }, () => {
  let ftp: Vsftpd;
  let work: string;
  before(async () => {
    ftp = await startVsftpd({ localUser: true });
    work = await mkdtemp(join(tmpdir(), 'gatehouse-peers-selftest-'));
  });
  after(async () => {
    await ftp?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('passive EPSV (curl default): anonymous download, and the 229 port is in the passive range', async () => {
    const result = await curlFtp(`${ftp.url}/readme.txt`);
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    const epsv = replies(ftp.log(), '229').at(-1);
    const port = Number(/\(\|\|\|(\d+)\|\)/.exec(epsv ?? '')?.[1]);
    assert.ok(port >= ftp.passivePortRange[0] && port <= ftp.passivePortRange[1], `229 reply "${epsv}" outside ${ftp.passivePortRange.join('–')}`);
  });

  test('passive PASV, dialling the address of the 227 reply (--no-ftp-skip-pasv-ip)', async () => {
    const result = await curlFtp(`${ftp.url}/readme.txt`, { epsv: false, skipPasvIp: false, verbose: true });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    const pasv = /< 227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(result.stderr);
    assert.ok(pasv, describeRun(result));
    assert.equal(pasv.slice(1, 5).join('.'), '127.0.0.1');
    const port = Number(pasv[5]) * 256 + Number(pasv[6]);
    assert.ok(port >= ftp.passivePortRange[0] && port <= ftp.passivePortRange[1]);
    assert.match(result.stderr, new RegExp(`Connecting to 127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1\\) port ${port}`));
  });

  test('active PORT (curl --ftp-port --disable-eprt): vsftpd dials the client', async () => {
    const result = await curlFtp(`${ftp.url}/readme.txt`, { active: '127.0.0.1', eprt: false });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    assert.match(ftp.log(), /FTP command: Client "127\.0\.0\.1", "PORT 127,0,0,1,\d+,\d+"/);
    assert.ok(replies(ftp.log(), '200 PORT command successful').length > 0);
  });

  test('explicit FTPS passive (curl --ssl-reqd) trusts certFile, and fails without it', async () => {
    const result = await curlFtp(`${ftp.url}/readme.txt`, { ssl: 'reqd', cacert: ftp.certFile });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout, 'hello\n');
    assert.match(ftp.log(), /"AUTH (SSL|TLS)"/);
    assert.ok(replies(ftp.log(), '234').length > 0);
    assert.match(ftp.certPem, /BEGIN CERTIFICATE/);
    const untrusted = await curlFtp(`${ftp.url}/readme.txt`, { ssl: 'reqd' });
    assert.equal(untrusted.code, 60, `expected curl's certificate error (60): ${describeRun(untrusted)}`);
  });

  test('lftp active + TLS (PORT, PROT P) uploads into pub/', async () => {
    const source = join(work, 'small.txt');
    await writeFile(source, 'uploaded over active FTPS\n');
    const result = await lftpRun(ftp.url, [`put ${source} -o pub/small.txt`], { passive: false, ssl: 'force', cafile: ftp.certFile, trace: true, timeoutSeconds: 20 });
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stderr, /---> PROT P/);
    assert.match(result.stderr, /---> PORT 127,0,0,1,/);
    assert.equal(await readFile(join(ftp.anonRoot, 'pub', 'small.txt'), 'utf8'), 'uploaded over active FTPS\n');
  });

  test('a 5 MB random file up (curl passive) and back down (lftp passive TLS) keeps its sha256', async () => {
    const source = join(work, 'big.bin');
    const sum = await writeRandomFile(source, 5 * 1024 * 1024);
    const up = await curlFtp(`${ftp.url}/pub/big.bin`, { upload: source });
    assert.equal(up.code, 0, describeRun(up));
    assert.equal(await sha256File(join(ftp.anonRoot, 'pub', 'big.bin')), sum);
    const back = join(work, 'big-back.bin');
    const down = await lftpRun(ftp.url, [`get pub/big.bin -o ${back}`], { passive: true, ssl: 'force', cafile: ftp.certFile, timeoutSeconds: 30 });
    assert.equal(down.code, 0, describeRun(down));
    assert.equal(await sha256File(back), sum);
  });

  test('the local user logs in with its password over FTPS and uploads into its home; a wrong password is refused', async () => {
    const user = ftp.user!;
    const source = join(work, 'mine.txt');
    await writeFile(source, 'local user file\n');
    const result = await curlFtp(`${ftp.url}/mine.txt`, { user: `${user.name}:${user.password}`, ssl: 'reqd', cacert: ftp.certFile, upload: source });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(await readFile(join(user.home, 'mine.txt'), 'utf8'), 'local user file\n');
    const wrong = await curlFtp(`${ftp.url}/`, { user: `${user.name}:not-the-password`, ssl: 'reqd', cacert: ftp.certFile });
    assert.equal(wrong.code, 67, describeRun(wrong));
  });
});

describe('vsftpd helper on another address, with pasv_address', { skip: needFtpClients() }, () => {
  let ftp: Vsftpd;
  before(async () => {
    ftp = await startVsftpd({ address: '127.0.0.3', tls: false, passivePorts: 2, pasvAddress: '127.0.0.4' });
  });
  after(async () => {
    await ftp?.close();
  });

  test('the 227 carries pasvAddress: curl reaches the data port by default, and fails when told to dial the 227 address', async () => {
    assert.equal(ftp.address, '127.0.0.3');
    assert.equal(ftp.passivePortRange[1] - ftp.passivePortRange[0], 1);
    const ignoring = await curlFtp(`${ftp.url}/readme.txt`, { epsv: false, verbose: true });
    assert.equal(ignoring.code, 0, describeRun(ignoring));
    assert.match(ignoring.stderr, /< 227 Entering Passive Mode \(127,0,0,4,\d+,\d+\)/);
    const dialling = await curlFtp(`${ftp.url}/readme.txt`, { epsv: false, skipPasvIp: false, timeoutMs: 10_000 });
    assert.equal(dialling.code, 7, `expected "couldn't connect" (7) dialling 127.0.0.4: ${describeRun(dialling)}`);
  });
});

describe('sshd helper', { skip: needSshd() || needTools('socat') }, () => {
  let sshd: Sshd;
  let work: string;
  before(async () => {
    sshd = await startSshd();
    work = await mkdtemp(join(tmpdir(), 'gatehouse-peers-selftest-'));
  });
  after(async () => {
    await sshd?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('ssh logs in with the key and runs id -un', async () => {
    const result = await sshd.ssh('id -un');
    assert.equal(result.code, 0, `${describeRun(result)}\n${sshd.log()}`);
    assert.equal(result.stdout.trim(), sshd.user);
    assert.match(sshd.log(), new RegExp(`Accepted publickey for ${sshd.user}`));
  });

  test('sftp batch put and get bring back the same bytes', async () => {
    const source = join(work, 'up.bin');
    const sum = await writeRandomFile(source, 256 * 1024);
    const back = join(work, 'back.bin');
    const result = await sshd.sftp(['mkdir up', `put ${source} up/x`, 'ls -l up', `get up/x ${back}`, 'rm up/x', 'rmdir up']);
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(await sha256File(back), sum);
  });

  test('through a TCP forwarder the host key is checked against knownHostsFor(forwarder): right key in, other key refused', async () => {
    const port = await freePortOn('127.0.0.1');
    const forwarder = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${sshd.port}`], { stdio: 'ignore' });
    try {
      let result = await sshd.ssh('echo via-forwarder', { host: '127.0.0.1', port });
      for (let i = 0; i < 50 && result.code === 255 && /Connection refused/.test(result.stderr); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100)); // socat not listening yet
        result = await sshd.ssh('echo via-forwarder', { host: '127.0.0.1', port });
      }
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout.trim(), 'via-forwarder');
      // Some other key recorded for that address: ssh must refuse (so a test that passes really checked the key).
      const other = await runBounded('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other_key')]);
      assert.equal(other.code, 0, describeRun(other));
      const otherKey = (await readFile(join(work, 'other_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
      await writeFile(sshd.knownHostsFor('127.0.0.1', port), `[127.0.0.1]:${port} ${otherKey}\n`);
      const refused = await sshd.ssh('echo should-not-run', { host: '127.0.0.1', port });
      assert.equal(refused.code, 255, describeRun(refused));
      assert.match(refused.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    } finally {
      await stopPeer(forwarder);
    }
  });
});

describe('dnsmasq helper', { skip: needDnsmasq() }, () => {
  let dns: Dnsmasq;
  before(async () => {
    dns = await startDnsmasq({ records: [{ name: 'www.test.example', ip: '192.0.2.10' }, { name: 'app.lan.example', ip: '192.0.2.11' }], txt: [{ name: 'txt.test.example', text: 'hello txt' }] });
  });
  after(async () => {
    await dns?.close();
  });

  test('dig over UDP and over TCP gets the A record', async () => {
    assert.deepEqual(await dig(dns.address, dns.port, 'www.test.example', 'A'), ['192.0.2.10']);
    assert.deepEqual(await dig(dns.address, dns.port, 'www.test.example', 'A', { tcp: true }), ['192.0.2.10']);
    assert.deepEqual(await dig(dns.address, dns.port, 'app.lan.example', 'A', { tcp: true }), ['192.0.2.11']);
    assert.deepEqual(await dig(dns.address, dns.port, 'txt.test.example', 'TXT'), ['"hello txt"']);
    assert.match(dns.log(), /query\[A\] www\.test\.example from 127\.0\.0\.1/);
  });

  test('unknown names: NXDOMAIN in a local domain, REFUSED outside; a port nobody serves throws', async () => {
    assert.equal(await digStatus(dns.address, dns.port, 'nope.test.example', 'A'), 'NXDOMAIN');
    assert.equal(await digStatus(dns.address, dns.port, 'example.org', 'A', { tcp: true }), 'REFUSED');
    const dead = await freePortOn('127.0.0.1');
    await assert.rejects(dig('127.0.0.1', dead, 'www.test.example', 'A', { timeoutSeconds: 1 }), /no servers could be reached|connection refused|timed out/i);
  });
});
