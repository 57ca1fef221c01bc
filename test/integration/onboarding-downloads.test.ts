// The CA as the files other devices install: openssl reads the DER .crt as the same certificate,
// and Python's plistlib (the same format Apple's tools read) parses the .mobileconfig into one
// root-certificate payload that carries exactly that DER.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { LocalCa } from '../../src-main/core/certs/local-ca.js';
import { caDownload } from '../../src-main/core/certs/onboarding.js';
import { tempDataDir } from '../fixtures/settings/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { needTools } from '../helpers/tools.js';

const run = promisify(execFile);

test('PEM and DER downloads: names, MIME types, and openssl sees the same certificate', { skip: needTools('openssl') }, async (t) => {
  const dir = await tempDataDir(t);
  const ca = await LocalCa.open(dir);

  const pem = caDownload(ca.info, 'pem');
  assert.equal(pem.fileName, 'gatehouse-ca.pem');
  assert.equal(pem.mimeType, 'application/x-pem-file');
  assert.equal(Buffer.from(pem.base64, 'base64').toString('utf8'), ca.info.certificatePem);

  const der = caDownload(ca.info, 'der');
  assert.equal(der.fileName, 'gatehouse-ca.crt');
  assert.equal(der.mimeType, 'application/x-x509-ca-cert');
  const derPath = join(dir, der.fileName);
  await writeFile(derPath, Buffer.from(der.base64, 'base64'));
  const printed = await openssl('x509', '-inform', 'der', '-in', derPath, '-noout', '-fingerprint', '-sha256');
  assert.equal(printed.code, 0, printed.output);
  assert.equal(printed.output.trim().split('=')[1], ca.info.fingerprintSha256);
});

test('the .mobileconfig is a plist with one com.apple.security.root payload carrying the DER', { skip: needTools('python3') }, async (t) => {
  const dir = await tempDataDir(t);
  const ca = await LocalCa.open(dir);
  const profile = caDownload(ca.info, 'mobileconfig');
  assert.equal(profile.fileName, 'gatehouse-ca.mobileconfig');
  assert.equal(profile.mimeType, 'application/x-apple-aspen-config');
  const path = join(dir, profile.fileName);
  await writeFile(path, Buffer.from(profile.base64, 'base64'));

  const parsed = JSON.parse(
    (
      await run('python3', [
        '-c',
        'import base64, json, plistlib, sys\n' +
          'p = plistlib.load(open(sys.argv[1], "rb"))\n' +
          'for c in p["PayloadContent"]: c["PayloadContent"] = base64.b64encode(c["PayloadContent"]).decode()\n' +
          'print(json.dumps(p))',
        path,
      ])
    ).stdout,
  ) as Record<string, unknown> & { PayloadContent: Record<string, unknown>[] };

  assert.equal(parsed.PayloadType, 'Configuration');
  assert.equal(parsed.PayloadVersion, 1);
  assert.equal(parsed.PayloadRemovalDisallowed, false);
  assert.match(String(parsed.PayloadDisplayName), /^Gatehouse local CA \(.+\)$/, 'the display name says Gatehouse and the host');
  assert.match(String(parsed.PayloadDescription), /trusted root certificate/);
  assert.ok(String(parsed.PayloadDescription).includes(ca.info.fingerprintSha256), 'the description carries the fingerprint to compare');
  assert.equal(parsed.PayloadContent.length, 1);
  const [root] = parsed.PayloadContent;
  assert.equal(root!.PayloadType, 'com.apple.security.root');
  assert.equal(root!.PayloadContent, Buffer.from(ca.info.certificateDer).toString('base64'));
  assert.equal(root!.PayloadCertificateFileName, 'gatehouse-ca.crt');
  const uuid = /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
  assert.match(String(parsed.PayloadUUID), uuid);
  assert.match(String(root!.PayloadUUID), uuid);
  assert.notEqual(parsed.PayloadUUID, root!.PayloadUUID);
  assert.notEqual(parsed.PayloadIdentifier, root!.PayloadIdentifier);
});

test('profile UUIDs follow the CA: the same CA gives the same profile, another CA another one', async (t) => {
  const ca = await LocalCa.open(await tempDataDir(t));
  const other = await LocalCa.open(await tempDataDir(t));
  const uuids = (info: LocalCa['info']) =>
    [...Buffer.from(caDownload(info, 'mobileconfig').base64, 'base64').toString('utf8').matchAll(/<key>PayloadUUID<\/key>\s*<string>([^<]+)</g)].map((m) => m[1]);
  assert.equal(uuids(ca.info).length, 2);
  assert.deepEqual(uuids(ca.info), uuids((await LocalCa.open(join(ca.files.dir, '..'))).info));
  assert.notDeepEqual(uuids(ca.info), uuids(other.info));
});

