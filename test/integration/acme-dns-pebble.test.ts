// Whole DNS-01 orders against Pebble, which resolves names through a real bind9: acme-client
// drives the order (the ACME service is another part of issue 15), Gatehouse's RFC 2136 provider
// puts the TXT records in the zone and the propagation wait sees them before the CA is asked, for a
// wildcard and its apex in one certificate (two values at one name), and again through the exec hook.
// Afterwards no challenge record is left in the zone.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import acme from 'acme-client';
import type { DnsProvider } from '../../shared/acme.js';
import { waitForTxt } from '../../src-main/core/certs/acme/dns/propagation.js';
import { challengeRecord, createDnsProvider, type DnsChallengeProvider } from '../../src-main/core/certs/acme/dns/provider.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { nsupdateHook } from '../helpers/dns-hook.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';

/** An acme-client Client that trusts Pebble's API certificate (acme-client sends through one shared axios instance). */
async function pebbleClient(pebble: Pebble): Promise<acme.Client> {
  const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateKey() });
  const agent = new Agent({ ca: pebble.apiCa });
  const http = (client as unknown as { http: { request: (url: string, method: string, opts?: Record<string, unknown>) => Promise<unknown> } }).http;
  const request = http.request.bind(http);
  http.request = (url, method, opts = {}) => request(url, method, { ...opts, httpsAgent: agent });
  return client;
}

/** Orders a certificate for `names` through `provider`, waiting for each TXT on bind9 before the CA looks. */
async function order(pebble: Pebble, bind: Bind9, provider: DnsChallengeProvider, names: string[]): Promise<{ pem: string; waits: number }> {
  const client = await pebbleClient(pebble);
  const [, csr] = await acme.crypto.createCsr({ commonName: names[0]!, altNames: names });
  let waits = 0;
  const pem = await client.auto({
    csr,
    termsOfServiceAgreed: true,
    challengePriority: ['dns-01'],
    // acme-client's own check asks the system's resolver; Gatehouse's wait asks the zone's servers.
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, _challenge, value) => {
      const record = challengeRecord(authz.identifier.value, value);
      await provider.present(record);
      await waitForTxt(provider.lookupName(record), value, { resolvers: [bind.address], timeoutMs: 20_000, intervalMs: 200 });
      waits++;
    },
    challengeRemoveFn: async (authz, _challenge, value) => provider.cleanup(challengeRecord(authz.identifier.value, value)),
  });
  return { pem, waits };
}

function sans(pem: string): string[] {
  return (new X509Certificate(pem).subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^DNS:/, '')).sort();
}

describe('DNS-01 orders against Pebble through bind9', { skip: needBind9() || needPebble() }, () => {
  let bind: Bind9;
  let pebble: Pebble;
  let dir: string;
  before(async () => {
    bind = await startBind9();
    pebble = await startPebble({ dnsServer: bind.address });
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-dns01-'));
  });
  after(async () => {
    await pebble?.close();
    await bind?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a wildcard and its apex through RFC 2136 with TSIG', async () => {
    const settings: DnsProvider = { id: 'ns', label: 'bind', propagationTimeoutMs: 20_000, kind: 'rfc2136', server: bind.address, zone: null, keyName: bind.acmeKey.name, algorithm: bind.acmeKey.algorithm };
    const provider = createDnsProvider(settings, { credentials: bind.acmeKey.secret, resolvers: [bind.address] });
    const { pem, waits } = await order(pebble, bind, provider, ['test.example', '*.test.example']);
    assert.deepEqual(sans(pem), ['*.test.example', 'test.example']);
    assert.equal(waits, 2, 'one TXT value per authorization, both at _acme-challenge.test.example');
    const issuer = new X509Certificate(pem.split(/(?=-----BEGIN CERTIFICATE-----)/)[1]!);
    assert.ok(new X509Certificate(pem).checkIssued(issuer), 'the leaf is signed by the chain Pebble sent');
    assert.deepEqual(await bind.dig('_acme-challenge.test.example', 'TXT'), [], 'both challenge values were removed');
  });

  test('through the exec hook', async () => {
    const hook = join(dir, 'hook.sh');
    await writeFile(hook, nsupdateHook(bind, join(bind.dir, 'acme.key'), join(dir, 'hook.log')));
    await chmod(hook, 0o755);
    const provider = createDnsProvider({ id: 'ex', label: 'hook', propagationTimeoutMs: 20_000, kind: 'exec', command: hook, timeoutMs: 20_000 }, { credentials: null });
    const { pem } = await order(pebble, bind, provider, ['hook.test.example']);
    assert.deepEqual(sans(pem), ['hook.test.example']);
    assert.deepEqual(await bind.dig('_acme-challenge.hook.test.example', 'TXT'), []);
  });
});
