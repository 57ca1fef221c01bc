// Which event types the Electron window's page listens to (src-main/electron/event-wants.ts): the
// preload counts them so main forwards, and the core gathers, only those.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiEventNames } from '../../shared/api.js';
import { DEFAULT_WANTED, EventWants, parseWantedTypes } from '../../src-main/electron/event-wants.js';

describe('EventWants', () => {
  it('reports a change only when the set of wanted types changes', () => {
    const wants = new EventWants();
    const status = wants.add(['status']);
    assert.equal(status.changed, true);
    assert.deepEqual(wants.wanted(), ['status']);

    const status2 = wants.add(['status']);
    assert.equal(status2.changed, false, 'a second status listener changes nothing');

    const log = wants.add(['log']);
    assert.equal(log.changed, true);
    assert.deepEqual(wants.wanted(), ['status', 'log']);

    assert.equal(status.remove(), false, 'one status listener is left');
    assert.equal(log.remove(), true, 'the log is no longer wanted');
    assert.deepEqual(wants.wanted(), ['status']);
    assert.equal(log.remove(), false, 'removing twice is harmless');
    assert.equal(status2.remove(), true);
    assert.deepEqual(wants.wanted(), []);
  });

  it('a listener without types wants every event, in the contract order', () => {
    const wants = new EventWants();
    const all = wants.add();
    assert.deepEqual(wants.wanted(), [...apiEventNames]);
    assert.equal(all.remove(), true);
    assert.deepEqual(wants.wanted(), []);
  });

  it('main forwards everything but the log until the page says otherwise', () => {
    assert.deepEqual(DEFAULT_WANTED, apiEventNames.filter((type) => type !== 'log'));
  });
});

describe('parseWantedTypes', () => {
  it('accepts a list of known names, deduplicated and in the contract order', () => {
    assert.deepEqual(parseWantedTypes(['log', 'status', 'log']), ['status', 'log']);
    assert.deepEqual(parseWantedTypes([]), []);
  });

  it('refuses anything else', () => {
    for (const bad of [null, 'log', { 0: 'log' }, ['log', 'shutdown'], [1], new Array(100).fill('log')]) {
      assert.equal(parseWantedTypes(bad), null, JSON.stringify(bad));
    }
  });
});
