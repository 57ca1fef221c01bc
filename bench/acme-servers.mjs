// The servers the ACME sections run against, as test/helpers/bind9.ts and pebble.ts start them
// (the bench is plain .mjs and cannot import those): an authoritative bind9 (`named`) serving one
// zone whose names point at 127.0.0.1, a UDP "DNS server" that never answers, and Pebble (Debian's
// `pebble`, Let's Encrypt's test CA) resolving names through that bind9. Each runs through
// `processes` (bench/processes.mjs), so an interrupted run stops it by PID; temp dirs go on stop().
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Processes, freePort } from './processes.mjs';

/** SIGTERM to one child by PID, SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * named on a free 127.0.0.1 port serving `zone`, with each of `names` → 127.0.0.1 (no recursion,
 * no rndc, foreground), its files in a new directory under `parent` (an interrupted bench removes
 * its own temp tree). Resolves {address "127.0.0.1:PORT", port, stop()}.
 */
export async function startNamed(processes, zone, names, parent = tmpdir()) {
  const dir = mkdtempSync(join(parent, 'bind9-'));
  const port = await freePort();
  writeFileSync(join(dir, 'named.conf'), `options { directory "${dir}"; pid-file none; session-keyfile "${join(dir, 'session.key')}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; notify no; };
controls { };
zone "${zone}" { type primary; file "${join(dir, 'zone.db')}"; };
`);
  writeFileSync(join(dir, 'zone.db'), `$TTL 60\n@ IN SOA ns1 hostmaster 1 60 60 600 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n${names.map((name) => `${name}. IN A 127.0.0.1`).join('\n')}\n`);
  const logPath = join(dir, 'named.log');
  const child = processes.start('named', 'named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { logPath });
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const { Resolver } = await import('node:dns/promises');
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  for (let tries = 0; ; tries++) {
    try {
      await resolver.resolveSoa(zone);
      break;
    } catch {
      if (tries > 100 || child.exitCode !== null) {
        const log = Processes.logTail(logPath);
        await stop();
        throw new Error(`named did not answer for ${zone}:\n${log}`);
      }
      await sleep(100);
    }
  }
  return { address: `127.0.0.1:${port}`, port, stop };
}

/** A UDP "DNS server" on 127.0.0.1 that reads every query and never answers (a dead resolver). */
export async function startSilent() {
  const socket = createSocket('udp4');
  socket.on('message', () => {});
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  return { address: `127.0.0.1:${port}`, port, stop: () => new Promise((resolve) => socket.close(resolve)) };
}

/**
 * Pebble on free 127.0.0.1 ports with its own self-signed API certificate, validating HTTP-01 at
 * http://NAME:`httpPort`/ and resolving NAME through `dnsServer`; no sleeps before validation, no
 * bad-nonce injection, no authorization reuse (each order is validated again). Resolves
 * {directoryUrl, apiCa (PEM to trust for its API), httpPort, issuerRoot(), stop()}. Files under `parent`.
 */
export async function startPebble(processes, { dnsServer, httpPort, parent = tmpdir() }) {
  const dir = mkdtempSync(join(parent, 'pebble-'));
  const [port, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const apiCaFile = join(dir, 'c.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', apiCaFile, '-days', '30',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore', timeout: 60_000 });
  const config = { pebble: { listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${managementPort}`, certificate: apiCaFile, privateKey: join(dir, 'k.pem'), httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false } };
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(config));
  const env = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };
  const child = processes.start('pebble', 'pebble', ['-config', join(dir, 'cfg.json'), '-dnsserver', dnsServer], { env, cwd: dir, capture: true });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!/Listening on/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`pebble did not start within 15 s:\n${output.trim().split('\n').slice(-10).join('\n')}`);
    }
    await sleep(50);
  }
  const apiCa = readFileSync(apiCaFile, 'utf8');
  const issuerRoot = () =>
    new Promise((resolve, reject) => {
      const req = request(`https://127.0.0.1:${managementPort}/roots/0`, { ca: apiCa, agent: false, timeout: 5000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`Pebble's /roots/0 answered ${res.statusCode}`))));
      });
      req.on('timeout', () => req.destroy(new Error("Pebble's /roots/0 did not answer within 5 s")));
      req.on('error', reject);
      req.end();
    });
  return { directoryUrl: `https://127.0.0.1:${port}/dir`, apiCa, httpPort, issuerRoot, log: () => output, stop };
}
