// A throwaway authoritative bind9 (`named` from Debian's bind9) for tests, as shared/RECIPES-wave2.md
// §2 ran it: its own temp directory, a random port on 127.0.0.1 (UDP and TCP), no recursion, no rndc,
// foreground, stopped by its PID. It serves the zones asked for, each with:
// - a TSIG key "acme-key" (hmac-sha256) that may change TXT records only: what a user gives Gatehouse;
// - a TSIG key "admin-key" that may change anything: what the test uses to set A, CAA, CNAME records;
// - a TSIG key "web-key" that may change A records only: a key given by mistake (its TXT updates are REFUSED).
// Pebble resolves through it (`-dnsserver 127.0.0.1:PORT`), so what a test puts here is what the CA sees.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { needTools } from './tools.js';

/** For `test(name, { skip: needBind9() }, fn)`. */
export function needBind9(): string | false {
  return needTools(['named', 'bind9'], ['nsupdate', 'bind9-dnsutils'], ['dig', 'bind9-dnsutils'], ['tsig-keygen', 'bind9']);
}

export interface Bind9Options {
  /** Zones to serve. Default: ["test.example"]. */
  zones?: string[];
  /** Records to start with, zone-file lines relative to nothing (full names with a trailing dot), e.g. "www.test.example. 60 IN A 127.0.0.1". */
  records?: string[];
}

export interface Bind9 {
  readonly dir: string;
  readonly port: number;
  /** "127.0.0.1:PORT" (Pebble's -dnsserver, Gatehouse's resolvers). */
  readonly address: string;
  readonly zones: string[];
  /** The TXT-only key a user would give Gatehouse: name, algorithm, base64 secret. */
  readonly acmeKey: { name: string; algorithm: 'hmac-sha256'; secret: string };
  /** A key that may change A records only (TXT updates get REFUSED). */
  readonly webKey: { name: string; algorithm: 'hmac-sha256'; secret: string };
  /** Runs nsupdate lines (e.g. "update add a.test.example. 60 A 127.0.0.1") as admin in `zone`. */
  update(zone: string, lines: string[]): Promise<void>;
  /** dig's short answer (one line per record), asked of this server. */
  dig(name: string, type: string): Promise<string[]>;
  log(): string;
  close(): Promise<void>;
}

function exec(program: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${program} ${args.join(' ')} failed: ${stderr || stdout || error.message}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

function keySecret(keyFileText: string): string {
  const match = /secret\s+"([^"]+)"/.exec(keyFileText);
  if (!match) throw new Error(`tsig-keygen wrote no secret: ${keyFileText}`);
  return match[1]!;
}

export async function startBind9(options: Bind9Options = {}): Promise<Bind9> {
  const zones = options.zones ?? ['test.example'];
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bind9-'));
  const port = await freePort();
  const acmeKeyText = await exec('tsig-keygen', ['-a', 'hmac-sha256', 'acme-key']);
  const adminKeyText = await exec('tsig-keygen', ['-a', 'hmac-sha256', 'admin-key']);
  const webKeyText = await exec('tsig-keygen', ['-a', 'hmac-sha256', 'web-key']);
  await writeFile(join(dir, 'acme.key'), acmeKeyText);
  await writeFile(join(dir, 'admin.key'), adminKeyText);
  await writeFile(join(dir, 'web.key'), webKeyText);
  const zoneBlocks = zones
    .map((zone) => `zone "${zone}" { type primary; file "${join(dir, `${zone}.db`)}"; update-policy { grant acme-key zonesub TXT; grant admin-key zonesub ANY; grant web-key zonesub A; }; };`)
    .join('\n');
  await writeFile(
    join(dir, 'named.conf'),
    `include "${join(dir, 'acme.key')}";
include "${join(dir, 'admin.key')}";
include "${join(dir, 'web.key')}";
options { directory "${dir}"; pid-file none; session-keyfile "${join(dir, 'session.key')}"; listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; }; recursion no; dnssec-validation no; notify no; };
controls { };
${zoneBlocks}
`,
  );
  for (const zone of zones) {
    const own = (options.records ?? []).filter((line) => line.split(/\s+/)[0]!.replace(/\.$/, '').endsWith(zone));
    await writeFile(
      join(dir, `${zone}.db`),
      `$TTL 60\n@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 60 60 600 60\n@ IN NS ns1.${zone}.\nns1.${zone}. IN A 127.0.0.1\n${own.join('\n')}\n`,
    );
  }
  let output = '';
  const child: ChildProcess = spawn('named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const server: Bind9 = {
    dir,
    port,
    address: `127.0.0.1:${port}`,
    zones,
    acmeKey: { name: 'acme-key', algorithm: 'hmac-sha256', secret: keySecret(acmeKeyText) },
    webKey: { name: 'web-key', algorithm: 'hmac-sha256', secret: keySecret(webKeyText) },
    async update(zone, lines) {
      await exec('nsupdate', ['-k', join(dir, 'admin.key')], `server 127.0.0.1 ${port}\nzone ${zone}\n${lines.join('\n')}\nsend\n`);
    },
    async dig(name, type) {
      const out = await exec('dig', ['+short', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', name, type]);
      return out.split('\n').filter((line) => line.trim() !== '');
    },
    log: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`named exited at start:\n${output}`);
    try {
      if ((await server.dig(zones[0]!, 'SOA')).length > 0) break;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) {
      await server.close();
      throw new Error(`named did not answer within 15 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return server;
}

/** A UDP "DNS server" on 127.0.0.1 that reads every query and never answers (a dead resolver). */
export async function startSilentDnsServer(): Promise<{ address: string; port: number; queries: () => number; close: () => Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  let queries = 0;
  socket.on('message', () => queries++);
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  return { address: `127.0.0.1:${port}`, port, queries: () => queries, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** The zone file as named wrote it back (journal merged on stop). For debugging a failing test. */
export async function zoneText(server: Bind9, zone: string): Promise<string> {
  return readFile(join(server.dir, `${zone}.db`), 'utf8');
}
