// The Settings page's newer fields: who sees error details, the access logs (access.log and the
// combined log for CrowdSec), the admin's extra host names (each
// validated at its field, by the shared schema and by the server), and the note beside a field that
// a `gatehouse serve` flag overrides for this run.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { defaultSettings, type GeneralSettings } from '../../shared/model.js';
import type { ProxyStatus } from '../../shared/status.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';
import { flagsText, overrideNote } from '../../src-renderer/pages/settings/run-overrides.js';

const { GeneralSettingsForm, settingsPatchFrom } = await import('../../src-renderer/pages/settings/general-settings-form.svelte.js');

function general(): GeneralSettings {
  const { routes: _routes, version: _version, ...rest } = defaultSettings();
  return rest;
}

describe('error details and admin host names', () => {
  it('are sent when changed, the host names one per line', async () => {
    const saved = general();
    const form = new GeneralSettingsForm(saved);
    form.values.errorDetails = 'nobody';
    form.values.allowedHosts = 'gatehouse.lan\n\n  nas-admin.home.arpa \n';
    assert.deepEqual(settingsPatchFrom(form.values, saved), {
      proxy: { errorDetails: 'nobody' },
      admin: { allowedHosts: ['gatehouse.lan', 'nas-admin.home.arpa'] },
    });
    const fake = new FakeGatehouse();
    assert.equal(await form.save((patch) => createApiClient(fake).updateSettings(patch)), 'saved');
    assert.equal(fake.settings.proxy.errorDetails, 'nobody');
    assert.deepEqual(fake.settings.admin.allowedHosts, ['gatehouse.lan', 'nas-admin.home.arpa']);
    assert.equal(form.values.allowedHosts, 'gatehouse.lan\nnas-admin.home.arpa');
  });

  it('a bad host name is shown at its field and nothing is sent', async () => {
    const form = new GeneralSettingsForm(general());
    form.values.allowedHosts = 'gatehouse.lan\nnot a name!';
    let calls = 0;
    assert.equal(await form.save(async () => (calls++, general())), 'invalid');
    assert.equal(calls, 0);
    assert.ok(form.message('allowedHosts'), 'the field has a message');
    assert.equal(form.message('errorDetails'), null);
  });

  it('the server\'s refusal of a host name lands on that field, not in the page alert', async () => {
    const form = new GeneralSettingsForm(general());
    form.values.allowedHosts = 'gatehouse.lan';
    const refusal = new ApiError('invalid_input', 'Check the highlighted fields.', { issues: [{ path: 'admin.allowedHosts.0', message: 'that name is this machine\'s already' }] });
    assert.equal(await form.save(() => Promise.reject(refusal)), 'refused');
    assert.equal(form.message('allowedHosts'), 'that name is this machine\'s already');
    assert.equal(form.error, null);
  });
});

describe('the access logs', () => {
  it('the combined log starts off and the access log on, as the defaults say', () => {
    const form = new GeneralSettingsForm(general());
    assert.equal(form.values.combinedLog, false);
    assert.equal(form.values.accessLog, true);
    assert.equal(form.changed, false);
  });

  it('turning the combined log on sends log.combinedLog alone, and the saved value comes back', async () => {
    const saved = general();
    const form = new GeneralSettingsForm(saved);
    form.values.combinedLog = true;
    assert.deepEqual(settingsPatchFrom(form.values, saved), { log: { combinedLog: true } });
    const fake = new FakeGatehouse();
    assert.equal(await form.save((patch) => createApiClient(fake).updateSettings(patch)), 'saved');
    assert.equal(fake.settings.log.combinedLog, true);
    assert.equal(fake.settings.log.accessLog, true, 'the access log is left as it was');
    assert.equal(form.values.combinedLog, true);
    assert.equal(form.changed, false);
  });

  it('both logs change together in one patch; turning one back is no change', () => {
    const saved = general();
    const form = new GeneralSettingsForm(saved);
    form.values.accessLog = false;
    form.values.combinedLog = true;
    assert.deepEqual(settingsPatchFrom(form.values, saved), { log: { accessLog: false, combinedLog: true } });
    form.values.accessLog = true;
    form.values.combinedLog = false;
    assert.deepEqual(settingsPatchFrom(form.values, saved), {});
  });

  it('the server\'s refusal of the combined log lands on its field', async () => {
    const form = new GeneralSettingsForm(general());
    form.values.combinedLog = true;
    const refusal = new ApiError('invalid_input', 'Check the highlighted fields.', { issues: [{ path: 'log.combinedLog', message: 'cannot write the combined log here' }] });
    assert.equal(await form.save(() => Promise.reject(refusal)), 'refused');
    assert.equal(form.message('combinedLog'), 'cannot write the combined log here');
    assert.equal(form.error, null);
  });
});

function status(fields: Partial<ProxyStatus>): ProxyStatus {
  return {
    state: 'running',
    http: { address: '127.0.0.1', port: 8080 },
    https: { address: '127.0.0.1', port: 8443 },
    problem: null,
    startedAt: null,
    routeCount: 0,
    lanAddresses: [],
    settingsNotice: null,
    overrides: {},
    ...fields,
  };
}

describe('the note beside a field a serve flag overrides', () => {
  it('says the port in use, the flag, and that the saved value applies next time', () => {
    const running = status({ overrides: { httpPort: 8080, bindAddress: '127.0.0.1' } });
    assert.equal(
      overrideNote('httpPort', general(), running),
      'The proxy uses port 8080 for this run because serve was started with --http-port 8080; the saved value 80 applies next time. Saving this field here replaces the flag for this run too.',
    );
    assert.match(overrideNote('bindAddress', general(), running) ?? '', /^The proxy uses address 127\.0\.0\.1 for this run because serve was started with --bind 127\.0\.0\.1; the saved value 0\.0\.0\.0 applies next time\./);
    assert.equal(overrideNote('httpsPort', general(), running), null, 'no flag, no note');
    assert.equal(flagsText(running), '--http-port 8080 --bind 127.0.0.1');
  });

  it('--http-port 0 names the port it got; a stopped proxy names the flag\'s value', () => {
    const picked = status({ http: { address: '127.0.0.1', port: 41234 }, overrides: { httpPort: 0 } });
    assert.match(overrideNote('httpPort', general(), picked) ?? '', /^The proxy uses port 41234 \(a free port, as 0 asks\) for this run because serve was started with --http-port 0;/);
    const stopped = status({ state: 'stopped', http: null, https: null, overrides: { httpsPort: 8443 } });
    assert.match(overrideNote('httpsPort', general(), stopped) ?? '', /^The proxy uses port 8443 for this run because serve was started with --https-port 8443; the saved value 443 applies next time/);
  });

  it('no overrides (the desktop app, or serve without flags): no note', () => {
    for (const field of ['httpPort', 'httpsPort', 'bindAddress'] as const) assert.equal(overrideNote(field, general(), status({})), null);
    assert.equal(overrideNote('httpPort', general(), null), null);
  });
});
