// What comes out of a backup's envelope is checked whole before a restore writes anything: settings
// from an older Gatehouse are upgraded, from a newer one refused with what to do; a path outside the
// inventory (or one that climbs out with "..") is refused; a certificate whose key does not match it,
// or a key without its certificate, is refused as damage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../shared/api.js';
import { defaultSettings, SETTINGS_VERSION } from '../../shared/model.js';
import { CONTENTS_FORMAT, readContents } from '../../src-main/core/insight/backup-contents.js';
import { makeTestCertificate } from '../helpers/test-certificates.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function contents(overrides: Record<string, unknown> = {}) {
  return { format: CONTENTS_FORMAT, version: 1, createdAt: new Date().toISOString(), gatehouseVersion: '0.1.0', settings: defaultSettings(), files: [], secrets: [], leftOut: [], ...overrides };
}

function refused(raw: unknown, pattern: RegExp): void {
  assert.throws(
    () => readContents(raw),
    (error: unknown) => error instanceof ApiError && error.code === 'invalid_input' && pattern.test(error.message) && /nothing was changed/.test(error.message),
  );
}

describe('backup contents', () => {
  test('settings from an older Gatehouse are upgraded', () => {
    const { insight: _insight, ...older } = defaultSettings();
    const read = readContents(contents({ settings: { ...older, version: 9 } }));
    assert.equal(read.settings.version, SETTINGS_VERSION);
    assert.deepEqual(read.settings.insight.inspector, []);
  });

  test('settings or contents from a newer Gatehouse are refused with what to do', () => {
    refused(contents({ settings: { ...defaultSettings(), version: SETTINGS_VERSION + 1 } }), /newer Gatehouse.*update Gatehouse, then restore it/);
    refused(contents({ version: 2 }), /newer Gatehouse.*update Gatehouse/);
  });

  test('paths outside the inventory, climbing out, or twice are refused', () => {
    refused(contents({ files: [{ path: 'certs/routes/../../../etc/passwd', mode: 0o644, base64: b64('x') }] }), /not a file Gatehouse restores/);
    refused(contents({ files: [{ path: 'admin-token', mode: 0o600, base64: b64('x') }] }), /not a file Gatehouse restores/);
    refused(contents({ files: [{ path: '/etc/passwd', mode: 0o644, base64: b64('x') }] }), /not a file Gatehouse restores/);
    const file = { path: 'sticky-cookie.key', mode: 0o600, base64: b64('ab'.repeat(32)) };
    refused(contents({ files: [file, file] }), /twice/);
  });

  test('a certificate must match its key, and neither comes alone', async () => {
    const [a, b] = await Promise.all([makeTestCertificate({ commonName: 'a.home.arpa', names: ['a.home.arpa'] }), makeTestCertificate({ commonName: 'b.home.arpa', names: ['b.home.arpa'] })]);
    const pair = (cert: string, key: string) => [
      { path: 'certs/routes/abc/cert.pem', mode: 0o644, base64: b64(cert) },
      { path: 'certs/routes/abc/key.pem', mode: 0o600, base64: b64(key) },
    ];
    assert.equal(readContents(contents({ files: pair(a.pem, a.keyPem) })).files.length, 2);
    refused(contents({ files: pair(a.pem, b.keyPem) }), /cannot be used.*damaged/);
    refused(contents({ files: [{ path: 'certs/ca-key.pem', mode: 0o600, base64: b64(a.keyPem) }] }), /without certs\/ca\.pem/);
  });

  test('something that is not the contents of a backup is refused', () => {
    refused({ hello: 'world' }, /damaged or not a Gatehouse backup/);
    refused(null, /damaged or not a Gatehouse backup/);
  });
});
