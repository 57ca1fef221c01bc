// The Logs page's search and row details (issue 12): words match host, path, status, method,
// client address and the failure's reason; the search combines with the route and status filters
// and follows live batches; a row's details open and close by its key.
/// <reference types="svelte" />
import '../../src-renderer/dev/svelte-modules.mjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../shared/api.js';
import { FakeGatehouse, sampleLogEntry } from '../../src-renderer/dev/fake-gatehouse.js';

const { AccessLog, matchesSearch } = await import('../../src-renderer/pages/logs/access-log.svelte.js');

const refused = sampleLogEntry({
  routeId: 'pve',
  host: 'pve.home.arpa',
  path: '/api2/json',
  status: 502,
  client: '192.168.1.44',
  error: 'upstream_refused',
  detail: 'Proxmox at 10.33.0.9:8006 refused the connection.',
});
const ok = sampleLogEntry({ routeId: 'jf', host: 'jellyfin.home.arpa', path: '/Items/7', status: 200, client: '192.168.1.30', method: 'GET' });
const posted = sampleLogEntry({ routeId: 'jf', host: 'jellyfin.home.arpa', path: '/Sessions', status: 204, client: 'fd00::30', method: 'POST' });

describe('matchesSearch', () => {
  it('finds words in the host, path, status, method, client and reason, ignoring case', () => {
    assert.equal(matchesSearch(refused, 'PVE.home'), true, 'host');
    assert.equal(matchesSearch(refused, 'api2/json'), true, 'path');
    assert.equal(matchesSearch(refused, '502'), true, 'status');
    assert.equal(matchesSearch(refused, '192.168.1.44'), true, 'client');
    assert.equal(matchesSearch(refused, 'refused the connection'), true, 'reason, word by word');
    assert.equal(matchesSearch(refused, 'upstream_refused'), true, 'failure code');
    assert.equal(matchesSearch(posted, 'post'), true, 'method');
    assert.equal(matchesSearch(posted, 'fd00::30'), true, 'an IPv6 client');
  });

  it('needs every word, and an empty search matches everything', () => {
    assert.equal(matchesSearch(refused, '502 pve'), true);
    assert.equal(matchesSearch(refused, '502 jellyfin'), false);
    assert.equal(matchesSearch(ok, '   '), true);
    assert.equal(matchesSearch(ok, ''), true);
    assert.equal(matchesSearch(ok, '192.168.1.44'), false, 'another client');
  });
});

describe('AccessLog search and details', () => {
  async function loaded() {
    const fake = new FakeGatehouse({ log: [ok, refused, posted] });
    const log = new AccessLog(createApiClient(fake));
    log.connect();
    await log.reload();
    return { fake, log, paths: () => log.visible.map((row) => row.path) };
  }

  it('narrows the rows as the search is typed, together with the filters', async () => {
    const { log, paths } = await loaded();
    assert.equal(log.filtered, false);
    log.search = 'jellyfin';
    assert.deepEqual(paths(), ['/Sessions', '/Items/7']);
    assert.equal(log.filtered, true);
    log.statusFilter = '2xx';
    log.search = '192.168.1';
    assert.deepEqual(paths(), ['/Items/7'], 'search and status filter both apply');
    log.routeFilter = 'pve';
    assert.deepEqual(paths(), []);
    log.clearFilters();
    assert.deepEqual(paths(), ['/Sessions', '/api2/json', '/Items/7']);
    assert.equal(log.filtered, false);
  });

  it('applies the search to entries that arrive afterwards', async () => {
    const { fake, log, paths } = await loaded();
    log.search = 'refused';
    fake.emit('log', [sampleLogEntry({ path: '/later-ok' }), sampleLogEntry({ path: '/later-bad', status: 502, detail: 'Jellyfin refused the connection.' })]);
    assert.deepEqual(paths(), ['/later-bad', '/api2/json']);
  });

  it('opens and closes one row’s details by its key, leaving the others as they are', async () => {
    const { log } = await loaded();
    const [first, second] = log.rows;
    log.toggle(first!.key);
    assert.equal(log.expanded.has(first!.key), true);
    log.toggle(second!.key);
    log.toggle(first!.key);
    assert.deepEqual([...log.expanded], [second!.key]);
  });
});
