// A throwaway vsftpd 3.0.3 for stream tests, as shared/RECIPES-wave2.md §3 ran it: its own temp
// directory and self-signed certificate (SAN localhost + 127.0.0.1), a random control port and a
// free range of passive ports on one address, foreground (background=NO), stopped by its PID.
// - Anonymous login without a password; `anonRoot` is served read-only, its `pub/` takes uploads.
// - Explicit FTPS (AUTH TLS) offered, not forced (tls: false turns it off); trust `certFile`.
// - Active mode works: vsftpd dials the PORT/EPRT address from an unprivileged port
//   (connect_from_port_20=NO). vsftpd only dials the address the control connection came from
//   (port_promiscuous=NO): a proxy in the middle must rewrite PORT to its own address.
// - PASV answers "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)." with the control connection's
//   local address (or `pasvAddress`); EPSV answers "229 Entering Extended Passive Mode (|||port|)."
// - `localUser: true` creates a throwaway system user (useradd -m; needs root) that logs in with a
//   password and lands in its home directory; it is removed (userdel -r) on close().
// - log(): vsftpd's own log with every command and reply (log_ftp_protocol=YES), e.g.
//   `FTP command: Client "127.0.0.1", "PASV"` / `FTP response: Client "127.0.0.1", "227 Entering …"`.
//
// Also here, for every peer helper: free ports on any local address (a single one, or a run of N
// consecutive ones), stopping a started peer and its forked children by PID, and random files with
// their sha256 for transfer checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, runBounded } from './ftp-clients.js';
import { needTools } from './tools.js';

/** A skip reason when the process is not root (useradd, vsftpd's privilege drop); throws under CI. */
export function needRoot(what: string): string | false {
  if (process.getuid?.() === 0) return false;
  const reason = `${what} needs root`;
  if (process.env.CI === 'true') throw new Error(`CI runs the suite as root: ${reason}`);
  return reason;
}

/** For `test(name, { skip: needVsftpd() }, fn)`: vsftpd, openssl, and root. */
export function needVsftpd(): string | false {
  return needTools(['/usr/sbin/vsftpd', 'vsftpd'], 'openssl', ['useradd', 'passwd']) || needRoot('vsftpd (it drops privileges to the ftp user)');
}

// Ports below Linux's ephemeral range (32768–60999): a client socket of another test never takes them.
const PORT_FLOOR = 20_000;
const PORT_CEILING = 32_000;

async function tryListen(port: number, address: string): Promise<Server | null> {
  const server = createServer();
  server.on('error', () => {});
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen({ port, host: address, exclusive: true }, () => resolve(server));
  });
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
}

/**
 * `count` consecutive TCP ports free on `address` now (each bound, then all released), below the
 * ephemeral range. Returns the first. For vsftpd's passive range, or one port (count 1).
 */
export async function freePortRange(address: string, count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = PORT_FLOOR + Math.floor(Math.random() * (PORT_CEILING - PORT_FLOOR - count));
    const held: Server[] = [];
    for (let port = first; port < first + count; port++) {
      const server = await tryListen(port, address);
      if (!server) break;
      held.push(server);
    }
    await closeAll(held);
    if (held.length === count) return first;
  }
  throw new Error(`found no ${count} consecutive free ports on ${address}`);
}

/** One TCP port free on `address` (below the ephemeral range). */
export function freePortOn(address: string): Promise<number> {
  return freePortRange(address, 1);
}

/** PIDs whose parent is `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * Stops a peer this test started: SIGTERM to the PIDs it forked (per-connection sessions) and then to
 * its own PID, waits for its exit (SIGKILL by PID after 10 s).
 */
export async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  for (const pid of childPids(child.pid)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function run(program: string, args: string[], input?: string): Promise<string> {
  const result = await runBounded(program, args, { timeoutMs: 30_000, input });
  if (result.code !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${describeRun(result)}`);
  return result.stdout;
}

/** A self-signed certificate for CN localhost, SAN localhost + 127.0.0.1 (+ `extraIp`), in `dir`. */
export async function selfSignedCertificate(dir: string, extraIp?: string): Promise<{ certFile: string; keyFile: string; certPem: string }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const san = ['DNS:localhost', 'IP:127.0.0.1', ...(extraIp && extraIp !== '127.0.0.1' && extraIp !== '0.0.0.0' ? [`IP:${extraIp}`] : [])].join(',');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', '/CN=localhost', '-addext', `subjectAltName=${san}`]);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
}

/** A name no other test uses at the same time (≤ 16 characters: fits useradd). */
export function throwawayName(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${randomBytes(3).toString('hex')}`.slice(0, 16);
}

/** A throwaway system user (useradd -m, bash shell); remove() deletes it and its home (userdel -r -f). */
export async function createThrowawayUser(prefix: string, password: string | null): Promise<{ name: string; home: string; remove(): Promise<void> }> {
  const name = throwawayName(prefix);
  await run('useradd', ['-m', '-s', '/bin/bash', name]);
  const remove = async (): Promise<void> => {
    // A session process of the user may still be exiting; userdel refuses while it runs (-f forces).
    for (let attempt = 0; ; attempt++) {
      const result = await runBounded('userdel', ['-r', '-f', name], { timeoutMs: 30_000 });
      // 6 = "user does not exist"; 12 = could not remove the home directory (gone already).
      if (result.code === 0 || result.code === 6 || result.code === 12) return;
      if (attempt >= 20) throw new Error(`userdel ${name} failed: ${describeRun(result)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    if (password === null) await run('usermod', ['-p', '*', name]);
    else await run('chpasswd', [], `${name}:${password}\n`);
  } catch (error) {
    await remove();
    throw error;
  }
  return { name, home: `/home/${name}`, remove };
}

/** Writes `bytes` random bytes to `path` in 1 MiB chunks (never all in memory); returns their sha256 (hex). */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => {});
  for (let written = 0; written < bytes; ) {
    const chunk = randomBytes(Math.min(1 << 20, bytes - written));
    hash.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return hash.digest('hex');
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface VsftpdOptions {
  /** Listen address (control and passive data). Default 127.0.0.1. */
  address?: string;
  /** How many passive data ports (a free consecutive range). Default 10. */
  passivePorts?: number;
  /** Offer explicit FTPS (AUTH TLS). Default true. */
  tls?: boolean;
  /** Create a throwaway local user that logs in with a password (needs root). */
  localUser?: boolean;
  /** The address vsftpd puts in 227 replies (pasv_address); default the control connection's local address. */
  pasvAddress?: string;
  /** More vsftpd.conf lines ("key=value"), appended last. */
  extraConfig?: string[];
}

export interface Vsftpd {
  readonly dir: string;
  readonly address: string;
  /** Control port. */
  readonly port: number;
  /** First and last passive data port (inclusive). */
  readonly passivePortRange: [from: number, to: number];
  /** The self-signed certificate vsftpd presents (PEM), SAN localhost + 127.0.0.1 (+ address); '' without TLS. */
  readonly certPem: string;
  /** certPem as a file (curl --cacert, lftp ssl:ca-file). */
  readonly certFile: string;
  /** The anonymous user's root: readme.txt ("hello\n"), and pub/ (writable, owned by ftp). */
  readonly anonRoot: string;
  /** With localUser: its login; files land in `home`. */
  readonly user?: { name: string; password: string; home: string };
  /** ftp://address:port */
  readonly url: string;
  /** vsftpd's log: every command and reply (log_ftp_protocol=YES), and transfers. */
  log(): string;
  close(): Promise<void>;
}

async function answersBanner(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    let text = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (/^220[ -]/m.test(text)) {
        socket.end('QUIT\r\n');
        done(true);
      }
    });
  });
}

export async function startVsftpd(options: VsftpdOptions = {}): Promise<Vsftpd> {
  const address = options.address ?? '127.0.0.1';
  const passiveCount = options.passivePorts ?? 10;
  const tls = options.tls ?? true;
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-vsftpd-'));
  // vsftpd serves the anonymous root as user ftp, which must get through the temp dir.
  await chmod(dir, 0o755);
  const anonRoot = join(dir, 'anon');
  await mkdir(join(dir, 'empty'));
  await mkdir(join(anonRoot, 'pub'), { recursive: true });
  await chmod(anonRoot, 0o755);
  const ftp = userInfoOf('ftp');
  await chown(join(anonRoot, 'pub'), ftp.uid, ftp.gid);
  await writeFile(join(anonRoot, 'readme.txt'), 'hello\n');
  await chmod(join(anonRoot, 'readme.txt'), 0o644);
  let user: { name: string; password: string; home: string; remove(): Promise<void> } | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child) await stopPeer(child);
    await user?.remove();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { certFile, keyFile, certPem } = tls ? await selfSignedCertificate(dir, address) : { certFile: '', keyFile: '', certPem: '' };
    if (options.localUser) {
      const password = randomBytes(9).toString('hex');
      const created = await createThrowawayUser('ghftp', password);
      user = { name: created.name, password, home: created.home, remove: created.remove };
    }
    const logFile = join(dir, 'vsftpd.log');
    let output = '';
    for (let attempt = 1; ; attempt++) {
      const port = await freePortOn(address);
      const pasvFrom = await freePortRange(address, passiveCount);
      const pasvTo = pasvFrom + passiveCount - 1;
      const config = [
        'listen=YES', 'listen_ipv6=NO', `listen_address=${address}`, `listen_port=${port}`, 'background=NO',
        `secure_chroot_dir=${join(dir, 'empty')}`, 'pam_service_name=vsftpd', 'seccomp_sandbox=NO',
        'anonymous_enable=YES', `anon_root=${anonRoot}`, 'no_anon_password=YES', 'write_enable=YES',
        'anon_upload_enable=YES', 'anon_mkdir_write_enable=YES', 'anon_other_write_enable=YES', 'anon_umask=022',
        `local_enable=${options.localUser ? 'YES' : 'NO'}`, 'local_umask=022',
        'pasv_enable=YES', `pasv_min_port=${pasvFrom}`, `pasv_max_port=${pasvTo}`,
        ...(options.pasvAddress ? [`pasv_address=${options.pasvAddress}`] : []),
        'port_enable=YES', 'connect_from_port_20=NO',
        'xferlog_enable=YES', 'xferlog_std_format=NO', `vsftpd_log_file=${logFile}`, 'log_ftp_protocol=YES', 'syslog_enable=NO',
        'max_clients=200', 'max_per_ip=100', 'idle_session_timeout=120', 'data_connection_timeout=60',
        ...(tls
          ? ['ssl_enable=YES', 'allow_anon_ssl=YES', 'force_local_logins_ssl=NO', 'force_local_data_ssl=NO', 'force_anon_logins_ssl=NO', 'force_anon_data_ssl=NO',
             'require_ssl_reuse=NO', `rsa_cert_file=${certFile}`, `rsa_private_key_file=${keyFile}`]
          : ['ssl_enable=NO']),
        ...(options.extraConfig ?? []),
      ];
      await writeFile(join(dir, 'vsftpd.conf'), `${config.join('\n')}\n`);
      output = '';
      const started = spawn('/usr/sbin/vsftpd', [join(dir, 'vsftpd.conf')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 15_000;
      let up = false;
      while (!up) {
        if (started.exitCode !== null || started.signalCode !== null) break;
        up = await answersBanner(address, port);
        if (!up) {
          if (Date.now() > deadline) throw new Error(`vsftpd did not answer within 15 s:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      if (!up) {
        // Another test took the port between the probe and vsftpd's bind: try new ports.
        if (/could not bind|Address already in use/i.test(output) && attempt < 5) continue;
        throw new Error(`vsftpd exited at start (code ${started.exitCode}):\n${output}`);
      }
      const server: Vsftpd = {
        dir,
        address,
        port,
        passivePortRange: [pasvFrom, pasvTo],
        certPem,
        certFile,
        anonRoot,
        ...(user ? { user: { name: user.name, password: user.password, home: user.home } } : {}),
        url: `ftp://${address}:${port}`,
        log: () => {
          try {
            return readFileSync(logFile, 'utf8') + output;
          } catch {
            return output;
          }
        },
        close: cleanup,
      };
      return server;
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function userInfoOf(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user "${name}" (the vsftpd package creates it): apt-get install vsftpd`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
