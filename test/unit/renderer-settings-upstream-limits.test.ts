// Settings: the limits on connections to each upstream and the upstream body idle timeout. The
// limits go as one object (the rule tying per client to per upstream sees both), times are typed in
// seconds and saved in milliseconds, and a refusal speaks in seconds too.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { defaultSettings, type GeneralSettings } from '../../shared/model.js';
import { FakeGatehouse } from '../../src-renderer/dev/fake-gatehouse.js';

const { GeneralSettingsForm, settingsPatchFrom } = await import('../../src-renderer/pages/settings/general-settings-form.svelte.js');

function general(): GeneralSettings {
  const { routes: _routes, version: _version, ...rest } = defaultSettings();
  return rest;
}

describe('Settings: connections to each upstream', () => {
  it('starts from the saved limits, in seconds, and sends nothing while unchanged', () => {
    const form = new GeneralSettingsForm(general());
    assert.deepEqual(
      [form.values.upstreamConnections, form.values.upstreamPerClient, form.values.upstreamWaitS, form.values.bodyIdleS],
      ['256', '64', '10', '60'],
    );
    assert.equal(form.changed, false);
  });

  it('sends the limits as one object and the body idle timeout in milliseconds', async () => {
    const saved = general();
    const form = new GeneralSettingsForm(saved);
    form.values.upstreamPerClient = '16';
    form.values.upstreamWaitS = '2.5';
    form.values.bodyIdleS = '0';
    assert.deepEqual(settingsPatchFrom(form.values, saved), {
      proxy: { upstreamLimits: { connections: 256, perClient: 16, waitMs: 2500 }, timeouts: { upstreamBodyIdleMs: 0 } },
    });
    const fake = new FakeGatehouse();
    assert.equal(await form.save((patch) => createApiClient(fake).updateSettings(patch)), 'saved');
    assert.deepEqual(fake.settings.proxy.upstreamLimits, { connections: 256, perClient: 16, waitMs: 2500 });
    assert.equal(fake.settings.proxy.timeouts.upstreamBodyIdleMs, 0);
    assert.equal(fake.settings.proxy.timeouts.upstreamHeadersMs, 60_000, 'the other timeouts are kept');
  });

  it('puts each problem on its field, in seconds where the form asks for seconds', async () => {
    const form = new GeneralSettingsForm(general());
    form.values.upstreamConnections = '10';
    form.values.upstreamPerClient = '20';
    form.values.upstreamWaitS = '700';
    form.values.bodyIdleS = 'never';
    assert.equal(await form.save(async () => general()), 'invalid');
    assert.equal(form.message('upstreamPerClient'), 'connections per client cannot be more than connections per upstream');
    assert.equal(form.message('upstreamWaitS'), 'enter seconds from 0 to 600, such as 10');
    assert.equal(form.message('bodyIdleS'), 'enter seconds, such as 60 (0 = never)');
    assert.equal(form.message('upstreamConnections'), null);
  });
});
