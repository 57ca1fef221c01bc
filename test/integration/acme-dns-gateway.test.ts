// The DNS provider members of the API through a real gateway, with bind9 as the name server: the
// credentials go into the sealed secret store and never come back (not in an answer, settings.json,
// an error message, or any file of the data directory in plain text); the test record is created,
// seen and removed; credentials left out of an update are kept; a damaged or foreign sealed file is a
// sentence asking for the credentials again; a provider a route uses cannot be removed.
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DnsProviderView } from '../../shared/acme.js';
import type { SecretBox } from '../../src-main/core/certs/acme/secret-store.js';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { call, rejectsWith, settingsFile } from '../helpers/gateway-calls.js';
import { makeDataDir } from '../helpers/serve.js';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Stands in for Electron's safeStorage: a box of another kind, sealing with its own key. */
function otherBox(): SecretBox {
  const key = randomBytes(32);
  return {
    kind: 'os-keystore',
    async encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    async decrypt(sealed) {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

describe('DNS providers through the gateway', { skip: needBind9() }, () => {
  let bind: Bind9;
  let dataDir: string;
  let gateway: Gateway | undefined;
  let provider: DnsProviderView;

  const open = async (secretBox?: SecretBox) => {
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' }, dnsResolvers: [bind.address], ...(secretBox ? { secretBox } : {}) });
    return gateway;
  };
  const reopen = async (secretBox?: SecretBox) => {
    await gateway?.close();
    return open(secretBox);
  };
  const sealedPath = () => join(dataDir, 'acme', 'secrets', `dns-${provider.id}.bin`);

  before(async () => {
    bind = await startBind9();
    dataDir = await makeDataDir();
    await open();
  });
  after(async () => {
    await gateway?.close();
    await bind?.close();
  });

  test('adding keeps the secret out of the answer and settings.json; only a sealed 0600 file holds it, not in plain text', async () => {
    provider = await call(gateway!, 'addDnsProvider', { kind: 'rfc2136', label: 'Home bind', server: bind.address, keyName: 'acme-key', credentials: bind.acmeKey.secret });
    assert.equal(provider.credentialsSet, true);
    assert.equal(provider.kind, 'rfc2136');
    assert.deepEqual(provider.usedBy, []);
    assert.ok(!('credentials' in provider));
    assert.ok(!JSON.stringify(provider).includes(bind.acmeKey.secret));
    const saved = await settingsFile(dataDir);
    assert.deepEqual(saved.acme.dnsProviders.map((entry) => entry.id), [provider.id]);

    const raw = Buffer.from(bind.acmeKey.secret, 'base64');
    for (const file of await filesUnder(dataDir)) {
      const bytes = await readFile(file);
      assert.ok(!bytes.includes(bind.acmeKey.secret), `${file} holds the secret in plain text`);
      assert.ok(!bytes.includes(raw), `${file} holds the decoded secret`);
    }
    assert.equal((await stat(sealedPath())).mode & 0o777, 0o600);
    assert.equal((await stat(join(dataDir, 'acme', 'secrets'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dataDir, 'acme', 'secret.key'))).mode & 0o777, 0o600);
  });

  test('the test creates a TXT record, sees it on the name server, and removes it', async () => {
    const check = await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' });
    assert.equal(check.state, 'pass', `${check.message} ${check.details}`);
    assert.equal(check.id, 'dns-credentials');
    assert.match(check.message, new RegExp(`^Created a test TXT record for www\\.test\\.example, saw it on ${bind.address.replace(/\./g, '\\.')} after \\d+\\.\\d s, and removed it\\.$`));
    assert.deepEqual(await bind.dig('_acme-challenge.www.test.example', 'TXT'), []);
  });

  test('an update without credentials keeps them; with wrong ones the test fails with a sentence that holds no secret', async () => {
    const kept = await call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', propagationTimeoutMs: 20_000 });
    assert.equal(kept.credentialsSet, true);
    assert.equal(kept.label, 'Home bind 2');
    assert.equal((await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' })).state, 'pass');

    const wrong = Buffer.alloc(32, 9).toString('base64');
    await call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', credentials: wrong });
    const check = await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' });
    assert.equal(check.state, 'fail');
    assert.equal(check.message, `The name server ${bind.address} rejected the TSIG key acme-key: the secret does not match the one it holds.`);
    assert.ok(!JSON.stringify(check).includes(wrong));
    await call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', credentials: bind.acmeKey.secret });

    // The stored secret is not sent to another server (or signed under another key name) unless entered again.
    for (const moved of [{ server: '127.0.0.1:5353' }, { keyName: 'other-key' }, { algorithm: 'hmac-sha512' as const }]) {
      const refused = await rejectsWith(call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', ...moved }), 'invalid_input');
      assert.deepEqual(refused.details, { issues: [{ path: 'credentials', message: 'enter the credentials again: they are sent to the new address' }] }, JSON.stringify(moved));
    }
  });

  test('a damaged sealed file asks for the credentials again, and entering them again fixes it', async () => {
    const sealed = await readFile(sealedPath());
    sealed[sealed.length - 1]! ^= 0xff;
    await writeFile(sealedPath(), sealed);
    const check = await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' });
    assert.equal(check.state, 'fail');
    assert.equal(check.message, 'The credentials stored for the DNS provider "Home bind 2" cannot be decrypted.');
    assert.equal(check.fix, 'Enter them again in the DNS provider settings on the Certificates page.');
    await call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', credentials: bind.acmeKey.secret });
    assert.equal((await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' })).state, 'pass');
  });

  test('secrets sealed by the OS keystore are named as such when this run cannot open them', async () => {
    await reopen(otherBox());
    await call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', credentials: bind.acmeKey.secret });
    assert.equal((await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' })).state, 'pass');
    await reopen();
    const check = await call(gateway!, 'testDnsProvider', { id: provider.id, name: 'www.test.example' });
    assert.equal(check.state, 'fail');
    assert.match(check.details ?? '', /sealed with the desktop app's OS keystore, which this run cannot use/);
    await call(gateway!, 'updateDnsProvider', { id: provider.id, kind: 'rfc2136', label: 'Home bind 2', server: bind.address, keyName: 'acme-key', credentials: bind.acmeKey.secret });
  });

  test('a provider a route uses cannot be removed; once free it goes with its secret', async () => {
    await gateway!.close();
    const settings = await settingsFile(dataDir);
    settings.acme.accounts = [{ id: 'acct1', label: 'Pebble', directoryUrl: 'https://127.0.0.1:14000/dir', email: '', termsAccepted: null, eabKeyId: null, directoryCaPem: null }];
    await writeFile(join(dataDir, 'settings.json'), JSON.stringify(settings));
    await open();
    const route = await call(gateway!, 'addRoute', {
      title: 'Wiki',
      names: ['wiki.test.example'],
      upstream: 'http://127.0.0.1:9',
      tls: { mode: 'acme', certificateId: null, redirectHttp: false, hsts: false, acme: { accountId: 'acct1', challenge: 'dns-01', dnsProviderId: provider.id, profile: null, keyType: 'ecdsa-p256' } },
    });
    const error = await rejectsWith(call(gateway!, 'removeDnsProvider', { id: provider.id }), 'conflict');
    assert.equal(error.message, '"Home bind 2" gets the certificates of "Wiki". Choose another DNS provider for that route first.');
    await call(gateway!, 'removeRoute', { id: route.id });
    const { removed } = await call(gateway!, 'removeDnsProvider', { id: provider.id });
    assert.equal(removed.id, provider.id);
    assert.deepEqual((await settingsFile(dataDir)).acme.dnsProviders, []);
    await assert.rejects(stat(sealedPath()), { code: 'ENOENT' });
  });

  test('an exec provider needs no credentials; an unknown id is not_found', async () => {
    const hook = await call(gateway!, 'addDnsProvider', { kind: 'exec', label: 'Script', command: '/usr/local/bin/dns-hook.sh' });
    assert.equal(hook.credentialsSet, true);
    await rejectsWith(call(gateway!, 'testDnsProvider', { id: 'nope', name: 'www.test.example' }), 'not_found');
    await rejectsWith(call(gateway!, 'updateDnsProvider', { id: hook.id, kind: 'cloudflare', label: 'CF' }), 'invalid_input');
  });
});
