// The first-run ports step: it starts from the ports the proxy uses this run (a serve flag wins
// over the saved value), and Continue never saves a port that failed the check as if it passed:
// it checks first, stops on a failure, and saves only once the person confirms.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../shared/api.js';
import { defaultSettings, type GeneralSettings } from '../../shared/model.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';

const { PortChoice } = await import('../../src-renderer/pages/welcome/port-choice.svelte.js');

function general(): GeneralSettings {
  const { routes: _routes, version: _version, ...rest } = defaultSettings();
  return rest;
}

describe('PortChoice: the ports in use', () => {
  it('starts from the running proxy\'s ports when serve flags set them, and names the flags', () => {
    const fake = new FakeGatehouse({ overrides: { httpPort: 8080, httpsPort: 8443 } });
    const ports = new PortChoice(createApiClient(fake), general(), fake.status);
    assert.deepEqual([ports.httpPort, ports.httpsPort], ['8080', '8443']);
    assert.equal(ports.flags, '--http-port 8080 --https-port 8443');
    assert.deepEqual(ports.savedPorts, { httpPort: 80, httpsPort: 443 });
  });

  it('without flags, the saved ports', () => {
    const fake = new FakeGatehouse();
    const ports = new PortChoice(createApiClient(fake), general(), fake.status);
    assert.deepEqual([ports.httpPort, ports.httpsPort, ports.flags], ['80', '443', '']);
  });

  it('the proxy\'s own ports check as its own (available), so Continue saves them at once', async () => {
    const fake = new FakeGatehouse({ overrides: { httpPort: 8080, httpsPort: 8443 } });
    const api = createApiClient(fake);
    const ports = new PortChoice(api, general(), fake.status);
    assert.equal(await ports.save((patch) => api.updateSettings(patch)), true);
    assert.deepEqual(fake.callsOf('checkPorts'), [{ httpPort: 8080, httpsPort: 8443, streams: true }], 'Continue checked first');
    assert.deepEqual(ports.checks?.map((check) => check.ownProxy), [true, true]);
    assert.deepEqual([fake.settings.proxy.httpPort, fake.settings.proxy.httpsPort], [8080, 8443]);
  });
});

describe('PortChoice: a failed check is not saved as if it worked', () => {
  it('Continue checks, finds the failure, saves nothing and asks; "Save anyway" then saves', async () => {
    const fake = new FakeGatehouse({ busyPorts: [80] });
    const api = createApiClient(fake);
    const ports = new PortChoice(api, general(), fake.status);
    ports.httpPort = '80';
    ports.httpsPort = '8443';
    let saves = 0;
    const update = (patch: Parameters<typeof api.updateSettings>[0]) => (saves++, api.updateSettings(patch));
    assert.equal(await ports.save(update), false);
    assert.equal(saves, 0, 'nothing saved');
    assert.equal(ports.confirming, true);
    assert.deepEqual(ports.failed.map((check) => check.port), [80]);
    assert.equal(await ports.save(update), false, 'pressing Continue again still does not save');
    assert.equal(saves, 0);
    assert.equal(await ports.save(update, { anyway: true }), true);
    assert.equal(saves, 1);
    assert.equal(fake.settings.proxy.httpPort, 80);
    assert.equal(ports.confirming, false);
  });

  it('an edit drops the failed answer and the question; the new ports are checked again', async () => {
    const fake = new FakeGatehouse({ busyPorts: [80] });
    const api = createApiClient(fake);
    const ports = new PortChoice(api, general(), fake.status);
    ports.httpPort = '80';
    assert.equal(await ports.save((patch) => api.updateSettings(patch)), false);
    ports.httpPort = '8081';
    ports.edited('httpPort');
    assert.equal(ports.confirming, false);
    assert.equal(ports.checks, null);
    assert.equal(await ports.save((patch) => api.updateSettings(patch)), true);
    assert.equal(fake.callsOf('checkPorts').length, 2);
    assert.equal(fake.settings.proxy.httpPort, 8081);
  });

  it('a check the server could not answer saves nothing', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const ports = new PortChoice(api, general(), fake.status);
    fake.failNext('checkPorts', new ApiError('internal', 'The check broke.'));
    let saves = 0;
    assert.equal(await ports.save(async () => saves++), false);
    assert.equal(saves, 0);
    assert.equal(ports.error?.message, 'The check broke.');
  });

  it('confirmed ports the proxy then cannot listen on still count as saved (the server saved them)', async () => {
    const fake = new FakeGatehouse({ busyPorts: [80] });
    const ports = new PortChoice(createApiClient(fake), general(), fake.status);
    ports.httpPort = '80';
    const refusal = new ApiError('port_unavailable', 'The settings were saved, but the proxy cannot listen on 0.0.0.0:80.');
    assert.equal(await ports.save(() => Promise.reject(refusal), { anyway: true }), true);
    assert.equal(await ports.save(() => Promise.reject(new ApiError('internal', 'disk full')), { anyway: true }), false, 'a failed save is not');
  });
});
