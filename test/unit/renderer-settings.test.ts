// The Settings page's logic: only changed settings are sent, problems come from the shared schema,
// port problems from the server keep their fix, an import is previewed before it is applied, and
// the first-run ports step checks ports and saves them.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient, type ApiTransport } from '../../shared/api.js';
import { defaultSettings, type GeneralSettings } from '../../shared/model.js';
import { FakeGatehouse, sampleRoute } from '../../src-renderer/dev/fake-gatehouse.js';
import { exportFileName } from '../../src-renderer/pages/settings/export-file.js';

const { GeneralSettingsForm, settingsPatchFrom, settingsValuesOf } = await import('../../src-renderer/pages/settings/general-settings-form.svelte.js');
const { SettingsImport, settingChange } = await import('../../src-renderer/pages/settings/settings-import.svelte.js');
const { PortChoice } = await import('../../src-renderer/pages/welcome/port-choice.svelte.js');

function general(): GeneralSettings {
  const { routes: _routes, version: _version, ...rest } = defaultSettings();
  return rest;
}

describe('GeneralSettingsForm', () => {
  it('sends only what changed', async () => {
    const saved = general();
    const form = new GeneralSettingsForm(saved);
    assert.equal(form.changed, false);
    form.values.httpPort = '8080';
    form.values.trustedProxies = '10.0.0.1\n\n10.1.0.0/16 ';
    form.values.startAtLogin = true;
    assert.deepEqual(settingsPatchFrom(form.values, saved), {
      proxy: { httpPort: 8080, trustedProxies: ['10.0.0.1', '10.1.0.0/16'] },
      app: { startAtLogin: true },
    });
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    assert.equal(await form.save((patch) => api.updateSettings(patch)), 'saved');
    assert.equal(fake.settings.proxy.httpPort, 8080);
    assert.equal(form.changed, false, 'the form now matches what is saved');
  });

  it('says "unchanged" and calls nothing when nothing changed', async () => {
    const form = new GeneralSettingsForm(general());
    let calls = 0;
    assert.equal(await form.save(async () => (calls++, general())), 'unchanged');
    assert.equal(calls, 0);
  });

  it('shows the schema’s messages for a bad port and bind address, and calls nothing', async () => {
    const form = new GeneralSettingsForm(general());
    form.values.httpPort = 'eighty';
    form.values.httpsPort = '70000';
    form.values.bindAddress = 'localhost';
    let calls = 0;
    assert.equal(await form.save(async () => (calls++, general())), 'invalid');
    assert.equal(calls, 0);
    assert.equal(form.message('httpPort'), 'a port is a whole number from 0 to 65535');
    assert.equal(form.message('httpsPort'), 'a port is a whole number from 0 to 65535');
    assert.match(form.message('bindAddress') ?? '', /enter an IP address/);
  });

  it('shows a port problem from the server with its fix', async () => {
    const form = new GeneralSettingsForm(general());
    form.values.httpPort = '80';
    form.values.httpsPort = '8443';
    const refusal = new ApiError('port_unavailable', 'Port 8443 is in use by another program.', { fix: 'Stop that program or choose another port.' });
    assert.equal(await form.save(() => Promise.reject(refusal)), 'refused');
    assert.equal(form.error, refusal);
    assert.equal(form.error?.details.fix, 'Stop that program or choose another port.');
    assert.equal(form.values.httpsPort, '8443', 'what the person typed is kept');
  });

  it('follows changes made elsewhere unless it has edits of its own', () => {
    const form = new GeneralSettingsForm(general());
    const elsewhere = { ...general(), proxy: { ...general().proxy, httpPort: 8081 } };
    form.follow(elsewhere);
    assert.equal(form.values.httpPort, '8081');
    form.values.bindAddress = '127.0.0.1';
    form.follow({ ...elsewhere, proxy: { ...elsewhere.proxy, httpPort: 9000 } });
    assert.equal(form.values.httpPort, '8081', 'unsaved edits are not overwritten');
    assert.deepEqual(settingsValuesOf(elsewhere).httpPort, '8081');
  });
});

describe('SettingsImport', () => {
  const file = (name: string, text: string) => ({ name, text: async () => text });
  /** Lets pending promises run until `done` holds (a bounded number of turns, so a bug fails instead of hanging). */
  const until = async (done: () => boolean) => {
    for (let turn = 0; turn < 1000 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(done(), 'the awaited call was never made');
  };
  /** A transport that holds each previewImport until the test calls its `held` entry, so answers can come in any order. */
  const holdingPreviews = (fake: FakeGatehouse) => {
    const held: (() => void)[] = [];
    const transport: ApiTransport = {
      call: (member, input) =>
        member === 'previewImport' ? new Promise<void>((resolve) => held.push(resolve)).then(() => fake.call(member, input)) : fake.call(member, input),
      subscribe: (listener) => fake.subscribe(listener),
    };
    return { transport, held };
  };

  it('previews a file and applies the same document', async () => {
    const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'old', names: ['old.home.arpa'], upstream: 'http://10.0.0.1:80' })] });
    const api = createApiClient(fake);
    const exported = await api.exportSettings();
    exported.settings.routes = [sampleRoute({ id: 'new', names: ['new.home.arpa'], upstream: 'http://10.0.0.2:80' })];
    const importer = new SettingsImport(api);

    assert.equal(await importer.choose(file('backup.json', JSON.stringify(exported))), true);
    assert.deepEqual(importer.preview?.routes.added.map((route) => route.id), ['new']);
    assert.deepEqual(importer.preview?.routes.removed.map((route) => route.id), ['old']);
    assert.equal(fake.routes[0]?.id, 'old', 'the preview changes nothing');

    assert.equal(await importer.apply(), true);
    assert.deepEqual(fake.callsOf('importSettings'), [{ document: exported }]);
    assert.equal(fake.routes[0]?.id, 'new');
    assert.equal(importer.preview, null);
  });

  it('says clearly that a file is not JSON, and asks the server nothing', async () => {
    const fake = new FakeGatehouse();
    const importer = new SettingsImport(createApiClient(fake));
    assert.equal(await importer.choose(file('notes.txt', 'hello')), false);
    assert.match(importer.error?.message ?? '', /"notes\.txt" is not a Gatehouse settings file: it is not JSON/);
    assert.ok(importer.error?.details.fix);
    assert.equal(fake.callsOf('previewImport').length, 0);
  });

  it('shows the server’s message for a file it refuses, and changes nothing', async () => {
    const fake = new FakeGatehouse();
    const importer = new SettingsImport(createApiClient(fake));
    assert.equal(await importer.choose(file('x.json', '{"hello":1}')), false);
    assert.equal(importer.error?.code, 'invalid_input');
    assert.equal(importer.preview, null);
    assert.equal(await importer.apply(), false);
    assert.equal(fake.callsOf('importSettings').length, 0);
  });

  it('shows the preview of the latest file when an earlier file’s preview answers last', async () => {
    const fake = new FakeGatehouse({ routes: [sampleRoute({ id: 'old', names: ['old.home.arpa'], upstream: 'http://10.0.0.1:80' })] });
    const api = createApiClient(fake);
    const exported = await api.exportSettings();
    const documentA = { ...exported, settings: { ...exported.settings, routes: [sampleRoute({ id: 'a', names: ['a.home.arpa'], upstream: 'http://10.0.0.2:80' })] } };
    const documentB = { ...exported, settings: { ...exported.settings, routes: [sampleRoute({ id: 'b', names: ['b.home.arpa'], upstream: 'http://10.0.0.3:80' })] } };

    const { transport, held } = holdingPreviews(fake);
    const importer = new SettingsImport(createApiClient(transport));

    const choosingA = importer.choose(file('a.json', JSON.stringify(documentA)));
    await until(() => held.length === 1);
    const choosingB = importer.choose(file('b.json', JSON.stringify(documentB)));
    await until(() => held.length === 2);
    held[1]!();
    assert.equal(await choosingB, true);
    held[0]!();
    assert.equal(await choosingA, false, 'the earlier choice’s answer is dropped');

    assert.equal(importer.fileName, 'b.json');
    assert.deepEqual(importer.preview?.routes.added.map((route) => route.id), ['b'], 'B’s name with B’s preview');
    assert.equal(importer.step, 'idle');
    assert.equal(await importer.apply(), true);
    assert.deepEqual(fake.callsOf('importSettings'), [{ document: documentB }], 'the file shown is the file applied');
  });

  it('drops a preview that answers after Cancel', async () => {
    const fake = new FakeGatehouse();
    const exported = await createApiClient(fake).exportSettings();
    const { transport, held } = holdingPreviews(fake);
    const importer = new SettingsImport(createApiClient(transport));
    const choosing = importer.choose(file('backup.json', JSON.stringify(exported)));
    await until(() => held.length === 1);
    assert.equal(importer.step, 'previewing');
    importer.cancel();
    assert.equal(importer.step, 'idle');
    held[0]!();
    assert.equal(await choosing, false);
    assert.equal(importer.preview, null, 'nothing reappears after Cancel');
    assert.equal(importer.fileName, null);
  });

  it('writes a changed setting as "path: before → after"', () => {
    assert.equal(settingChange({ path: 'proxy.httpPort', before: 80, after: 8080 }), 'proxy.httpPort: 80 → 8080');
    assert.equal(settingChange({ path: 'proxy.trustedProxies', before: [], after: ['10.0.0.1'] }), 'proxy.trustedProxies: (none) → 10.0.0.1');
  });

  it('names the export file after the local date', () => {
    assert.equal(exportFileName(new Date(2026, 0, 5, 23, 59)), 'gatehouse-settings-2026-01-05.json');
  });
});

describe('PortChoice (first run)', () => {
  it('checks the ports on the server and shows the exact fix for one that cannot be used', async () => {
    const fake = new FakeGatehouse({ busyPorts: [80] });
    const ports = new PortChoice(createApiClient(fake), general());
    assert.equal(ports.httpPort, '80', 'prefilled from the settings');
    await ports.check();
    assert.deepEqual(fake.callsOf('checkPorts'), [{ httpPort: 80, httpsPort: 443, streams: true }]);
    const [http, https] = ports.checks ?? [];
    assert.equal(http?.available, false);
    assert.equal(http?.problem?.fix, `sudo setcap 'cap_net_bind_service=+ep' "$(command -v node)"`);
    assert.equal(https?.available, true);
    ports.edited('httpPort');
    assert.equal(ports.checks, null, 'an edit makes the old answer stale');
  });

  it('refuses a bad port without asking the server, then saves good ones', async () => {
    const fake = new FakeGatehouse();
    const api = createApiClient(fake);
    const ports = new PortChoice(api, general());
    ports.httpPort = '-1';
    await ports.check();
    assert.equal(fake.callsOf('checkPorts').length, 0);
    assert.equal(ports.fieldErrors.message('httpPort'), 'a port is a whole number from 0 to 65535');
    ports.httpPort = '8080';
    ports.httpsPort = '8443';
    assert.equal(await ports.save((patch) => api.updateSettings(patch)), true);
    assert.equal(fake.settings.proxy.httpPort, 8080);
    assert.equal(fake.settings.proxy.httpsPort, 8443);
  });
});
