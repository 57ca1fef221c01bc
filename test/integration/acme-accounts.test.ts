// ACME accounts at a directory that requires External Account Binding (Pebble with EAB keys): the
// directory says so; an account without EAB is refused before the CA is asked, one with a wrong
// HMAC key is refused with the CA's answer kept; the right key registers it, and the HMAC key is
// kept nowhere (not in settings, not in the data directory, not in any API answer). A directory
// whose HTTPS certificate is not trusted fails with a sentence, never by trusting it anyway.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../../src-main/core/gateway.js';
import { needBind9, startBind9, type Bind9 } from '../helpers/bind9.js';
import { call, rejectsWith } from '../helpers/gateway-calls.js';
import { needPebble, startPebble, type Pebble } from '../helpers/pebble.js';
import { makeDataDir } from '../helpers/serve.js';

const skip = needPebble() || needBind9();

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('ACME accounts with External Account Binding', { skip }, () => {
  let bind: Bind9;
  let pebble: Pebble;
  let dataDir: string;
  let gateway: Gateway;
  const hmacKey = randomBytes(32).toString('base64url');

  before(async () => {
    bind = await startBind9();
    pebble = await startPebble({ dnsServer: bind.address, eab: { 'kid-1': hmacKey } });
    dataDir = await makeDataDir();
    gateway = await createGateway({ dataDir, overrides: { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' } });
  });
  after(async () => {
    await gateway?.close();
    await pebble?.close();
    await bind?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a directory with an untrusted certificate is refused with a sentence, not trusted anyway', async () => {
    const refused = await rejectsWith(call(gateway, 'getAcmeDirectory', { directoryUrl: pebble.directoryUrl }), 'conflict');
    assert.match(refused.message, /could not read the ACME directory/);
    assert.match(refused.details.fix ?? '', /CA certificate/);
    assert.deepEqual(refused.details.issues?.map((issue) => issue.path), ['directoryCaPem'], 'a form marks its CA certificate field');
  });

  test('EAB: required, refused when missing or wrong, registered with the right key which is then kept nowhere', async () => {
    const directory = await call(gateway, 'getAcmeDirectory', { directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.apiCa });
    assert.equal(directory.externalAccountRequired, true);
    const input = { label: 'Pebble EAB', directoryUrl: pebble.directoryUrl, termsAccepted: directory.termsOfService, directoryCaPem: pebble.apiCa };

    const missing = await rejectsWith(call(gateway, 'addAcmeAccount', input), 'conflict');
    assert.match(missing.message, /External Account Binding/);
    assert.match(missing.details.fix ?? '', /EAB key id and HMAC key/);

    const wrong = await rejectsWith(call(gateway, 'addAcmeAccount', { ...input, eab: { keyId: 'kid-1', hmacKey: randomBytes(32).toString('base64url') } }), 'conflict');
    assert.ok(wrong.message.length > 20, wrong.message);
    assert.match(wrong.details.fix ?? '', /EAB key id and HMAC key/);
    assert.deepEqual(wrong.details.issues?.map((issue) => issue.path), ['eab.hmacKey'], 'a form marks the EAB fields');
    assert.equal((await call(gateway, 'getCertificates')).acme.accounts.length, 0, 'nothing saved after a refusal');

    const account = await call(gateway, 'addAcmeAccount', { ...input, eab: { keyId: 'kid-1', hmacKey } });
    assert.equal(account.status, 'registered');
    assert.equal(account.eabKeyId, 'kid-1');
    const keyFile = join(dataDir, 'acme', 'accounts', account.id, 'key.pem');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);

    const overview = JSON.stringify(await call(gateway, 'getCertificates'));
    assert.equal(overview.includes('PRIVATE KEY'), false);
    assert.equal(overview.includes(hmacKey), false, 'the HMAC key is not in the API');
    for (const file of await filesUnder(dataDir)) {
      const text = await readFile(file, 'utf8').catch(() => '');
      assert.equal(text.includes(hmacKey), false, `the HMAC key is not in ${file}`);
    }
    const settings = await readFile(join(dataDir, 'settings.json'), 'utf8');
    assert.equal(settings.includes('PRIVATE KEY'), false);
  });
});
