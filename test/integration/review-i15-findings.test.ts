// Reviewer's findings on issue 15 (ACME), against real servers (Pebble, bind9, the real gateway,
// real scripts): each test names what a user would suffer and FAILS on the code as reviewed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import acmeClient from 'acme-client';
import type { DnsProvider } from '../../shared/acme.js';
import { createDnsProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { DnsProviderError } from '../../src-main/core/certs/acme/dns/errors.js';
import { CLASS, encodeMessage, encodeName, OPCODE, TYPE } from '../../src-main/core/certs/acme/dns/wire.js';
import { challengeRecord } from '../../src-main/core/certs/acme/dns/provider.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { call } from '../helpers/gateway-calls.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';
import { startAcmeFront } from '../helpers/acme-front.js';
import { freePort } from '../helpers/ports.js';
import { makeDataDir } from '../helpers/serve.js';

const run = promisify(execFile);

async function script(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, 0o755);
  return path;
}

async function selfSignedFor127(dir: string): Promise<{ cert: string; key: string }> {
  const keyPath = join(dir, 'dir.key');
  const certPath = join(dir, 'dir.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=directory', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', keyPath, '-out', certPath]);
  return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

describe('review i15: no servers beyond the gateway', () => {
  let dir: string;
  let dataDir: string;
  let gateway: Gateway;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-review15-'));
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
  });
  after(async () => {
    await gateway?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a DNS hook script that hangs in a child command (curl, sleep) is still stopped at its time limit instead of holding the order for as long as the child lives', async () => {
    // An ordinary shell wrapper around a lego/acme.sh provider: the shell runs the command as its
    // child (no `exec`). SIGTERM ends the shell, but the child keeps the output pipes open.
    const hook = await script(dir, 'hang-child.sh', '#!/bin/sh\nsleep 15\n');
    const settings: Extract<DnsProvider, { kind: 'exec' }> = { id: 'ex', label: 'Script', propagationTimeoutMs: 10_000, kind: 'exec', command: hook, timeoutMs: 1000 };
    const provider = createDnsProvider(settings, { credentials: null });
    const started = Date.now();
    const outcome = await Promise.race([
      provider.present(challengeRecord('www.test.example', 'v')).then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 10_000)),
    ]);
    assert.equal(outcome, 'rejected', `a 1 s time limit, but after ${Date.now() - started} ms the hook was ${outcome}`);
  });

  test('a directory URL that answers with a huge document is not read whole into memory', async () => {
    // A mistyped URL pointing at a big file (or a hostile server): the directory is a few hundred bytes.
    const { cert, key } = await selfSignedFor127(dir);
    let written = 0;
    const server: HttpsServer = createHttpsServer({ cert, key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"newAccount":"https://127.0.0.1/a","newOrder":"https://127.0.0.1/o","meta":{"website":"');
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const total = 50 * 1024 * 1024;
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"}}');
      };
      res.on('close', () => undefined);
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/directory`;
      const refused = await call(gateway, 'getAcmeDirectory', { directoryUrl: url, directoryCaPem: cert }).then(
        () => 'accepted',
        (error: unknown) => String(error),
      );
      assert.ok(written < 5 * 1024 * 1024, `Gatehouse read ${(written / 1024 / 1024).toFixed(0)} MB of a "directory"`);
      assert.match(refused, /not an ACME directory/, 'the person learns the URL is not a directory');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  test('a stored DNS API token cannot be read back by pointing the provider at another server without entering it again', async () => {
    // Credentials are write-only in the API, but updateDnsProvider keeps them while the API URL
    // changes: whoever can call the API (or a typo) sends the stored token to any server.
    const seen: string[] = [];
    const capture = createHttpServer((req, res) => {
      seen.push(String(req.headers.authorization ?? ''));
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}');
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const token = 'cf-token-only-the-owner-knows-7f3a';
      const added = await call(gateway, 'addDnsProvider', { kind: 'cloudflare', label: 'CF', apiUrl: 'https://api.cloudflare.com/client/v4', zoneId: 'zone1', credentials: token });
      const elsewhere = `http://127.0.0.1:${(capture.address() as AddressInfo).port}/client/v4`;
      const moved = await call(gateway, 'updateDnsProvider', { id: added.id, kind: 'cloudflare', label: 'CF', apiUrl: elsewhere, zoneId: 'zone1' }).then(
        () => true,
        () => false,
      );
      if (moved) await call(gateway, 'testDnsProvider', { id: added.id, name: 'www.test.example' }).catch(() => undefined);
      assert.ok(!seen.some((header) => header.includes(token)), `the stored token was sent to ${elsewhere}: ${seen.join(' | ')}`);
    } finally {
      capture.closeAllConnections();
      await new Promise((resolve) => capture.close(resolve));
    }
  });
  test('a name server (or anything at its address) answering an update with a malformed signature gets a sentence, not a raw "offset out of range"', async () => {
    // The answer carries a TSIG record cut short after its algorithm name: Gatehouse must say the
    // server's answer could not be read, not throw Node's RangeError at the person.
    const socket = createSocket('udp4');
    socket.on('message', (query, peer) => {
      const tsig = { name: 'acme-key', type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data: Buffer.concat([encodeName('hmac-sha256'), Buffer.from([0, 0])]) };
      const answer = encodeMessage({ id: query.readUInt16BE(0), opcode: OPCODE.UPDATE, response: true, truncated: false, rcode: 0, questions: [], answers: [], authority: [], additional: [tsig] });
      socket.send(answer, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const settings: Extract<DnsProvider, { kind: 'rfc2136' }> = { id: 'ns', label: 'NS', propagationTimeoutMs: 1000, kind: 'rfc2136', server: `127.0.0.1:${socket.address().port}`, zone: 'test.example', keyName: 'acme-key', algorithm: 'hmac-sha256' };
      const provider = createDnsProvider(settings, { credentials: Buffer.alloc(32, 7).toString('base64') });
      const error = await provider.present(challengeRecord('www.test.example', 'v')).then(
        () => assert.fail('a malformed answer was taken as success'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DnsProviderError, `the person gets: ${String(error)}`);
    } finally {
      socket.close();
    }
  });
});

const skip = needPebble() || needBind9();

describe('review i15: orders against Pebble through the gateway', { skip }, () => {
  let bind: Bind9;
  let pebble: Pebble;
  let dataDir: string;
  let dir: string;
  let gateway: Gateway;
  let accountId: string;
  let pebbleClosed = false;

  async function routeState(routeId: string) {
    return (await call(gateway, 'getCertificates')).routes.find((entry) => entry.routeId === routeId);
  }

  before(async () => {
    bind = await startBind9({ zones: ['test.example', 'duckdns.org'], records: ['gone.test.example. 60 IN A 127.0.0.1', 'full.test.example. 60 IN A 127.0.0.1', 'kt.test.example. 60 IN A 127.0.0.1', 'sw.test.example. 60 IN A 127.0.0.1'] });
    const httpPort = await freePort();
    pebble = await startPebble({ dnsServer: bind.address, httpPort });
    dataDir = await makeDataDir();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-review15-'));
    gateway = await createGateway({ dataDir, overrides: { httpPort, httpsPort: 0, bindAddress: '127.0.0.1' } });
    await gateway.startup();
    const directory = await call(gateway, 'getAcmeDirectory', { directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.apiCa });
    const account = await call(gateway, 'addAcmeAccount', { label: 'Pebble', directoryUrl: pebble.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem: pebble.apiCa });
    accountId = account.id;
  });
  after(async () => {
    await gateway?.close();
    if (!pebbleClosed) await pebble?.close();
    await bind?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a route whose first order fails is retried after a backoff, not re-ordered from the CA in a tight loop', async () => {
    // The DNS hook refuses (a wrong API key in the user's script): each order asks Pebble for a new
    // order and runs the hook. Over 5 s at most two attempts are reasonable (the first and, at worst, one retry).
    const log = join(dir, 'calls.log');
    const hook = await script(dir, 'refuse.sh', `#!/bin/sh\necho "$1" >> "${log}"\necho "invalid API key" >&2\nexit 1\n`);
    const provider = await call(gateway, 'addDnsProvider', { kind: 'exec', label: 'refusing hook', command: hook, timeoutMs: 5000, propagationTimeoutMs: 10_000 });
    const route = await call(gateway, 'addRoute', {
      names: ['loop.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'dns-01', dnsProviderId: provider.id }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const state = await routeState(route.id);
      const presents = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((line) => line === 'present').length;
      assert.ok((state?.acme?.failures ?? 0) <= 2 && presents <= 2, `in 5 s: ${state?.acme?.failures} failed orders, the hook ran present ${presents} times`);
    } finally {
      await call(gateway, 'removeRoute', { id: route.id });
    }
  });

  test('removing a route while its order runs leaves no private key of the removed route on disk', async () => {
    const issued = () => (pebble.log().match(/Issued certificate serial/g) ?? []).length;
    const before = issued();
    const route = await call(gateway, 'addRoute', {
      names: ['gone.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'http-01' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    await call(gateway, 'removeRoute', { id: route.id });
    const deadline = Date.now() + 20_000;
    while (issued() === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(issued() > before, 'the order for the removed route did not complete (nothing to check)');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const left = await readdir(join(dataDir, 'acme', 'certificates')).catch(() => [] as string[]);
    assert.deepEqual(left, [], `the removed route's certificate and key are still stored: ${left.join(', ')}`);
  });

  test('a certificate the CA issued but Gatehouse cannot store (data directory not writable) says so plainly instead of "does not recognise"', async () => {
    // Something in the way of acme/certificates (a full or read-only disk behaves alike): the order
    // succeeds at the CA, then saving fails. The person must learn it is the data directory.
    const certificates = join(dataDir, 'acme', 'certificates');
    await rm(certificates, { recursive: true, force: true });
    await writeFile(certificates, 'not a directory');
    const route = await call(gateway, 'addRoute', {
      names: ['full.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'http-01' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    try {
      const deadline = Date.now() + 20_000;
      let state = await routeState(route.id);
      while (!state?.acme?.lastAttempt && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = await routeState(route.id);
      }
      const problem = state?.acme?.lastAttempt?.problem;
      assert.ok(problem, `no failed attempt: ${JSON.stringify(state?.acme?.lastAttempt)}`);
      assert.match(`${problem.message} ${problem.fix ?? ''}`, /data director|disk|could not (be )?(save|store|write)/i, `the person reads: "${problem.message}" / "${problem.fix}"`);
      assert.ok(state?.fingerprintSha256, 'the certificate the CA issued is served from memory all the same');
    } finally {
      await call(gateway, 'removeRoute', { id: route.id });
      await rm(certificates, { force: true });
    }
  });

  test('DuckDNS: the usual myhome.duckdns.org + *.myhome.duckdns.org certificate can be ordered (DuckDNS holds one TXT value, so the two names must take turns)', async () => {
    // A local server following DuckDNS's documented GET /update: one TXT value per subdomain, which it
    // serves for every name under it (here: written into bind9, which Pebble asks).
    const fqdn = '_acme-challenge.myhome.duckdns.org.';
    const duck = createHttpServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      const txt = query.get('txt') ?? '';
      const lines = [`update delete ${fqdn} TXT`, ...(query.get('clear') === 'true' || txt === '' ? [] : [`update add ${fqdn} 1 TXT "${txt}"`])];
      bind.update('duckdns.org', lines).then(
        () => res.end('OK'),
        () => res.end('KO'),
      );
    });
    await new Promise<void>((resolve) => duck.listen(0, '127.0.0.1', resolve));
    const ownDir = await makeDataDir();
    const own = await createGateway({ dataDir: ownDir, dnsResolvers: [bind.address], overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
    try {
      await own.startup();
      const directory = await call(own, 'getAcmeDirectory', { directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.apiCa });
      const account = await call(own, 'addAcmeAccount', { label: 'Pebble', directoryUrl: pebble.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem: pebble.apiCa });
      const provider = await call(own, 'addDnsProvider', { kind: 'duckdns', label: 'DuckDNS', apiUrl: `http://127.0.0.1:${(duck.address() as AddressInfo).port}`, credentials: 'a7c4d0ad-114e-40ef-ba1d-d217904a50f2', propagationTimeoutMs: 3000 });
      const route = await call(own, 'addRoute', {
        names: ['myhome.duckdns.org', '*.myhome.duckdns.org'],
        upstream: 'http://127.0.0.1:9',
        tls: { mode: 'acme', certificateId: null, acme: { accountId: account.id, challenge: 'dns-01', dnsProviderId: provider.id }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
      });
      const deadline = Date.now() + 25_000;
      let entry = (await call(own, 'getCertificates')).routes.find((candidate) => candidate.routeId === route.id);
      while (!entry?.acme?.lastAttempt && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        entry = (await call(own, 'getCertificates')).routes.find((candidate) => candidate.routeId === route.id);
      }
      assert.equal(entry?.acme?.lastAttempt?.ok, true, `the order failed: ${entry?.acme?.lastAttempt?.problem?.message}`);
    } finally {
      await own.close();
      duck.closeAllConnections();
      await new Promise((resolve) => duck.close(resolve));
      await rm(ownDir, { recursive: true, force: true });
    }
  });

  test('changing a route’s key type keeps serving its valid certificate until the new one is issued (a failed order must not take the site off HTTPS)', async () => {
    const route = await call(gateway, 'addRoute', {
      names: ['kt.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'http-01' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
    });
    try {
      let deadline = Date.now() + 20_000;
      let state = await routeState(route.id);
      while (!state?.fingerprintSha256 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = await routeState(route.id);
      }
      const served = state?.fingerprintSha256;
      assert.ok(served, `no first certificate: ${JSON.stringify(state?.acme?.lastAttempt)}`);
      // The next order will fail (the name now points elsewhere), as a renewal can.
      await bind.update('test.example', ['update delete kt.test.example. A', 'update add kt.test.example. 60 A 127.0.0.2']);
      await call(gateway, 'updateRoute', { ...route, tls: { ...route.tls, acme: { ...route.tls.acme!, keyType: 'rsa-2048' } } });
      deadline = Date.now() + 20_000;
      state = await routeState(route.id);
      while (state?.acme?.lastAttempt?.ok !== false && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = await routeState(route.id);
      }
      assert.equal(state?.fingerprintSha256, served, `after the key type change and a failed order the route serves ${state?.fingerprintSha256 ?? 'no certificate'} (state ${state?.state})`);
    } finally {
      await call(gateway, 'removeRoute', { id: route.id });
    }
  });

  test('moving a route to another account (staging → production) does not send `replaces` for a certificate that account never got (the CA refuses such orders)', async () => {
    // A second directory (an RFC 9773 front before the same Pebble) stands for "production"; the
    // route's certificate came from the first account. RFC 9773 replaces names a certificate the
    // requesting account holds; Boulder refuses others, so the route would never get its new certificate.
    const front = await startAcmeFront({ pebble });
    try {
      const directory = await call(gateway, 'getAcmeDirectory', { directoryUrl: front.directoryUrl, directoryCaPem: front.apiCa });
      const other = await call(gateway, 'addAcmeAccount', { label: 'Production', directoryUrl: front.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem: front.apiCa });
      const route = await call(gateway, 'addRoute', {
        names: ['sw.test.example'],
        upstream: 'http://127.0.0.1:9',
        tls: { mode: 'acme', certificateId: null, acme: { accountId, challenge: 'http-01' }, redirectHttp: false, hsts: false, proxyProtocol: 'off' as const },
      });
      try {
        let deadline = Date.now() + 20_000;
        while (!(await routeState(route.id))?.fingerprintSha256 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.ok((await routeState(route.id))?.fingerprintSha256, 'no first certificate');
        await call(gateway, 'updateRoute', { ...route, tls: { ...route.tls, acme: { ...route.tls.acme!, accountId: other.id } } });
        deadline = Date.now() + 20_000;
        while (front.orders.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.ok(front.orders.length > 0, 'no order reached the other account’s directory');
        assert.equal(front.orders[0]!.payload.replaces, undefined, `the new account's first order says it replaces ${String(front.orders[0]!.payload.replaces)}, a certificate of another account`);
      } finally {
        await call(gateway, 'removeRoute', { id: route.id });
      }
    } finally {
      await front.close();
    }
  });

  // Last: it stops Pebble.
  test('an account whose key rollover was cut short is not lost when the CA cannot be reached at the next start', async () => {
    // The CA took the new key (key.next.pem) and Gatehouse stopped before promoting it. At the next
    // use the CA is unreachable (network down at boot): "could not ask" must not read as "the CA
    // does not know this key", or the only key the CA knows is deleted and the account is lost.
    await call(gateway, 'rolloverAcmeKey', { id: accountId });
    const folder = join(dataDir, 'acme', 'accounts', accountId);
    const knownKey = await readFile(join(folder, 'key.pem'), 'utf8');
    await writeFile(join(folder, 'key.next.pem'), knownKey, { mode: 0o600 });
    await writeFile(join(folder, 'key.pem'), (await acmeClient.crypto.createPrivateEcdsaKey('P-256')).toString(), { mode: 0o600 });
    await pebble.close();
    pebbleClosed = true;
    await call(gateway, 'updateAcmeAccount', { id: accountId, email: 'new@test.example' }).catch(() => undefined);
    const keys = await Promise.all(['key.pem', 'key.next.pem'].map((name) => readFile(join(folder, name), 'utf8').catch(() => '')));
    assert.ok(keys.includes(knownKey), 'the key the CA knows was deleted while the CA could not be asked');
  });
});
