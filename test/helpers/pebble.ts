// A throwaway Pebble (Let's Encrypt's ACME test server, Debian's `pebble` 2.4) for tests, as
// shared/RECIPES.md and RECIPES-wave2.md §2 ran it: its own temp directory and self-signed API
// certificate, random ports on 127.0.0.1, PEBBLE_VA_NOSLEEP, no bad-nonce injection, no authz reuse.
// Pebble validates HTTP-01 at http://NAME:<httpPort>/ and resolves NAME through `dnsServer`
// (a bind9 from test/helpers/bind9.ts, or anything that answers A/TXT/CAA).
//
// Trusting its API certificate: pass `pebble.apiCa` to the code under test (the ACME service takes a
// CA for its directory), or run the process with NODE_EXTRA_CA_CERTS=pebble.apiCaFile.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from './ports.js';
import { needTools } from './tools.js';

/** For `test(name, { skip: needPebble() }, fn)`. */
export function needPebble(): string | false {
  return needTools('pebble', 'openssl');
}

export interface PebbleOptions {
  /** Where Pebble's VA fetches HTTP-01 (the port Gatehouse's HTTP listener uses). Default: a free port. */
  httpPort?: number;
  /** DNS server Pebble resolves names through ("127.0.0.1:PORT"); required for real validation. */
  dnsServer: string;
  /** External Account Binding keys (kid → base64url HMAC key); with any, EAB is required. */
  eab?: Record<string, string>;
  /**
   * Lifetime of issued certificates in seconds (Pebble's `certificateValidityPeriod`; 2.4 honours it
   * for every order). Default: Pebble's own, 5 years; 518400 gives Let's Encrypt's 6-day shape.
   */
  validitySeconds?: number;
  /** Extra environment (PEBBLE_VA_ALWAYS_VALID=1, PEBBLE_AUTHZREUSE=…). */
  env?: Record<string, string>;
}

export interface Pebble {
  readonly dir: string;
  /** https://127.0.0.1:PORT/dir */
  readonly directoryUrl: string;
  readonly port: number;
  readonly managementPort: number;
  readonly httpPort: number;
  /** PEM of the certificate Pebble's API presents (self-signed, CN localhost, SAN 127.0.0.1). */
  readonly apiCa: string;
  readonly apiCaFile: string;
  /** The root that signs issued certificates (new on every start), from the management API. */
  issuerRoot(): Promise<string>;
  log(): string;
  close(): Promise<void>;
}

function run(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 60_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`${program} failed: ${stderr || error.message}`)) : resolve()));
  });
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-pebble-'));
  const [port, managementPort, httpPort, tlsPort] = [await freePort(), await freePort(), options.httpPort ?? (await freePort()), await freePort()];
  const apiCaFile = join(dir, 'c.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', apiCaFile, '-days', '30',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  const eab = options.eab ?? {};
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: apiCaFile,
      privateKey: join(dir, 'k.pem'),
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: Object.keys(eab).length > 0,
      ...(Object.keys(eab).length > 0 ? { externalAccountMACKeys: eab } : {}),
      ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
    },
  };
  await writeFile(join(dir, 'cfg.json'), JSON.stringify(config));
  let output = '';
  const child: ChildProcess = spawn('pebble', ['-config', join(dir, 'cfg.json'), '-dnsserver', options.dnsServer], {
    cwd: dir,
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 15_000;
  while (!/Listening on/.test(output)) {
    if (child.exitCode !== null) throw new Error(`pebble exited at start:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pebble did not start within 15 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const apiCa = await readFile(apiCaFile, 'utf8');
  const management = new Agent({ connect: { ca: apiCa } });
  return {
    dir,
    directoryUrl: `https://127.0.0.1:${port}/dir`,
    port,
    managementPort,
    httpPort,
    apiCa,
    apiCaFile,
    async issuerRoot() {
      const answer = await request(`https://127.0.0.1:${managementPort}/roots/0`, { dispatcher: management });
      return answer.body.text();
    },
    log: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await management.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
