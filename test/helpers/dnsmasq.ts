// A throwaway dnsmasq 2.90 (dnsmasq-base) for UDP/TCP stream tests, as shared/RECIPES-wave2.md §5 ran
// it: no config file, no upstream (--no-resolv), no /etc/hosts, bound only to its address, a random
// port free for both UDP and TCP, no pid file, queries logged to stderr, foreground, stopped by its PID.
// It answers the given A records over UDP and TCP; other names in its local domains get NXDOMAIN, names
// outside them REFUSED (no upstream).
//
// dig(server, port, name, type) asks any DNS server (this one, or Gatehouse's UDP/TCP stream in front
// of it) and returns dig's short answer lines; it throws when dig gets no answer at all (e.g. ";; connection
// timed out; no servers could be reached").
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describeRun, runBounded } from './ftp-clients.js';
import { needTools } from './tools.js';
import { freePortOn, stopPeer } from './vsftpd.js';

/** For `test(name, { skip: needDnsmasq() }, fn)`: dnsmasq and dig. */
export function needDnsmasq(): string | false {
  return needTools(['/usr/sbin/dnsmasq', 'dnsmasq-base'], ['dig', 'bind9-dnsutils']);
}

export interface DnsmasqOptions {
  /** Listen address (UDP and TCP). Default 127.0.0.1. */
  address?: string;
  /** A records to serve (--host-record). Default: www.test.example → 192.0.2.10. */
  records?: { name: string; ip: string }[];
  /** TXT records (--txt-record). */
  txt?: { name: string; text: string }[];
  /** Domains answered locally (NXDOMAIN for unknown names). Default: test.example and each record's parent domain. */
  localDomains?: string[];
}

export interface Dnsmasq {
  readonly address: string;
  readonly port: number;
  /** dnsmasq's stderr: startup lines and every query ("query[A] www.test.example from 127.0.0.1"). */
  log(): string;
  close(): Promise<void>;
}

async function udpPortFree(address: string, port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    socket.bind(port, address);
    await Promise.race([once(socket, 'listening'), once(socket, 'error').then(([error]) => Promise.reject(error as Error))]);
    return true;
  } catch {
    return false;
  } finally {
    try {
      socket.close();
    } catch {
      // never bound
    }
  }
}

/** A port free on `address` for both TCP and UDP (a DNS server binds both). */
export async function freeUdpTcpPort(address: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePortOn(address);
    if (await udpPortFree(address, port)) return port;
  }
  throw new Error(`found no port free for both TCP and UDP on ${address}`);
}

export interface DigOptions {
  /** Ask over TCP (+tcp). Default UDP. */
  tcp?: boolean;
  /** Per-try wait (dig +time), one try. Default 2. */
  timeoutSeconds?: number;
}

/** dig +short @server -p port name type: the answer lines (empty for NXDOMAIN/REFUSED/no records). */
export async function dig(server: string, port: number, name: string, type: string, options: DigOptions = {}): Promise<string[]> {
  const seconds = options.timeoutSeconds ?? 2;
  const args = ['+short', `+time=${seconds}`, '+tries=1', ...(options.tcp ? ['+tcp'] : []), '-p', String(port), `@${server}`, name, type];
  const result = await runBounded('dig', args, { timeoutMs: seconds * 1000 + 10_000 });
  // dig +short prints ";; connection timed out…" on stdout and exits 9 when no server answered.
  if (result.code !== 0 || /^;;/m.test(result.stdout)) throw new Error(`dig ${args.join(' ')}: ${describeRun(result)}`);
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** dig's full answer for the header status ("NOERROR", "NXDOMAIN", "REFUSED"…); throws when nothing answered. */
export async function digStatus(server: string, port: number, name: string, type: string, options: DigOptions = {}): Promise<string> {
  const seconds = options.timeoutSeconds ?? 2;
  const args = [`+time=${seconds}`, '+tries=1', ...(options.tcp ? ['+tcp'] : []), '-p', String(port), `@${server}`, name, type];
  const result = await runBounded('dig', args, { timeoutMs: seconds * 1000 + 10_000 });
  const status = /status: ([A-Z]+)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || !status) throw new Error(`dig ${args.join(' ')}: ${describeRun(result)}`);
  return status;
}

export async function startDnsmasq(options: DnsmasqOptions = {}): Promise<Dnsmasq> {
  const address = options.address ?? '127.0.0.1';
  const records = options.records ?? [{ name: 'www.test.example', ip: '192.0.2.10' }];
  const domains = new Set(options.localDomains ?? ['test.example', ...records.map((record) => record.name.split('.').slice(1).join('.')).filter((domain) => domain.includes('.'))]);
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpTcpPort(address);
    const args = [
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${address}`,
      `--port=${port}`, '--pid-file=', '--log-queries', '--log-facility=-',
      ...[...domains].map((domain) => `--local=/${domain}/`),
      ...records.map((record) => `--host-record=${record.name},${record.ip}`),
      ...(options.txt ?? []).map((record) => `--txt-record=${record.name},${record.text}`),
    ];
    let output = '';
    const child: ChildProcess = spawn('/usr/sbin/dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 15_000;
    let up = false;
    while (!up && child.exitCode === null && child.signalCode === null) {
      // Any answer at all (NXDOMAIN here) means it is serving.
      up = await digStatus(address, port, 'ready.test.example', 'A', { timeoutSeconds: 1 }).then(() => true, () => false);
      if (!up) {
        if (Date.now() > deadline) {
          await stopPeer(child);
          throw new Error(`dnsmasq did not answer within 15 s:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (!up) {
      if (/Address already in use/i.test(output) && attempt < 5) continue;
      throw new Error(`dnsmasq exited at start (code ${child.exitCode}):\n${output}`);
    }
    return { address, port, log: () => output, close: () => stopPeer(child) };
  }
}
